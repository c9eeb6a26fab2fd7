/**
 * The VGA sequencer (ports 0x3C4/0x3C5): reset, clocking mode, map mask,
 * character map select and memory mode.
 *
 * @module
 */

import { IndexedRegisters } from "./indexed_registers.ts";

/** Sequencer register indices. */
export const SEQ_RESET = 0;
/** Clocking mode: 8/9 dot, dot clock halving, screen off. */
export const SEQ_CLOCKING_MODE = 1;
/** Which planes host writes reach. */
export const SEQ_MAP_MASK = 2;
/** Font locations in plane 2 for attribute bit 3 set (map A) and clear (map B). */
export const SEQ_CHAR_MAP_SELECT = 3;
/** Extended memory, odd/even disable, chain-4. */
export const SEQ_MEMORY_MODE = 4;

// Writable bits per register, from the register definitions.
const MASKS = [0x03, 0x3d, 0x0f, 0x3f, 0x0e];

/** Byte offset in plane 2 of each of the eight 8 KiB font maps. */
const MAP_OFFSETS = [0x0000, 0x4000, 0x8000, 0xc000, 0x2000, 0x6000, 0xa000, 0xe000];

/** The five sequencer registers and what their bits mean. */
export class Sequencer extends IndexedRegisters {
  constructor() {
    super(MASKS, "vga sequencer");
  }

  /** Planes enabled for host writes (bit n = plane n). */
  get mapMask(): number {
    return this.regs[SEQ_MAP_MASK];
  }

  /** Chain-4: the low two host address bits select the plane. */
  get chain4(): boolean {
    return (this.regs[SEQ_MEMORY_MODE] & 0x08) !== 0;
  }

  /** Odd/even host writes: even addresses reach planes 0/2, odd ones 1/3. */
  get oddEvenWrites(): boolean {
    return (this.regs[SEQ_MEMORY_MODE] & 0x04) === 0;
  }

  /** Characters are 8 dots wide (else 9). */
  get eightDot(): boolean {
    return (this.regs[SEQ_CLOCKING_MODE] & 0x01) !== 0;
  }

  /** The dot clock is divided by two (40-column and 320-pixel modes). */
  get halfDotClock(): boolean {
    return (this.regs[SEQ_CLOCKING_MODE] & 0x08) !== 0;
  }

  /** Screen off: the display is blanked, memory stays accessible. */
  get screenOff(): boolean {
    return (this.regs[SEQ_CLOCKING_MODE] & 0x20) !== 0;
  }

  /** Plane-2 byte offset of the font used when attribute bit 3 is set (map A: bits 5, 3-2). */
  get charMapA(): number {
    const v = this.regs[SEQ_CHAR_MAP_SELECT];
    return MAP_OFFSETS[((v >> 3) & 4) | ((v >> 2) & 3)];
  }

  /** Plane-2 byte offset of the font used when attribute bit 3 is clear (map B: bits 4, 1-0). */
  get charMapB(): number {
    const v = this.regs[SEQ_CHAR_MAP_SELECT];
    return MAP_OFFSETS[((v >> 2) & 4) | (v & 3)];
  }
}
