/**
 * The VGA DAC (ports 0x3C6-0x3C9): 256 palette entries of three 6-bit
 * components, a pixel mask, and separate read and write indices that advance
 * after every third data access (red, green, blue).
 *
 * @module
 */

import type { Json } from "../types.ts";

/** The DAC's palette RAM and its access state machine. */
export class Dac {
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

  /** Port 0x3C9 write: the entry is stored once its blue component arrives. */
  writeData(value: number): void {
    this.#pending[this.#component] = value & 0x3f;
    if (++this.#component < 3) return;
    this.palette.set(this.#pending, this.writeIndex * 3);
    this.writeIndex = (this.writeIndex + 1) & 0xff;
    this.#component = 0;
  }

  /** Port 0x3C9 read: red, green, blue of the read entry, then the next entry. */
  readData(): number {
    const v = this.palette[this.readIndex * 3 + this.#component];
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

  /** Indices and mask (the palette itself is available from the VGA). */
  state(): Json {
    return {
      mask: this.mask,
      writeIndex: this.writeIndex,
      readIndex: this.readIndex,
      mode: this.mode,
    };
  }
}
