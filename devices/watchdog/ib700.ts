/**
 * The iBASE IB700 single-board computer's watchdog, as QEMU's `ib700`: an
 * ISA device with two write-only port pairs.
 *
 * - 0x441-0x442: any byte written stops the timer.
 * - 0x443-0x444: a byte written (re)starts the timer with the timeout its low
 *   nibble selects: 0 → 30 s, 1 → 28 s ... 14 → 2 s, 15 → 0 s (fires at once).
 *   Writing again before it expires is how a guest pets it.
 *
 * When the timer expires the device calls `onExpire` once and stops; what
 * that does (reset, power off, pause, end the run) is the board's choice.
 * Reads decode nothing and return all ones, as on QEMU. Wider accesses are
 * byte cycles, lowest port first.
 *
 * @module
 */

import { allOnes, writeLanes } from "../byte_lanes.ts";
import { DeadlineTimer } from "../deadline_timer.ts";
import { StateShape } from "../state_shape.ts";
import type {
  AccessSize,
  BusDevice,
  Clock,
  DeviceState,
  Snapshotting,
  TimedOptions,
} from "../types.ts";

/** First port the IB700 decodes. */
export const IB700_BASE = 0x441;
/** Ports from {@link IB700_BASE}: 0x441-0x442 stop, 0x443-0x444 start. */
export const IB700_PORT_COUNT = 4;

/** Timeout in seconds for each value of the low nibble written to 0x443. */
export const IB700_TIMEOUTS_S: readonly number[] = [
  30,
  28,
  26,
  24,
  22,
  20,
  18,
  16,
  14,
  12,
  10,
  8,
  6,
  4,
  2,
  0,
];

const NS_PER_S = 1_000_000_000;
/** Offsets (from 0x441) of the start/pet ports. */
const START_OFFSET = 2;

/** What the IB700 needs from the board. */
export interface Ib700Options extends TimedOptions {
  /** The timer ran out. */
  readonly onExpire: () => void;
}

/**
 * Saved state of {@link Ib700}. `deadlineNs` and the counters are what
 * restore reads; `armed` and `remainingNs` are derived for readers.
 */
export interface Ib700State extends DeviceState {
  readonly version: 1;
  /** When the timer expires (clock ns), or null while stopped. */
  readonly deadlineNs: number | null;
  /** The timeout last programmed, in seconds (null before the first start). */
  readonly timeoutS: number | null;
  /** Starts and pets since power-on. */
  readonly pets: number;
  /** Times the timer expired. */
  readonly expirations: number;
  // Derived, for readers.
  readonly armed: boolean;
  /** Nanoseconds until it expires, or null while stopped. */
  readonly remainingNs: number | null;
}

/** The IB700 watchdog timer. */
export class Ib700 implements BusDevice, Snapshotting<Ib700State> {
  /** Short name for the devices pane and messages. */
  readonly name = "ib700";
  readonly #clock: Clock;
  readonly #onExpire: () => void;
  readonly #timer: DeadlineTimer;
  #timeoutS: number | null = null;
  #pets = 0;
  #expirations = 0;

  /** @param options clock, timers and the expiry callback */
  constructor(options: Ib700Options) {
    this.#clock = options.clock;
    this.#onExpire = options.onExpire;
    this.#timer = new DeadlineTimer(options.timer, () => this.#expire());
  }

  /** Write-only ports: reads return all ones. */
  read(_offset: number, size: AccessSize): number {
    return allOnes(size);
  }

  /** Byte cycles: 0x441-0x442 stop the timer, 0x443-0x444 start or pet it. */
  write(offset: number, size: AccessSize, value: number): void {
    writeLanes(offset, size, value, (at, byte) => {
      if (at < START_OFFSET) this.#timer.cancel();
      else if (at < IB700_PORT_COUNT) this.#start(byte);
    });
  }

  #start(byte: number): void {
    const seconds = IB700_TIMEOUTS_S[byte & 0xf];
    this.#timeoutS = seconds;
    this.#pets++;
    this.#timer.arm(this.#clock.nowNs() + seconds * NS_PER_S);
  }

  #expire(): void {
    this.#expirations++;
    this.#onExpire();
  }

  /** True while the timer runs. */
  get armed(): boolean {
    return this.#timer.deadline !== null;
  }

  /** Power-on state: stopped. The counters stay (they describe the run). */
  reset(): void {
    this.#timer.cancel();
  }

  /** The timer's deadline and counters, with armed/remaining for readers. */
  snapshot(): Ib700State {
    const deadline = this.#timer.deadline;
    return {
      version: 1,
      deadlineNs: deadline,
      timeoutS: this.#timeoutS,
      pets: this.#pets,
      expirations: this.#expirations,
      armed: deadline !== null,
      remainingNs: deadline === null ? null : Math.max(0, deadline - this.#clock.nowNs()),
    };
  }

  /**
   * Re-arms the timer at the saved deadline (or stops it).
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: Ib700State): void {
    const r = StateShape.versioned("ib700", state, 1);
    const deadline = r.numberOrNull("deadlineNs");
    const timeoutS = r.intOrNull("timeoutS", 0, 30);
    if (timeoutS !== null && !IB700_TIMEOUTS_S.includes(timeoutS)) {
      r.fail("timeoutS", "not a timeout the IB700 offers");
    }
    const pets = r.int("pets");
    const expirations = r.int("expirations");
    this.#timeoutS = timeoutS;
    this.#pets = pets;
    this.#expirations = expirations;
    this.#timer.set(deadline);
  }
}
