/**
 * The POSIX calls the network worker needs that Deno does not offer on a
 * raw descriptor: poll(2) over libslirp's sockets and an eventfd(2) other
 * threads write to wake that poll. Part of the host room (with slirp.ts),
 * the only FFI outside kvm/.
 *
 * @module
 */

const SYMBOLS = {
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  free: { parameters: ["pointer"], result: "void" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function posix(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

function errno(): number {
  return new Deno.UnsafePointerView(posix().__errno_location()!).getInt32();
}

/** The calling thread's errno, read right after a failed library call. */
export function lastErrno(): number {
  return errno();
}

/** Frees memory a C library returned with malloc(3). */
export function cFree(p: Deno.PointerValue): void {
  if (p !== null) posix().free(p);
}

/** Linux errno values vmrun names in messages. */
export const ERRNO = { EACCES: 13, EADDRINUSE: 98, EADDRNOTAVAIL: 99 } as const;

const AF_INET = 2;

/**
 * The IPv4 address and port a socket is bound to (getsockname(2)), or null
 * when `fd` is not an IPv4 socket.
 */
export function socketName(fd: number): { address: string; port: number } | null {
  const addr = new Uint8Array(128);
  const len = new Uint32Array([addr.length]);
  if (posix().getsockname(fd, addr, new Uint8Array(len.buffer)) !== 0) return null;
  if ((addr[0] | (addr[1] << 8)) !== AF_INET) return null;
  // struct sockaddr_in: family (2), port (2, network order), address (4).
  return { address: `${addr[4]}.${addr[5]}.${addr[6]}.${addr[7]}`, port: (addr[2] << 8) | addr[3] };
}

/** poll(2) event bits. */
export const POLL = { IN: 0x1, PRI: 0x2, OUT: 0x4, ERR: 0x8, HUP: 0x10, NVAL: 0x20 } as const;

/** Bytes of one `struct pollfd` (int fd; short events; short revents). */
export const POLLFD_SIZE = 8;
/** Offsets inside `struct pollfd`. */
export const POLLFD = { fd: 0, events: 4, revents: 6 } as const;

const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const EINTR = 4;

/** A growable `struct pollfd` array for poll(2). */
export class PollSet {
  #bytes = new Uint8Array(POLLFD_SIZE * 16);
  #view = new DataView(this.#bytes.buffer);
  /** Entries in use. */
  count = 0;

  /** Forgets every entry. */
  clear(): void {
    this.count = 0;
  }

  /** Adds `fd` waiting for `events`; returns its index. */
  add(fd: number, events: number): number {
    if ((this.count + 1) * POLLFD_SIZE > this.#bytes.length) {
      const bigger = new Uint8Array(this.#bytes.length * 2);
      bigger.set(this.#bytes);
      this.#bytes = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    const at = this.count * POLLFD_SIZE;
    this.#view.setInt32(at + POLLFD.fd, fd, true);
    this.#view.setInt16(at + POLLFD.events, events, true);
    this.#view.setInt16(at + POLLFD.revents, 0, true);
    return this.count++;
  }

  /** What poll(2) reported for entry `index`. */
  revents(index: number): number {
    if (index < 0 || index >= this.count) return 0;
    return this.#view.getUint16(index * POLLFD_SIZE + POLLFD.revents, true);
  }

  /**
   * Blocks the calling thread until an entry is ready or `timeoutMs` passes.
   * @returns ready entries (0 on timeout or EINTR)
   * @throws {Error} when poll(2) fails otherwise
   */
  wait(timeoutMs: number): number {
    const n = posix().poll(this.#bytes, BigInt(this.count), Math.max(0, Math.floor(timeoutMs)));
    if (n < 0) {
      const e = errno();
      if (e === EINTR) return 0;
      throw new Error(`poll: errno ${e}`);
    }
    return n;
  }
}

/**
 * An eventfd(2): any thread of the process may {@link signal} it; the
 * owner polls its {@link fd} and {@link drain}s it.
 */
export class EventFd {
  readonly #one = new BigUint64Array([1n]);
  readonly #scratch = new Uint8Array(8);

  private constructor(readonly fd: number) {}

  /** Creates a non-blocking, close-on-exec eventfd. */
  static create(): EventFd {
    const fd = posix().eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw new Error(`eventfd: errno ${errno()}`);
    return new EventFd(fd);
  }

  /** Wraps a descriptor created by {@link create} (passed to another worker as a number). */
  static of(fd: number): EventFd {
    return new EventFd(fd);
  }

  /** Wakes a poll(2) on the descriptor. */
  signal(): void {
    posix().write(this.fd, new Uint8Array(this.#one.buffer), 8n);
  }

  /** Resets the counter after a wake-up. */
  drain(): void {
    posix().read(this.fd, this.#scratch, 8n);
  }

  /** Closes the descriptor. */
  close(): void {
    posix().close(this.fd);
  }
}
