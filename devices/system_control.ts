/**
 * The two chipset registers that reset the machine or gate A20:
 *
 * - System Control Port A at 0x92 (PS/2 "fast A20 and reset"): bit 1 gates
 *   A20, a 0→1 transition of bit 0 pulses the CPU reset line.
 * - The PIIX3 Reset Control register at 0xCF9: a 0→1 transition of bit 2
 *   (RCPU) resets the system, hard when bit 1 (SRST) is set, soft otherwise.
 *
 * @module
 */

import { allOnes } from "./byte_lanes.ts";
import { StateShape } from "./state_shape.ts";
import {
  type AccessSize,
  type BusDevice,
  type DeviceState,
  type Snapshotting,
  StateError,
} from "./types.ts";

const ALT_RESET = 0x01;
const ALT_A20 = 0x02;

/** Callbacks for {@link Port92}. */
export interface Port92Options {
  /** The A20 gate this port drives changed (the board ORs it with the keyboard controller's). */
  readonly onA20?: (enabled: boolean) => void;
  /** A fast reset was requested. */
  readonly onReset?: () => void;
}

/** Saved state of {@link Port92}. */
export interface Port92State extends DeviceState {
  readonly version: 1;
  /** The register byte. */
  readonly value: number;
  /** The A20 gate bit 1 drives (derived from `value`, for readers). */
  readonly a20: boolean;
}

/** System Control Port A (0x92), a one-byte region. */
export class Port92 implements BusDevice, Snapshotting<Port92State> {
  #value = 0;
  readonly #onA20: Port92Options["onA20"];
  readonly #onReset: Port92Options["onReset"];

  /** @param options where A20 changes and reset requests go */
  constructor(options: Port92Options = {}) {
    this.#onA20 = options.onA20;
    this.#onReset = options.onReset;
  }

  /** True while bit 1 opens the A20 gate. */
  get a20(): boolean {
    return (this.#value & ALT_A20) !== 0;
  }

  /** @inheritdoc */
  read(offset: number, size: AccessSize): number {
    if (offset !== 0) return allOnes(size);
    // Bytes past this one-byte register float high.
    return ((allOnes(size) & ~0xff) | this.#value) >>> 0;
  }

  /** @inheritdoc */
  write(offset: number, _size: AccessSize, value: number): void {
    if (offset !== 0) return;
    const old = this.#value;
    this.#value = value & 0xff;
    if ((old ^ this.#value) & ALT_A20) this.#onA20?.(this.a20);
    if (this.#value & ALT_RESET && !(old & ALT_RESET)) this.#onReset?.();
  }

  /** Back to 0; reports A20 closing if this port had opened it. */
  reset(): void {
    const wasOpen = this.a20;
    this.#value = 0;
    if (wasOpen) this.#onA20?.(false);
  }

  /** The register value and the A20 gate it drives. */
  snapshot(): Port92State {
    return { version: 1, value: this.#value, a20: this.a20 };
  }

  /** Sets the register without a reset pulse; reports A20 if the gate changes. */
  restore(state: Port92State): void {
    const value = StateShape.versioned("port92", state, 1).int("value", 0, 0xff);
    const old = this.#value;
    this.#value = value;
    if ((old ^ value) & ALT_A20) this.#onA20?.(this.a20);
  }
}

const SRST = 0x02;
const RCPU = 0x04;
// PIIX3 datasheet: bits 7:3 and 0 are reserved; only SRST and RCPU are kept.
const RC_MASK = SRST | RCPU;

/** Callbacks for {@link ResetControl}. */
export interface ResetControlOptions {
  /** A reset was requested; `hard` is true for a full system reset (SRST set). */
  readonly onReset?: (hard: boolean) => void;
}

/** Saved state of {@link ResetControl}. */
export interface ResetControlState extends DeviceState {
  readonly version: 1;
  /** The register byte (SRST and RCPU only). */
  readonly value: number;
}

/** The PIIX3 Reset Control register (0xCF9), one byte; reached through the PCI host's range. */
export class ResetControl implements BusDevice, Snapshotting<ResetControlState> {
  #value = 0;
  readonly #onReset: ResetControlOptions["onReset"];

  /** @param options where reset requests go */
  constructor(options: ResetControlOptions = {}) {
    this.#onReset = options.onReset;
  }

  /** @inheritdoc */
  read(offset: number, size: AccessSize): number {
    if (offset !== 0 || size !== 1) return allOnes(size);
    return this.#value;
  }

  /** @inheritdoc */
  write(offset: number, size: AccessSize, value: number): void {
    if (offset !== 0 || size !== 1) return;
    const old = this.#value;
    this.#value = value & RC_MASK;
    if (this.#value & RCPU && !(old & RCPU)) this.#onReset?.((this.#value & SRST) !== 0);
  }

  /** Back to 0 (the reset the register requested clears it). */
  reset(): void {
    this.#value = 0;
  }

  /** The register value. */
  snapshot(): ResetControlState {
    return { version: 1, value: this.#value };
  }

  /** Sets the register; a saved RCPU bit does not request another reset. */
  restore(state: ResetControlState): void {
    const value = StateShape.versioned("reset-control", state, 1).int("value", 0, 0xff);
    if (value & ~RC_MASK) throw new StateError("reset-control", "value: reserved bits set");
    this.#value = value;
  }
}
