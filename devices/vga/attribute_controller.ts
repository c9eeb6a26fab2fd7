/**
 * The VGA attribute controller (port 0x3C0 for index and data writes, 0x3C1
 * for data reads): a flip-flop decides whether a 0x3C0 write is an index or
 * data, and reading input status 1 puts it back to "index".
 *
 * @module
 */

import type { DeviceState, Snapshotting } from "../types.ts";
import { StateShape } from "../state_shape.ts";

/** Saved state of the attribute controller. */
export interface AttributeState extends DeviceState {
  readonly version: 1;
  /** Index register (index and palette address source). */
  readonly index: number;
  /** The flip-flop: the next 0x3C0 write is data. */
  readonly dataNext: boolean;
  /** The 21 registers. */
  readonly regs: Uint8Array;
}

/** Attribute controller register indices. */
export const ATTR_MODE_CONTROL = 0x10;
/** Overscan (border) colour. */
export const ATTR_OVERSCAN = 0x11;
/** Colour plane enable. */
export const ATTR_COLOR_PLANE_ENABLE = 0x12;
/** Horizontal pixel panning. */
export const ATTR_PANNING = 0x13;
/** Colour select (DAC index bits 4-7). */
export const ATTR_COLOR_SELECT = 0x14;

/** Number of attribute registers (16 palette entries plus 0x10-0x14). */
export const ATTR_REGISTER_COUNT = 0x15;

/** Palette address source bit of the index register: set for normal display. */
export const ATTR_PAS = 0x20;

// Palette entries are 6 bits; mode control bit 4 is reserved.
const MASKS = [...new Array<number>(16).fill(0x3f), 0xef, 0xff, 0x3f, 0x0f, 0x0f];

/** The 21 attribute registers, the index register and its flip-flop. */
export class AttributeController implements Snapshotting<AttributeState> {
  /** Index register: index in bits 0-4, palette address source in bit 5. */
  indexRegister = 0;
  /** True when the next 0x3C0 write is data, false when it is an index. */
  dataNext = false;
  /** Register contents. */
  readonly regs = new Uint8Array(ATTR_REGISTER_COUNT);

  /** A write to port 0x3C0: index or data depending on the flip-flop, which then toggles. */
  write(value: number): void {
    if (!this.dataNext) {
      this.indexRegister = value & 0x3f;
    } else {
      const i = this.indexRegister & 0x1f;
      if (i < ATTR_REGISTER_COUNT) this.regs[i] = value & MASKS[i];
    }
    this.dataNext = !this.dataNext;
  }

  /** A read of port 0x3C0: the index register (the flip-flop is unchanged). */
  readIndex(): number {
    return this.indexRegister;
  }

  /** A read of port 0x3C1: the selected register, all ones past the bank. */
  readData(): number {
    const i = this.indexRegister & 0x1f;
    return i < ATTR_REGISTER_COUNT ? this.regs[i] : 0xff;
  }

  /** Puts the flip-flop in the "index" state (done by reading input status 1). */
  resetFlipFlop(): void {
    this.dataNext = false;
  }

  /** Palette address source: set while the display reads the palette; clear blanks the screen. */
  get paletteAddressSource(): boolean {
    return (this.indexRegister & ATTR_PAS) !== 0;
  }

  /** Mode control bit 0: graphics (else text). */
  get graphicsMode(): boolean {
    return (this.regs[ATTR_MODE_CONTROL] & 0x01) !== 0;
  }

  /** Mode control bit 3: attribute bit 7 blinks (else it selects bright backgrounds). */
  get blinkEnabled(): boolean {
    return (this.regs[ATTR_MODE_CONTROL] & 0x08) !== 0;
  }

  /** Mode control bit 6: 8-bit pixels, each held for two dot clocks (256-colour modes). */
  get eightBitColor(): boolean {
    return (this.regs[ATTR_MODE_CONTROL] & 0x40) !== 0;
  }

  /** Back to power-on: registers zero, index 0 with the palette source clear, flip-flop at index. */
  reset(): void {
    this.indexRegister = 0;
    this.dataNext = false;
    this.regs.fill(0);
  }

  /** Index, flip-flop and registers. */
  snapshot(): AttributeState {
    return {
      version: 1,
      index: this.indexRegister,
      dataNext: this.dataNext,
      regs: this.regs.slice(),
    };
  }

  /** Puts index, flip-flop and registers back; reserved bits must be clear. */
  restore(state: AttributeState): void {
    const s = StateShape.versioned("vga attribute controller", state, 1);
    const index = s.int("index", 0, 0x3f);
    const dataNext = s.bool("dataNext");
    const regs = s.bytes("regs", ATTR_REGISTER_COUNT);
    regs.forEach((v, i) => {
      if (v & ~MASKS[i]) s.fail(`regs[${i}]`, "has reserved bits set");
    });
    this.indexRegister = index;
    this.dataNext = dataNext;
    this.regs.set(regs);
  }
}
