/**
 * Parses text with SGR escapes (what Ink writes) into styled lines, so that
 * Ink's frame can be composed with the other layers and re-coloured for the
 * terminal's depth. Escapes other than SGR are dropped.
 *
 * @module
 */

import { ATTR, type Color, DEFAULT_COLOR, rgb, type Run, type StyledLine } from "./style.ts";

interface Pen {
  fg: Color;
  bg: Color;
  attrs: number;
}

// deno-lint-ignore no-control-regex
const ESCAPE = /\x1b(?:\[([0-9;:]*)([A-Za-z])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[^[\]])/g;

/** Splits `text` at newlines into styled lines. */
export function parseAnsiLines(text: string): StyledLine[] {
  const pen: Pen = { fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs: 0 };
  return text.split("\n").map((line) => parseLine(line, pen));
}

function parseLine(line: string, pen: Pen): StyledLine {
  const runs: Run[] = [];
  const push = (text: string) => {
    if (text) runs.push({ text, fg: pen.fg, bg: pen.bg, attrs: pen.attrs });
  };
  let last = 0;
  for (const m of line.matchAll(ESCAPE)) {
    push(line.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] === "m") applySgr(pen, m[1]);
  }
  push(line.slice(last));
  return runs;
}

const SET: Record<number, number> = {
  1: ATTR.BOLD,
  2: ATTR.DIM,
  3: ATTR.ITALIC,
  4: ATTR.UNDERLINE,
  5: ATTR.BLINK,
  7: ATTR.INVERSE,
};
const UNSET: Record<number, number> = {
  22: ATTR.BOLD | ATTR.DIM,
  23: ATTR.ITALIC,
  24: ATTR.UNDERLINE,
  25: ATTR.BLINK,
  27: ATTR.INVERSE,
};

/** Applies SGR parameters `params` ("1;38;5;3") to `pen`. */
function applySgr(pen: Pen, params: string): void {
  const p = params === "" ? [0] : params.split(/[;:]/).map((s) => Number(s) || 0);
  for (let i = 0; i < p.length; i++) {
    const n = p[i];
    if (n === 0) {
      pen.fg = DEFAULT_COLOR;
      pen.bg = DEFAULT_COLOR;
      pen.attrs = 0;
    } else if (SET[n]) pen.attrs |= SET[n];
    else if (UNSET[n]) pen.attrs &= ~UNSET[n];
    else if (n >= 30 && n <= 37) pen.fg = n - 30;
    else if (n >= 90 && n <= 97) pen.fg = n - 90 + 8;
    else if (n >= 40 && n <= 47) pen.bg = n - 40;
    else if (n >= 100 && n <= 107) pen.bg = n - 100 + 8;
    else if (n === 39) pen.fg = DEFAULT_COLOR;
    else if (n === 49) pen.bg = DEFAULT_COLOR;
    else if (n === 38 || n === 48) {
      let c: Color = DEFAULT_COLOR;
      if (p[i + 1] === 5) {
        c = p[i + 2] & 255;
        i += 2;
      } else if (p[i + 1] === 2) {
        c = rgb((p[i + 2] << 16) | (p[i + 3] << 8) | p[i + 4]);
        i += 4;
      }
      if (n === 38) pen.fg = c;
      else pen.bg = c;
    }
  }
}
