/**
 * Composes the TUI's layers into one grid per frame and writes only what
 * changed since the last frame, with the cursor hidden while drawing and
 * left where the guest's cursor is.
 *
 * @module
 */

import { CellGrid, type Rect } from "./cell_grid.ts";
import { asciiFold, type Charset } from "./charset.ts";
import type { ColorDepth } from "./colors.ts";
import { diffGrids, moveTo } from "./frame_diff.ts";
import type { StyledLine } from "./style.ts";

/** Lines painted into a rectangle; later layers cover earlier ones. */
export interface Layer {
  readonly rect: Rect;
  readonly lines: readonly StyledLine[];
}

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
const SYNC_START = "\x1b[?2026h";
const SYNC_END = "\x1b[?2026l";
/** Output larger than this is wrapped in synchronized-update marks against tearing. */
const SYNC_ABOVE = 512;

/** Keeps what the terminal shows and produces the output for the next frame. */
export class Compositor {
  #shown: CellGrid | null = null;
  #cursor: { x: number; y: number } | null = null;
  /** The last frame cleared the terminal and drew everything (first frame, resize, invalidate). */
  redrewAll = false;

  constructor(readonly depth: ColorDepth, readonly charset: Charset = "utf-8") {}

  /** Forgets what the terminal shows: the next frame is drawn in full. */
  invalidate(): void {
    this.#shown = null;
  }

  /**
   * The output that shows `layers` on a `cols` x `rows` terminal with the
   * cursor at `cursor` (or hidden); "" when nothing changed.
   */
  frame(
    cols: number,
    rows: number,
    layers: readonly Layer[],
    cursor: { x: number; y: number } | null,
  ): string {
    const grid = new CellGrid(cols, rows);
    for (const l of layers) grid.paintLines(l.lines, l.rect);
    if (this.charset === "ascii") foldToAscii(grid);
    const shown = this.#shown;
    this.redrewAll = shown === null || shown.width !== cols || shown.height !== rows;
    const diff = diffGrids(shown, grid, this.depth);
    const prev = this.#cursor;
    this.#shown = grid;
    this.#cursor = cursor;
    const cursorMoved = prev?.x !== cursor?.x || prev?.y !== cursor?.y;
    if (!diff && !cursorMoved) return "";
    let out = "";
    if (diff) out = HIDE_CURSOR + diff;
    else if (!cursor) out = HIDE_CURSOR;
    if (cursor) out += moveTo(cursor.x, cursor.y) + SHOW_CURSOR;
    return out.length > SYNC_ABOVE ? SYNC_START + out + SYNC_END : out;
  }
}

/** One ASCII look-alike per cell; a wide character's second cell becomes a blank. */
function foldToAscii(grid: CellGrid): void {
  const chars = grid.chars;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch.length === 1 && ch >= " " && ch < "\x7f") continue;
    chars[i] = ch === "" ? " " : asciiFold(ch);
  }
}
