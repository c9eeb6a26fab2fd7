/**
 * The guest's graphics frame as the console keeps it: a full RGBA copy,
 * kept current by applying the updates `Machine.frame()` returns, so that
 * the pane can be redrawn (after a resize, an overlay, a full repaint of
 * the console) without asking the guest side again.
 *
 * @module
 */

import type { FrameUpdate } from "../../devices/vga/frame_tracker.ts";
import type { Rect } from "./geometry.ts";
import type { RgbaImage } from "./scale.ts";

/** What an update changed. */
export interface FrameChange {
  /** The picture is new (first frame, other size or format): redraw everything. */
  readonly full: boolean;
  /** Changed source rects (empty when nothing changed or when `full`). */
  readonly rects: Rect[];
  /** True when the display is in a graphics mode. */
  readonly graphics: boolean;
}

/** A full copy of the guest's frame. */
export class HostFrame implements RgbaImage {
  width = 0;
  height = 0;
  rgba: Uint8Array = new Uint8Array(0);
  /** "VBE 1024×768 32 bpp", "VGA 320×200 256 colours", "text", "off". */
  label = "off";
  /** True while the guest shows graphics. */
  graphics = false;

  /** Applies `update`; says what to redraw. */
  apply(update: FrameUpdate): FrameChange {
    this.label = update.label;
    this.graphics = update.format.mode === "graphics";
    if (!this.graphics) return { full: update.full, rects: [], graphics: false };
    const { width, height } = update.format;
    let full = update.full;
    if (width !== this.width || height !== this.height) {
      this.width = width;
      this.height = height;
      this.rgba = new Uint8Array(width * height * 4);
      full = true;
    }
    const rects: Rect[] = [];
    for (const r of update.rects) {
      for (let y = 0; y < r.height; y++) {
        const from = y * r.width * 4;
        this.rgba.set(r.rgba.subarray(from, from + r.width * 4), ((r.y + y) * width + r.x) * 4);
      }
      rects.push({ x: r.x, y: r.y, width: r.width, height: r.height });
    }
    return { full, rects: full ? [] : rects, graphics: true };
  }
}
