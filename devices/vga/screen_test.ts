import { deepStrictEqual, strictEqual } from "node:assert";
import { programRegisters, TEXT_40X25, TEXT_80X25, TEXT_80X50 } from "./mode_tables.ts";
import { screenSnapshot, screenState, screenText, textPalette } from "./screen.ts";
import { Vga, VGA_PORT_BASE } from "./vga.ts";

const B8000 = 0x18000;
const outw = (vga: Vga, port: number, v: number) => vga.write(port - VGA_PORT_BASE, 2, v);

/** Writes `text` (CP437 bytes) at character cell `cell` with attribute `attr`, as a guest would. */
function put(vga: Vga, cell: number, text: string | number[], attr = 0x07): void {
  const codes = typeof text === "string" ? [...text].map((c) => c.charCodeAt(0)) : text;
  codes.forEach((code, i) => vga.memory.write(B8000 + (cell + i) * 2, 2, (attr << 8) | code));
}

function setCursor(vga: Vga, location: number): void {
  outw(vga, 0x3d4, (location >> 8) << 8 | 0x0e);
  outw(vga, 0x3d4, (location & 0xff) << 8 | 0x0f);
}

Deno.test("screen: 80x25 text mode from the mode 3 register table", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  put(vga, 0, "Hello, VGA", 0x1f);
  put(vga, 80 * 24 + 70, "bottom");
  const s = screenSnapshot(vga);
  deepStrictEqual(
    [s.mode, s.cols, s.rows, s.charWidth, s.charHeight, s.width, s.height, s.blinkEnabled],
    ["text", 80, 25, 9, 16, 720, 400, true],
  );
  strictEqual(s.cells.length, 2000);
  deepStrictEqual(s.cells[0], { ch: "H", code: 0x48, attr: 0x1f });
  deepStrictEqual(s.cells[10], { ch: " ", code: 0, attr: 0 });
  const lines = screenText(s).split("\n");
  strictEqual(lines.length, 25);
  strictEqual(lines[0], "Hello, VGA");
  strictEqual(lines[1], "");
  strictEqual(lines[24], " ".repeat(70) + "bottom");
});

Deno.test("screen: box drawing comes out as Unicode", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  put(vga, 0, [0xc9, 0xcd, 0xcd, 0xbb]);
  put(vga, 80, [0xba, 0x01, 0x00, 0xba]);
  put(vga, 160, [0xc8, 0xcd, 0xcd, 0xbc]);
  strictEqual(
    screenText(screenSnapshot(vga)).split("\n").slice(0, 3).join("\n"),
    "╔══╗\n║☺ ║\n╚══╝",
  );
});

Deno.test("screen: cursor position, shape and disable bit", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  deepStrictEqual(screenSnapshot(vga).cursor, {
    row: 0,
    col: 0,
    visible: true,
    startLine: 13,
    endLine: 14,
  });
  setCursor(vga, 12 * 80 + 34);
  const c = screenSnapshot(vga).cursor;
  deepStrictEqual([c.row, c.col, c.visible], [12, 34, true]);
  outw(vga, 0x3d4, 0x2d0a); // cursor start 13 with the disable bit
  strictEqual(screenSnapshot(vga).cursor.visible, false);
  outw(vga, 0x3d4, 0x0d0a);
  setCursor(vga, 80 * 25); // just past the last row
  strictEqual(screenSnapshot(vga).cursor.visible, false);
});

Deno.test("screen: start address scrolls the screen and moves the cursor origin", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  put(vga, 0, "first");
  put(vga, 80, "second");
  setCursor(vga, 80 + 3);
  outw(vga, 0x3d4, 0x500d); // start address = 80: one row down
  const s = screenSnapshot(vga);
  strictEqual(screenText(s).split("\n")[0], "second");
  deepStrictEqual([s.cursor.row, s.cursor.col], [0, 3]);
});

Deno.test("screen: offset register sets the row pitch", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  outw(vga, 0x3d4, 0x3013); // offset 0x30: rows 96 characters apart
  put(vga, 96, "row one");
  strictEqual(screenText(screenSnapshot(vga)).split("\n")[1], "row one");
});

Deno.test("screen: 80x50 with the 8-line font", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X50);
  put(vga, 49 * 80, "last row");
  const s = screenSnapshot(vga);
  deepStrictEqual([s.cols, s.rows, s.charHeight, s.height], [80, 50, 8, 400]);
  strictEqual(screenText(s).split("\n")[49], "last row");
  deepStrictEqual([s.cursor.startLine, s.cursor.endLine, s.cursor.visible], [6, 7, true]);
});

Deno.test("screen: 40x25 with the halved dot clock", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_40X25);
  put(vga, 40, "second row");
  put(vga, 24 * 40 + 30, "end");
  const s = screenSnapshot(vga);
  deepStrictEqual([s.cols, s.rows, s.charWidth, s.width, s.height], [40, 25, 9, 360, 400]);
  const lines = screenText(s).split("\n");
  deepStrictEqual([lines[0], lines[1], lines[24]], ["", "second row", " ".repeat(30) + "end"]);
  setCursor(vga, 41);
  deepStrictEqual([screenSnapshot(vga).cursor.row, screenSnapshot(vga).cursor.col], [1, 1]);
});

Deno.test("screen: blank when the palette source is off, no text in graphics", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  put(vga, 0, "hidden");
  vga.read(0x3da - VGA_PORT_BASE, 1);
  vga.write(0x3c0 - VGA_PORT_BASE, 1, 0x00); // palette source cleared
  const off = screenSnapshot(vga);
  deepStrictEqual([off.mode, off.cells.length, screenText(off)], ["off", 0, ""]);
  vga.write(0x3c0 - VGA_PORT_BASE, 1, 0x00); // data for palette register 0
  vga.write(0x3c0 - VGA_PORT_BASE, 1, 0x30); // index 0x10 with palette source
  vga.write(0x3c0 - VGA_PORT_BASE, 1, 0x01); // graphics
  // With the text CRTC timing each 16-line character row repeats one line of memory.
  const g = screenSnapshot(vga);
  deepStrictEqual([g.mode, g.cells.length, g.cursor.visible, g.width, g.height], [
    "graphics",
    0,
    false,
    640,
    25,
  ]);
});

Deno.test("screen: blink bit reported from attribute mode control", () => {
  const vga = new Vga();
  programRegisters(vga, { ...TEXT_80X25, attribute: TEXT_80X25.attribute.with(0x10, 0x04) });
  strictEqual(screenSnapshot(vga).blinkEnabled, false);
});

Deno.test("textPalette maps attribute registers through the DAC to 24-bit colours", () => {
  const vga = new Vga({ startInTextMode: true });
  const pal = textPalette(vga);
  strictEqual(pal.length, 16);
  strictEqual(pal[0], 0x000000);
  strictEqual(pal[1], 0x0000aa);
  strictEqual(pal[6], 0xaa5500);
  strictEqual(pal[7], 0xaaaaaa);
  strictEqual(pal[15], 0xffffff);
});

Deno.test("screenState packs cells and carries the text", () => {
  const vga = new Vga({ startInTextMode: true });
  // 'A' with attribute 0x1f at row 0, column 0 (odd/even: char in plane 0, attr in plane 1).
  vga.memory.write(0x18000, 1, 0x41);
  vga.memory.write(0x18001, 1, 0x1f);
  const s = screenState(vga);
  strictEqual(s.mode, "text");
  strictEqual(s.cells.length, s.cols * s.rows);
  strictEqual(s.cells[0], 0x41 | (0x1f << 8));
  strictEqual(s.text.split("\n")[0], "A");
});
