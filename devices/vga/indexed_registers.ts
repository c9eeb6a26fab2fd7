/**
 * The index/data register pair the VGA uses for its sequencer, graphics
 * controller and CRTC: the guest writes an index to one port and then reads
 * or writes the selected register through the next.
 *
 * @module
 */

import type { DeviceState, Snapshotting } from "../types.ts";
import { StateShape } from "../state_shape.ts";

/** Saved state of an index/data register bank. */
export interface IndexedRegistersState extends DeviceState {
  readonly version: 1;
  /** The index port. */
  readonly index: number;
  /** Register contents. */
  readonly regs: Uint8Array;
}

/** A bank of 8-bit registers behind an index port, with per-register writable-bit masks. */
export class IndexedRegisters implements Snapshotting<IndexedRegistersState> {
  /** The index port's contents (all 8 bits kept; indices past the bank select nothing). */
  index = 0;
  /** Register contents, readable directly by the rest of the VGA. */
  readonly regs: Uint8Array;
  readonly #masks: readonly number[];

  /**
   * @param masks one writable-bit mask per register; the bank's size is its length
   * @param name what a refused restore names
   */
  constructor(masks: readonly number[], readonly name = "vga registers") {
    this.#masks = masks;
    this.regs = new Uint8Array(masks.length);
  }

  /** Index port write. */
  writeIndex(value: number): void {
    this.index = value & 0xff;
  }

  /** Data port read: the selected register, or all ones past the bank. */
  readData(): number {
    return this.index < this.regs.length ? this.regs[this.index] : 0xff;
  }

  /** Data port write: reserved bits stay zero; writes past the bank are dropped. */
  writeData(value: number): void {
    if (this.index < this.regs.length) this.set(this.index, value);
  }

  /** Stores `value` into register `index` through its mask, bypassing any protection. */
  set(index: number, value: number): void {
    this.regs[index] = value & this.#masks[index];
  }

  /** Back to power-on: everything zero. */
  reset(): void {
    this.index = 0;
    this.regs.fill(0);
  }

  /** Index and register contents. */
  snapshot(): IndexedRegistersState {
    return { version: 1, index: this.index, regs: this.regs.slice() };
  }

  /** Puts index and registers back; reserved bits must be clear. */
  restore(state: IndexedRegistersState): void {
    const s = StateShape.versioned(this.name, state, 1);
    const index = s.int("index", 0, 0xff);
    const regs = s.bytes("regs", this.regs.length);
    regs.forEach((v, i) => {
      if (v & ~this.#masks[i]) s.fail(`regs[${i}]`, "has reserved bits set");
    });
    this.index = index;
    this.regs.set(regs);
  }
}
