import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { CP437 } from "../devices/vga/cp437.ts";
import { asciiFold, asciiText, CP437_ASCII, detectCharset, drawableDisplay } from "./charset.ts";

Deno.test("charset: LC_ALL, then LC_CTYPE, then LANG; only a UTF-8 locale is UTF-8", () => {
  strictEqual(detectCharset({}), "ascii");
  strictEqual(detectCharset({ LANG: "C" }), "ascii");
  strictEqual(detectCharset({ LANG: "POSIX" }), "ascii");
  strictEqual(detectCharset({ LANG: "en_US.UTF-8" }), "utf-8");
  strictEqual(detectCharset({ LANG: "C.utf8" }), "utf-8");
  strictEqual(detectCharset({ LANG: "de_DE.ISO-8859-1" }), "ascii");
  strictEqual(detectCharset({ LANG: "en_US.UTF-8", LC_CTYPE: "C" }), "ascii");
  strictEqual(detectCharset({ LANG: "C", LC_CTYPE: "C.UTF-8" }), "utf-8");
  strictEqual(detectCharset({ LANG: "C.UTF-8", LC_CTYPE: "C.UTF-8", LC_ALL: "C" }), "ascii");
  // An empty variable counts as unset.
  strictEqual(detectCharset({ LANG: "C.UTF-8", LC_ALL: "" }), "utf-8");
});

Deno.test("charset: every CP437 byte has a one-column printable ASCII look-alike", () => {
  strictEqual(CP437_ASCII.length, 256);
  for (const [i, ch] of CP437_ASCII.entries()) {
    ok(/^[ -~]$/.test(ch), `byte ${i.toString(16)} (${CP437[i]}) -> ${JSON.stringify(ch)}`);
  }
  // ASCII itself is unchanged, byte 0 is a blank.
  for (let b = 0x20; b < 0x7f; b++) strictEqual(CP437_ASCII[b], String.fromCharCode(b));
  strictEqual(CP437_ASCII[0], " ");
  strictEqual(CP437_ASCII[0xff], " ");
  // No CP437 glyph falls through to the "?" of the unknown: only ? and ¿ read as "?".
  const asked = CP437_ASCII.flatMap((c, i) => c === "?" ? [i] : []);
  deepStrictEqual(asked, [0x3f, 0xa8]);
});

Deno.test("charset: CP437 box drawing, shades, arrows and accented letters", () => {
  const at = (bytes: number[]) => bytes.map((b) => CP437_ASCII[b]).join("");
  // ┌ ─ ┐ │ └ ┘ ├ ┤ ┼ and the double set ╔ ═ ╗ ║ ╚ ╝ ╬.
  strictEqual(at([0xda, 0xc4, 0xbf, 0xb3, 0xc0, 0xd9, 0xc3, 0xb4, 0xc5]), "+-+|+++++");
  strictEqual(at([0xc9, 0xcd, 0xbb, 0xba, 0xc8, 0xbc, 0xce]), "+=+|+++");
  // ░ ▒ ▓ █.
  strictEqual(at([0xb0, 0xb1, 0xb2, 0xdb]), ":###");
  // ↑ ↓ → ← ► ◄ ▲ ▼.
  strictEqual(at([0x18, 0x19, 0x1a, 0x1b, 0x10, 0x11, 0x1e, 0x1f]), "^v><><^v");
  // Ç ü é â ä à å ç ê ë è ï î ì Ä Å É ñ Ñ.
  strictEqual(
    at([0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d]),
    "Cueaaaaceeeiii",
  );
  strictEqual(at([0x8e, 0x8f, 0x90, 0xa4, 0xa5]), "AAEnN");
  // • ○ ☺ ♥ ¿ ¡ « » ° ± ²
  strictEqual(
    at([0x07, 0x09, 0x01, 0x03, 0xa8, 0xad, 0xae, 0xaf, 0xf8, 0xf1, 0xfd]),
    "*oo*?!<>o+2",
  );
});

Deno.test("charset: the console's own glyphs (rounded borders, sparklines, bullets, arrows)", () => {
  strictEqual(asciiText("╭─ Screen ─╮"), "+- Screen -+");
  strictEqual(asciiText("╰──╯"), "+--+");
  strictEqual(asciiText("▁▂▃▄▅▆▇█"), "__.-~**#");
  strictEqual(asciiText("Num ● Caps ○"), "Num * Caps o");
  strictEqual(
    asciiText("keys → screen · ↑ 3 ◂ ▸ 0x3f8×1.2k"),
    "keys > screen . ^ 3 < > 0x3f8x1.2k",
  );
  strictEqual(asciiText("naïve café Ångström"), "naive cafe Angstrom");
  // No look-alike: one "?", still one column.
  strictEqual(asciiText("漢"), "?");
  strictEqual(asciiFold("\x1b"), "?");
  strictEqual(asciiFold("a"), "a");
});

Deno.test("charset: half-block graphics need UTF-8; image protocols do not", () => {
  strictEqual(drawableDisplay("blocks", "ascii"), "text");
  strictEqual(drawableDisplay("blocks", "utf-8"), "blocks");
  strictEqual(drawableDisplay("sixel", "ascii"), "sixel");
  strictEqual(drawableDisplay("kitty", "ascii"), "kitty");
});
