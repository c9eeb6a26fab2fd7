/**
 * The host's view of VGA memory through the 0xA0000-0xBFFFF window: memory
 * map decode, chain-4 / odd-even / planar addressing, the four latches, read
 * modes 0-1 and write modes 0-3 with set/reset, rotate, logical operation
 * and bit mask.
 *
 * Storage is interleaved: plane p's byte at plane offset o lives at
 * `vram[o * 4 + p]`, so one 32-bit position holds the four planes' bytes.
 *
 * @module
 */

import type { AccessSize, BusDevice } from "../types.ts";
import { readLanes, writeLanes } from "../byte_lanes.ts";
import type { GraphicsController } from "./graphics_controller.ts";
import type { Sequencer } from "./sequencer.ts";

/** Size of the host window at 0xA0000. */
export const VGA_WINDOW_SIZE = 0x20000;
/** Bytes per plane. */
export const PLANE_SIZE = 0x10000;
/** Bytes of planar memory (four planes). */
export const PLANAR_SIZE = 4 * PLANE_SIZE;

/** The 0xA0000 window as a bus device (offset 0 = 0xA0000). */
export class VideoMemory implements BusDevice {
  /** The latches, one per plane, loaded by every host read. */
  readonly latches = new Uint8Array(4);

  /**
   * @param vram at least {@link PLANAR_SIZE} bytes, planes interleaved
   * @param seq supplies map mask, chain-4 and odd/even write addressing
   * @param gc supplies memory map, read/write modes and the ALU settings
   */
  constructor(
    readonly vram: Uint8Array,
    readonly seq: Sequencer,
    readonly gc: GraphicsController,
  ) {}

  /** The byte of `plane` at plane offset `offset` (no side effects). */
  planeByte(plane: number, offset: number): number {
    return this.vram[(offset & 0xffff) * 4 + (plane & 3)];
  }

  /** Little-endian read of `size` bytes through the window. */
  read(offset: number, size: AccessSize): number {
    return readLanes(offset, size, (at) => this.readByte(at));
  }

  /** Little-endian write of `size` bytes through the window. */
  write(offset: number, size: AccessSize, value: number): void {
    writeLanes(offset, size, value, (at, byte) => this.writeByte(at, byte));
  }

  /** Repeated reads of one address (string I/O contract). */
  readBlock(offset: number, size: AccessSize, dst: Uint8Array): void {
    for (let i = 0; i + size <= dst.length; i += size) {
      // Byte cycles lowest address first, as for a single access.
      for (let b = 0; b < size; b++) dst[i + b] = this.readByte(offset + b);
    }
  }

  /** Repeated writes to one address (string I/O contract). */
  writeBlock(offset: number, size: AccessSize, src: Uint8Array): void {
    for (let i = 0; i + size <= src.length; i += size) {
      for (let b = 0; b < size; b++) this.writeByte(offset + b, src[i + b]);
    }
  }

  /** Window offset to address within the selected map, or -1 when the map does not cover it. */
  #decode(offset: number): number {
    if (offset < 0 || offset >= VGA_WINDOW_SIZE) return -1;
    switch (this.gc.memoryMap) {
      case 0:
        return offset;
      case 1:
        return offset < 0x10000 ? offset : -1;
      case 2:
        return offset >= 0x10000 && offset < 0x18000 ? offset - 0x10000 : -1;
      default:
        return offset >= 0x18000 ? offset - 0x18000 : -1;
    }
  }

  /** One host byte read: loads the latches, then returns per the read mode. */
  readByte(offset: number): number {
    const a = this.#decode(offset);
    if (a < 0) return 0xff;
    let plane: number;
    let po: number;
    if (this.seq.chain4) {
      plane = a & 3;
      po = a & ~3;
    } else if (this.gc.oddEvenReads) {
      plane = (this.gc.readMapSelect & 2) | (a & 1);
      po = a & ~1;
    } else {
      plane = this.gc.readMapSelect;
      po = a;
    }
    const base = (po & 0xffff) * 4;
    const l = this.latches;
    l.set(this.vram.subarray(base, base + 4));
    if (this.gc.readMode === 0) return l[plane];
    // Colour compare: a 1 for each pixel whose cared-about planes match the colour.
    const care = this.gc.colorDontCare;
    const color = this.gc.colorCompare;
    let diff = 0;
    for (let p = 0; p < 4; p++) {
      if (care & (1 << p)) diff |= l[p] ^ (color & (1 << p) ? 0xff : 0);
    }
    return ~diff & 0xff;
  }

  /** One host byte write through the write-mode pipeline into the enabled planes. */
  writeByte(offset: number, value: number): void {
    const a = this.#decode(offset);
    if (a < 0) return;
    let planes = this.seq.mapMask;
    let po: number;
    if (this.seq.chain4) {
      planes &= 1 << (a & 3);
      po = a & ~3;
    } else if (this.seq.oddEvenWrites) {
      // Even addresses reach planes 0 and 2, odd ones 1 and 3, at the even offset.
      planes &= a & 1 ? 0x0a : 0x05;
      po = a & ~1;
    } else {
      po = a;
    }
    if (!planes) return;
    const base = (po & 0xffff) * 4;
    const gc = this.gc;
    const l = this.latches;
    const v = value & 0xff;
    const mode = gc.writeMode;
    const n = gc.rotateCount;
    const rotated = ((v >> n) | (v << (8 - n))) & 0xff;
    const op = gc.logicalOp;
    for (let p = 0; p < 4; p++) {
      if (!(planes & (1 << p))) continue;
      if (mode === 1) {
        this.vram[base + p] = l[p];
        continue;
      }
      let mask = gc.bitMask;
      let data: number;
      if (mode === 0) {
        data = gc.enableSetReset & (1 << p) ? (gc.setReset & (1 << p) ? 0xff : 0) : rotated;
      } else if (mode === 2) {
        data = v & (1 << p) ? 0xff : 0;
      } else {
        mask &= rotated;
        data = gc.setReset & (1 << p) ? 0xff : 0;
      }
      if (op === "and") data &= l[p];
      else if (op === "or") data |= l[p];
      else if (op === "xor") data ^= l[p];
      this.vram[base + p] = (data & mask) | (l[p] & ~mask);
    }
  }

  /** Clears the latches (memory keeps its contents, as on a warm reset). */
  reset(): void {
    this.latches.fill(0);
  }
}
