/**
 * The guest's VGA screen as styled lines: a pure function of the screen
 * model, the size of the pane and where the previous view was, so that a
 * pane smaller than the screen shows a cropped view that follows the cursor.
 *
 * @module
 */

import { cp437ToUnicode } from "../devices/vga/cp437.ts";
import type { ScreenState } from "../devices/vga/screen.ts";
import { ATTR, DEFAULT_COLOR, plainRun, rgb, type Run, type StyledLine } from "./style.ts";

/** The top-left screen cell a pane shows. */
export interface ScreenView {
  readonly top: number;
  readonly left: number;
}

/** What the screen pane shows. */
export interface ScreenFrame {
  /** Exactly `height` lines of at most `width` cells. */
  readonly lines: StyledLine[];
  readonly view: ScreenView;
  /** True when the pane shows only part of the screen. */
  readonly cropped: boolean;
  /** The guest's cursor in pane coordinates, or null when hidden or out of view. */
  readonly cursor: { readonly row: number; readonly col: number } | null;
  /** "80x25 text", "640x480 graphics", "off". */
  readonly mode: string;
}

/** The pane's size in cells. */
export interface PaneSize {
  readonly width: number;
  readonly height: number;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/** Moves `start` as little as possible so that `pos` is inside [start, start + size). */
function follow(start: number, pos: number, size: number, total: number): number {
  if (size >= total) return 0;
  let s = start;
  if (pos < s) s = pos;
  else if (pos >= s + size) s = pos - size + 1;
  return clamp(s, 0, total - size);
}

/** The screen's mode in words. */
export function describeMode(screen: ScreenState): string {
  if (screen.mode === "text") return `${screen.cols}x${screen.rows} text`;
  if (screen.mode === "graphics") return `${screen.width}x${screen.height} graphics`;
  return "off";
}

/**
 * Renders `screen` into a pane of `size`: CP437 glyphs, the 16 colours of the
 * screen's palette, bright backgrounds or blinking per the attribute
 * controller. Graphics modes and a blanked display get a centred notice.
 */
export function renderScreen(screen: ScreenState, size: PaneSize, prev: ScreenView): ScreenFrame {
  const mode = describeMode(screen);
  if (screen.mode !== "text" || screen.cols === 0 || screen.rows === 0) {
    const notice = screen.mode === "graphics"
      ? [`Graphics mode ${screen.width}x${screen.height}`, "(pixels are not shown yet)"]
      : ["Display off"];
    return {
      lines: centred(notice, size),
      view: { top: 0, left: 0 },
      cropped: false,
      cursor: null,
      mode,
    };
  }
  const { cols, rows, cells, palette } = screen;
  const cur = screen.cursor;
  const cursorIn = cur.row < rows && cur.col < cols;
  const top = cursorIn
    ? follow(prev.top, cur.row, size.height, rows)
    : clamp(prev.top, 0, Math.max(0, rows - size.height));
  const left = cursorIn
    ? follow(prev.left, cur.col, size.width, cols)
    : clamp(prev.left, 0, Math.max(0, cols - size.width));
  const w = Math.min(size.width, cols);
  const h = Math.min(size.height, rows);
  const bgMask = screen.blinkEnabled ? 7 : 15;
  const lines: StyledLine[] = [];
  for (let r = 0; r < size.height; r++) {
    if (r >= h) {
      lines.push([]);
      continue;
    }
    const runs: Run[] = [];
    let text = "";
    let runAttr = -1;
    const base = (top + r) * cols + left;
    for (let c = 0; c < w; c++) {
      const cell = cells[base + c];
      const attr = cell >> 8;
      if (attr !== runAttr) {
        if (text) runs.push(styleRun(text, runAttr, palette, bgMask, screen.blinkEnabled));
        text = "";
        runAttr = attr;
      }
      text += cp437ToUnicode(cell & 0xff);
    }
    if (text) runs.push(styleRun(text, runAttr, palette, bgMask, screen.blinkEnabled));
    lines.push(runs);
  }
  const visible = cur.visible && cursorIn && cur.row >= top && cur.row < top + h &&
    cur.col >= left && cur.col < left + w;
  return {
    lines,
    view: { top, left },
    cropped: w < cols || h < rows,
    cursor: visible ? { row: cur.row - top, col: cur.col - left } : null,
    mode,
  };
}

function styleRun(
  text: string,
  attr: number,
  palette: readonly number[],
  bgMask: number,
  blinkEnabled: boolean,
): Run {
  return {
    text,
    fg: rgb(palette[attr & 15] ?? 0xaaaaaa),
    bg: rgb(palette[(attr >> 4) & bgMask] ?? 0),
    attrs: blinkEnabled && attr & 0x80 ? ATTR.BLINK : 0,
  };
}

function centred(notice: string[], size: PaneSize): StyledLine[] {
  const lines: StyledLine[] = [];
  const first = Math.max(0, Math.floor((size.height - notice.length) / 2));
  for (let r = 0; r < size.height; r++) {
    const text = notice[r - first];
    if (text === undefined) lines.push([]);
    else {
      const pad = Math.max(0, Math.floor((size.width - text.length) / 2));
      lines.push([{ ...plainRun(" ".repeat(pad) + text, ATTR.BOLD), fg: DEFAULT_COLOR }]);
    }
  }
  return lines;
}
