/**
 * Guest RAM as vmrun's own code and devices see it. Every access goes
 * through {@link GuestRam.#locate}: the one place where a guest-physical
 * range is checked against the RAM slots before host memory is touched.
 *
 * @module
 */

import { type GuestMemory, GuestMemoryError } from "../devices/types.ts";
import type { RamLayout } from "./memory_map.ts";
import { HOST_PAGE_SIZE } from "../kvm/host.ts";

/**
 * Frees whole host pages of the RAM buffer, `[hostOffset, hostOffset + length)`;
 * they read as zero afterwards.
 */
export type HostDiscard = (hostOffset: number, length: number) => void;

/** Guest-physical RAM over one host buffer laid out by {@link RamLayout}. */
export class GuestRam implements GuestMemory {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #discard: HostDiscard | null;

  /**
   * @param layout the slots that make up guest RAM
   * @param buffer host memory of `layout.total` bytes
   * @param discard frees host pages of `buffer` (madvise); without it {@link discard} frees nothing
   */
  constructor(readonly layout: RamLayout, buffer: ArrayBuffer, discard?: HostDiscard) {
    if (buffer.byteLength < layout.total) {
      throw new RangeError(`RAM buffer of ${buffer.byteLength} bytes < ${layout.total}`);
    }
    this.#bytes = new Uint8Array(buffer, 0, layout.total);
    this.#view = new DataView(buffer, 0, layout.total);
    this.#discard = discard ?? null;
  }

  /**
   * Gives the host back the memory behind guest range `[addr, addr + length)`
   * (a balloon's pages): the whole host pages of it that are RAM; the parts
   * in holes or past the end, and partial pages, are left alone. What is
   * freed reads as zero afterwards.
   * @returns the bytes freed
   */
  discard(addr: number, length: number): number {
    const discard = this.#discard;
    if (!discard || !Number.isSafeInteger(addr) || !Number.isSafeInteger(length)) return 0;
    let freed = 0;
    for (const s of this.layout.slots) {
      // The part of the range inside this slot, shrunk to whole host pages.
      const from = Math.max(addr, s.gpa);
      const to = Math.min(addr + length, s.gpa + s.size);
      const start = Math.ceil((s.hostOffset + from - s.gpa) / HOST_PAGE_SIZE) * HOST_PAGE_SIZE;
      const end = Math.floor((s.hostOffset + to - s.gpa) / HOST_PAGE_SIZE) * HOST_PAGE_SIZE;
      if (from >= to || end <= start) continue;
      discard(start, end - start);
      freed += end - start;
    }
    return freed;
  }

  /** Host offset of guest range `[addr, addr + length)`, which must lie inside one slot. */
  #locate(addr: number, length: number): number {
    if (Number.isSafeInteger(addr) && Number.isSafeInteger(length) && addr >= 0 && length >= 0) {
      for (const s of this.layout.slots) {
        if (addr >= s.gpa && addr + length <= s.gpa + s.size) return s.hostOffset + (addr - s.gpa);
      }
    }
    throw new GuestMemoryError(addr, length);
  }

  /** True when `[addr, addr + length)` is RAM. */
  contains(addr: number, length: number): boolean {
    try {
      this.#locate(addr, length);
      return true;
    } catch {
      return false;
    }
  }

  /** A live view of guest RAM. */
  view(addr: number, length: number): Uint8Array {
    const off = this.#locate(addr, length);
    return this.#bytes.subarray(off, off + length);
  }

  /** A copy of guest RAM. */
  read(addr: number, length: number): Uint8Array {
    return this.view(addr, length).slice();
  }

  /** Copies `data` into guest RAM. */
  write(addr: number, data: Uint8Array): void {
    this.view(addr, data.length).set(data);
  }

  /** @see GuestMemory */
  readU8(addr: number): number {
    return this.#bytes[this.#locate(addr, 1)];
  }
  /** @see GuestMemory */
  readU16(addr: number): number {
    return this.#view.getUint16(this.#locate(addr, 2), true);
  }
  /** @see GuestMemory */
  readU32(addr: number): number {
    return this.#view.getUint32(this.#locate(addr, 4), true);
  }
  /** @see GuestMemory */
  readU64(addr: number): number {
    const v = this.#view.getBigUint64(this.#locate(addr, 8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GuestMemoryError(addr, 8);
    return Number(v);
  }
  /** @see GuestMemory */
  writeU8(addr: number, value: number): void {
    this.#bytes[this.#locate(addr, 1)] = value;
  }
  /** @see GuestMemory */
  writeU16(addr: number, value: number): void {
    this.#view.setUint16(this.#locate(addr, 2), value, true);
  }
  /** @see GuestMemory */
  writeU32(addr: number, value: number): void {
    this.#view.setUint32(this.#locate(addr, 4), value >>> 0, true);
  }
  /** @see GuestMemory */
  writeU64(addr: number, value: number): void {
    this.#view.setBigUint64(this.#locate(addr, 8), BigInt(value), true);
  }
}
