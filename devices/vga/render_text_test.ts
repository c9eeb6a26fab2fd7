import { deepStrictEqual, strictEqual } from "node:assert";
import { displayGeometry } from "./display_geometry.ts";
import { programRegisters, TEXT_40X25, TEXT_80X25, TEXT_80X50 } from "./mode_tables.ts";
import { blackImage, renderScreen, renderText, type ScreenImage } from "./render_text.ts";
import { textPalette } from "./screen.ts";
import { Vga, VGA_PORT_BASE } from "./vga.ts";

const B8000 = 0x18000;
const out = (vga: Vga, port: number, v: number) => vga.write(port - VGA_PORT_BASE, 1, v);

function mode3(): Vga {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  return vga;
}

/** Writes a glyph into plane 2 at font map offset `map` (32 bytes a character). */
function setGlyph(vga: Vga, code: number, rows: number[], map = 0): void {
  rows.forEach((bits, r) => vga.vram[(map + code * 32 + r) * 4 + 2] = bits);
}

function put(vga: Vga, cell: number, code: number, attr: number): void {
  vga.memory.write(B8000 + cell * 2, 2, (attr << 8) | code);
}

function setCursor(vga: Vga, location: number, start: number, end: number): void {
  for (
    const [i, v] of [[0x0e, location >> 8], [0x0f, location & 0xff], [0x0a, start], [0x0b, end]]
  ) {
    out(vga, 0x3d4, i);
    out(vga, 0x3d5, v);
  }
}

function setAttr(vga: Vga, index: number, value: number): void {
  vga.read(0x3da - VGA_PORT_BASE, 1); // flip-flop to "index"
  out(vga, 0x3c0, index);
  out(vga, 0x3c0, value);
  out(vga, 0x3c0, 0x20); // palette source back on
}

function px(img: ScreenImage, x: number, y: number): number {
  const at = (y * img.width + x) * 4;
  strictEqual(img.rgba[at + 3], 255, `alpha at ${x},${y}`);
  return (img.rgba[at] << 16) | (img.rgba[at + 1] << 8) | img.rgba[at + 2];
}

/** The colours of `count` dots of scan line `y` from `x`. */
function dots(img: ScreenImage, x: number, y: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => px(img, x + i, y));
}

Deno.test("render_text: mode 3 is 720x400, glyph dots in foreground, the rest background", () => {
  const vga = mode3();
  setGlyph(vga, 0x41, [0x00, 0x81, 0xff]);
  put(vga, 81, 0x41, 0x1e); // row 1, column 1: yellow on blue
  const img = renderText(vga);
  deepStrictEqual([img.width, img.height, img.rgba.length], [720, 400, 720 * 400 * 4]);
  const pal = textPalette(vga);
  const [fg, bg] = [pal[0x0e], pal[0x01]];
  const x0 = 9, y0 = 16;
  deepStrictEqual(dots(img, x0, y0, 9), new Array(9).fill(bg));
  deepStrictEqual(dots(img, x0, y0 + 1, 9), [fg, bg, bg, bg, bg, bg, bg, fg, bg]);
  // The ninth dot of an ordinary character is background even when dot 8 is lit.
  deepStrictEqual(dots(img, x0, y0 + 2, 9), [...new Array(8).fill(fg), bg]);
  // Neighbouring cells keep attribute 0: black.
  strictEqual(px(img, x0 - 1, y0 + 2), pal[0]);
  strictEqual(px(img, x0 + 9, y0 + 2), pal[0]);
});

Deno.test("render_text: the ninth dot repeats the eighth only for 0xC0-0xDF with line graphics on", () => {
  const vga = mode3();
  for (const code of [0xbf, 0xc0, 0xc4, 0xdf, 0xe0]) {
    setGlyph(vga, code, [0x01]);
    put(vga, code - 0xbf, code, 0x07);
  }
  const pal = textPalette(vga);
  const ninth = (img: ScreenImage, code: number) => px(img, (code - 0xbf) * 9 + 8, 0);
  let img = renderText(vga);
  deepStrictEqual(
    [0xbf, 0xc0, 0xc4, 0xdf, 0xe0].map((c) => ninth(img, c)),
    [pal[0], pal[7], pal[7], pal[7], pal[0]],
  );
  setAttr(vga, 0x10, 0x08); // line graphics off
  img = renderText(vga);
  strictEqual(ninth(img, 0xc4), pal[0]);
  strictEqual(px(img, (0xc4 - 0xbf) * 9 + 7, 0), pal[7]);
});

Deno.test("render_text: 8-dot character clocks make 640 pixels", () => {
  const vga = mode3();
  out(vga, 0x3c4, 1);
  out(vga, 0x3c5, 0x01);
  setGlyph(vga, 0x42, [0x01]);
  put(vga, 1, 0x42, 0x07);
  const img = renderText(vga);
  deepStrictEqual([img.width, img.height], [640, 400]);
  const pal = textPalette(vga);
  deepStrictEqual(dots(img, 8, 0, 9), [...new Array(7).fill(pal[0]), pal[7], pal[0]]);
});

Deno.test("render_text: bit 7 brightens the background unless blink is on; blinkers drawn on", () => {
  const vga = mode3();
  setGlyph(vga, 0x43, [0x80]);
  put(vga, 0, 0x43, 0x9e);
  const pal = textPalette(vga);
  let img = renderText(vga);
  // Blink on (mode 3's default): background from bits 4-6, character shown.
  deepStrictEqual(dots(img, 0, 0, 2), [pal[0x0e], pal[0x01]]);
  setAttr(vga, 0x10, 0x04);
  img = renderText(vga);
  deepStrictEqual(dots(img, 0, 0, 2), [pal[0x0e], pal[0x09]]);
});

Deno.test("render_text: the cursor fills its scan lines in the cell's foreground, all 9 dots", () => {
  const vga = mode3();
  put(vga, 80 * 2 + 5, 0x20, 0x4a); // light green on red
  setCursor(vga, 80 * 2 + 5, 14, 15);
  const pal = textPalette(vga);
  let img = renderText(vga);
  const x0 = 5 * 9, y0 = 2 * 16;
  deepStrictEqual(dots(img, x0, y0 + 13, 9), new Array(9).fill(pal[0x04]));
  deepStrictEqual(dots(img, x0, y0 + 14, 9), new Array(9).fill(pal[0x0a]));
  deepStrictEqual(dots(img, x0, y0 + 15, 9), new Array(9).fill(pal[0x0a]));
  // An end line past the cell is clipped to it.
  setCursor(vga, 80 * 2 + 5, 15, 31);
  img = renderText(vga);
  deepStrictEqual([px(img, x0, y0 + 14), px(img, x0, y0 + 15)], [pal[0x04], pal[0x0a]]);
  // Cursor disable (CRTC 0x0A bit 5) and start after end both hide it.
  for (const [start, end] of [[0x20 | 14, 15], [15, 14]]) {
    setCursor(vga, 80 * 2 + 5, start, end);
    img = renderText(vga);
    strictEqual(px(img, x0, y0 + 15), pal[0x04]);
  }
});

Deno.test("render_text: colours go through the attribute palette, plane enable and DAC", () => {
  const vga = mode3();
  put(vga, 0, 0x00, 0x2f);
  setAttr(vga, 0x02, 0x3f); // attribute 2 -> DAC 63 (white)
  let img = renderText(vga);
  strictEqual(px(img, 0, 0), 0xffffff);
  out(vga, 0x3c8, 63);
  for (const v of [63, 0, 32]) out(vga, 0x3c9, v); // DAC 63 -> magenta-ish
  img = renderText(vga);
  strictEqual(px(img, 0, 0), 0xff0082);
  setAttr(vga, 0x12, 0x0d); // plane 1 off: background 2 becomes 0
  img = renderText(vga);
  strictEqual(px(img, 0, 0), textPalette(vga)[0]);
});

Deno.test("render_text: attribute bit 3 selects font map A when the maps differ", () => {
  const vga = mode3();
  out(vga, 0x3c4, 3);
  out(vga, 0x3c5, 0x04); // map A = 1 (0x4000), map B = 0
  setGlyph(vga, 0x44, [0xf0]);
  setGlyph(vga, 0x44, [0x0f], 0x4000);
  put(vga, 0, 0x44, 0x07);
  put(vga, 1, 0x44, 0x0f);
  const img = renderText(vga);
  const pal = textPalette(vga);
  deepStrictEqual(dots(img, 0, 0, 8), [...new Array(4).fill(pal[7]), ...new Array(4).fill(pal[0])]);
  deepStrictEqual(dots(img, 9, 0, 8), [
    ...new Array(4).fill(pal[0]),
    ...new Array(4).fill(pal[15]),
  ]);
});

Deno.test("render_text: underline on the CRTC's line for attributes x000x001", () => {
  const vga = mode3();
  out(vga, 0x3d4, 0x14);
  out(vga, 0x3d5, 0x0f); // underline on scan line 15
  put(vga, 80, 0x00, 0x01);
  put(vga, 81, 0x00, 0x09);
  put(vga, 82, 0x00, 0x02);
  const img = renderText(vga);
  const pal = textPalette(vga);
  deepStrictEqual([px(img, 0, 31), px(img, 9, 31), px(img, 18, 31)], [pal[1], pal[9], pal[0]]);
  deepStrictEqual([px(img, 0, 30), px(img, 9, 30)], [pal[0], pal[0]]);
});

Deno.test("render_text: 40 columns shows each dot twice as wide; 80x50 uses 8-line cells", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_40X25);
  setGlyph(vga, 0x45, [0x80]);
  put(vga, 1, 0x45, 0x07);
  let img = renderText(vga);
  deepStrictEqual([img.width, img.height], [720, 400]);
  const pal = textPalette(vga);
  deepStrictEqual(dots(img, 18, 0, 3), [pal[7], pal[7], pal[0]]);

  programRegisters(vga, TEXT_80X50);
  put(vga, 80 * 49, 0x45, 0x07);
  img = renderText(vga);
  deepStrictEqual([img.width, img.height], [720, 400]);
  strictEqual(px(img, 0, 49 * 8), pal[7]);
});

Deno.test("render_text: double scan repeats every line", () => {
  const vga = mode3();
  out(vga, 0x3d4, 0x09);
  out(vga, 0x3d5, 0x80 | 0x07); // double scan, 8-line cells: 200 lines of text
  setGlyph(vga, 0x46, [0x80, 0x00]);
  put(vga, 0, 0x46, 0x07);
  const img = renderText(vga);
  deepStrictEqual([img.width, img.height], [720, 400]);
  const pal = textPalette(vga);
  deepStrictEqual([px(img, 0, 0), px(img, 0, 1), px(img, 0, 2)], [pal[7], pal[7], pal[0]]);
});

Deno.test("renderScreen: text as rendered, graphics black at the mode's size", () => {
  const vga = mode3();
  put(vga, 0, 0x00, 0x70);
  deepStrictEqual(renderScreen(vga), renderText(vga));
  setAttr(vga, 0x10, 0x41); // graphics, 8-bit colour
  const g = displayGeometry(vga);
  strictEqual(g.width, 320);
  deepStrictEqual(renderScreen(vga), blackImage(g.width, g.height));
  strictEqual(renderText(vga).width, 0);
});
