import { deepStrictEqual, strictEqual } from "node:assert";
import { DISPI_ENABLE, DISPI_INDEX } from "./dispi.ts";
import { dac6to8, frameFormat, frameLabel, renderFrame } from "./graphics_render.ts";
import { MODE_12H, MODE_13H } from "./graphics_mode_tables.ts";
import { programRegisters, TEXT_80X25 } from "./mode_tables.ts";
import { screenState } from "./screen.ts";
import { Vga } from "./vga.ts";

const MiB = 1024 * 1024;

function vbe(vga: Vga, width: number, height: number, bpp: number): void {
  const d = vga.dispi;
  d.writeRegister(DISPI_INDEX.ENABLE, 0);
  d.writeRegister(DISPI_INDEX.BPP, bpp);
  d.writeRegister(DISPI_INDEX.XRES, width);
  d.writeRegister(DISPI_INDEX.YRES, height);
  d.writeRegister(DISPI_INDEX.ENABLE, DISPI_ENABLE.ENABLED | DISPI_ENABLE.LFB_ENABLED);
}

function pixel(image: { width: number; rgba: Uint8Array }, x: number, y: number): number[] {
  const at = (y * image.width + x) * 4;
  return [...image.rgba.subarray(at, at + 4)];
}

/** Loads DAC entry `index` through the ports. */
function dac(vga: Vga, index: number, r: number, g: number, b: number): void {
  vga.write(0x3c8 - 0x3b0, 1, index);
  for (const v of [r, g, b]) vga.write(0x3c9 - 0x3b0, 1, v);
}

Deno.test("VBE direct-colour depths: 32 and 24 are B G R, 16 is 5-6-5, 15 is 5-5-5", () => {
  const vga = new Vga({ vramSize: 4 * MiB });
  vbe(vga, 16, 8, 32);
  vga.vram.set([0x10, 0x20, 0x30, 0xee], 4 * (16 * 2 + 3));
  deepStrictEqual(pixel(renderFrame(vga)!, 3, 2), [0x30, 0x20, 0x10, 255]);
  vbe(vga, 16, 8, 24);
  vga.vram.set([0x10, 0x20, 0x30], 3 * (16 * 2 + 3));
  deepStrictEqual(pixel(renderFrame(vga)!, 3, 2), [0x30, 0x20, 0x10, 255]);
  vbe(vga, 16, 8, 16);
  // r = 31, g = 32, b = 1: 11111 100000 00001
  vga.vram.set([0x01, 0xfc], 2 * (16 * 1 + 1));
  deepStrictEqual(pixel(renderFrame(vga)!, 1, 1), [255, 130, 8, 255]);
  vbe(vga, 16, 8, 15);
  // r = 1, g = 31, b = 16: 0 00001 11111 10000
  vga.vram.set([0xf0, 0x07], 2 * (16 * 1 + 1));
  deepStrictEqual(pixel(renderFrame(vga)!, 1, 1), [8, 255, 132, 255]);
});

Deno.test("VBE 8-bit pixels index the DAC; panning moves the picture", () => {
  const vga = new Vga({ vramSize: 4 * MiB });
  vbe(vga, 32, 16, 8);
  dac(vga, 7, 63, 32, 1);
  vga.vram[32 * 3 + 5] = 7;
  const image = renderFrame(vga)!;
  deepStrictEqual([image.width, image.height], [32, 16]);
  deepStrictEqual(pixel(image, 5, 3), [255, 128, 7, 255]);
  vga.dispi.writeRegister(DISPI_INDEX.VIRT_WIDTH, 64);
  vga.dispi.writeRegister(DISPI_INDEX.Y_OFFSET, 1);
  vga.dispi.writeRegister(DISPI_INDEX.X_OFFSET, 8);
  vga.vram[64 * 3 + 13] = 7;
  deepStrictEqual(pixel(renderFrame(vga)!, 5, 2), [255, 128, 7, 255]);
  strictEqual(frameLabel(frameFormat(vga)), "VBE 32×16 256 colours");
});

Deno.test("VBE 4-bit planar modes take one bit from each plane, through the attribute palette", () => {
  const vga = new Vga({ vramSize: 4 * MiB });
  programRegisters(vga, MODE_12H);
  vbe(vga, 16, 4, 4);
  // Line 1 starts at byte 8; pixel 9 is bit 6 of the second group.
  vga.vram.set([0x40, 0x00, 0x40, 0x00], 8 + 4);
  deepStrictEqual(pixel(renderFrame(vga)!, 9, 1), [168, 0, 168, 255], "colour 5: EGA magenta");
});

Deno.test("mode 13h: chain-4 writes through the window show as 320×200 DAC colours", () => {
  const vga = new Vga();
  programRegisters(vga, MODE_13H);
  dac(vga, 200, 10, 20, 30);
  vga.window.write(199 * 320 + 319, 1, 200);
  vga.window.write(5 * 320 + 6, 1, 9);
  const image = renderFrame(vga)!;
  deepStrictEqual([image.width, image.height], [320, 200]);
  deepStrictEqual(pixel(image, 319, 199), [dac6to8(10), dac6to8(20), dac6to8(30), 255]);
  deepStrictEqual(pixel(image, 6, 5), [0, 0, 255, 255], "DAC 9 as programRegisters loads it");
  deepStrictEqual(pixel(image, 7, 5), [0, 0, 0, 255]);
  strictEqual(frameLabel(frameFormat(vga)), "VGA 320×200 256 colours");
});

Deno.test("mode 12h: planes through the map mask, the attribute palette and colour plane enable", () => {
  const vga = new Vga();
  programRegisters(vga, MODE_12H);
  const seq = (index: number, value: number) => {
    vga.write(0x3c4 - 0x3b0, 1, index);
    vga.write(0x3c5 - 0x3b0, 1, value);
  };
  seq(2, 0x0f);
  vga.window.write(479 * 80 + 79, 1, 0xff); // last 8 pixels white
  seq(2, 0x01);
  vga.window.write(10 * 80 + 2, 1, 0x0f); // x 20-23 of line 10: colour 1
  const image = renderFrame(vga)!;
  deepStrictEqual([image.width, image.height], [640, 480]);
  deepStrictEqual(pixel(image, 639, 479), [255, 255, 255, 255]);
  deepStrictEqual(pixel(image, 632, 479), [255, 255, 255, 255]);
  deepStrictEqual(pixel(image, 631, 479), [0, 0, 0, 255]);
  deepStrictEqual(pixel(image, 19, 10), [0, 0, 0, 255]);
  deepStrictEqual(pixel(image, 20, 10), [0, 0, 168, 255]);
  strictEqual(frameLabel(frameFormat(vga)), "VGA 640×480 16 colours");
  vga.read(0x3da - 0x3b0, 1);
  vga.write(0x3c0 - 0x3b0, 1, 0x32); // colour plane enable, palette source kept on
  vga.write(0x3c0 - 0x3b0, 1, 0x07);
  deepStrictEqual(pixel(renderFrame(vga)!, 639, 479), [168, 168, 168, 255], "plane 3 masked");
});

Deno.test("text mode has no graphics frame", () => {
  const vga = new Vga({ startInTextMode: true });
  strictEqual(renderFrame(vga), null);
  strictEqual(frameFormat(vga).mode, "text");
  strictEqual(frameLabel(frameFormat(vga)), "text");
  programRegisters(vga, TEXT_80X25);
  strictEqual(renderFrame(vga), null);
});

Deno.test("the screen state reports a VBE mode's own size and a label for headers", () => {
  const vga = new Vga({ vramSize: 4 * MiB });
  programRegisters(vga, TEXT_80X25);
  strictEqual(screenState(vga).label, "text");
  vbe(vga, 1024, 768, 32);
  const s = screenState(vga);
  deepStrictEqual([s.mode, s.width, s.height, s.rows, s.cells.length], [
    "graphics",
    1024,
    768,
    0,
    0,
  ]);
  strictEqual(s.label, "VBE 1024×768 32 bpp");
  programRegisters(vga, MODE_13H);
  vga.dispi.writeRegister(DISPI_INDEX.ENABLE, 0);
  deepStrictEqual([screenState(vga).width, screenState(vga).label], [
    320,
    "VGA 320×200 256 colours",
  ]);
});
