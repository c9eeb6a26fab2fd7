/**
 * libslirp (Debian `libslirp0`) through Deno FFI: QEMU's user-mode network
 * (a NAT with DHCP, DNS, TFTP and port forwarding) as a library. This file
 * and posix.ts form the host room, the only FFI outside kvm/.
 *
 * A {@link Slirp} must live on one thread: libslirp calls back into
 * JavaScript (send a frame to the guest, timers, the clock) only from inside
 * the calls made here ({@link Slirp.input}, {@link Slirp.poll},
 * {@link Slirp.runTimers}, hostfwd changes), so `Deno.UnsafeCallback`s run
 * synchronously on that thread. vmrun runs every slirp instance in the
 * network worker (machine/net_worker.ts).
 *
 * Struct layouts are for x86-64 Linux and are checked against
 * <slirp/libslirp.h> by slirp_test.ts.
 *
 * @module
 */

import { cFree, ERRNO, lastErrno, POLL, PollSet, socketName } from "./posix.ts";

/** The library file, as Debian's libslirp0 installs it. */
export const LIBSLIRP = "libslirp.so.0";
/** The SlirpConfig version vmrun fills (4: timer_new_opaque, disable_dhcp). */
export const SLIRP_CONFIG_VERSION = 4;

/** Offsets in `SlirpConfig` (x86-64). */
export const SLIRP_CONFIG = {
  size: 184,
  fields: {
    version: 0,
    restricted: 4,
    in_enabled: 8,
    vnetwork: 12,
    vnetmask: 16,
    vhost: 20,
    in6_enabled: 24,
    vprefix_addr6: 28,
    vprefix_len: 44,
    vhost6: 48,
    vhostname: 64,
    tftp_server_name: 72,
    tftp_path: 80,
    bootfile: 88,
    vdhcp_start: 96,
    vnameserver: 100,
    vnameserver6: 104,
    vdnssearch: 120,
    vdomainname: 128,
    if_mtu: 136,
    if_mru: 144,
    disable_host_loopback: 152,
    enable_emu: 153,
    outbound_addr: 160,
    outbound_addr6: 168,
    disable_dns: 176,
    disable_dhcp: 177,
  },
} as const;

/** Offsets in `SlirpCb`: one function pointer each. */
export const SLIRP_CB = {
  size: 88,
  fields: {
    send_packet: 0,
    guest_error: 8,
    clock_get_ns: 16,
    timer_new: 24,
    timer_free: 32,
    timer_mod: 40,
    register_poll_fd: 48,
    unregister_poll_fd: 56,
    notify: 64,
    init_completed: 72,
    timer_new_opaque: 80,
  },
} as const;

/** SLIRP_POLL_* bits of the poll callbacks. */
export const SLIRP_POLL = { IN: 1, OUT: 2, PRI: 4, ERR: 8, HUP: 16 } as const;

const SYMBOLS = {
  slirp_version_string: { parameters: [], result: "pointer" },
  slirp_new: { parameters: ["buffer", "buffer", "pointer"], result: "pointer" },
  slirp_cleanup: { parameters: ["pointer"], result: "void" },
  slirp_input: { parameters: ["pointer", "buffer", "i32"], result: "void" },
  slirp_pollfds_fill: {
    parameters: ["pointer", "buffer", "function", "pointer"],
    result: "void",
  },
  slirp_pollfds_poll: { parameters: ["pointer", "i32", "function", "pointer"], result: "void" },
  slirp_handle_timer: { parameters: ["pointer", "u32", "pointer"], result: "void" },
  // struct in_addr is passed by value: one 32-bit integer in the SysV ABI.
  slirp_add_hostfwd: {
    parameters: ["pointer", "i32", "u32", "i32", "u32", "i32"],
    result: "i32",
  },
  slirp_remove_hostfwd: { parameters: ["pointer", "i32", "u32", "i32"], result: "i32" },
  slirp_connection_info: { parameters: ["pointer"], result: "pointer" },
} as const;

type SlirpSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** libslirp cannot be loaded (not installed, or too old). */
export class SlirpUnavailableError extends Error {
  /** @param message why, naming the Debian package */
  constructor(message: string) {
    super(message);
    this.name = "SlirpUnavailableError";
  }
}

/**
 * Opens libslirp under `name` and checks its version.
 * @throws {SlirpUnavailableError} naming the Debian package when it is missing or too old
 */
export function openLibslirp(name: string = LIBSLIRP): Deno.DynamicLibrary<typeof SYMBOLS> {
  let opened: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    opened = Deno.dlopen(name, SYMBOLS);
  } catch (e) {
    throw new SlirpUnavailableError(
      `user-mode networking needs libslirp (${name}): install Debian's libslirp0 ` +
        `(sudo apt-get install libslirp0)` + (e instanceof Error ? ` [${e.message}]` : ""),
    );
  }
  const version = cStringAt(opened.symbols.slirp_version_string());
  const [major, minor] = version.split(".").map(Number);
  // SlirpConfig version 4 and timer_new_opaque arrived in libslirp 4.7.
  if (!(major > 4 || (major === 4 && minor >= 7))) {
    opened.close();
    throw new SlirpUnavailableError(
      `libslirp ${version} is too old (4.7 or later needed): upgrade Debian's libslirp0`,
    );
  }
  return opened;
}

/** The loaded library, opened once. */
function slirp(): SlirpSymbols {
  lib ??= openLibslirp();
  return lib.symbols;
}

/**
 * libslirp's version string ("4.7.0").
 * @throws {SlirpUnavailableError} when libslirp is missing or too old
 */
export function slirpVersion(): string {
  return cStringAt(slirp().slirp_version_string());
}

function cStringAt(p: Deno.PointerValue): string {
  return p === null ? "" : new Deno.UnsafePointerView(p).getCString();
}

/** An IPv4 address in dotted form as a `struct in_addr` value (network order in memory). */
export function inAddr(dotted: string): number {
  const parts = dotted.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not an IPv4 address: ${dotted}`);
  }
  return (parts[0] | (parts[1] << 8) | (parts[2] << 16) | (parts[3] << 24)) >>> 0;
}

/** What one user-mode network looks like (QEMU's `-netdev user` options). */
export interface SlirpOptions {
  /** Guest network, e.g. "10.0.2.0". */
  readonly network: string;
  /** Its netmask, e.g. "255.255.255.0". */
  readonly netmask: string;
  /** The gateway/host address slirp answers on ("10.0.2.2"). */
  readonly host: string;
  /** First address DHCP hands out ("10.0.2.15"). */
  readonly dhcpStart: string;
  /** The DNS server address inside the network ("10.0.2.3"). */
  readonly dns: string;
  /** restrict=on: the guest reaches only the virtual network and forwards. */
  readonly restricted: boolean;
  /** Directory served by the built-in TFTP server, or null. */
  readonly tftpPath: string | null;
  /** DHCP boot file name, or null. */
  readonly bootfile: string | null;
  /** Host name given by DHCP, or null. */
  readonly hostname: string | null;
}

/** A host-to-guest port forward. */
export interface HostForward {
  readonly protocol: "tcp" | "udp";
  /** Host address to bind ("" or "0.0.0.0" for any). */
  readonly hostAddress: string;
  readonly hostPort: number;
  /** Guest address ("" for the first DHCP address). */
  readonly guestAddress: string;
  readonly guestPort: number;
}

/** `tcp:127.0.0.1:2222-:22`, QEMU's form of a forward. */
export function describeForward(fwd: HostForward): string {
  return `${fwd.protocol}:${fwd.hostAddress}:${fwd.hostPort}-${fwd.guestAddress}:${fwd.guestPort}`;
}

/** A forward's host port could not be bound. */
export class HostForwardError extends Error {
  /** @param fwd the forward, @param errno why bind(2) or listen(2) failed */
  constructor(readonly fwd: HostForward, readonly errno: number) {
    const port = `host port ${fwd.protocol} ${fwd.hostAddress || "0.0.0.0"}:${fwd.hostPort}`;
    const why = errno === ERRNO.EADDRINUSE
      ? `${port} is already in use`
      : errno === ERRNO.EACCES
      ? `${port} needs privileges to bind`
      : errno === ERRNO.EADDRNOTAVAIL
      ? `${fwd.hostAddress} is not an address of this host`
      : `${port} could not be bound (errno ${errno})`;
    super(`hostfwd ${describeForward(fwd)}: ${why}`);
    this.name = "HostForwardError";
  }
}

const TIMER_CALLBACK = { parameters: ["pointer"], result: "void" } as const;
type TimerCallback = typeof TIMER_CALLBACK;

/** Which slirp timer a handle stands for. */
interface SlirpTimer {
  deadlineMs: number;
  /** timer_new_opaque: the SlirpTimerId; timer_new: -1. */
  readonly id: number;
  readonly cbOpaque: Deno.PointerValue;
  /** timer_new: the C callback to call with cbOpaque. */
  readonly cb: Deno.PointerValue;
}

/** Events the owner of a {@link Slirp} handles. */
export interface SlirpEvents {
  /** A frame for the guest; `frame` is only valid during the call. */
  readonly sendPacket: (frame: Uint8Array) => void;
  /** libslirp saw the guest misbehave. */
  readonly guestError?: (message: string) => void;
}

const encoder = new TextEncoder();
/** The frame buffer send_packet starts with: a full Ethernet frame at slirp's largest MTU. */
const SEND_SCRATCH_BYTES = 65536 + 14;

/** One libslirp instance: a virtual network with its own NAT, DHCP and forwards. */
export class Slirp {
  readonly #sym: SlirpSymbols;
  readonly #handle: Deno.PointerValue;
  readonly #callbacks: Deno.UnsafeCallback[] = [];
  readonly #timers = new Map<number, SlirpTimer>();
  #nextTimer = 1;
  /** Keeps the C strings and structs alive as long as slirp may read them. */
  readonly #keep: Uint8Array[] = [];
  #pollSet = new PollSet();
  readonly #addPoll: { pointer: Deno.PointerObject; close(): void };
  readonly #getRevents: { pointer: Deno.PointerObject; close(): void };
  readonly #timeout = new Uint32Array(1);
  readonly #timeoutBytes = new Uint8Array(this.#timeout.buffer);
  readonly #options: SlirpOptions;
  #closed = false;

  /**
   * Creates the network.
   * @throws {SlirpUnavailableError} when libslirp is missing or too old
   * @throws {Error} when libslirp refuses the configuration
   */
  constructor(options: SlirpOptions, events: SlirpEvents) {
    this.#sym = slirp();
    this.#options = options;
    const cfg = new Uint8Array(SLIRP_CONFIG.size);
    const v = new DataView(cfg.buffer);
    const f = SLIRP_CONFIG.fields;
    v.setUint32(f.version, SLIRP_CONFIG_VERSION, true);
    v.setInt32(f.restricted, options.restricted ? 1 : 0, true);
    v.setUint8(f.in_enabled, 1);
    v.setUint32(f.vnetwork, inAddr(options.network), true);
    v.setUint32(f.vnetmask, inAddr(options.netmask), true);
    v.setUint32(f.vhost, inAddr(options.host), true);
    v.setUint32(f.vdhcp_start, inAddr(options.dhcpStart), true);
    v.setUint32(f.vnameserver, inAddr(options.dns), true);
    const str = (field: number, s: string | null) => {
      if (s === null) return;
      const bytes = encoder.encode(s + "\0");
      this.#keep.push(bytes);
      v.setBigUint64(field, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes))), true);
    };
    str(f.vhostname, options.hostname);
    str(f.tftp_path, options.tftpPath);
    str(f.bootfile, options.bootfile);
    // QEMU's defaults: MTU and MRU 1500 (0 means libslirp's default, also 1500).
    this.#keep.push(cfg);

    const cb = new Uint8Array(SLIRP_CB.size);
    const cv = new DataView(cb.buffer);
    const fn = <D extends Deno.UnsafeCallbackDefinition>(
      field: number,
      def: D,
      impl: Deno.UnsafeCallbackFunction<D["parameters"], D["result"]>,
    ) => {
      const c = new Deno.UnsafeCallback(def, impl);
      this.#callbacks.push(c as unknown as Deno.UnsafeCallback);
      cv.setBigUint64(field, BigInt(Deno.UnsafePointer.value(c.pointer)), true);
    };
    const c = SLIRP_CB.fields;
    /** Frames for the guest, as the callback hands them over (valid only during the call). */
    let sendScratch = new Uint8Array(SEND_SCRATCH_BYTES);
    fn(c.send_packet, { parameters: ["pointer", "usize", "pointer"], result: "isize" } as const, (
      buf,
      len,
      _opaque,
    ) => {
      const n = Number(len);
      if (buf !== null && n > 0) {
        // Copied into one reused buffer: an ArrayBuffer over slirp's memory per frame costs
        // more than the copy and leaves the collector an external buffer each time.
        if (n > sendScratch.length) sendScratch = new Uint8Array(n);
        const frame = sendScratch.subarray(0, n);
        Deno.UnsafePointerView.copyInto(buf, frame);
        events.sendPacket(frame);
      }
      return BigInt(n);
    });
    fn(c.guest_error, { parameters: ["pointer", "pointer"], result: "void" } as const, (msg) => {
      events.guestError?.(cStringAt(msg));
    });
    fn(
      c.clock_get_ns,
      { parameters: ["pointer"], result: "i64" } as const,
      () => BigInt(Math.floor(performance.now() * 1e6)),
    );
    fn(
      c.timer_new,
      { parameters: ["pointer", "pointer", "pointer"], result: "pointer" } as const,
      (cbFn, cbOpaque) => this.#newTimer(-1, cbOpaque, cbFn),
    );
    fn(c.timer_free, { parameters: ["pointer", "pointer"], result: "void" } as const, (t) => {
      this.#timers.delete(Number(Deno.UnsafePointer.value(t)));
    });
    fn(
      c.timer_mod,
      { parameters: ["pointer", "i64", "pointer"], result: "void" } as const,
      (t, expireMs) => {
        const timer = this.#timers.get(Number(Deno.UnsafePointer.value(t)));
        if (timer) timer.deadlineMs = Number(expireMs);
      },
    );
    // Sockets are found through pollfds_fill on every turn; registration needs no bookkeeping.
    fn(c.register_poll_fd, { parameters: ["i32", "pointer"], result: "void" } as const, () => {});
    fn(c.unregister_poll_fd, { parameters: ["i32", "pointer"], result: "void" } as const, () => {});
    fn(c.notify, { parameters: ["pointer"], result: "void" } as const, () => {});
    fn(c.init_completed, { parameters: ["pointer", "pointer"], result: "void" } as const, () => {});
    fn(
      c.timer_new_opaque,
      { parameters: ["u32", "pointer", "pointer"], result: "pointer" } as const,
      (id, cbOpaque) => this.#newTimer(id, cbOpaque, null),
    );
    this.#keep.push(cb);

    this.#addPoll = new Deno.UnsafeCallback(
      { parameters: ["i32", "i32", "pointer"], result: "i32" } as const,
      (fd, ev) => this.#pollSet.add(fd, toPollEvents(ev)),
    );
    this.#getRevents = new Deno.UnsafeCallback(
      { parameters: ["i32", "pointer"], result: "i32" } as const,
      (idx) => fromPollEvents(this.#pollSet.revents(idx)),
    );
    this.#handle = this.#sym.slirp_new(cfg, cb, null);
    if (this.#handle === null) {
      this.#closeCallbacks();
      throw new Error("libslirp refused the network configuration");
    }
  }

  /** The options the network was created with. */
  get options(): SlirpOptions {
    return this.#options;
  }

  #newTimer(id: number, cbOpaque: Deno.PointerValue, cb: Deno.PointerValue): Deno.PointerValue {
    const handle = this.#nextTimer++;
    this.#timers.set(handle, { deadlineMs: Infinity, id, cbOpaque, cb });
    return Deno.UnsafePointer.create(BigInt(handle));
  }

  /** Hands a frame from the guest to the network (slirp copies what it keeps). */
  input(frame: Uint8Array): void {
    if (this.#closed || frame.length === 0) return;
    this.#sym.slirp_input(this.#handle, frame as Uint8Array<ArrayBuffer>, frame.length);
  }

  /**
   * Adds slirp's sockets to `set` (which the caller may already hold other
   * descriptors in) and returns how long slirp may wait, in ms.
   */
  fillPoll(set: PollSet, maxWaitMs: number): number {
    this.#pollSet = set;
    this.#timeout[0] = Math.max(0, Math.min(0xffffffff, Math.floor(maxWaitMs)));
    this.#sym.slirp_pollfds_fill(
      this.#handle,
      this.#timeoutBytes,
      this.#addPoll.pointer,
      null,
    );
    return this.#timeout[0];
  }

  /**
   * Lets slirp act on what poll(2) reported for the set last given to
   * {@link fillPoll} (or only on its timeouts after an error).
   */
  afterPoll(pollFailed = false): void {
    this.#sym.slirp_pollfds_poll(this.#handle, pollFailed ? 1 : 0, this.#getRevents.pointer, null);
  }

  /** Runs the timers that are due; returns the next deadline (ms on the clock_get_ns timeline). */
  runTimers(nowMs = performance.now()): number {
    let next = Infinity;
    let due = false;
    for (const t of this.#timers.values()) {
      due ||= t.deadlineMs <= nowMs;
      next = Math.min(next, t.deadlineMs);
    }
    // Called on every wake-up of the network worker: a copy of the table only when one is due.
    if (!due) return next;
    next = Infinity;
    for (const [, t] of [...this.#timers]) {
      if (t.deadlineMs <= nowMs) {
        t.deadlineMs = Infinity;
        if (t.id >= 0) this.#sym.slirp_handle_timer(this.#handle, t.id, t.cbOpaque);
        else if (t.cb !== null) {
          new Deno.UnsafeFnPointer(
            t.cb as Deno.PointerObject<TimerCallback>,
            TIMER_CALLBACK,
          ).call(
            t.cbOpaque,
          );
        }
      }
      next = Math.min(next, t.deadlineMs);
    }
    return next;
  }

  /**
   * Forwards a host port to the guest; `hostPort` 0 lets the kernel choose.
   * @returns the host port actually bound
   * @throws {HostForwardError} when the host port cannot be bound (in use, not permitted)
   */
  addHostForward(fwd: HostForward): number {
    // libslirp 4.7 neither returns the socket it bound nor registers it
    // through register_poll_fd, but its connection table names each forward's
    // descriptor: the one that is new after the call is this forward's
    // listening socket, and getsockname(2) on it gives the port the kernel
    // chose. No other thread touches this slirp, so the difference is exact,
    // and the port reported is the one held (nothing is bound twice).
    const before = fwd.hostPort === 0 ? this.#forwardFds() : null;
    const r = this.#sym.slirp_add_hostfwd(
      this.#handle,
      fwd.protocol === "udp" ? 1 : 0,
      inAddr(fwd.hostAddress || "0.0.0.0"),
      fwd.hostPort,
      inAddr(fwd.guestAddress || this.#options.dhcpStart),
      fwd.guestPort,
    );
    if (r < 0) throw new HostForwardError(fwd, lastErrno());
    if (before === null) return fwd.hostPort;
    for (const fd of this.#forwardFds()) {
      if (before.has(fd)) continue;
      const name = socketName(fd);
      if (name) return name.port;
    }
    throw new Error(`hostfwd ${describeForward(fwd)}: the bound port could not be found`);
  }

  /** Descriptors of every forward's listening socket, from libslirp's table. */
  #forwardFds(): Set<number> {
    const fds = new Set<number>();
    for (const m of this.connectionInfo().matchAll(/^\s*(?:TCP|UDP)\[HOST_FORWARD\]\s+(\d+)/gm)) {
      fds.add(Number(m[1]));
    }
    return fds;
  }

  /**
   * Removes a forward by the host port it holds (the bound one for port 0).
   * @returns false when there was none
   */
  removeHostForward(protocol: "tcp" | "udp", hostAddress: string, hostPort: number): boolean {
    return this.#sym.slirp_remove_hostfwd(
      this.#handle,
      protocol === "udp" ? 1 : 0,
      inAddr(hostAddress || "0.0.0.0"),
      hostPort,
    ) === 0;
  }

  /** libslirp's human-readable table of connections and forwards. */
  connectionInfo(): string {
    const p = this.#sym.slirp_connection_info(this.#handle);
    try {
      return cStringAt(p);
    } finally {
      cFree(p);
    }
  }

  /** Frees the instance and its callbacks. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sym.slirp_cleanup(this.#handle);
    this.#closeCallbacks();
  }

  #closeCallbacks(): void {
    for (const c of this.#callbacks) c.close();
    this.#addPoll.close();
    this.#getRevents.close();
  }
}

function toPollEvents(slirpEvents: number): number {
  let e = 0;
  if (slirpEvents & SLIRP_POLL.IN) e |= POLL.IN;
  if (slirpEvents & SLIRP_POLL.OUT) e |= POLL.OUT;
  if (slirpEvents & SLIRP_POLL.PRI) e |= POLL.PRI;
  return e;
}

function fromPollEvents(revents: number): number {
  let e = 0;
  if (revents & POLL.IN) e |= SLIRP_POLL.IN;
  if (revents & POLL.OUT) e |= SLIRP_POLL.OUT;
  if (revents & POLL.PRI) e |= SLIRP_POLL.PRI;
  if (revents & (POLL.ERR | POLL.NVAL)) e |= SLIRP_POLL.ERR;
  if (revents & POLL.HUP) e |= SLIRP_POLL.HUP;
  return e;
}
