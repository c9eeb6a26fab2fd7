/**
 * The index/data register pair the VGA uses for its sequencer, graphics
 * controller and CRTC: the guest writes an index to one port and then reads
 * or writes the selected register through the next.
 *
 * @module
 */

import type { Json } from "../types.ts";

/** A bank of 8-bit registers behind an index port, with per-register writable-bit masks. */
export class IndexedRegisters {
  /** The index port's contents (all 8 bits kept; indices past the bank select nothing). */
  index = 0;
  /** Register contents, readable directly by the rest of the VGA. */
  readonly regs: Uint8Array;
  readonly #masks: readonly number[];

  /** @param masks one writable-bit mask per register; the bank's size is its length */
  constructor(masks: readonly number[]) {
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

  /** Index and register contents as plain JSON. */
  state(): Json {
    return { index: this.index, regs: [...this.regs] };
  }
}
