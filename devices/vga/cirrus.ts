/**
 * The Cirrus Logic CL-GD5446 as QEMU's `-vga cirrus` shows it on PCI
 * (1013:00B8): the standard {@link Vga} core plus the Cirrus extensions.
 *
 * - Extended sequencer registers SR05-SR1F (SR06 unlock reads 0x12 after
 *   0x12 is written, else 0x0F), the hardware cursor (SR10/SR11 position
 *   with the low bits in the index, SR12 attributes, SR13 pattern), the
 *   extended CRTC registers CR19-CR1D and the read-only CR22-CR27 (CR27 is
 *   the chip ID, 0xB8), the hidden DAC behind four reads of 0x3C6, and the
 *   cursor's hidden palette (SR12 bit 1).
 * - Extended modes: SR07 bit 0 switches the display and the 0xA0000 window
 *   to linear packed pixels at 8, 15/16 (by the hidden DAC), 24 or 32 bits
 *   per pixel, with the pitch and start address widened by CR1B/CR1D.
 * - Banking: GR09/GR0A offsets in 4 KiB or 16 KiB units (GR0B), single or
 *   dual 32 KiB banks, the ×8/×16 address shifts and write modes 4 and 5
 *   (colour expansion of CPU writes).
 * - BAR0 (32 MiB): video RAM (4 MiB) linear at 0, the BitBLT source window
 *   at 16 MiB; BAR1 (4 KiB): VGA ports 0x3C0-0x3DF at offsets 0x00-0x1F and
 *   the BitBLT registers at 0x100, as QEMU maps them. The BitBLT registers
 *   also answer at 0xB8000 (SR17 bit 2) or at the top 256 bytes of the
 *   linear window (SR17 bits 2 and 6). The engine is in cirrus_blt.ts.
 *
 * There is no Bochs DISPI interface: VBE modes come from the Cirrus VGA
 * BIOS, which programs these registers.
 *
 * @module
 */

import type { BusDevice, Snapshotting } from "../types.ts";
import { readLanes, writeLanes } from "../byte_lanes.ts";
import {
  PciConfigSpace,
  type PciConfigState,
  type PciFunction,
  type PciFunctionState,
} from "../pci/config_space.ts";
import { StateShape } from "../state_shape.ts";
import { BLT_STATUS, type BltRegisters, CirrusBlitter } from "./cirrus_blt.ts";
import type { DispiLayout } from "./dispi.ts";
import { dac6to8, rgbaWord } from "./graphics_render.ts";
import type { HwCursor } from "./hw_cursor.ts";
import { Vga, VGA_PORT_BASE, type VgaState } from "./vga.ts";
import { romSizeFor } from "./vga_pci.ts";

/** Video RAM of the CL-GD5446 as QEMU models it. */
export const CIRRUS_VRAM_SIZE = 4 * 1024 * 1024;
/** BAR0: linear video RAM, then the BitBLT window at 16 MiB. */
export const CIRRUS_BAR0_SIZE = 32 * 1024 * 1024;
/** Offset of the BitBLT system-source window in BAR0. */
export const CIRRUS_BLT_WINDOW = 0x1000000;
/** BAR1: memory-mapped VGA ports and BitBLT registers. */
export const CIRRUS_MMIO_SIZE = 0x1000;
/** CR27: the part ID of the CL-GD5446. */
export const CIRRUS_CHIP_ID = 0xb8;
/** PCI vendor and device of the CL-GD5446. */
export const CIRRUS_PCI_ID = { vendor: 0x1013, device: 0x00b8 } as const;

const BANK_WINDOW = 0x10000;
/** SR07 bits 1-3: 8 bpp, 16 (double clock), 24, 16, 32. */
const SR7_DEPTHS: readonly number[] = [8, 16, 24, 16, 32];
const MMIO_WINDOW = 0x18000;

/** Memory-mapped BitBLT register offset -> the GR register it is (0x13 and others: none). */
const MMIO_TO_GR = new Map<number, number>([
  ...[0x00, 0x10, 0x12, 0x14, 0x01, 0x11, 0x13, 0x15].map((gr, i) => [i, gr] as const),
  ...[0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a].map((gr, i) =>
    [0x08 + i, gr] as const
  ),
  [0x14, 0x2c],
  [0x15, 0x2d],
  [0x16, 0x2e],
  [0x17, 0x2f],
  [0x18, 0x30],
  [0x1a, 0x32],
  [0x1b, 0x33],
  [0x1c, 0x34],
  [0x1d, 0x35],
  [0x20, 0x38],
  [0x21, 0x39],
  [0x40, 0x31],
]);

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** Extended registers QEMU lets a guest write as they are. */
const SR_PLAIN = new Set([...range(0x07, 0x0f), ...range(0x13, 0x16), ...range(0x18, 0x1f)]);
const GR_PLAIN = new Set([
  ...range(0x10, 0x15),
  ...[0x20, 0x22, 0x24, 0x26, 0x28, 0x29, 0x2c, 0x2d, 0x2f],
  ...[0x30, 0x32, 0x33, 0x34, 0x35, 0x38, 0x39],
]);
const GR_HIGH5 = new Set([0x21, 0x23, 0x25, 0x27]);

/** Saved state of the Cirrus extensions and the VGA core under them. */
export interface CirrusState extends PciFunctionState {
  readonly version: 1;
  readonly config: PciConfigState;
  readonly vga: VgaState;
  /** Sequencer registers 0x00-0x1F (only 0x05 up are the extension's). */
  readonly sr: Uint8Array;
  /** Graphics controller registers 0x00-0x39 (0x09 up are the extension's). */
  readonly gr: Uint8Array;
  /** CRTC registers 0x19-0x27 at their own indices (0x00-0x27). */
  readonly cr: Uint8Array;
  /** GR00/GR01 as written (8 bits: the BitBLT colours' low bytes). */
  readonly shadowGr0: number;
  readonly shadowGr1: number;
  readonly hiddenDac: number;
  /** Reads of 0x3C6 since 0x3C8 was read or 0x3C6 written (a byte; 5 shows the hidden DAC). */
  readonly hiddenDacLock: number;
  readonly hiddenPalette: Uint8Array;
  readonly cursorX: number;
  readonly cursorY: number;
}

/** Construction options. */
export interface CirrusOptions {
  /** The VGA BIOS option ROM (SeaVGABIOS's vgabios-cirrus.bin); none when absent or empty. */
  romData?: Uint8Array;
  /** Video RAM to use (host memory a KVM slot maps at BAR0); 4 MiB. */
  vram?: Uint8Array;
  /** Passed to {@link Vga}: power on in 80×25 text mode (no VGA BIOS). */
  startInTextMode?: boolean;
}

/** The CL-GD5446 PCI function. */
export class CirrusVga implements PciFunction, Snapshotting<CirrusState> {
  /** The `--vga` model. */
  readonly model = "cirrus" as const;
  /** Short name for the devices pane. */
  readonly name = "cirrus-vga";
  readonly config: PciConfigSpace;
  /** The standard VGA core under the extensions. */
  readonly vga: Vga;
  /** Ports 0x3B0-0x3DF. */
  readonly ports: BusDevice;
  /** The 0xA0000-0xBFFFF window. */
  readonly window: BusDevice;
  /** BAR0 (what the KVM slot does not take while direct access is on). */
  readonly bar0: BusDevice;
  /** BAR1. */
  readonly mmio: BusDevice;
  readonly rom: BusDevice;
  readonly romSize: number;
  readonly blitter: CirrusBlitter;
  /** Extended sequencer registers (0x05-0x1F). */
  readonly sr = new Uint8Array(0x20);
  /**
   * Extended graphics controller registers (0x09-0x39); of 0x00-0x08 only
   * 0x05 is kept here (with bit 2, write modes 4 and 5, which the core drops).
   */
  readonly gr = new Uint8Array(0x3a);
  /** Extended CRTC registers (0x19-0x27); 0x00-0x18 are the core's. */
  readonly cr = new Uint8Array(0x28);
  readonly hiddenPalette = new Uint8Array(48);
  shadowGr0 = 0;
  shadowGr1 = 0;
  hiddenDac = 0;
  hiddenDacLock = 5;
  /** Hardware cursor position in pixels. */
  cursorX = 0;
  cursorY = 0;
  /**
   * Called when {@link directAccess} may have changed: the board then maps
   * or unmaps video RAM at BAR0 as a memory slot.
   */
  onDirectAccessChange: (() => void) | undefined;
  readonly #vram: Uint8Array;
  readonly #mask: number;
  readonly #startInTextMode: boolean;

  /** @param options ROM image, video RAM, power-on mode */
  constructor(options: CirrusOptions = {}) {
    const vram = options.vram ?? new Uint8Array(CIRRUS_VRAM_SIZE);
    if (vram.length !== CIRRUS_VRAM_SIZE) {
      throw new RangeError(`the Cirrus VGA has 4 MiB of video RAM, got ${vram.length} bytes`);
    }
    this.#vram = vram;
    this.#mask = vram.length - 1;
    this.#startInTextMode = options.startInTextMode ?? false;
    this.vga = new Vga({ vram, startInTextMode: this.#startInTextMode });
    this.vga.extension = { layout: () => this.layout(), cursor: () => this.cursor() };
    const romData = options.romData ?? new Uint8Array(0);
    this.romSize = romSizeFor(romData.length);
    this.config = new PciConfigSpace({
      vendorId: CIRRUS_PCI_ID.vendor,
      deviceId: CIRRUS_PCI_ID.device,
      classCode: 0x030000,
      revision: 0,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      bars: [
        { kind: "mem32", size: CIRRUS_BAR0_SIZE, prefetchable: true },
        { kind: "mem32", size: CIRRUS_MMIO_SIZE },
      ],
      romSize: this.romSize,
    });
    this.blitter = new CirrusBlitter(vram);
    this.blitter.onWrite = (s, e) => this.vga.onVramWrite?.(s, e);
    this.blitter.onPhaseChange = () => this.onDirectAccessChange?.();
    const image = new Uint8Array(this.romSize);
    image.set(romData);
    this.rom = {
      read: (o, size) => readLanes(o, size, (at) => (at < image.length ? image[at] : 0xff)),
      write: () => {},
    };
    this.ports = {
      read: (o, size) => readLanes(VGA_PORT_BASE + o, size, (p) => this.readPort(p)),
      write: (o, size, v) => writeLanes(VGA_PORT_BASE + o, size, v, (p, b) => this.writePort(p, b)),
    };
    this.window = this.#windowDevice();
    this.bar0 = {
      read: (o, size) => readLanes(o, size, (at) => this.#bar0Read(at)),
      write: (o, size, v) => writeLanes(o, size, v, (at, b) => this.#bar0Write(at, b)),
    };
    this.mmio = {
      read: (o, size) =>
        readLanes(
          o,
          size,
          (at) => at >= 0x100 ? this.#bltRegRead(at - 0x100) : this.readPort(at + 0x3c0),
        ),
      write: (o, size, v) =>
        writeLanes(o, size, v, (at, b) => {
          if (at >= 0x100) this.#bltRegWrite(at - 0x100, b);
          else this.writePort(at + 0x3c0, b);
        }),
    };
    this.#resetRegisters();
  }

  /**
   * True while guest accesses to the linear framebuffer may go straight to
   * video RAM: no memory-mapped BitBLT registers at its top, no BitBLT
   * waiting for CPU data, no address shift and no write mode 4 or 5.
   */
  get directAccess(): boolean {
    if ((this.sr[0x17] & 0x44) === 0x44) return false;
    if (this.blitter.phase !== "idle") return false;
    const grb = this.gr[0x0b];
    if ((grb & 0x14) === 0x14 || grb & 0x02) return false;
    const mode = this.gr[5] & 7;
    return !(mode >= 4 && mode <= 5 && grb & 0x04);
  }

  /**
   * The video RAM offsets the two 32 KiB halves of 0xA0000 show while
   * accesses may go straight to memory (extended mode, {@link directAccess},
   * a whole bank inside video RAM); null where the window must decode here.
   */
  get directBanks(): readonly (number | null)[] {
    if (!(this.sr[0x07] & 1) || !this.directAccess) return [null, null];
    return [0, 1].map((i) => {
      const [base, limit] = this.#bank(i);
      return limit >= 0x8000 ? base : null;
    });
  }

  /** Bits per pixel of the extended mode (0 while SR07 bit 0 leaves the VGA in charge). */
  get bpp(): number {
    const sr7 = this.sr[0x07];
    if (!(sr7 & 1)) return 0;
    const depth = SR7_DEPTHS[(sr7 & 0x0e) >> 1] ?? 8;
    // 16-bit modes are 5-6-5 when the hidden DAC says XGA, else Sierra's 5-5-5.
    return depth === 16 ? ((this.hiddenDac & 0x0f) === 1 ? 16 : 15) : depth;
  }

  /** The extended mode's pixels in video RAM, or null when the VGA's own modes apply. */
  layout(): DispiLayout | null {
    const bpp = this.bpp;
    const vga = this.vga;
    // Text and blanked screens are the VGA's business whatever SR07 says.
    if (bpp === 0 || !(vga.gc.regs[6] & 1) || !vga.attr.paletteAddressSource) return null;
    if (((this.gr[5] >> 5) & 3) < 2) return null; // planar or CGA shift modes
    const crt = vga.crtc.regs;
    const width = (crt[0x01] + 1) * 8;
    let height = (crt[0x12] | ((crt[0x07] & 0x02) << 7) | ((crt[0x07] & 0x40) << 3)) + 1;
    if (this.cr[0x1a] & 1) height *= 2;
    const lineBytes = (crt[0x13] | ((this.cr[0x1b] & 0x10) << 4)) << 3;
    const start = (crt[0x0c] << 8) | crt[0x0d] | ((this.cr[0x1b] & 0x01) << 16) |
      ((this.cr[0x1b] & 0x0c) << 15) | ((this.cr[0x1d] & 0x80) << 12);
    return {
      width,
      height,
      bpp,
      lineBytes,
      startByte: start * 4,
      virtualHeight: lineBytes ? Math.floor(this.#vram.length / lineBytes) : height,
    };
  }

  /**
   * The hardware cursor while SR12 shows it: 32x32 or 64x64 (SR12 bit 2),
   * its planes from the last 16 KiB of video RAM (pattern SR13), colours
   * from the hidden palette's entries 0 and 15.
   */
  cursor(): HwCursor | null {
    const sr12 = this.sr[0x12];
    if (!(sr12 & 1)) return null;
    const large = (sr12 & 4) !== 0;
    const size = large ? 64 : 32;
    const bytes = size >> 3;
    const base = this.#vram.length - 0x4000 + (this.sr[0x13] & (large ? 0x3c : 0x3f)) * 256;
    const planes = new Uint8Array(size * bytes * 2);
    for (let row = 0; row < size; row++) {
      // Large: each row is 8 bytes of plane 0 then 8 of plane 1; small: plane 1 is 128 bytes on.
      const p0 = large ? base + row * 16 : base + row * 4;
      const p1 = large ? p0 + 8 : p0 + 128;
      planes.set(this.#vram.subarray(p0, p0 + bytes), row * bytes * 2);
      planes.set(this.#vram.subarray(p1, p1 + bytes), row * bytes * 2 + bytes);
    }
    const colour = (i: number) => {
      const p = this.hiddenPalette;
      return rgbaWord(dac6to8(p[i * 3]), dac6to8(p[i * 3 + 1]), dac6to8(p[i * 3 + 2]));
    };
    return {
      x: this.cursorX,
      y: this.cursorY,
      size,
      planes,
      color0: colour(0),
      color1: colour(15),
    };
  }

  /** One byte from a VGA port (0x3B0-0x3DF), the Cirrus registers first. */
  readPort(port: number): number {
    const vga = this.vga;
    const core = () => vga.read(port - VGA_PORT_BASE, 1);
    switch (port) {
      case 0x3c5:
        return vga.seq.index <= 4 ? core() : this.#readSr(vga.seq.index);
      case 0x3c6:
        // A byte counter, as QEMU's: only its fifth read from 0 shows the register.
        this.hiddenDacLock = (this.hiddenDacLock + 1) & 0xff;
        if (this.hiddenDacLock === 5) {
          this.hiddenDacLock = 0;
          return this.hiddenDac;
        }
        return 0xff;
      case 0x3c8:
        this.hiddenDacLock = 0;
        return core();
      case 0x3c9:
        return this.sr[0x12] & 0x02 ? vga.dac.readData(this.hiddenPalette) : core();
      case 0x3cf:
        return this.#readGr(vga.gc.index);
    }
    const crtData = vga.misc & 1 ? 0x3d5 : 0x3b5;
    if (port === crtData && vga.crtc.index > 0x18) return this.#readCr(vga.crtc.index);
    return core();
  }

  /** One byte to a VGA port. */
  writePort(port: number, value: number): void {
    const vga = this.vga;
    switch (port) {
      case 0x3c5:
        if (vga.seq.index <= 4) break;
        this.#writeSr(vga.seq.index, value);
        return;
      case 0x3c6:
        if (this.hiddenDacLock === 4) this.hiddenDac = value;
        this.hiddenDacLock = 0;
        return;
      case 0x3c9:
        if (this.sr[0x12] & 0x02) {
          vga.dac.writeData(value, this.hiddenPalette);
          return;
        }
        break;
      case 0x3cf:
        this.#writeGr(vga.gc.index, value);
        return;
    }
    const crtData = vga.misc & 1 ? 0x3d5 : 0x3b5;
    if (port === crtData && vga.crtc.index > 0x18) {
      const i = vga.crtc.index;
      if (i >= 0x19 && i <= 0x1d) this.cr[i] = value;
      return;
    }
    vga.write(port - VGA_PORT_BASE, 1, value);
  }

  #readSr(i: number): number {
    if ((i & 0x1f) === 0x10 || (i & 0x1f) === 0x11) return this.sr[i & 0x1f];
    return i < 0x20 ? this.sr[i] : 0xff;
  }

  #writeSr(i: number, v: number): void {
    const low = i & 0x1f;
    if (low === 0x10 || low === 0x11) {
      // The cursor position's three low bits come from the index.
      this.sr[low] = v;
      const pos = (v << 3) | (i >> 5);
      if (low === 0x10) this.cursorX = pos;
      else this.cursorY = pos;
      return;
    }
    if (i === 0x06) this.sr[6] = (v & 0x17) === 0x12 ? 0x12 : 0x0f;
    else if (i === 0x12) this.sr[0x12] = v;
    else if (i === 0x17) {
      this.sr[0x17] = (this.sr[0x17] & 0x38) | (v & 0xc7);
      this.onDirectAccessChange?.();
    } else if (SR_PLAIN.has(i)) {
      this.sr[i] = v;
      if (i === 0x07) this.onDirectAccessChange?.();
    }
  }

  #readGr(i: number): number {
    if (i === 0) return this.shadowGr0;
    if (i === 1) return this.shadowGr1;
    if (i === 5) return this.gr[5];
    if (i <= 8) return this.vga.gc.regs[i];
    return i < 0x3a ? this.gr[i] : 0xff;
  }

  #writeGr(i: number, v: number): void {
    const gc = this.vga.gc;
    if (i <= 8) {
      gc.set(i, v);
      if (i === 0) this.shadowGr0 = v;
      else if (i === 1) this.shadowGr1 = v;
      else if (i === 5) {
        this.gr[5] = v & 0x7f;
        this.onDirectAccessChange?.();
      }
      return;
    }
    if (i === 0x09 || i === 0x0a || i === 0x0b) {
      this.gr[i] = v;
      this.onDirectAccessChange?.();
    } else if (GR_PLAIN.has(i)) this.gr[i] = v;
    else if (GR_HIGH5.has(i)) this.gr[i] = v & 0x1f;
    else if (i === 0x2a) {
      this.gr[i] = v & 0x3f;
      if (this.gr[0x31] & BLT_STATUS.AUTOSTART) this.#startBlt();
    } else if (i === 0x2e) this.gr[i] = v & 0x3f;
    else if (i === 0x31) this.#writeBltStatus(v);
  }

  #readCr(i: number): number {
    if (i === 0x24) return this.vga.attr.dataNext ? 0x80 : 0;
    if (i === 0x26) return this.vga.attr.indexRegister & 0x3f;
    if ((i >= 0x19 && i <= 0x1d) || i === 0x22 || i === 0x25 || i === 0x27) return this.cr[i];
    return 0xff;
  }

  #writeBltStatus(v: number): void {
    const old = this.gr[0x31];
    this.gr[0x31] = v;
    if (old & BLT_STATUS.RESET && !(v & BLT_STATUS.RESET)) this.#bltDone();
    else if (!(old & BLT_STATUS.START) && v & BLT_STATUS.START) this.#startBlt();
  }

  #startBlt(): void {
    const g = this.gr;
    this.gr[0x31] |= BLT_STATUS.BUSY;
    const pw = ((g[0x30] >> 4) & 3) + 1;
    const color = (low: number, regs: number[]) => {
      let c = low;
      for (let i = 1; i < pw; i++) c |= g[regs[i - 1]] << (8 * i);
      return c >>> 0;
    };
    const regs: BltRegisters = {
      width: (g[0x20] | (g[0x21] << 8)) + 1,
      height: (g[0x22] | (g[0x23] << 8)) + 1,
      dstPitch: g[0x24] | (g[0x25] << 8),
      srcPitch: g[0x26] | (g[0x27] << 8),
      dstAddr: (g[0x28] | (g[0x29] << 8) | (g[0x2a] << 16)) & this.#mask,
      srcAddr: (g[0x2c] | (g[0x2d] << 8) | (g[0x2e] << 16)) & this.#mask,
      mode: g[0x30],
      rop: g[0x32],
      modeExt: g[0x33],
      skip: g[0x2f],
      fg: color(this.shadowGr1, [0x11, 0x13, 0x15]),
      bg: color(this.shadowGr0, [0x10, 0x12, 0x14]),
      transparent: g[0x34] | (g[0x35] << 8),
      displayBpp: this.bpp,
    };
    if (!this.blitter.start(regs)) this.#bltDone();
  }

  #bltDone(): void {
    this.gr[0x31] &= ~(BLT_STATUS.START | BLT_STATUS.BUSY | BLT_STATUS.FIFO_USED);
    this.blitter.reset();
  }

  /** One source byte for a waiting system-to-video BLT. */
  #feed(byte: number): void {
    this.blitter.feed(byte);
    if (this.blitter.phase === "idle") {
      this.gr[0x31] &= ~(BLT_STATUS.START | BLT_STATUS.BUSY | BLT_STATUS.FIFO_USED);
    }
  }

  #bltRegRead(offset: number): number {
    const gr = MMIO_TO_GR.get(offset);
    return gr === undefined ? 0xff : this.#readGr(gr);
  }

  #bltRegWrite(offset: number, v: number): void {
    const gr = MMIO_TO_GR.get(offset);
    if (gr !== undefined) this.#writeGr(gr, v);
  }

  /** The video RAM address a window or linear offset reaches through GR0B's shifts. */
  #shifted(addr: number): number {
    const grb = this.gr[0x0b];
    if ((grb & 0x14) === 0x14) addr <<= 4;
    else if (grb & 0x02) addr <<= 3;
    return addr & this.#mask;
  }

  /** A CPU byte to video RAM: plain, or write mode 4/5 colour expansion. */
  #store(addr: number, value: number): void {
    const mode = this.gr[5] & 7;
    const grb = this.gr[0x0b];
    const vram = this.#vram;
    if (mode < 4 || mode > 5 || !(grb & 0x04)) {
      vram[addr] = value;
      this.vga.onVramWrite?.(addr, addr + 1);
      return;
    }
    const wide = (grb & 0x14) === 0x14;
    const step = wide ? 2 : 1;
    for (let x = 0, a = addr; x < 8; x++, a += step) {
      const on = (value << x) & 0x80;
      if (!on && mode !== 5) continue;
      vram[a & this.#mask] = on ? this.shadowGr1 : this.shadowGr0;
      if (wide) vram[(a + 1) & this.#mask] = on ? this.gr[0x11] : this.gr[0x10];
    }
    this.vga.onVramWrite?.(addr, Math.min(vram.length, addr + 8 * step));
  }

  /** Bank base and limit for a 32 KiB half of the window. */
  #bank(index: number): [base: number, limit: number] {
    const grb = this.gr[0x0b];
    let offset = grb & 0x01 ? this.gr[0x09 + index] : this.gr[0x09];
    offset <<= grb & 0x20 ? 14 : 12;
    let limit = Math.max(0, this.#vram.length - offset);
    if (!(grb & 0x01) && index !== 0) {
      if (limit > 0x8000) {
        offset += 0x8000;
        limit -= 0x8000;
      } else limit = 0;
    }
    return limit > 0 ? [offset, limit] : [0, 0];
  }

  #windowDevice(): BusDevice {
    const planar = this.vga.window;
    const byteRead = (at: number): number => {
      if (at < BANK_WINDOW) {
        const [base, limit] = this.#bank(at >> 15);
        const off = at & 0x7fff;
        return off < limit ? this.#vram[this.#shifted(off + base)] : 0xff;
      }
      if (at >= MMIO_WINDOW && at < MMIO_WINDOW + 0x100 && (this.sr[0x17] & 0x44) === 0x04) {
        return this.#bltRegRead(at & 0xff);
      }
      return 0xff;
    };
    const byteWrite = (at: number, v: number): void => {
      if (at < BANK_WINDOW) {
        if (this.blitter.phase !== "idle") {
          this.#feed(v);
          return;
        }
        const [base, limit] = this.#bank(at >> 15);
        const off = at & 0x7fff;
        if (off < limit) this.#store(this.#shifted(off + base), v);
      } else if (at >= MMIO_WINDOW && at < MMIO_WINDOW + 0x100) {
        if ((this.sr[0x17] & 0x44) === 0x04) this.#bltRegWrite(at & 0xff, v);
      }
    };
    const extended = () => (this.sr[0x07] & 1) !== 0;
    return {
      read: (o, size) => extended() ? readLanes(o, size, byteRead) : planar.read(o, size),
      write: (o, size, v) => {
        if (extended()) writeLanes(o, size, v, byteWrite);
        else planar.write(o, size, v);
      },
      readBlock: (o, size, dst) => {
        if (!extended()) return planar.readBlock!(o, size, dst);
        for (let i = 0; i + size <= dst.length; i += size) {
          for (let b = 0; b < size; b++) dst[i + b] = byteRead(o + b);
        }
      },
      writeBlock: (o, size, src) => {
        if (!extended()) return planar.writeBlock!(o, size, src);
        for (let i = 0; i + size <= src.length; i += size) {
          for (let b = 0; b < size; b++) byteWrite(o + b, src[i + b]);
        }
      },
    };
  }

  #linearMmio(addr: number): boolean {
    const top = this.#vram.length - 256;
    return (this.sr[0x17] & 0x44) === 0x44 && (addr & top) === top;
  }

  #bar0Read(at: number): number {
    if (at >= CIRRUS_BLT_WINDOW) return 0xff;
    const addr = at & this.#mask;
    if (this.#linearMmio(addr)) return this.#bltRegRead(addr & 0xff);
    return this.#vram[this.#shifted(addr)];
  }

  #bar0Write(at: number, v: number): void {
    if (at >= CIRRUS_BLT_WINDOW) {
      if (at < CIRRUS_BLT_WINDOW + 0x400000 && this.blitter.phase !== "idle") this.#feed(v);
      return;
    }
    const addr = at & this.#mask;
    if (this.#linearMmio(addr)) this.#bltRegWrite(addr & 0xff, v);
    else if (this.blitter.phase !== "idle") this.#feed(v);
    else this.#store(this.#shifted(addr), v);
  }

  /** Back to power-on: configuration space, VGA core and extensions. */
  reset(): void {
    this.config.reset();
    this.vga.reset();
    this.#resetRegisters();
  }

  #resetRegisters(): void {
    this.blitter.reset();
    this.sr.fill(0);
    this.gr.fill(0);
    this.cr.fill(0);
    this.hiddenPalette.fill(0);
    this.shadowGr0 = this.vga.gc.regs[0];
    this.shadowGr1 = this.vga.gc.regs[1];
    this.gr[5] = this.vga.gc.regs[5];
    this.sr[0x06] = 0x0f;
    // 4 MiB, 64-bit memory, PCI, as QEMU's CL-GD5446 powers on.
    this.sr[0x1f] = 0x2d;
    this.gr[0x18] = 0x0f;
    this.sr[0x0f] = 0x98;
    this.sr[0x17] = 0x20;
    this.sr[0x15] = 0x04;
    this.cr[0x27] = CIRRUS_CHIP_ID;
    this.hiddenDacLock = 5;
    this.hiddenDac = 0;
    this.cursorX = 0;
    this.cursorY = 0;
    this.onDirectAccessChange?.();
  }

  /** Configuration space, VGA core and every extended register. */
  snapshot(): CirrusState {
    return {
      version: 1,
      config: this.config.snapshot(),
      vga: this.vga.snapshot(),
      sr: this.sr.slice(),
      gr: this.gr.slice(),
      cr: this.cr.slice(),
      shadowGr0: this.shadowGr0,
      shadowGr1: this.shadowGr1,
      hiddenDac: this.hiddenDac,
      hiddenDacLock: this.hiddenDacLock,
      hiddenPalette: this.hiddenPalette.slice(),
      cursorX: this.cursorX,
      cursorY: this.cursorY,
    };
  }

  /**
   * Puts everything back. A BitBLT waiting for CPU data is not part of the
   * state (as on QEMU): it is abandoned.
   */
  restore(state: CirrusState): void {
    const s = StateShape.versioned("cirrus vga", state, 1);
    const sr = s.bytes("sr", 0x20);
    const gr = s.bytes("gr", 0x3a);
    const cr = s.bytes("cr", 0x28);
    const shadowGr0 = s.int("shadowGr0", 0, 0xff);
    const shadowGr1 = s.int("shadowGr1", 0, 0xff);
    const hiddenDac = s.int("hiddenDac", 0, 0xff);
    const hiddenDacLock = s.int("hiddenDacLock", 0, 0xff);
    const hiddenPalette = s.bytes("hiddenPalette", 48);
    if (hiddenPalette.some((v) => v > 0x3f)) s.fail("hiddenPalette", "has entries above 6 bits");
    const cursorX = s.int("cursorX", 0, 0x7ff);
    const cursorY = s.int("cursorY", 0, 0x7ff);
    if (cr[0x27] !== CIRRUS_CHIP_ID) s.fail("cr", "is not a CL-GD5446's (CR27)");
    // The parts check themselves first, so a refused state changes nothing.
    new PciConfigSpace(this.config.id).restore(state.config);
    this.vga.restore(state.vga);
    this.config.restore(state.config);
    this.blitter.reset();
    this.sr.set(sr);
    this.gr.set(gr);
    this.cr.set(cr);
    this.shadowGr0 = shadowGr0;
    this.shadowGr1 = shadowGr1;
    this.hiddenDac = hiddenDac;
    this.hiddenDacLock = hiddenDacLock;
    this.hiddenPalette.set(hiddenPalette);
    this.cursorX = cursorX;
    this.cursorY = cursorY;
    this.onDirectAccessChange?.();
  }
}
