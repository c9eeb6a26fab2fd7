/**
 * The serial console's lines as styled text: a pure function over a
 * terminal buffer (xterm's, or anything shaped like it) and a window of
 * lines into it.
 *
 * @module
 */

import { ATTR, type Color, DEFAULT_COLOR, rgb, type Run, type StyledLine } from "./style.ts";

/** The part of an xterm buffer cell the renderer reads. */
export interface CellLike {
  getChars(): string;
  getWidth(): number;
  getFgColor(): number;
  getBgColor(): number;
  isFgRGB(): boolean;
  isBgRGB(): boolean;
  isFgDefault(): boolean;
  isBgDefault(): boolean;
  isBold(): number;
  isDim(): number;
  isItalic(): number;
  isUnderline(): number;
  isBlink(): number;
  isInverse(): number;
  isInvisible(): number;
}

/** The part of an xterm buffer line the renderer reads. */
export interface LineLike {
  readonly length: number;
  getCell(x: number, cell?: CellLike): CellLike | undefined;
}

/** The part of an xterm buffer the renderer reads. */
export interface BufferLike {
  readonly length: number;
  getLine(y: number): LineLike | undefined;
  getNullCell(): CellLike;
}

function color(isDefault: boolean, isRgb: boolean, value: number): Color {
  if (isDefault) return DEFAULT_COLOR;
  return isRgb ? rgb(value) : value & 255;
}

function attrsOf(c: CellLike): number {
  return (c.isBold() ? ATTR.BOLD : 0) | (c.isDim() ? ATTR.DIM : 0) |
    (c.isItalic() ? ATTR.ITALIC : 0) | (c.isUnderline() ? ATTR.UNDERLINE : 0) |
    (c.isBlink() ? ATTR.BLINK : 0) | (c.isInverse() ? ATTR.INVERSE : 0);
}

/** Lines `first .. first + height - 1` of `buffer`, each at most `width` cells. */
export function renderSerialLines(
  buffer: BufferLike,
  first: number,
  height: number,
  width: number,
): StyledLine[] {
  const lines: StyledLine[] = [];
  const cell = buffer.getNullCell();
  for (let y = first; y < first + height; y++) {
    const line = y >= 0 ? buffer.getLine(y) : undefined;
    const runs: Run[] = [];
    if (line) {
      let text = "";
      let fg = DEFAULT_COLOR, bg = DEFAULT_COLOR, attrs = 0;
      const end = Math.min(width, line.length);
      for (let x = 0; x < end; x++) {
        const c = line.getCell(x, cell);
        if (!c || c.getWidth() === 0) continue;
        const cfg = color(c.isFgDefault(), c.isFgRGB(), c.getFgColor());
        const cbg = color(c.isBgDefault(), c.isBgRGB(), c.getBgColor());
        const ca = attrsOf(c);
        if (cfg !== fg || cbg !== bg || ca !== attrs) {
          if (text) runs.push({ text, fg, bg, attrs });
          text = "";
          fg = cfg;
          bg = cbg;
          attrs = ca;
        }
        text += c.isInvisible() ? " " : (c.getChars() || " ");
      }
      if (text) runs.push({ text: trimDefaultTail(text, fg, bg, attrs), fg, bg, attrs });
    }
    lines.push(runs.filter((r) => r.text !== ""));
  }
  return lines;
}

/** Trailing blanks in the default style add nothing to a line. */
function trimDefaultTail(text: string, fg: Color, bg: Color, attrs: number): string {
  return fg === DEFAULT_COLOR && bg === DEFAULT_COLOR && attrs === 0 ? text.trimEnd() : text;
}
