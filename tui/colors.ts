/**
 * Colour depth of the user's terminal and the mapping of colours onto it:
 * 24-bit where COLORTERM says so, else the nearest of the 256 or 16 colours,
 * and none at all when NO_COLOR is set.
 *
 * @module
 */

import { ATTR, type Color, DEFAULT_COLOR, isRgb } from "./style.ts";

/** How many colours the terminal shows. */
export type ColorDepth = "truecolor" | "256" | "16" | "none";

/** The colour depth the environment asks for (NO_COLOR, COLORTERM, TERM). */
export function detectColorDepth(env: Readonly<Record<string, string | undefined>>): ColorDepth {
  if (env.NO_COLOR) return "none";
  const colorterm = (env.COLORTERM ?? "").toLowerCase();
  if (colorterm === "truecolor" || colorterm === "24bit") return "truecolor";
  const term = (env.TERM ?? "").toLowerCase();
  if (term === "dumb") return "none";
  if (term.includes("256color") || term.includes("direct")) return "256";
  return "16";
}

/**
 * The 16 ANSI colours (in ANSI order: black, red, green, yellow, blue,
 * magenta, cyan, white, then bright) as the VGA shows them, so that the
 * VGA's default palette maps onto them exactly.
 */
const ANSI16: readonly number[] = [
  0x000000,
  0xaa0000,
  0x00aa00,
  0xaa5500,
  0x0000aa,
  0xaa00aa,
  0x00aaaa,
  0xaaaaaa,
  0x555555,
  0xff5555,
  0x55ff55,
  0xffff55,
  0x5555ff,
  0xff55ff,
  0x55ffff,
  0xffffff,
];

const CUBE = [0, 95, 135, 175, 215, 255];

/** The xterm palette entry `index` as 0xRRGGBB (0..15 as the VGA colours). */
export function paletteRgb(index: number): number {
  if (index < 16) return ANSI16[index];
  if (index < 232) {
    const i = index - 16;
    return (CUBE[Math.floor(i / 36)] << 16) | (CUBE[Math.floor(i / 6) % 6] << 8) | CUBE[i % 6];
  }
  const v = 8 + (index - 232) * 10;
  return (v << 16) | (v << 8) | v;
}

function distance(a: number, b: number): number {
  const dr = ((a >> 16) & 255) - ((b >> 16) & 255);
  const dg = ((a >> 8) & 255) - ((b >> 8) & 255);
  const db = (a & 255) - (b & 255);
  // Weighted for the eye's sensitivity, cheaply.
  return 2 * dr * dr + 4 * dg * dg + 3 * db * db;
}

function nearest(value: number, from: number, to: number): number {
  let best = from;
  let bestDistance = Infinity;
  for (let i = from; i < to; i++) {
    const d = distance(value, paletteRgb(i));
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

const cache256 = new Map<number, number>();
const cache16 = new Map<number, number>();

/** The nearest of the 240 fixed xterm colours (16..255: the cube and greys; 0..15 vary by theme). */
export function nearest256(value: number): number {
  let hit = cache256.get(value);
  if (hit === undefined) cache256.set(value, hit = nearest(value, 16, 256));
  return hit;
}

/** The nearest of the 16 ANSI colours. */
export function nearest16(value: number): number {
  let hit = cache16.get(value);
  if (hit === undefined) cache16.set(value, hit = nearest(value, 0, 16));
  return hit;
}

/** SGR parameters that select colour `c` at `depth` as foreground or background. */
export function colorParams(c: Color, depth: ColorDepth, background: boolean): string {
  if (c === DEFAULT_COLOR || depth === "none") return background ? "49" : "39";
  const base = background ? 48 : 38;
  if (isRgb(c)) {
    const v = c & 0xffffff;
    if (depth === "truecolor") return `${base};2;${v >> 16};${(v >> 8) & 255};${v & 255}`;
    if (depth === "256") return `${base};5;${nearest256(v)}`;
    return ansi16Params(nearest16(v), background);
  }
  if (c < 16) return ansi16Params(c, background);
  if (depth === "16") return ansi16Params(nearest16(paletteRgb(c)), background);
  return `${base};5;${c}`;
}

function ansi16Params(index: number, background: boolean): string {
  const bright = index >= 8;
  return String((background ? 40 : 30) + (bright ? 60 : 0) + (index & 7));
}

const ATTR_PARAMS: readonly [number, string][] = [
  [ATTR.BOLD, "1"],
  [ATTR.DIM, "2"],
  [ATTR.ITALIC, "3"],
  [ATTR.UNDERLINE, "4"],
  [ATTR.BLINK, "5"],
  [ATTR.INVERSE, "7"],
];

/** A complete SGR sequence (starting from a reset) for one style. */
export function sgr(fg: Color, bg: Color, attrs: number, depth: ColorDepth): string {
  let s = "\x1b[0";
  for (const [bit, p] of ATTR_PARAMS) if (attrs & bit) s += ";" + p;
  if (fg !== DEFAULT_COLOR && depth !== "none") s += ";" + colorParams(fg, depth, false);
  if (bg !== DEFAULT_COLOR && depth !== "none") s += ";" + colorParams(bg, depth, true);
  return s + "m";
}
