/**
 * The VGA graphics controller (ports 0x3CE/0x3CF): set/reset, colour
 * compare, data rotate and logical function, read map select, read/write
 * modes, memory map select and bit mask.
 *
 * @module
 */

import { IndexedRegisters } from "./indexed_registers.ts";

/** Graphics controller register indices. */
export const GC_SET_RESET = 0;
/** Per-plane enable for set/reset in write mode 0. */
export const GC_ENABLE_SET_RESET = 1;
/** Colour compared against in read mode 1. */
export const GC_COLOR_COMPARE = 2;
/** Rotate count (bits 0-2) and logical operation (bits 3-4). */
export const GC_DATA_ROTATE = 3;
/** Plane returned by read mode 0. */
export const GC_READ_MAP_SELECT = 4;
/** Write mode, read mode, host odd/even, shift modes. */
export const GC_MODE = 5;
/** Graphics/text, chain odd/even, memory map select. */
export const GC_MISC = 6;
/** Planes that take part in read mode 1's compare. */
export const GC_COLOR_DONT_CARE = 7;
/** Bits of each plane that writes may change. */
export const GC_BIT_MASK = 8;

const MASKS = [0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff];

/** Logical operation applied between host data and the latches. */
export type LogicalOp = "none" | "and" | "or" | "xor";
const OPS: readonly LogicalOp[] = ["none", "and", "or", "xor"];

/** The nine graphics controller registers and what their bits mean. */
export class GraphicsController extends IndexedRegisters {
  constructor() {
    super(MASKS, "vga graphics controller");
  }

  /** Set/reset value, one bit per plane. */
  get setReset(): number {
    return this.regs[GC_SET_RESET];
  }
  /** Planes that take the set/reset value in write mode 0. */
  get enableSetReset(): number {
    return this.regs[GC_ENABLE_SET_RESET];
  }
  /** Colour compare value for read mode 1. */
  get colorCompare(): number {
    return this.regs[GC_COLOR_COMPARE];
  }
  /** Right-rotate count applied to host data in write modes 0 and 3. */
  get rotateCount(): number {
    return this.regs[GC_DATA_ROTATE] & 7;
  }
  /** Operation between data and latches. */
  get logicalOp(): LogicalOp {
    return OPS[(this.regs[GC_DATA_ROTATE] >> 3) & 3];
  }
  /** Plane read in read mode 0. */
  get readMapSelect(): number {
    return this.regs[GC_READ_MAP_SELECT] & 3;
  }
  /** Write mode 0-3. */
  get writeMode(): number {
    return this.regs[GC_MODE] & 3;
  }
  /** Read mode 0 (plane) or 1 (colour compare). */
  get readMode(): number {
    return (this.regs[GC_MODE] >> 3) & 1;
  }
  /** Odd/even host reads: the low address bit picks plane 0/1 (or 2/3). */
  get oddEvenReads(): boolean {
    return (this.regs[GC_MODE] & 0x10) !== 0;
  }
  /** Alphanumerics disabled (graphics mode). */
  get graphicsMode(): boolean {
    return (this.regs[GC_MISC] & 1) !== 0;
  }
  /** Memory map select: 0 A0000 128K, 1 A0000 64K, 2 B0000 32K, 3 B8000 32K. */
  get memoryMap(): number {
    return (this.regs[GC_MISC] >> 2) & 3;
  }
  /** Planes compared in read mode 1. */
  get colorDontCare(): number {
    return this.regs[GC_COLOR_DONT_CARE];
  }
  /** Bits that writes may change. */
  get bitMask(): number {
    return this.regs[GC_BIT_MASK];
  }
}
