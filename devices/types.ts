/**
 * The contracts every device is written against. Devices are pure state
 * machines: they touch the outside world only through what is injected here
 * (interrupt lines, clocks, timers, byte sinks, guest memory, disk backends),
 * so each one is unit-testable without /dev/kvm.
 *
 * @module
 */

/** Access width of a bus access, in bytes. */
export type AccessSize = 1 | 2 | 4;

/**
 * A region on a port-I/O or MMIO bus. Offsets are relative to the base the
 * region was registered at. Values are unsigned and fit in `size` bytes.
 */
export interface BusDevice {
  /** Reads `size` bytes at `offset`. Unimplemented registers read as all ones. */
  read(offset: number, size: AccessSize): number;
  /** Writes the low `size` bytes of `value` at `offset`. */
  write(offset: number, size: AccessSize, value: number): void;
  /**
   * Optional fast path for string I/O (`rep insw` arrives as one exit with
   * many elements): fills `dst` with `dst.length / size` reads of `offset`.
   */
  readBlock?(offset: number, size: AccessSize, dst: Uint8Array): void;
  /** Optional fast path for string I/O: `src.length / size` writes to `offset`. */
  writeBlock?(offset: number, size: AccessSize, src: Uint8Array): void;
}

/** Plain JSON, as returned by every `state()`. */
export type Json =
  | null
  | boolean
  | number
  | string
  | Json[]
  | { [key: string]: Json };

/** A device whose state can be snapshotted as plain JSON for the TUI, API and tests. */
export interface Stateful {
  /** A plain-JSON snapshot; never a live reference to internals. */
  state(): Json;
}

/**
 * A device's saved state: plain data only (numbers, strings, booleans, null,
 * arrays, nested plain objects and `Uint8Array`s), so it survives structured
 * clone and the save-file encoder. `version` is the format version of that
 * device's state; restore refuses versions it does not know.
 */
export interface DeviceState {
  readonly version: number;
}

/**
 * A device with a typed, versioned snapshot and an exact restore. The
 * snapshot holds everything a guest can observe (registers, FIFOs, latches,
 * IRQ levels, DMA progress); timer deadlines are absolute nanoseconds on the
 * injected clock, which a restored machine resumes at the saved time.
 */
export interface Snapshotting<S extends DeviceState> {
  /** A deep copy of the device's state; never a live reference to internals. */
  snapshot(): S;
  /**
   * Puts the device back into `state`: re-arms its timers at the saved
   * deadlines and re-drives its interrupt lines to the saved levels.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: S): void;
}

/** A saved device state that cannot be restored (unknown version, wrong shape). */
export class StateError extends Error {
  /** @param device which device refused, @param message why */
  constructor(readonly device: string, message: string) {
    super(`${device}: ${message}`);
    this.name = "StateError";
  }
}

/**
 * An interrupt request line. The device drives its level; the board turns
 * level changes into KVM_IRQ_LINE calls (edge-triggered ISA inputs see the
 * rising edge).
 */
export interface IrqLine {
  /** Sets the line's level. Setting the same level twice is harmless. */
  set(level: boolean): void;
}

/** A monotonic clock in nanoseconds since the machine was created. */
export interface Clock {
  /** Nanoseconds since an arbitrary, fixed origin; never goes backwards. */
  nowNs(): number;
}

/** A one-shot timer created by a {@link TimerFactory}. */
export interface Timer {
  /** Fires the timer's callback once the clock reaches `deadlineNs`; re-arming replaces the deadline. */
  arm(deadlineNs: number): void;
  /** Disarms the timer if armed. */
  cancel(): void;
}

/** Creates timers whose callbacks run on the device's own thread. */
export type TimerFactory = (callback: () => void) => Timer;

/**
 * What a device that keeps time takes from the board: the guest clock and a
 * way to make timers on it (the board's `timers()` hands both over).
 */
export interface TimedOptions {
  readonly clock: Clock;
  readonly timer: TimerFactory;
}

/**
 * Receives bytes a device emits (a UART's transmitter). The array is valid
 * only during the call (the device reuses it): a sink that keeps the bytes
 * copies them.
 */
export type ByteSink = (bytes: Uint8Array) => void;

/**
 * Guest-physical RAM as devices see it for DMA. Every access is
 * bounds-checked; an access outside RAM throws {@link GuestMemoryError}.
 */
export interface GuestMemory {
  /** A live view of `[addr, addr + length)`; writes to it reach the guest. */
  view(addr: number, length: number): Uint8Array;
  /** Copies `length` bytes out of the guest. */
  read(addr: number, length: number): Uint8Array;
  /** Copies `data` into the guest at `addr`. */
  write(addr: number, data: Uint8Array): void;
  readU8(addr: number): number;
  readU16(addr: number): number;
  readU32(addr: number): number;
  /** Reads a little-endian u64 as a number; throws if it exceeds 2^53. */
  readU64(addr: number): number;
  writeU8(addr: number, value: number): void;
  writeU16(addr: number, value: number): void;
  writeU32(addr: number, value: number): void;
  writeU64(addr: number, value: number): void;
}

/** Thrown when a guest-physical access falls outside guest RAM. */
export class GuestMemoryError extends Error {
  /** The guest-physical address and length that were refused. */
  constructor(readonly addr: number, readonly length: number) {
    super(
      `guest memory access out of range: 0x${addr.toString(16)}+0x${length.toString(16)}`,
    );
    this.name = "GuestMemoryError";
  }
}

/**
 * A disk image as a device sees it: synchronous, byte-addressed. File and
 * copy-on-write implementations live in machine/; tests use in-memory ones.
 */
export interface BlockBackend {
  /** Size in bytes. */
  readonly size: number;
  /** True when writes are refused. */
  readonly readonly: boolean;
  /** Fills `buf` from byte `offset`; reads past the end return zeros. */
  read(offset: number, buf: Uint8Array): void;
  /** Writes `data` at byte `offset`; throws when readonly or past the end. */
  write(offset: number, data: Uint8Array): void;
  /** Makes completed writes durable. */
  flush(): void;
}
