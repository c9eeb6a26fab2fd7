/**
 * A terminal-sized grid of styled cells: what the TUI wants on the screen.
 * Layers are painted into it (Ink's frame, the guest screen, the serial
 * console) and {@link diffGrids} turns two grids into terminal output.
 *
 * @module
 */

import { charWidth } from "./char_width.ts";
import { type Color, DEFAULT_COLOR, type StyledLine } from "./style.ts";

/** A rectangle in terminal cells. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Cells in row-major typed arrays; a wide character's second cell holds "". */
export class CellGrid {
  chars: string[];
  fg: Int32Array;
  bg: Int32Array;
  attrs: Uint8Array;

  constructor(readonly width: number, readonly height: number) {
    const n = width * height;
    this.chars = new Array<string>(n).fill(" ");
    this.fg = new Int32Array(n).fill(DEFAULT_COLOR);
    this.bg = new Int32Array(n).fill(DEFAULT_COLOR);
    this.attrs = new Uint8Array(n);
  }

  /** Sets one cell; ignored outside the grid. */
  set(x: number, y: number, ch: string, fg: Color, bg: Color, attrs: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = y * this.width + x;
    this.chars[i] = ch;
    this.fg[i] = fg;
    this.bg[i] = bg;
    this.attrs[i] = attrs;
  }

  /** Blanks a rectangle in the default style. */
  clear(rect: Rect): void {
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) {
        this.set(x, y, " ", DEFAULT_COLOR, DEFAULT_COLOR, 0);
      }
    }
  }

  /** Paints lines into `rect`, clipped to it; cells the lines do not reach are blanked. */
  paintLines(lines: readonly StyledLine[], rect: Rect): void {
    for (let row = 0; row < rect.height; row++) {
      const y = rect.y + row;
      if (y < 0 || y >= this.height) continue;
      let col = 0;
      const line = lines[row];
      if (line) {
        for (const run of line) {
          for (const ch of run.text) {
            const w = ch.length === 1 && ch < "\u1100" ? 1 : charWidth(ch);
            if (col + w > rect.width) break;
            this.set(rect.x + col, y, ch, run.fg, run.bg, run.attrs);
            if (w === 2) this.set(rect.x + col + 1, y, "", run.fg, run.bg, run.attrs);
            col += w;
          }
        }
      }
      for (; col < rect.width; col++) {
        this.set(rect.x + col, y, " ", DEFAULT_COLOR, DEFAULT_COLOR, 0);
      }
    }
  }

  /** Copies the cells of `rect` from `src` (a grid of the same size). */
  copyRect(src: CellGrid, rect: Rect): void {
    for (let y = Math.max(0, rect.y); y < Math.min(this.height, rect.y + rect.height); y++) {
      const from = y * this.width + Math.max(0, rect.x);
      const to = y * this.width + Math.min(this.width, rect.x + rect.width);
      for (let i = from; i < to; i++) this.chars[i] = src.chars[i];
      this.fg.set(src.fg.subarray(from, to), from);
      this.bg.set(src.bg.subarray(from, to), from);
      this.attrs.set(src.attrs.subarray(from, to), from);
    }
  }

  /** An independent copy. */
  clone(): CellGrid {
    const g = new CellGrid(this.width, this.height);
    g.chars = this.chars.slice();
    g.fg.set(this.fg);
    g.bg.set(this.bg);
    g.attrs.set(this.attrs);
    return g;
  }

  /** Row `y`'s characters, for tests and debugging. */
  rowText(y: number): string {
    return this.chars.slice(y * this.width, (y + 1) * this.width).join("");
  }
}
