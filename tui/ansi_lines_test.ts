import { deepStrictEqual, strictEqual } from "node:assert";
import { parseAnsiLines } from "./ansi_lines.ts";
import { ATTR, DEFAULT_COLOR, lineText, rgb } from "./style.ts";

Deno.test("SGR text parses into styled runs, lines split at newlines, styles carried over", () => {
  const lines = parseAnsiLines(
    "a\x1b[1m\x1b[36mbc\x1b[39m\nd\x1b[22me\x1b[38;2;255;136;0mf\x1b[0m",
  );
  strictEqual(lines.length, 2);
  deepStrictEqual(lines[0], [
    { text: "a", fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs: 0 },
    { text: "bc", fg: 6, bg: DEFAULT_COLOR, attrs: ATTR.BOLD },
  ]);
  deepStrictEqual(lines[1], [
    { text: "d", fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs: ATTR.BOLD },
    { text: "e", fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs: 0 },
    { text: "f", fg: rgb(0xff8800), bg: DEFAULT_COLOR, attrs: 0 },
  ]);
});

Deno.test("256-colour, bright and background codes; other escapes dropped", () => {
  const [line] = parseAnsiLines(
    "\x1b[48;5;19m\x1b[93mX\x1b[49m\x1b]8;;http://x\x07Y\x1b[2K\x1b[7mZ",
  );
  strictEqual(lineText(line), "XYZ");
  deepStrictEqual(line.map((r) => [r.fg, r.bg, r.attrs]), [
    [11, 19, 0],
    [11, DEFAULT_COLOR, 0],
    [11, DEFAULT_COLOR, ATTR.INVERSE],
  ]);
});
