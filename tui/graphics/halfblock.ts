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
import { blankPane, type GraphicsRenderer, samePane } from "./renderer.ts";
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
    const px = new Uint32Array(scaleRegion(frame, pl.width, pl.height, d).buffer);
    const upper = this.#upper;
    const lower = this.#lower;
    const truecolor = this.colours === "truecolor";
    let out = "";
    let fg = -1;
    let bg = -1;
    for (let y = 0; y < d.height; y += 2) {
      const row = (d.y + y) >> 1;
      const hasLower = y + 1 < d.height && d.y + y + 1 < pl.height;
      let cursorAt = -1;
      for (let x = 0; x < d.width; x++) {
        const col = d.x + x;
        const cell = row * pl.cols + col;
        const a = px[y * d.width + x];
        // Pixel words are little-endian R, G, B, A: as 0xRRGGBB.
        const up = ((a & 0xff) << 16) | (a & 0xff00) | ((a >> 16) & 0xff);
        const b = hasLower ? px[(y + 1) * d.width + x] : 0;
        const down = hasLower ? ((b & 0xff) << 16) | (b & 0xff00) | ((b >> 16) & 0xff) : 0;
        if (upper[cell] === up && lower[cell] === down) continue;
        upper[cell] = up;
        lower[cell] = down;
        if (cursorAt !== col) out += `\x1b[${pl.row + row + 1};${pl.col + col + 1}H`;
        if (up !== fg || down !== bg) {
          out += truecolor
            ? sgrTrue(up, down, up !== fg, down !== bg)
            : sgr256(up, down, up !== fg, down !== bg);
          fg = up;
          bg = down;
        }
        out += UPPER_HALF;
        cursorAt = col + 1;
      }
    }
    return out;
  }
}

function sgrTrue(up: number, down: number, setFg: boolean, setBg: boolean): string {
  const f = `38;2;${up >> 16};${(up >> 8) & 0xff};${up & 0xff}`;
  const b = `48;2;${down >> 16};${(down >> 8) & 0xff};${down & 0xff}`;
  return setFg && setBg ? `\x1b[${f};${b}m` : setFg ? `\x1b[${f}m` : `\x1b[${b}m`;
}

function sgr256(up: number, down: number, setFg: boolean, setBg: boolean): string {
  const f = `38;5;${nearest256(up)}`;
  const b = `48;5;${nearest256(down)}`;
  return setFg && setBg ? `\x1b[${f};${b}m` : setFg ? `\x1b[${f}m` : `\x1b[${b}m`;
}
