import { deepStrictEqual, strictEqual } from "node:assert";
import { CP437, cp437ToUnicode } from "./cp437.ts";

Deno.test("cp437: 256 entries, each a single code point", () => {
  strictEqual(CP437.length, 256);
  for (const ch of CP437) strictEqual([...ch].length, 1);
});

Deno.test("cp437: every code except 0x00 maps to a distinct character", () => {
  strictEqual(new Set(CP437.slice(1)).size, 255);
  strictEqual(cp437ToUnicode(0x00), " ");
  strictEqual(cp437ToUnicode(0x20), " ");
});

Deno.test("cp437: ASCII range is identity, 0x7F is the house", () => {
  for (let c = 0x20; c < 0x7f; c++) strictEqual(cp437ToUnicode(c), String.fromCharCode(c));
  strictEqual(cp437ToUnicode(0x7f), "\u2302");
});

Deno.test("cp437: graphical glyphs below 0x20", () => {
  strictEqual(cp437ToUnicode(0x01), "\u263a");
  strictEqual(cp437ToUnicode(0x03), "\u2665");
  strictEqual(cp437ToUnicode(0x07), "\u2022");
  strictEqual(cp437ToUnicode(0x10), "\u25ba");
  strictEqual(cp437ToUnicode(0x1a), "\u2192");
  strictEqual(cp437ToUnicode(0x1f), "\u25bc");
});

Deno.test("cp437: box drawing", () => {
  const codes = [0xc9, 0xcd, 0xbb, 0xba, 0xc8, 0xbc, 0xda, 0xc4, 0xbf, 0xb3, 0xc0, 0xd9, 0xc5];
  deepStrictEqual(
    codes.map((c) => cp437ToUnicode(c).codePointAt(0)),
    [
      0x2554,
      0x2550,
      0x2557,
      0x2551,
      0x255a,
      0x255d,
      0x250c,
      0x2500,
      0x2510,
      0x2502,
      0x2514,
      0x2518,
      0x253c,
    ],
  );
  strictEqual(cp437ToUnicode(0xb0) + cp437ToUnicode(0xb1) + cp437ToUnicode(0xb2), "░▒▓");
  strictEqual(cp437ToUnicode(0xdb), "\u2588");
});

Deno.test("cp437: Latin-1 letters, Greek, and the high end", () => {
  strictEqual(cp437ToUnicode(0x80), "\u00c7");
  strictEqual(cp437ToUnicode(0x9e), "\u20a7");
  strictEqual(cp437ToUnicode(0xe1), "\u00df");
  strictEqual(cp437ToUnicode(0xe3), "\u03c0");
  strictEqual(cp437ToUnicode(0xfe), "\u25a0");
  strictEqual(cp437ToUnicode(0xff), "\u00a0");
  strictEqual(cp437ToUnicode(0x141), "A");
});
