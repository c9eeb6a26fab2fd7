/**
 * The Bochs VBE "DISPI" interface of QEMU's standard VGA: an index port
 * (0x1CE) and a data port (0x1CF) reaching 16-bit registers that set a
 * packed-pixel or direct-colour mode (resolution, depth, virtual size and
 * panning) over the whole video RAM, plus the 64 KiB bank shown through the
 * legacy window when the linear framebuffer is not used.
 *
 * Register behaviour follows the Bochs/QEMU documentation: the ID register
 * keeps the versions it is told (0xB0C0-0xB0C5), GETCAPS makes XRES, YRES
 * and BPP read as their maxima, and enabling clears the visible part of
 * video RAM unless NOCLEARMEM is set. Invalid settings are clamped so the
 * visible area always lies inside video RAM.
 *
 * @module
 */

import type { AccessSize, BusDevice, DeviceState, Snapshotting } from "../types.ts";
import { allOnes, laneByte, readLanes, writeLanes } from "../byte_lanes.ts";
import { StateShape } from "../state_shape.ts";

/** First DISPI port (index); the data port follows it. */
export const DISPI_PORT_BASE = 0x1ce;
/** Index and data ports. */
export const DISPI_PORT_COUNT = 2;

/** Register indices. */
export const DISPI_INDEX = {
  ID: 0,
  XRES: 1,
  YRES: 2,
  BPP: 3,
  ENABLE: 4,
  BANK: 5,
  VIRT_WIDTH: 6,
  VIRT_HEIGHT: 7,
  X_OFFSET: 8,
  Y_OFFSET: 9,
  VIDEO_MEMORY_64K: 10,
} as const;
const REGISTER_COUNT = 11;

/** ENABLE register bits. */
export const DISPI_ENABLE = {
  ENABLED: 0x01,
  GETCAPS: 0x02,
  EIGHT_BIT_DAC: 0x20,
  LFB_ENABLED: 0x40,
  NOCLEARMEM: 0x80,
} as const;

/** The oldest and newest interface versions the ID register accepts. */
export const DISPI_ID_MIN = 0xb0c0;
/** @see DISPI_ID_MIN */
export const DISPI_ID_MAX = 0xb0c5;
/** Largest horizontal resolution offered (GETCAPS). */
export const DISPI_MAX_XRES = 2560;
/** Largest vertical resolution offered (GETCAPS). */
export const DISPI_MAX_YRES = 1600;
/** Largest depth offered (GETCAPS). */
export const DISPI_MAX_BPP = 32;
const VALID_BPP = [4, 8, 15, 16, 24, 32];
const BANK_SIZE = 0x10000;

/** Where the enabled mode's pixels are in video RAM. */
export interface DispiLayout {
  /** Visible pixels. */
  readonly width: number;
  readonly height: number;
  /** 4 (planar), 8 (DAC palette), 15, 16, 24 or 32. */
  readonly bpp: number;
  /** Bytes from one line to the next (the virtual width's). */
  readonly lineBytes: number;
  /** Byte offset of the top left visible pixel (panning). */
  readonly startByte: number;
  /** Lines of the virtual screen. */
  readonly virtualHeight: number;
}

/** Saved state of the DISPI registers (the bank shown is `regs[BANK]`). */
export interface DispiState extends DeviceState {
  readonly version: 1;
  /** The index port. */
  readonly index: number;
  /** The registers by {@link DISPI_INDEX} (VIDEO_MEMORY_64K unused: it reads the VRAM size). */
  readonly regs: readonly number[];
}

/** Bytes a line of `pixels` takes at `bpp`. */
export function lineBytesFor(pixels: number, bpp: number): number {
  return bpp === 4 ? pixels >> 1 : pixels * ((bpp + 7) >> 3);
}

/** The DISPI register file. */
export class Dispi implements BusDevice, Snapshotting<DispiState> {
  /** The registers by {@link DISPI_INDEX}; VIRT_HEIGHT and VIDEO_MEMORY_64K are derived. */
  readonly regs = new Uint16Array(REGISTER_COUNT);
  /** The index port's value. */
  index = 0;
  /** Called when video RAM is cleared by enabling, with the byte range (for dirty tracking). */
  onClear: ((start: number, end: number) => void) | undefined;

  /** @param vram the video RAM the mode is laid over (its size bounds every mode) */
  constructor(readonly vram: Uint8Array) {
    this.reset();
  }

  /** True when a DISPI mode is on (the VGA's own display timing is then ignored). */
  get enabled(): boolean {
    return (this.regs[DISPI_INDEX.ENABLE] & DISPI_ENABLE.ENABLED) !== 0;
  }

  /** True when the DAC's entries are 8 bits wide instead of 6. */
  get eightBitDac(): boolean {
    return (this.regs[DISPI_INDEX.ENABLE] & DISPI_ENABLE.EIGHT_BIT_DAC) !== 0;
  }

  /** Byte offset of the bank the legacy window shows. */
  get bankOffset(): number {
    return this.regs[DISPI_INDEX.BANK] * BANK_SIZE;
  }

  /** Port read: offset 0 is the index, 1 the data register (16-bit; bytes read the low half). */
  read(offset: number, size: AccessSize): number {
    const value = offset === 0 ? this.index : this.readRegister(this.index);
    return value & allOnes(size);
  }

  /** Port write: offset 0 selects a register, 1 writes it. */
  write(offset: number, _size: AccessSize, value: number): void {
    if (offset === 0) this.index = value & 0xffff;
    else this.writeRegister(this.index, value & 0xffff);
  }

  /** The value register `index` reads as. */
  readRegister(index: number): number {
    const caps = (this.regs[DISPI_INDEX.ENABLE] & DISPI_ENABLE.GETCAPS) !== 0;
    switch (index) {
      case DISPI_INDEX.XRES:
        return caps ? DISPI_MAX_XRES : this.regs[index];
      case DISPI_INDEX.YRES:
        return caps ? DISPI_MAX_YRES : this.regs[index];
      case DISPI_INDEX.BPP:
        return caps ? DISPI_MAX_BPP : this.regs[index];
      case DISPI_INDEX.VIDEO_MEMORY_64K:
        return Math.min(0xffff, Math.floor(this.vram.length / BANK_SIZE));
      default:
        return index < REGISTER_COUNT ? this.regs[index] : 0;
    }
  }

  /** Writes register `index` (read-only and unknown registers ignore writes). */
  writeRegister(index: number, value: number): void {
    const r = this.regs;
    switch (index) {
      case DISPI_INDEX.ID:
        if (value >= DISPI_ID_MIN && value <= DISPI_ID_MAX) r[index] = value;
        return;
      case DISPI_INDEX.XRES:
      case DISPI_INDEX.YRES:
      case DISPI_INDEX.BPP:
      case DISPI_INDEX.VIRT_WIDTH:
      case DISPI_INDEX.X_OFFSET:
      case DISPI_INDEX.Y_OFFSET:
        r[index] = value;
        this.#fixup();
        return;
      case DISPI_INDEX.BANK:
        r[index] = value % Math.max(1, Math.floor(this.vram.length / BANK_SIZE));
        return;
      case DISPI_INDEX.ENABLE:
        this.#writeEnable(value);
        return;
    }
  }

  #writeEnable(value: number): void {
    const r = this.regs;
    const wasEnabled = this.enabled;
    r[DISPI_INDEX.ENABLE] = value;
    if (!(value & DISPI_ENABLE.ENABLED)) {
      r[DISPI_INDEX.BANK] = 0;
      return;
    }
    if (wasEnabled) return;
    // A fresh mode starts unpanned with the virtual width of the visible one.
    r[DISPI_INDEX.VIRT_WIDTH] = 0;
    r[DISPI_INDEX.X_OFFSET] = 0;
    r[DISPI_INDEX.Y_OFFSET] = 0;
    this.#fixup();
    if (!(value & DISPI_ENABLE.NOCLEARMEM)) {
      const end = Math.min(this.vram.length, r[DISPI_INDEX.YRES] * this.#lineBytes());
      this.vram.fill(0, 0, end);
      this.onClear?.(0, end);
    }
  }

  #lineBytes(): number {
    return lineBytesFor(this.regs[DISPI_INDEX.VIRT_WIDTH], this.regs[DISPI_INDEX.BPP]);
  }

  /** Clamps the mode registers so that the visible area lies inside video RAM. */
  #fixup(): void {
    const r = this.regs;
    const I = DISPI_INDEX;
    if (r[I.BPP] === 0) r[I.BPP] = 8;
    if (!VALID_BPP.includes(r[I.BPP])) r[I.BPP] = 8;
    const bpp = r[I.BPP];
    r[I.XRES] = Math.max(8, Math.min(DISPI_MAX_XRES, r[I.XRES]) & ~7);
    r[I.YRES] = Math.max(1, Math.min(DISPI_MAX_YRES, r[I.YRES]));
    if (r[I.VIRT_WIDTH] < r[I.XRES]) r[I.VIRT_WIDTH] = r[I.XRES];
    let lines = Math.floor(this.vram.length / lineBytesFor(r[I.VIRT_WIDTH], bpp));
    if (lines < r[I.YRES]) {
      r[I.VIRT_WIDTH] = r[I.XRES];
      lines = Math.floor(this.vram.length / lineBytesFor(r[I.VIRT_WIDTH], bpp));
    }
    if (lines < r[I.YRES]) r[I.YRES] = Math.max(1, lines);
    r[I.VIRT_HEIGHT] = Math.min(0xffff, lines);
    r[I.X_OFFSET] = Math.min(r[I.X_OFFSET], r[I.VIRT_WIDTH] - r[I.XRES]);
    r[I.Y_OFFSET] = Math.min(r[I.Y_OFFSET], Math.max(0, lines - r[I.YRES]));
  }

  /** The enabled mode's layout in video RAM, or null when DISPI is off. */
  layout(): DispiLayout | null {
    if (!this.enabled) return null;
    const r = this.regs;
    const I = DISPI_INDEX;
    const bpp = r[I.BPP];
    const lineBytes = this.#lineBytes();
    return {
      width: r[I.XRES],
      height: r[I.YRES],
      bpp,
      lineBytes,
      startByte: r[I.Y_OFFSET] * lineBytes + lineBytesFor(r[I.X_OFFSET], bpp),
      virtualHeight: r[I.VIRT_HEIGHT],
    };
  }

  /** Power-on: disabled, 640×480×8 programmed, newest ID. */
  reset(): void {
    this.regs.fill(0);
    this.regs[DISPI_INDEX.ID] = DISPI_ID_MAX;
    this.regs[DISPI_INDEX.XRES] = 640;
    this.regs[DISPI_INDEX.YRES] = 480;
    this.regs[DISPI_INDEX.BPP] = 8;
    this.#fixup();
    this.index = 0;
  }

  /** Index port and registers. */
  snapshot(): DispiState {
    return { version: 1, index: this.index, regs: [...this.regs] };
  }

  /**
   * Puts index and registers back. The registers must be ones this video
   * RAM could hold: a mode that does not fit (or a bank past its end) is refused.
   */
  restore(state: DispiState): void {
    const s = StateShape.versioned("vga dispi", state, 1);
    const index = s.int("index", 0, 0xffff);
    const regs = Uint16Array.from(s.ints("regs", 0, 0xffff, REGISTER_COUNT));
    const saved = this.regs.slice();
    this.regs.set(regs);
    this.#fixup();
    const fits = this.regs.every((v, i) => v === regs[i]) &&
      regs[DISPI_INDEX.BANK] < Math.max(1, Math.floor(this.vram.length / BANK_SIZE)) &&
      regs[DISPI_INDEX.ID] >= DISPI_ID_MIN && regs[DISPI_INDEX.ID] <= DISPI_ID_MAX;
    if (!fits) {
      this.regs.set(saved);
      s.fail("regs", "describe a mode this video RAM cannot hold");
    }
    this.index = index;
  }
}

/**
 * The legacy 0xA0000 window while a packed-pixel DISPI mode is on: the
 * first 64 KiB show the selected bank of video RAM, byte for byte. Otherwise
 * (DISPI off, or a 4-bit planar mode) every access goes to the VGA's own
 * planar window.
 */
export class DispiWindow implements BusDevice {
  /** Called with the video RAM byte range a banked write touched. */
  onBankedWrite: ((start: number, end: number) => void) | undefined;
  /** Called with the window offset of every write passed to the planar window. */
  onPlanarWrite: ((offset: number, size: AccessSize) => void) | undefined;

  /**
   * @param dispi decides whether banking applies, and which bank
   * @param vram video RAM
   * @param planar the VGA's window, used when banking does not apply
   */
  constructor(
    readonly dispi: Dispi,
    readonly vram: Uint8Array,
    readonly planar: BusDevice,
  ) {}

  #banked(): boolean {
    return this.dispi.enabled && this.dispi.regs[DISPI_INDEX.BPP] !== 4;
  }

  /** Little-endian read through the window. */
  read(offset: number, size: AccessSize): number {
    if (!this.#banked()) return this.planar.read(offset, size);
    const bank = this.dispi.bankOffset;
    return readLanes(offset, size, (at) => {
      const v = bank + at;
      return at < BANK_SIZE && v < this.vram.length ? this.vram[v] : 0xff;
    });
  }

  /** Little-endian write through the window. */
  write(offset: number, size: AccessSize, value: number): void {
    if (!this.#banked()) {
      this.planar.write(offset, size, value);
      this.onPlanarWrite?.(offset, size);
      return;
    }
    const bank = this.dispi.bankOffset;
    writeLanes(offset, size, value, (at, byte) => {
      if (at < BANK_SIZE && bank + at < this.vram.length) this.vram[bank + at] = byte;
    });
    this.onBankedWrite?.(bank + offset, bank + offset + size);
  }

  /** Repeated reads of one address (string I/O contract). */
  readBlock(offset: number, size: AccessSize, dst: Uint8Array): void {
    if (!this.#banked() && this.planar.readBlock) {
      this.planar.readBlock(offset, size, dst);
      return;
    }
    for (let i = 0; i + size <= dst.length; i += size) {
      const v = this.read(offset, size);
      for (let b = 0; b < size; b++) dst[i + b] = laneByte(v, b);
    }
  }

  /** Repeated writes to one address (string I/O contract). */
  writeBlock(offset: number, size: AccessSize, src: Uint8Array): void {
    if (!this.#banked() && this.planar.writeBlock) {
      this.planar.writeBlock(offset, size, src);
      this.onPlanarWrite?.(offset, size);
      return;
    }
    for (let i = 0; i + size <= src.length; i += size) {
      this.write(offset, size, readLanes(i, size, (at) => src[at]));
    }
  }
}
