/**
 * Pixels as half-block characters: each cell shows two pixels, the upper
 * as the foreground of `▀` and the lower as its background, in 24-bit
 * colour (or the nearest of the 256 xterm colours). Works on any terminal
 * and over any link; updates rewrite only the cells whose colours changed.
 *
 * @module
 */

import { nearest256 } from "../colors.ts";
import {
  type PaneGeometry,
  placeHalfBlocks,
  type Placement,
  type Rect,
  scaledRect,
} from "./geometry.ts";
import { blankPane, type GraphicsRenderer, moveTo, samePane } from "./renderer.ts";
import { type RgbaImage, scaleRegion } from "./scale.ts";

/** Colours the renderer may use. */
export type BlockColours = "truecolor" | "256";

const UPPER_HALF = "▀";

/** The half-block renderer. */
export class HalfBlockRenderer implements GraphicsRenderer {
  readonly kind = "blocks";
  #pane: PaneGeometry | null = null;
  #placement: Placement | null = null;
  /** What each cell of the placement shows now: upper and lower colours (0xRRGGBB). */
  #upper = new Int32Array(0);
  #lower = new Int32Array(0);

  /** @param colours 24-bit SGR colours, or the nearest of the 256 */
  constructor(readonly colours: BlockColours = "truecolor") {}

  full(frame: RgbaImage, pane: PaneGeometry): string {
    const pl = placeHalfBlocks(frame.width, frame.height, pane);
    this.#pane = pane;
    this.#placement = pl;
    this.#upper = new Int32Array(pl.cols * pl.rows).fill(-1);
    this.#lower = new Int32Array(pl.cols * pl.rows).fill(-1);
    const all = { x: 0, y: 0, width: pl.width, height: pl.height };
    return blankPane(pane) + this.#cells(frame, all) + "\x1b[0m";
  }

  update(frame: RgbaImage, pane: PaneGeometry, rects: readonly Rect[]): string {
    const pl = this.#placement;
    if (!pl || !samePane(pane, this.#pane)) return this.full(frame, pane);
    let out = "";
    for (const r of rects) {
      out += this.#cells(frame, scaledRect(r, frame, pl, { x: 1, y: 2 }));
    }
    return out ? out + "\x1b[0m" : "";
  }

  clear(): string {
    this.#pane = null;
    this.#placement = null;
    return "";
  }

  /** The cells covering scaled-image region `d` (rows aligned to cell pairs), changed ones only. */
  #cells(frame: RgbaImage, d: Rect): string {
    const pl = this.#placement!;
    if (d.width <= 0 || d.height <= 0) return "";
    const px = scaleRegion(frame, pl.width, pl.height, d);
    const colour = (x: number, y: number) => {
      if (y >= d.height) return 0;
      const i = (y * d.width + x) * 4;
      return (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
    };
    const parts: string[] = [];
    let fg = -1;
    let bg = -1;
    for (let y = 0; y < d.height; y += 2) {
      const row = (d.y + y) >> 1;
      let cursorAt = -1;
      for (let x = 0; x < d.width; x++) {
        const col = d.x + x;
        const cell = row * pl.cols + col;
        const up = colour(x, y);
        const down = d.y + y + 1 < pl.height ? colour(x, y + 1) : 0;
        if (this.#upper[cell] === up && this.#lower[cell] === down) continue;
        this.#upper[cell] = up;
        this.#lower[cell] = down;
        if (cursorAt !== col) parts.push(moveTo(pl.col + col, pl.row + row));
        if (up !== fg || down !== bg) {
          parts.push(this.#sgr(up, down, up !== fg, down !== bg));
          fg = up;
          bg = down;
        }
        parts.push(UPPER_HALF);
        cursorAt = col + 1;
      }
    }
    return parts.join("");
  }

  #sgr(up: number, down: number, setFg: boolean, setBg: boolean): string {
    const p: string[] = [];
    if (this.colours === "truecolor") {
      if (setFg) p.push(`38;2;${up >> 16};${(up >> 8) & 0xff};${up & 0xff}`);
      if (setBg) p.push(`48;2;${down >> 16};${(down >> 8) & 0xff};${down & 0xff}`);
    } else {
      if (setFg) p.push(`38;5;${nearest256(up)}`);
      if (setBg) p.push(`48;5;${nearest256(down)}`);
    }
    return `\x1b[${p.join(";")}m`;
  }
}
