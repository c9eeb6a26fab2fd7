/**
 * Pixels as DEC sixel images, encoded by the npm `sixel` package from
 * colours quantised here ({@link quantize}: exact for pictures of up to 256
 * colours, no dithering). The frame is scaled to the pane's pixels; an
 * update sends only the changed part, as a smaller image placed on the
 * cell grid over the old one.
 *
 * @module
 */

import { FINALIZER, introducer, sixelEncodeIndexed } from "../../deps/sixel.ts";
import {
  type PaneGeometry,
  type Placement,
  placePixels,
  type Rect,
  scaledRect,
} from "./geometry.ts";
import { quantize } from "./quantize.ts";
import { blankPane, type GraphicsRenderer, moveTo, samePane } from "./renderer.ts";
import { type RgbaImage, scaleRegion } from "./scale.ts";

/**
 * DCS introducer with P2 = 1: pixels not drawn keep what was there (the
 * raster attributes the encoder writes set the 1:1 aspect and the size).
 */
const SIXEL_START = introducer(1);

/** Encodes `rgba` (`width × height`) as a complete sixel sequence. */
export function encodeSixel(
  rgba: Uint8Array,
  width: number,
  height: number,
  maxColors = 256,
): string {
  const { indices, palette } = quantize(rgba, maxColors);
  return SIXEL_START + sixelEncodeIndexed(indices, width, height, palette) + FINALIZER;
}

/** The sixel renderer. */
export class SixelRenderer implements GraphicsRenderer {
  readonly kind = "sixel";
  #pane: PaneGeometry | null = null;
  #placement: Placement | null = null;

  /** @param maxColors palette size per image (256 for xterm, VT340s had 16) */
  constructor(readonly maxColors = 256) {}

  full(frame: RgbaImage, pane: PaneGeometry): string {
    const pl = placePixels(frame.width, frame.height, pane);
    this.#pane = pane;
    this.#placement = pl;
    return blankPane(pane) +
      this.#region(frame, { x: 0, y: 0, width: pl.width, height: pl.height });
  }

  update(frame: RgbaImage, pane: PaneGeometry, rects: readonly Rect[]): string {
    const pl = this.#placement;
    if (!pl || !samePane(pane, this.#pane)) return this.full(frame, pane);
    // Images start on a cell's corner: widen each change to whole cells.
    const align = { x: pane.cellWidth, y: pane.cellHeight };
    return rects.map((r) => this.#region(frame, scaledRect(r, frame, pl, align))).join("");
  }

  clear(): string {
    this.#pane = null;
    this.#placement = null;
    return "";
  }

  /** Scaled-image region `d` (cell-aligned) as a sixel image at its cell. */
  #region(frame: RgbaImage, d: Rect): string {
    const pl = this.#placement!;
    const pane = this.#pane!;
    if (d.width <= 0 || d.height <= 0) return "";
    const pixels = scaleRegion(frame, pl.width, pl.height, d);
    const col = pl.col + Math.floor(d.x / pane.cellWidth);
    const row = pl.row + Math.floor(d.y / pane.cellHeight);
    return moveTo(col, row) + encodeSixel(pixels, d.width, d.height, this.maxColors);
  }
}
