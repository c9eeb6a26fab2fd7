/**
 * Host services that need libc: anonymous memory for guest RAM, kicking a
 * vCPU thread out of KVM_RUN (now, or at a deadline through a kernel timer),
 * and advisory file locks.
 *
 * @module
 */

import { KvmError } from "./errors.ts";
import {
  CLOCK_MONOTONIC,
  cString,
  errno,
  libc,
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  MADV_REMOVE,
  MAP_ANONYMOUS,
  MAP_NORESERVE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDONLY,
  PROT_READ,
  PROT_WRITE,
  SIGEV_THREAD_ID,
  SIGUSR2,
} from "./libc.ts";
import { LAYOUTS } from "./structs.ts";

/** Anonymous shared memory mapped into this process. */
export interface HostMemory {
  /** Host virtual address, for KVM_SET_USER_MEMORY_REGION. */
  readonly address: bigint;
  readonly size: number;
  readonly buffer: ArrayBuffer;
}

/**
 * Maps `size` bytes of zeroed anonymous shared memory (lazily backed, so a
 * large guest costs only what it touches).
 */
export function mapAnonymous(size: number): HostMemory {
  const ptr = libc().mmap(
    null,
    BigInt(size),
    PROT_READ | PROT_WRITE,
    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
    -1,
    0n,
  );
  const address = BigInt(Deno.UnsafePointer.value(ptr));
  if (ptr === null || address === 0xffffffffffffffffn) throw new KvmError("mmap", errno());
  return { address, size, buffer: Deno.UnsafePointerView.getArrayBuffer(ptr, size) };
}

/**
 * Another thread's view of memory from {@link mapAnonymous}, by its address
 * (a mapping belongs to the process; a worker gets only the number). The
 * caller must know the mapping outlives the view's use.
 */
export function viewHostMemory(address: bigint, size: number): ArrayBuffer {
  const ptr = Deno.UnsafePointer.create(address);
  if (ptr === null) throw new RangeError("null host memory address");
  return Deno.UnsafePointerView.getArrayBuffer(ptr, size);
}

/**
 * Which 4 KiB pages of `mem` the kernel has ever backed (mincore(2)), one
 * byte a page, bit 0 set for a resident page; null when the kernel will not
 * say. Without swap, a page of {@link mapAnonymous} memory that is not
 * resident was never written and reads as zero.
 */
export function residentPages(mem: HostMemory): Uint8Array | null {
  const vec = new Uint8Array(Math.ceil(mem.size / 4096));
  const r = libc().mincore(Deno.UnsafePointer.create(mem.address), BigInt(mem.size), vec);
  return r === 0 ? vec : null;
}

/** The host's page size: what {@link discardMemory} frees at a time. */
export const HOST_PAGE_SIZE = 4096;

/**
 * Frees `[offset, offset + length)` of `mem` (MADV_REMOVE): the host gets
 * the memory back and the range reads as zero from then on, for vmrun and
 * for a guest that KVM maps it into.
 * @throws {RangeError} unless the range is whole host pages inside `mem`
 * @throws {KvmError} when the kernel refuses
 */
export function discardMemory(mem: HostMemory, offset: number, length: number): void {
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 0 && n % HOST_PAGE_SIZE === 0;
  if (!whole(offset) || !whole(length) || offset + length > mem.size) {
    throw new RangeError(`cannot discard ${offset}+${length} of ${mem.size} bytes`);
  }
  if (length === 0) return;
  const at = Deno.UnsafePointer.create(mem.address + BigInt(offset));
  if (libc().madvise(at, BigInt(length), MADV_REMOVE) < 0) {
    throw new KvmError("madvise(MADV_REMOVE)", errno());
  }
}

/** True when the host has swap in use (then non-resident pages may hold data). */
export function swapConfigured(): boolean {
  try {
    return Deno.readTextFileSync("/proc/swaps").trim().split("\n").length > 1;
  } catch {
    return true;
  }
}

/** Unmaps memory from {@link mapAnonymous}; its buffer must no longer be used. */
export function unmap(mem: HostMemory): void {
  libc().munmap(Deno.UnsafePointer.create(mem.address), BigInt(mem.size));
}

/** The calling thread's pthread id, for {@link VcpuKicker}. */
export function currentThreadId(): bigint {
  return BigInt(libc().pthread_self());
}

/** The calling thread's kernel thread id (gettid(2)), for {@link KickTimer}. */
export function currentKernelThreadId(): number {
  return libc().gettid();
}

let kickHandlerInstalled = false;

/**
 * Installs a do-nothing SIGUSR2 handler in this process, so the signal that
 * kicks a vCPU interrupts KVM_RUN instead of killing the process. Call on
 * the main thread before any vCPU starts. It is never removed: a kick that
 * races with a machine's teardown must still find it (a listener does not
 * keep Deno's event loop alive). SIGUSR1 would open Deno's inspector.
 */
export function installKickHandler(): void {
  if (kickHandlerInstalled) return;
  Deno.addSignalListener("SIGUSR2", () => {});
  kickHandlerInstalled = true;
}

/**
 * Gets a vCPU thread out of KVM_RUN from another thread: sets the vCPU's
 * `immediate_exit` (covers a kick that lands just before KVM_RUN) and
 * signals its thread (covers a vCPU already inside, halted or spinning).
 */
export class VcpuKicker {
  readonly #run: Uint8Array;

  /**
   * @param runAddress host address of the vCPU's kvm_run area
   * @param threadId pthread id of the vCPU's thread
   */
  constructor(readonly runAddress: bigint, readonly threadId: bigint) {
    const ptr = Deno.UnsafePointer.create(runAddress);
    this.#run = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(ptr!, 64));
  }

  /** Interrupts the vCPU's current or next KVM_RUN. */
  kick(): void {
    Atomics.store(this.#run, LAYOUTS.kvm_run.fields.immediate_exit, 1);
    libc().pthread_kill(this.threadId, SIGUSR2);
  }
}

/** struct sigevent is 64 bytes on x86-64: value, signo, notify, then the thread id. */
const SIGEVENT_BYTES = 64;
/** struct itimerspec: it_interval then it_value, each tv_sec and tv_nsec as 64-bit words. */
const ITIMERSPEC_WORDS = 4;

/**
 * A POSIX timer on CLOCK_MONOTONIC that sends the kick signal (SIGUSR2) to
 * one thread when it expires, so a vCPU thread sitting in KVM_RUN (an
 * in-kernel HLT included) comes out at a device deadline without any thread
 * of ours waiting for it. The signal interrupts KVM_RUN only while the
 * thread is inside it; {@link armIn}'s repeat interval covers an expiry
 * that lands just outside.
 *
 * Timer ids belong to the process: any thread may {@link deleteId} one.
 */
export class KickTimer {
  readonly #spec = new BigInt64Array(ITIMERSPEC_WORDS);
  readonly #specBytes = new Uint8Array(this.#spec.buffer);
  #deleted = false;

  private constructor(readonly id: bigint) {}

  /**
   * Creates a disarmed timer that signals kernel thread `tid` of this process.
   * @throws {KvmError} when the kernel refuses (e.g. no such thread)
   */
  static forThread(tid: number): KickTimer {
    const event = new DataView(new ArrayBuffer(SIGEVENT_BYTES));
    event.setInt32(8, SIGUSR2, true);
    event.setInt32(12, SIGEV_THREAD_ID, true);
    event.setInt32(16, tid, true);
    const out = new BigUint64Array(1);
    const r = libc().timer_create(
      CLOCK_MONOTONIC,
      new Uint8Array(event.buffer),
      new Uint8Array(out.buffer),
    );
    if (r < 0) throw new KvmError("timer_create", errno());
    return new KickTimer(out[0]);
  }

  /**
   * Fires after `delayNs` (at once when not positive), then every
   * `repeatNs` until re-armed or disarmed (never again when 0).
   */
  armIn(delayNs: number, repeatNs = 0): void {
    const delay = delayNs >= 1 ? Math.round(delayNs) : 1; // 0 would disarm
    this.#set(repeatNs, delay);
  }

  /** Stops the timer; a pending expiry is cancelled. */
  disarm(): void {
    this.#set(0, 0);
  }

  /** Deletes the timer (idempotent). */
  delete(): void {
    if (this.#deleted) return;
    this.#deleted = true;
    KickTimer.deleteId(this.id);
  }

  /** Deletes a timer by id, e.g. one a worker that died left behind. */
  static deleteId(id: bigint): void {
    libc().timer_delete(id);
  }

  #set(repeatNs: number, valueNs: number): void {
    if (this.#deleted) return;
    repeatNs = Math.max(0, Math.round(repeatNs));
    const s = this.#spec;
    s[0] = BigInt(Math.floor(repeatNs / 1e9));
    s[1] = BigInt(repeatNs % 1e9);
    s[2] = BigInt(Math.floor(valueNs / 1e9));
    s[3] = BigInt(valueNs % 1e9);
    if (libc().timer_settime(this.id, 0, this.#specBytes, null) < 0) {
      throw new KvmError("timer_settime", errno());
    }
  }
}

/** An advisory flock(2) lock on a file (exclusive for a writer, shared for readers), held until {@link release}. */
export class FileLock {
  private constructor(readonly path: string, readonly fd: number) {}

  /**
   * Takes a flock(2) lock without waiting: exclusive, or shared when `shared`.
   * @returns the lock, or null when another process holds it
   * @throws {KvmError} when the file cannot be opened
   */
  static tryAcquire(path: string, shared = false): FileLock | null {
    // flock needs no write access; read-only opening works for read-only images too.
    const fd = libc().open(cString(path), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) throw new KvmError(`open(${path})`, errno());
    if (libc().flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
      libc().close(fd);
      return null;
    }
    return new FileLock(path, fd);
  }

  /** Drops the lock. */
  release(): void {
    libc().close(this.fd);
  }
}

/** open(2)'s O_PATH: a handle on a file that names it without reading or writing it. */
const O_PATH = 0o10000000;

/**
 * Opens a path given as raw bytes (a name that is not UTF-8, which Deno's
 * file APIs cannot spell) as an O_PATH handle; `/proc/self/fd/<fd>` then
 * names the same file for every Deno API in this process, workers included.
 * @returns the descriptor, or the errno value when open(2) fails
 */
export function openPathHandle(raw: Uint8Array): { fd: number } | { errno: number } {
  const name = new Uint8Array(raw.length + 1);
  name.set(raw);
  const fd = libc().open(name, O_PATH | O_CLOEXEC, 0);
  return fd < 0 ? { errno: errno() } : { fd };
}
