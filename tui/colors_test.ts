import { strictEqual } from "node:assert";
import { colorParams, detectColorDepth, nearest16, nearest256, paletteRgb, sgr } from "./colors.ts";
import { ATTR, DEFAULT_COLOR, rgb } from "./style.ts";
import { VGA_PALETTE } from "./testing.ts";

const VGA = VGA_PALETTE;

Deno.test("colour depth: NO_COLOR wins, then COLORTERM, then TERM", () => {
  strictEqual(detectColorDepth({ NO_COLOR: "1", COLORTERM: "truecolor" }), "none");
  strictEqual(detectColorDepth({ NO_COLOR: "", COLORTERM: "truecolor" }), "truecolor");
  strictEqual(detectColorDepth({ COLORTERM: "24bit", TERM: "xterm" }), "truecolor");
  strictEqual(detectColorDepth({ TERM: "xterm-256color" }), "256");
  strictEqual(detectColorDepth({ TERM: "screen" }), "16");
  strictEqual(detectColorDepth({ TERM: "dumb" }), "none");
  strictEqual(detectColorDepth({}), "16");
});

Deno.test("the VGA's default colours map onto the 16 ANSI colours exactly (BGR to RGB order)", () => {
  const ansi = VGA.map(nearest16);
  strictEqual(ansi.join(","), "0,4,2,6,1,5,3,7,8,12,10,14,9,13,11,15");
});

Deno.test("256 colours use the fixed cube and greys, never the themed first 16", () => {
  strictEqual(nearest256(0x0000aa), 19);
  strictEqual(nearest256(0xffffff), 231);
  strictEqual(nearest256(0x808080), 244);
  for (const c of VGA) strictEqual(nearest256(c) >= 16, true);
  strictEqual(paletteRgb(196), 0xff0000);
  strictEqual(paletteRgb(232), 0x080808);
});

Deno.test("colour parameters per depth", () => {
  const blue = rgb(0x0000aa);
  strictEqual(colorParams(blue, "truecolor", false), "38;2;0;0;170");
  strictEqual(colorParams(blue, "256", true), "48;5;19");
  strictEqual(colorParams(blue, "16", false), "34");
  strictEqual(colorParams(rgb(0xffff55), "16", true), "103");
  strictEqual(colorParams(9, "truecolor", false), "91");
  strictEqual(colorParams(201, "16", false), "95");
  strictEqual(colorParams(blue, "none", false), "39");
  strictEqual(colorParams(DEFAULT_COLOR, "truecolor", true), "49");
});

Deno.test("sgr: from a reset, attributes then colours; no colours at depth none", () => {
  strictEqual(sgr(rgb(0xaaaaaa), rgb(0x0000aa), ATTR.BLINK, "16"), "\x1b[0;5;37;44m");
  strictEqual(sgr(rgb(0xaaaaaa), rgb(0x0000aa), ATTR.BOLD, "none"), "\x1b[0;1m");
  strictEqual(sgr(DEFAULT_COLOR, DEFAULT_COLOR, 0, "truecolor"), "\x1b[0m");
});
