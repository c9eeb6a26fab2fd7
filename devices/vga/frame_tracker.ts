/**
 * Follows a VGA's graphics frame and reports what changed since the last
 * look, as RGBA rectangles: the whole frame after a mode, layout or palette
 * change, otherwise only the bounding boxes of pixels that differ.
 *
 * Rows are only converted when video RAM under them may have changed:
 * pages the guest wrote through the linear framebuffer (KVM's dirty log,
 * passed to {@link FrameTracker.update}), writes through the legacy window
 * (reported by the window itself), and memory the DISPI cleared. Converted
 * rows are compared with a shadow copy, so the rectangles are tight.
 *
 * @module
 */

import type { AccessSize } from "../types.ts";
import {
  formatPalette,
  type FrameFormat,
  frameFormat,
  frameLabel,
  renderRows,
  sameFormat,
} from "./graphics_render.ts";
import { anyMarked, markBytes, PAGE_SIZE, pageBitmap } from "./page_bitmap.ts";
import { ShadowDiff } from "./shadow_diff.ts";
import type { Vga } from "./vga.ts";

/** A changed rectangle of the frame, with its pixels. */
export interface FrameRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** `width × height × 4` bytes of RGBA. */
  readonly rgba: Uint8Array;
}

/** What changed since the previous update. */
export interface FrameUpdate {
  /** The current format; outside graphics modes there are no rects. */
  readonly format: FrameFormat;
  /** For headers: "VBE 1024×768 32 bpp", "text". */
  readonly label: string;
  /** The rects replace the whole frame (first frame, or format or palette change). */
  readonly full: boolean;
  /** Changed regions, top to bottom; empty when nothing changed. */
  readonly rects: FrameRect[];
}

/** Tracks one VGA's frame. Attach at most one tracker to a VGA. */
export class FrameTracker {
  readonly #vga: Vga;
  readonly #pages: number;
  /** Pages of video RAM written by the host side since the last update. */
  readonly #dirty: Uint8Array;
  #format: FrameFormat | null = null;
  #palette: Uint32Array = new Uint32Array(0);
  #shadow = new Uint32Array(0);
  #row = new Uint32Array(0);
  #forceFull = true;

  /** @param vga the VGA whose window and DISPI writes are watched from now on */
  constructor(vga: Vga) {
    this.#vga = vga;
    this.#pages = Math.ceil(vga.vram.length / PAGE_SIZE);
    this.#dirty = pageBitmap(vga.vram.length);
    vga.window.onBankedWrite = (start, end) => this.markDirty(start, end);
    vga.window.onPlanarWrite = (offset, size) => this.#planarWrite(offset, size);
    vga.dispi.onClear = (start, end) => this.markDirty(start, end);
    vga.onVramWrite = (start, end) => this.markDirty(start, end);
  }

  /** Bytes of the dirty bitmaps {@link update} takes (see page_bitmap.ts). */
  get bitmapBytes(): number {
    return this.#dirty.length;
  }

  /** Notes that video RAM bytes `[start, end)` may have changed. */
  markDirty(start: number, end: number): void {
    markBytes(this.#dirty, this.#pages, start, end);
  }

  /** Makes the next update a full frame (e.g. for a new viewer). */
  invalidate(): void {
    this.#forceFull = true;
  }

  #planarWrite(offset: number, size: AccessSize): void {
    // The window offset within the selected memory map, then the plane
    // offsets any addressing mode could reach (chain-4 and odd/even clear
    // low bits), as interleaved video RAM bytes.
    const map = this.#vga.gc.memoryMap;
    const a = map === 2 ? offset - 0x10000 : map === 3 ? offset - 0x18000 : offset;
    if (a < 0) return;
    const lo = (a & ~3) & 0xffff;
    const hi = Math.min(0xffff, lo + size + 3);
    this.markDirty(lo * 4, hi * 4 + 4);
  }

  /**
   * What changed since the previous call.
   * @param guestDirty pages of video RAM the guest wrote (KVM's dirty log,
   *   {@link bitmapBytes} long), or null when unknown (every row is checked)
   */
  update(guestDirty: Uint8Array | null): FrameUpdate {
    const vga = this.#vga;
    const format = frameFormat(vga);
    const label = frameLabel(format);
    const dirty = this.#dirty;
    if (guestDirty) { for (let i = 0; i < dirty.length; i++) dirty[i] |= guestDirty[i]; }
    const allRows = guestDirty === null;
    if (format.mode !== "graphics") {
      const full = this.#format === null || !sameFormat(format, this.#format);
      this.#format = format;
      this.#forceFull = true;
      dirty.fill(0);
      return { format, label, full, rects: [] };
    }
    const palette = formatPalette(vga, format);
    const full = this.#forceFull || this.#format === null || !sameFormat(format, this.#format) ||
      !samePalette(palette, this.#palette);
    this.#format = format;
    this.#palette = palette;
    this.#forceFull = false;
    const { width, height } = format;
    if (full) {
      if (this.#shadow.length !== width * height) this.#shadow = new Uint32Array(width * height);
      renderRows(vga.vram, format, palette, 0, height, this.#shadow);
      dirty.fill(0);
      const rgba = new Uint8Array(this.#shadow.buffer.slice(0));
      return { format, label, full: true, rects: [{ x: 0, y: 0, width, height, rgba }] };
    }
    if (this.#row.length !== width) this.#row = new Uint32Array(width);
    const rects = this.#diffRows(format, palette, allRows);
    dirty.fill(0);
    return { format, label, full: false, rects };
  }

  #diffRows(format: FrameFormat, palette: Uint32Array, allRows: boolean): FrameRect[] {
    const { width, height } = format;
    const row = this.#row;
    const diff = new ShadowDiff(this.#shadow, width);
    for (let y = 0; y < height; y++) {
      if (!allRows && !this.#rowMayHaveChanged(format, y)) continue;
      renderRows(this.#vga.vram, format, palette, y, y + 1, row);
      diff.row(row, y, 0, width);
    }
    return diff.rects();
  }

  /** Whether a dirty page lies under display row `y`. */
  #rowMayHaveChanged(f: FrameFormat, y: number): boolean {
    let lo: number;
    let hi: number;
    if (f.source === "vbe") {
      lo = f.start + y * f.stride;
      hi = lo + Math.ceil((f.width * (f.bpp === 15 ? 16 : f.bpp)) / 8) - 1;
    } else {
      const perUnit = f.bpp === 8 ? 4 : 8;
      const units = Math.ceil(f.width / perUnit);
      const first = f.start + y * f.stride;
      const a = ((first << f.addressShift) & 0xffff) * 4;
      const b = (((first + units - 1) << f.addressShift) & 0xffff) * 4 + 3;
      if (b < a) return true; // wraps around the planes
      lo = a;
      hi = b;
    }
    return anyMarked(this.#dirty, this.#pages, lo, hi + 1);
  }
}

function samePalette(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
