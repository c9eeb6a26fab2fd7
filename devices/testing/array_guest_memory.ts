/**
 * A {@link GuestMemory} over a Uint8Array starting at guest-physical address
 * 0, for tests of DMA-capable devices.
 *
 * @module
 */

import { type GuestMemory, GuestMemoryError } from "../types.ts";

/** Guest RAM of `bytes.length` bytes at address 0; test helper. */
export class ArrayGuestMemory implements GuestMemory {
  /** The RAM contents. */
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  /** @param size RAM size in bytes, or the backing array itself */
  constructor(size: number | Uint8Array) {
    this.bytes = typeof size === "number" ? new Uint8Array(size) : size;
    this.#view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  #check(addr: number, length: number): void {
    if (!(addr >= 0 && length >= 0 && addr + length <= this.bytes.length)) {
      throw new GuestMemoryError(addr, length);
    }
  }

  /** A live view of `[addr, addr + length)`. */
  view(addr: number, length: number): Uint8Array {
    this.#check(addr, length);
    return this.bytes.subarray(addr, addr + length);
  }

  /** A copy of `[addr, addr + length)`. */
  read(addr: number, length: number): Uint8Array {
    return this.view(addr, length).slice();
  }

  /** Copies `data` to `addr`. */
  write(addr: number, data: Uint8Array): void {
    this.#check(addr, data.length);
    this.bytes.set(data, addr);
  }

  /** Reads a byte. */
  readU8(addr: number): number {
    this.#check(addr, 1);
    return this.bytes[addr];
  }

  /** Reads a little-endian u16. */
  readU16(addr: number): number {
    this.#check(addr, 2);
    return this.#view.getUint16(addr, true);
  }

  /** Reads a little-endian u32. */
  readU32(addr: number): number {
    this.#check(addr, 4);
    return this.#view.getUint32(addr, true);
  }

  /** Reads a little-endian u64; throws above 2^53. */
  readU64(addr: number): number {
    this.#check(addr, 8);
    const v = this.#view.getBigUint64(addr, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("u64 exceeds 2^53");
    return Number(v);
  }

  /** Writes a byte. */
  writeU8(addr: number, value: number): void {
    this.#check(addr, 1);
    this.bytes[addr] = value;
  }

  /** Writes a little-endian u16. */
  writeU16(addr: number, value: number): void {
    this.#check(addr, 2);
    this.#view.setUint16(addr, value, true);
  }

  /** Writes a little-endian u32. */
  writeU32(addr: number, value: number): void {
    this.#check(addr, 4);
    this.#view.setUint32(addr, value >>> 0, true);
  }

  /** Writes a little-endian u64. */
  writeU64(addr: number, value: number): void {
    this.#check(addr, 8);
    this.#view.setBigUint64(addr, BigInt(value), true);
  }
}
