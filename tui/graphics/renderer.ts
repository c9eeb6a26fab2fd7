/**
 * What every graphics renderer provides: terminal output (with its own
 * cursor positioning) that draws the frame into the pane, or redraws the
 * parts of it that show changed source rects. Renderers are pure: they
 * return strings and never write.
 *
 * @module
 */

import type { PaneGeometry, Rect } from "./geometry.ts";
import type { RgbaImage } from "./scale.ts";

/** The protocols. */
export type RendererKind = "sixel" | "kitty" | "blocks";

/** A way of putting pixels on the terminal. */
export interface GraphicsRenderer {
  readonly kind: RendererKind;
  /** Draws all of `frame` into `pane` (clearing what the previous picture left). */
  full(frame: RgbaImage, pane: PaneGeometry): string;
  /**
   * Redraws what shows the source `rects` of `frame`; the pane and the
   * frame's size must be those of the last {@link full} (else call that).
   */
  update(frame: RgbaImage, pane: PaneGeometry, rects: readonly Rect[]): string;
  /** Takes down what text output cannot cover (kitty images); "" when nothing is shown. */
  clear(): string;
}

/** CSI CUP to a zero-based column and row. */
export function moveTo(col: number, row: number): string {
  return `\x1b[${row + 1};${col + 1}H`;
}

/** Blank cells over the pane (default colours), so nothing of an older picture stays. */
export function blankPane(pane: PaneGeometry): string {
  let out = "\x1b[0m";
  const spaces = " ".repeat(pane.cols);
  for (let r = 0; r < pane.rows; r++) out += moveTo(pane.x, pane.y + r) + spaces;
  return out;
}

/** Two panes at the same place with the same size and cells. */
export function samePane(a: PaneGeometry | null, b: PaneGeometry | null): boolean {
  return !!a && !!b && a.x === b.x && a.y === b.y && a.cols === b.cols && a.rows === b.rows &&
    a.cellWidth === b.cellWidth && a.cellHeight === b.cellHeight;
}
