/**
 * The VGA DAC (ports 0x3C6-0x3C9): 256 palette entries of three 6-bit
 * components, a pixel mask, and separate read and write indices that advance
 * after every third data access (red, green, blue).
 *
 * @module
 */

import type { DeviceState, Snapshotting } from "../types.ts";
import { StateShape } from "../state_shape.ts";

/** Saved state of the DAC. */
export interface DacState extends DeviceState {
  readonly version: 1;
  /** 256 × (red, green, blue), 6 bits each. */
  readonly palette: Uint8Array;
  /** Pixel mask. */
  readonly mask: number;
  readonly writeIndex: number;
  readonly readIndex: number;
  /** Which index port was written last. */
  readonly mode: "read" | "write";
  /** Component (0 red, 1 green, 2 blue) the next data access reaches. */
  readonly component: number;
  /** Components of the entry being written, before its blue arrives. */
  readonly pending: Uint8Array;
}

/** The DAC's palette RAM and its access state machine. */
export class Dac implements Snapshotting<DacState> {
  /** 256 × (red, green, blue), 6 bits each. */
  readonly palette = new Uint8Array(768);
  /** Pixel mask (port 0x3C6). */
  mask = 0xff;
  /** Entry the next data writes fill. */
  writeIndex = 0;
  /** Entry the next data reads return. */
  readIndex = 0;
  /** "read" after a 0x3C7 write, "write" after a 0x3C8 write. */
  mode: "read" | "write" = "write";
  #component = 0;
  readonly #pending = new Uint8Array(3);

  /** Port 0x3C7 write: start reading at entry `value`. */
  setReadIndex(value: number): void {
    this.readIndex = value & 0xff;
    this.#component = 0;
    this.mode = "read";
  }

  /** Port 0x3C8 write: start writing at entry `value`. */
  setWriteIndex(value: number): void {
    this.writeIndex = value & 0xff;
    this.#component = 0;
    this.mode = "write";
  }

  /** Port 0x3C7 read, the DAC state: 0 when set up for writes, 3 for reads. */
  readState(): number {
    return this.mode === "read" ? 0x03 : 0x00;
  }

  /**
   * Port 0x3C9 write: the entry is stored once its blue component arrives
   * (into `hidden`, 16 entries, instead when given: the Cirrus cursor colours).
   */
  writeData(value: number, hidden?: Uint8Array): void {
    this.#pending[this.#component] = value & 0x3f;
    if (++this.#component < 3) return;
    if (hidden) hidden.set(this.#pending, (this.writeIndex & 0x0f) * 3);
    else this.palette.set(this.#pending, this.writeIndex * 3);
    this.writeIndex = (this.writeIndex + 1) & 0xff;
    this.#component = 0;
  }

  /** Port 0x3C9 read: red, green, blue of the read entry (of `hidden` when given), then the next. */
  readData(hidden?: Uint8Array): number {
    const v = hidden
      ? hidden[(this.readIndex & 0x0f) * 3 + this.#component]
      : this.palette[this.readIndex * 3 + this.#component];
    if (++this.#component === 3) {
      this.readIndex = (this.readIndex + 1) & 0xff;
      this.#component = 0;
    }
    return v;
  }

  /** Back to power-on: black palette, mask all ones, indices zero. */
  reset(): void {
    this.palette.fill(0);
    this.mask = 0xff;
    this.writeIndex = 0;
    this.readIndex = 0;
    this.mode = "write";
    this.#component = 0;
  }

  /** Palette, mask, indices and the position within the current triplet. */
  snapshot(): DacState {
    return {
      version: 1,
      palette: this.palette.slice(),
      mask: this.mask,
      writeIndex: this.writeIndex,
      readIndex: this.readIndex,
      mode: this.mode,
      component: this.#component,
      pending: this.#pending.slice(),
    };
  }

  /** Puts palette, indices and the triplet position back. */
  restore(state: DacState): void {
    const s = StateShape.versioned("vga dac", state, 1);
    const palette = s.bytes("palette", 768);
    const pending = s.bytes("pending", 3);
    if (palette.some((v) => v > 0x3f)) s.fail("palette", "has entries above 6 bits");
    if (pending.some((v) => v > 0x3f)) s.fail("pending", "has entries above 6 bits");
    const mask = s.int("mask", 0, 0xff);
    const writeIndex = s.int("writeIndex", 0, 0xff);
    const readIndex = s.int("readIndex", 0, 0xff);
    const mode = s.oneOf("mode", ["read", "write"] as const);
    const component = s.int("component", 0, 2);
    this.palette.set(palette);
    this.#pending.set(pending);
    this.mask = mask;
    this.writeIndex = writeIndex;
    this.readIndex = readIndex;
    this.mode = mode;
    this.#component = component;
  }
}
