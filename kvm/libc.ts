/**
 * The libc symbols vmrun needs, loaded once per thread. This module and its
 * siblings in kvm/ are the only code that calls `Deno.dlopen`.
 *
 * @module
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  ioctl_ptr: { name: "ioctl", parameters: ["i32", "u64", "buffer"], result: "i32" },
  ioctl_val: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  mmap: {
    parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"],
    result: "pointer",
  },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  mincore: { parameters: ["pointer", "usize", "buffer"], result: "i32" },
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  pthread_self: { parameters: [], result: "u64" },
  pthread_kill: { parameters: ["u64", "i32"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  gettid: { parameters: [], result: "i32" },
  // timer_t is a pointer-sized handle in glibc; it never points anywhere we read.
  timer_create: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  timer_settime: { parameters: ["usize", "i32", "buffer", "pointer"], result: "i32" },
  timer_delete: { parameters: ["usize"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** The libc symbols, opened on first use. */
export function libc(): Libc {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/** The calling thread's errno. */
export function errno(): number {
  const p = libc().__errno_location();
  return new Deno.UnsafePointerView(p!).getInt32();
}

/** A NUL-terminated copy of `s` for passing to C. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s + "\0");
}

/** open(2) flags and mmap(2) constants used by vmrun. */
export const O_RDWR = 2;
/** Read-only open. */
export const O_RDONLY = 0;
/** Close the descriptor on exec. */
export const O_CLOEXEC = 0o2000000;
/** mmap protections and flags. */
export const PROT_READ = 1;
/** @see PROT_READ */
export const PROT_WRITE = 2;
/** @see PROT_READ */
export const MAP_SHARED = 1;
/** @see PROT_READ */
export const MAP_PRIVATE = 2;
/** @see PROT_READ */
export const MAP_ANONYMOUS = 0x20;
/** @see PROT_READ */
export const MAP_NORESERVE = 0x4000;
/**
 * madvise(2): free a range of shared memory (punch a hole in its shmem
 * object); it reads back as zero. MADV_DONTNEED would only unmap it.
 */
export const MADV_REMOVE = 9;
/** flock(2) operations. */
export const LOCK_EX = 2;
/** @see LOCK_EX */
export const LOCK_NB = 4;
/** @see LOCK_EX */
export const LOCK_SH = 1;
/** The signal that kicks a vCPU thread out of KVM_RUN. */
export const SIGUSR2 = 12;
/** clock_gettime(2) and timer_create(2) clock: never jumps. */
export const CLOCK_MONOTONIC = 1;
/** sigevent.sigev_notify: signal one thread of this process (Linux). */
export const SIGEV_THREAD_ID = 4;
