/**
 * Turns the difference between what the terminal shows and what it should
 * show into output: cursor-addressed writes of the changed cells only, with
 * SGR changes only where the style changes.
 *
 * @module
 */

import type { CellGrid } from "./cell_grid.ts";
import { type ColorDepth, sgr } from "./colors.ts";
import { DEFAULT_COLOR } from "./style.ts";

/** CSI CUP: moves the cursor to (x, y), zero-based. */
export function moveTo(x: number, y: number): string {
  return `\x1b[${y + 1};${x + 1}H`;
}

function sameCell(a: CellGrid, b: CellGrid, i: number): boolean {
  return a.chars[i] === b.chars[i] && a.fg[i] === b.fg[i] && a.bg[i] === b.bg[i] &&
    a.attrs[i] === b.attrs[i];
}

/**
 * Output that turns a terminal showing `prev` into one showing `next`
 * (cleared and fully drawn when `prev` is null or another size). The cursor
 * is left wherever the last write put it; the pen is reset when anything
 * was written.
 */
export function diffGrids(prev: CellGrid | null, next: CellGrid, depth: ColorDepth): string {
  const full = prev === null || prev.width !== next.width || prev.height !== next.height;
  const parts: string[] = full ? ["\x1b[0m\x1b[2J"] : [];
  let penFg = DEFAULT_COLOR;
  let penBg = DEFAULT_COLOR;
  let penAttrs = 0;
  let penKnown = full;
  let cx = -1;
  let cy = -1;
  const w = next.width;
  for (let y = 0; y < next.height; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const ch = next.chars[i];
      if (ch === "") continue;
      const wide = x + 1 < w && next.chars[i + 1] === "";
      if (full) {
        if (
          ch === " " && next.fg[i] === DEFAULT_COLOR && next.bg[i] === DEFAULT_COLOR &&
          !next.attrs[i]
        ) continue;
      } else if (sameCell(prev!, next, i) && !(wide && !sameCell(prev!, next, i + 1))) continue;
      if (cx !== x || cy !== y) parts.push(moveTo(x, y));
      const fg = next.fg[i], bg = next.bg[i], attrs = next.attrs[i];
      if (!penKnown || fg !== penFg || bg !== penBg || attrs !== penAttrs) {
        parts.push(sgr(fg, bg, attrs, depth));
        penFg = fg;
        penBg = bg;
        penAttrs = attrs;
        penKnown = true;
      }
      parts.push(ch);
      cx = x + (wide ? 2 : 1);
      cy = y;
    }
  }
  if (parts.length && (penFg !== DEFAULT_COLOR || penBg !== DEFAULT_COLOR || penAttrs)) {
    parts.push("\x1b[0m");
  }
  return parts.join("");
}
