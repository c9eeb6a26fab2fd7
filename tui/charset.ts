/**
 * What the terminal can show: UTF-8, or only ASCII when the locale says so
 * (LANG=C). In ASCII the console folds every other character to a look-alike
 * of one column, so that nothing moves: box drawing to + - |, shades and
 * blocks to : and #, arrows to < > ^ v, accented letters to their base
 * letter, and the guest's CP437 glyphs likewise.
 *
 * @module
 */

import { CP437 } from "../devices/vga/cp437.ts";

/** The characters the console may write. */
export type Charset = "utf-8" | "ascii";

/**
 * The locale's character set, as the C library decides it: the first set of
 * LC_ALL, LC_CTYPE, LANG; UTF-8 only when it names UTF-8 ("C", "POSIX" or
 * nothing set are ASCII).
 */
export function detectCharset(env: Readonly<Record<string, string | undefined>>): Charset {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(locale) ? "utf-8" : "ascii";
}

/** Look-alikes, grouped by the ASCII character they become. */
const GROUPS: Readonly<Record<string, string>> = {
  // Box drawing: the single, double and rounded sets.
  "+": "┌┐└┘├┤┬┴┼╭╮╰╯╒╓╔╕╖╗╘╙╚╛╜╝╞╟╠╡╢╣╤╥╦╧╨╩╪╫╬",
  "-": "─━┄┈╌¬⌐▬↔",
  "=": "═≡",
  "|": "│┃┆┊╎║⌠⌡↕↨▌▐",
  // Shades and blocks.
  ":": "░",
  "#": "▒▓█■▀◘◙",
  // Sparkline levels, low to high (▄ and █ above are also levels).
  "_": "▁▂",
  ".": "▃·∙",
  "~": "▅≈",
  "*": "▆▇●•☼♥♦♣♠",
  // Arrows and pointers.
  "<": "←◄◂◀≤«",
  ">": "→►▸▶≥»",
  "^": "↑▲⌂",
  "v": "↓▼√",
  // Letters that do not decompose to a base letter.
  a: "æαª",
  A: "Æ",
  B: "ß",
  G: "Γ",
  p: "π",
  S: "Σ§",
  s: "σ",
  u: "µ",
  t: "τ",
  F: "Φ",
  O: "ΘΩ",
  d: "δ♪♫",
  "8": "∞",
  f: "φƒ♀",
  e: "ε",
  n: "∩ⁿ",
  o: "○◦°º☺",
  m: "♂",
  c: "¢",
  L: "£∟",
  Y: "¥",
  P: "₧¶",
  "?": "¿",
  "!": "¡‼",
  "/": "÷½¼",
  "2": "²",
  x: "×",
  " ": "\u00a0",
  // Others the chrome uses.
  "@": "☻",
};

const TABLE: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const [ascii, chars] of Object.entries(GROUPS)) for (const ch of chars) m.set(ch, ascii);
  // ▄ reads as a sparkline level between ▃ and ▅.
  m.set("▄", "-");
  m.set("±", "+");
  return m;
})();

const cache = new Map<string, string>();

/**
 * One printable ASCII character that looks like `ch`: itself when it is
 * ASCII, a look-alike from the table, the base letter of an accented one,
 * else "?". Control characters become "?" too.
 */
export function asciiFold(ch: string): string {
  if (ch.length === 1) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 && c < 0x7f) return ch;
    if (c < 0x20 || c === 0x7f) return "?";
  }
  let hit = cache.get(ch);
  if (hit !== undefined) return hit;
  hit = TABLE.get(ch);
  if (hit === undefined) {
    const base = ch.normalize("NFD")[0] ?? "";
    hit = base >= " " && base < "\x7f" ? base : "?";
  }
  cache.set(ch, hit);
  return hit;
}

/** Folds each character of `text` (one column each, as the console draws them). */
export function asciiText(text: string): string {
  let out = "";
  for (const ch of text) out += asciiFold(ch);
  return out;
}

/** The 256 CP437 bytes as ASCII look-alikes (byte 0 and the control range as glyphs). */
export const CP437_ASCII: readonly string[] = Object.freeze(CP437.map(asciiFold));

/** The graphics display the charset can draw: half-blocks need UTF-8, so ASCII shows text. */
export function drawableDisplay<M extends string>(mode: M, charset: Charset): M | "text" {
  return charset === "ascii" && mode === "blocks" ? "text" : mode;
}
