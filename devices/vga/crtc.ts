/**
 * The VGA CRT controller (ports 0x3D4/0x3D5, or 0x3B4/0x3B5 in mono
 * addressing): the 25 timing, cursor and addressing registers.
 *
 * @module
 */

import { IndexedRegisters } from "./indexed_registers.ts";

/** CRTC register indices used outside this file. */
export const CRTC_HORIZONTAL_DISPLAY_END = 0x01;
/** Overflow: high bits of the vertical counters. */
export const CRTC_OVERFLOW = 0x07;
/** Maximum scan line (bits 0-4), double scan (bit 7). */
export const CRTC_MAX_SCAN_LINE = 0x09;
/** Cursor start line (bits 0-4), cursor disable (bit 5). */
export const CRTC_CURSOR_START = 0x0a;
/** Cursor end line (bits 0-4). */
export const CRTC_CURSOR_END = 0x0b;
/** Start address high byte. */
export const CRTC_START_HIGH = 0x0c;
/** Start address low byte. */
export const CRTC_START_LOW = 0x0d;
/** Cursor location high byte. */
export const CRTC_CURSOR_HIGH = 0x0e;
/** Cursor location low byte. */
export const CRTC_CURSOR_LOW = 0x0f;
/** Vertical retrace end; bit 7 write-protects registers 0-7. */
export const CRTC_VERTICAL_RETRACE_END = 0x11;
/** Vertical display end, low 8 bits. */
export const CRTC_VERTICAL_DISPLAY_END = 0x12;
/** Offset: distance between character rows / scan lines. */
export const CRTC_OFFSET = 0x13;
/** Underline location; bit 6 selects doubleword addressing. */
export const CRTC_UNDERLINE = 0x14;
/** Mode control; bit 6 selects byte (else word) addressing. */
export const CRTC_MODE_CONTROL = 0x17;

/** Number of CRTC registers (0x00-0x18). */
export const CRTC_REGISTER_COUNT = 25;

// Overflow bit 4 is line compare bit 8, which the protect bit leaves writable.
const OVERFLOW_LINE_COMPARE = 0x10;

/** The CRTC registers, with register 0x11's write protection of registers 0-7. */
export class Crtc extends IndexedRegisters {
  constructor() {
    super(new Array(CRTC_REGISTER_COUNT).fill(0xff), "vga crtc");
  }

  /** Data port write honouring the protect bit (register 0x11 bit 7). */
  override writeData(value: number): void {
    const i = this.index;
    if (i <= CRTC_OVERFLOW && this.writeProtected) {
      if (i === CRTC_OVERFLOW) {
        this.regs[i] = (this.regs[i] & ~OVERFLOW_LINE_COMPARE) | (value & OVERFLOW_LINE_COMPARE);
      }
      return;
    }
    super.writeData(value);
  }

  /** Registers 0-7 are write-protected. */
  get writeProtected(): boolean {
    return (this.regs[CRTC_VERTICAL_RETRACE_END] & 0x80) !== 0;
  }

  /** Horizontal display end: character clocks displayed per line, minus one. */
  get horizontalDisplayEnd(): number {
    return this.regs[CRTC_HORIZONTAL_DISPLAY_END];
  }

  /** Vertical display end (10 bits, with overflow bits 1 and 6): scan lines displayed minus one. */
  get verticalDisplayEnd(): number {
    const ov = this.regs[CRTC_OVERFLOW];
    return this.regs[CRTC_VERTICAL_DISPLAY_END] | ((ov & 0x02) << 7) | ((ov & 0x40) << 3);
  }

  /** Scan lines per character row, minus one. */
  get maxScanLine(): number {
    return this.regs[CRTC_MAX_SCAN_LINE] & 0x1f;
  }

  /** Every scan line is shown twice. */
  get doubleScan(): boolean {
    return (this.regs[CRTC_MAX_SCAN_LINE] & 0x80) !== 0;
  }

  /** First scan line of the text cursor. */
  get cursorStart(): number {
    return this.regs[CRTC_CURSOR_START] & 0x1f;
  }

  /** Last scan line of the text cursor. */
  get cursorEnd(): number {
    return this.regs[CRTC_CURSOR_END] & 0x1f;
  }

  /** The text cursor is turned off. */
  get cursorDisabled(): boolean {
    return (this.regs[CRTC_CURSOR_START] & 0x20) !== 0;
  }

  /** Display start, in CRTC address units (characters in text modes). */
  get startAddress(): number {
    return (this.regs[CRTC_START_HIGH] << 8) | this.regs[CRTC_START_LOW];
  }

  /** Cursor location, in the same units as {@link startAddress}. */
  get cursorLocation(): number {
    return (this.regs[CRTC_CURSOR_HIGH] << 8) | this.regs[CRTC_CURSOR_LOW];
  }

  /** Offset register: half the address distance between rows. */
  get offset(): number {
    return this.regs[CRTC_OFFSET];
  }

  /**
   * How far the CRTC shifts its address before it reaches the planes:
   * 2 in doubleword mode, 1 in word mode, 0 in byte mode.
   */
  get addressShift(): number {
    if (this.regs[CRTC_UNDERLINE] & 0x40) return 2;
    return this.regs[CRTC_MODE_CONTROL] & 0x40 ? 0 : 1;
  }

  /**
   * Scan lines that read distinct memory within one character row: the CGA
   * compatibility bits (mode control bits 0-1) substitute row-scan bits for
   * address bits, so those lines are not repeats.
   */
  get distinctLinesPerRow(): number {
    const mc = this.regs[CRTC_MODE_CONTROL];
    let banks = 1;
    if (!(mc & 1)) banks *= 2;
    if (!(mc & 2)) banks *= 2;
    return Math.min(banks, this.maxScanLine + 1);
  }
}
