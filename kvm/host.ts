/**
 * Host services that need libc: anonymous memory for guest RAM, kicking a
 * vCPU thread out of KVM_RUN, and advisory file locks.
 *
 * @module
 */

import { KvmError } from "./errors.ts";
import {
  cString,
  errno,
  libc,
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  MAP_ANONYMOUS,
  MAP_NORESERVE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDONLY,
  PROT_READ,
  PROT_WRITE,
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

/** Unmaps memory from {@link mapAnonymous}; its buffer must no longer be used. */
export function unmap(mem: HostMemory): void {
  libc().munmap(Deno.UnsafePointer.create(mem.address), BigInt(mem.size));
}

/** The calling thread's pthread id, for {@link VcpuKicker}. */
export function currentThreadId(): bigint {
  return BigInt(libc().pthread_self());
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
