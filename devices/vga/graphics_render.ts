/**
 * Graphics-mode pixels as the display would show them, converted to RGBA:
 * Bochs VBE (DISPI) modes at 4, 8, 15, 16, 24 and 32 bits per pixel from
 * the linear video RAM, and the VGA's own graphics modes (256-colour, as in
 * mode 13h and mode X, and 16-colour planar, as in mode 12h) walked the way
 * the CRTC walks the planes. Palettes go through the DAC (and, for 16
 * colours, the attribute controller), 6-bit components widened as QEMU
 * widens them ({@link dac6to8}).
 *
 * Pixels are produced as 32-bit words whose little-endian bytes are R, G,
 * B, A (A always 255), so a `Uint32Array` over a row is also RGBA bytes.
 *
 * @module
 */

import { displayGeometry, type DisplayMode } from "./display_geometry.ts";
import { drawCursorRow, type HwCursor, sameCursor } from "./hw_cursor.ts";
import type { Vga } from "./vga.ts";

/** Where a graphics frame's pixels come from ("virtio": a virtio-gpu scanout). */
export type FrameSource = "vbe" | "vga" | "virtio";

/** What the display shows and how its pixels are laid out in video RAM. */
export interface FrameFormat {
  /** "graphics" when there are pixels to show; "text" and "off" have none here. */
  readonly mode: DisplayMode;
  /** VBE (DISPI) or the VGA's own timing; null outside graphics. */
  readonly source: FrameSource | null;
  /** Pixels (0 outside graphics). */
  readonly width: number;
  readonly height: number;
  /** 4 (16 colours, planar), 8 (256 colours), 15, 16, 24 or 32. */
  readonly bpp: number;
  /** VBE: bytes per line. VGA: CRTC address units per pixel row. */
  readonly stride: number;
  /** VBE: byte offset of the first pixel. VGA: CRTC start address. */
  readonly start: number;
  /** VGA: left shift from CRTC address to plane offset. */
  readonly addressShift: number;
  /** Colour planes shown (attribute controller register 0x12), for planar modes. */
  readonly planeMask: number;
  /** A hardware cursor drawn over the pixels (the Cirrus's), when one is on. */
  readonly cursor?: HwCursor | null;
}

const NO_PIXELS = {
  source: null,
  width: 0,
  height: 0,
  bpp: 0,
  stride: 0,
  start: 0,
  addressShift: 0,
  planeMask: 0,
} as const;

/** The current frame format of `vga`. */
export function frameFormat(vga: Vga): FrameFormat {
  const planeMask = vga.attr.regs[0x12] & 0x0f;
  const vbe = vga.extension?.layout() ?? vga.dispi.layout();
  const cursor = vga.extension?.cursor() ?? null;
  if (vbe) {
    return {
      mode: "graphics",
      source: "vbe",
      width: vbe.width,
      height: vbe.height,
      bpp: vbe.bpp,
      stride: vbe.lineBytes,
      start: vbe.startByte,
      addressShift: 0,
      planeMask,
      cursor,
    };
  }
  const g = displayGeometry(vga);
  if (g.mode !== "graphics" || g.width <= 0 || g.height <= 0) return { mode: g.mode, ...NO_PIXELS };
  return {
    mode: "graphics",
    source: "vga",
    width: g.width,
    height: g.height,
    bpp: vga.attr.eightBitColor ? 8 : 4,
    stride: g.rowStride,
    start: g.startAddress,
    addressShift: g.addressShift,
    planeMask,
    cursor,
  };
}

/** A short description for headers: "VBE 1024×768×32", "VGA 320×200×256", "text". */
export function frameLabel(format: FrameFormat): string {
  if (format.mode !== "graphics") return format.mode;
  const depth = format.bpp === 4 ? "16" : format.bpp === 8 ? "256" : String(format.bpp);
  const colours = format.bpp <= 8 ? `${depth} colours` : `${depth} bpp`;
  const source = format.source === "vbe"
    ? "VBE"
    : format.source === "virtio"
    ? "virtio-gpu"
    : "VGA";
  return `${source} ${format.width}×${format.height} ${colours}`;
}

/** Two formats lay out the same pixels the same way. */
export function sameFormat(a: FrameFormat, b: FrameFormat): boolean {
  return a.mode === b.mode && a.source === b.source && a.width === b.width &&
    a.height === b.height && a.bpp === b.bpp && a.stride === b.stride && a.start === b.start &&
    a.addressShift === b.addressShift && a.planeMask === b.planeMask &&
    sameCursor(a.cursor ?? null, b.cursor ?? null);
}

/**
 * A 6-bit DAC component widened to 8 bits the way QEMU's VGA does (the low
 * bit fills the two new ones: 0 -> 0, 1 -> 7, 62 -> 248, 63 -> 255), so
 * screenshots match QEMU's pixel for pixel.
 */
export function dac6to8(v: number): number {
  const c = v & 0x3f;
  return (c << 2) | ((c & 1) * 3);
}

/** Packs R, G, B into a pixel word (little-endian bytes R, G, B, 255). */
export function rgbaWord(r: number, g: number, b: number): number {
  return ((0xff << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** The 256 DAC entries as pixel words (8-bit components when the VBE 8-bit DAC is on). */
export function dacPalette(vga: Vga): Uint32Array {
  const dac = vga.dac.palette;
  const wide = vga.dispi.enabled && vga.dispi.eightBitDac;
  const out = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = [dac[i * 3], dac[i * 3 + 1], dac[i * 3 + 2]];
    out[i] = wide ? rgbaWord(r, g, b) : rgbaWord(dac6to8(r), dac6to8(g), dac6to8(b));
  }
  return out;
}

/**
 * The 16 colours of planar modes as pixel words: each attribute palette
 * register picks a DAC entry, its high bits replaced by the colour-select
 * register as attribute mode control bit 7 says.
 */
export function planarPalette(vga: Vga): Uint32Array {
  const ar = vga.attr.regs;
  const dac = dacPalette(vga);
  const out = new Uint32Array(16);
  for (let i = 0; i < 16; i++) {
    const index = ar[0x10] & 0x80
      ? ((ar[0x14] & 0x0f) << 4) | (ar[i] & 0x0f)
      : ((ar[0x14] & 0x0c) << 4) | (ar[i] & 0x3f);
    out[i] = dac[index];
  }
  return out;
}

/** The palette a format's pixels index (empty for direct colour). */
export function formatPalette(vga: Vga, format: FrameFormat): Uint32Array {
  if (format.bpp === 8) return dacPalette(vga);
  if (format.bpp === 4) return planarPalette(vga);
  return new Uint32Array(0);
}

const expand5 = (v: number) => (v << 3) | (v >> 2);
const expand6 = (v: number) => (v << 2) | (v >> 4);

/**
 * Converts display rows `[y0, y1)` of `format` into `dst` (pixel words,
 * `format.width` per row, row `y` at `(y - y0) * format.width + dstOffset`).
 * Video RAM beyond its end reads as zero.
 */
export function renderRows(
  vram: Uint8Array,
  format: FrameFormat,
  palette: Uint32Array,
  y0: number,
  y1: number,
  dst: Uint32Array,
  dstOffset = 0,
): void {
  const w = format.width;
  for (let y = y0; y < y1; y++) {
    const out = dstOffset + (y - y0) * w;
    if (format.source === "vbe") renderVbeRow(vram, format, palette, y, dst, out);
    else if (format.bpp === 8) renderVga256Row(vram, format, palette, y, dst, out);
    else renderVgaPlanarRow(vram, format, palette, y, dst, out);
    if (format.cursor) drawCursorRow(format.cursor, y, dst, out, w);
  }
}

function renderVbeRow(
  vram: Uint8Array,
  f: FrameFormat,
  palette: Uint32Array,
  y: number,
  dst: Uint32Array,
  out: number,
): void {
  const w = f.width;
  const line = f.start + y * f.stride;
  const n = vram.length;
  const byte = (at: number) => (at < n ? vram[at] : 0);
  switch (f.bpp) {
    case 8:
      for (let x = 0; x < w; x++) dst[out + x] = palette[byte(line + x)];
      return;
    case 15:
      for (let x = 0, a = line; x < w; x++, a += 2) {
        const v = byte(a) | (byte(a + 1) << 8);
        dst[out + x] = rgbaWord(expand5((v >> 10) & 31), expand5((v >> 5) & 31), expand5(v & 31));
      }
      return;
    case 16:
      for (let x = 0, a = line; x < w; x++, a += 2) {
        const v = byte(a) | (byte(a + 1) << 8);
        dst[out + x] = rgbaWord(expand5(v >> 11), expand6((v >> 5) & 63), expand5(v & 31));
      }
      return;
    case 24:
      for (let x = 0, a = line; x < w; x++, a += 3) {
        dst[out + x] = rgbaWord(byte(a + 2), byte(a + 1), byte(a));
      }
      return;
    case 32:
      if (line + w * 4 <= n) {
        for (let x = 0, a = line; x < w; x++, a += 4) {
          dst[out + x] = (0xff000000 | (vram[a] << 16) | (vram[a + 1] << 8) | vram[a + 2]) >>> 0;
        }
      } else {
        for (let x = 0, a = line; x < w; x++, a += 4) {
          dst[out + x] = rgbaWord(byte(a + 2), byte(a + 1), byte(a));
        }
      }
      return;
    default: // 4: groups of 8 pixels, one byte from each plane, 4 bytes per group
      for (let x = 0; x < w; x++) {
        const at = line + (x >> 3) * 4;
        const bit = 7 - (x & 7);
        let c = 0;
        for (let p = 0; p < 4; p++) c |= ((byte(at + p) >> bit) & 1) << p;
        dst[out + x] = palette[c & f.planeMask];
      }
  }
}

function renderVga256Row(
  vram: Uint8Array,
  f: FrameFormat,
  palette: Uint32Array,
  y: number,
  dst: Uint32Array,
  out: number,
): void {
  // Every CRTC address holds four pixels, one per plane.
  const row = f.start + y * f.stride;
  for (let x = 0; x < f.width; x++) {
    const po = ((row + (x >> 2)) << f.addressShift) & 0xffff;
    dst[out + x] = palette[vram[po * 4 + (x & 3)]];
  }
}

function renderVgaPlanarRow(
  vram: Uint8Array,
  f: FrameFormat,
  palette: Uint32Array,
  y: number,
  dst: Uint32Array,
  out: number,
): void {
  // Every CRTC address holds eight pixels, one bit of each in each plane.
  const row = f.start + y * f.stride;
  for (let gx = 0; gx * 8 < f.width; gx++) {
    const base = (((row + gx) << f.addressShift) & 0xffff) * 4;
    const p0 = vram[base], p1 = vram[base + 1], p2 = vram[base + 2], p3 = vram[base + 3];
    const end = Math.min(8, f.width - gx * 8);
    for (let i = 0; i < end; i++) {
      const bit = 7 - i;
      const c = ((p0 >> bit) & 1) | (((p1 >> bit) & 1) << 1) | (((p2 >> bit) & 1) << 2) |
        (((p3 >> bit) & 1) << 3);
      dst[out + gx * 8 + i] = palette[c & f.planeMask];
    }
  }
}

/** A whole graphics frame as RGBA bytes. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** `width × height × 4` bytes, rows top to bottom. */
  readonly rgba: Uint8Array;
}

/** The current graphics frame of `vga`, or null outside graphics modes. */
export function renderFrame(vga: Vga): RgbaImage | null {
  const format = frameFormat(vga);
  if (format.mode !== "graphics") return null;
  const words = new Uint32Array(format.width * format.height);
  renderRows(vga.vram, format, formatPalette(vga, format), 0, format.height, words);
  return { width: format.width, height: format.height, rgba: new Uint8Array(words.buffer) };
}
