import { deepStrictEqual, strictEqual } from "node:assert";
import {
  egaPalette,
  programRegisters,
  TEXT_40X25,
  TEXT_80X25,
  TEXT_80X50,
  type VgaRegisterSet,
} from "./mode_tables.ts";
import { Vga } from "./vga.ts";

function readBack(vga: Vga, set: VgaRegisterSet) {
  const inb = (port: number) => vga.read(port - 0x3b0, 1);
  const outb = (port: number, v: number) => vga.write(port - 0x3b0, 1, v);
  const group = (index: number, data: number, count: number) =>
    [...new Array(count).keys()].map((i) => (outb(index, i), inb(data)));
  // Reading input status 1 before each index keeps the flip-flop at "index".
  const attribute = [...new Array(21).keys()].map((
    i,
  ) => (inb(0x3da), outb(0x3c0, i | 0x20), inb(0x3c1)));
  return {
    misc: inb(0x3cc),
    sequencer: group(0x3c4, 0x3c5, set.sequencer.length),
    crtc: group(0x3d4, 0x3d5, set.crtc.length),
    graphics: group(0x3ce, 0x3cf, set.graphics.length),
    attribute,
  };
}

for (const [name, set] of [["80x25", TEXT_80X25], ["80x50", TEXT_80X50], ["40x25", TEXT_40X25]]) {
  Deno.test(`mode tables: ${name} programs every register as listed`, () => {
    const vga = new Vga();
    programRegisters(vga, set as VgaRegisterSet);
    deepStrictEqual(readBack(vga, set as VgaRegisterSet), { ...(set as VgaRegisterSet) });
    strictEqual(vga.attr.paletteAddressSource, true);
  });
}

Deno.test("mode tables: 80x50 differs from 80x25 only in font height and cursor", () => {
  const diff = TEXT_80X25.crtc.flatMap((v, i) => v === TEXT_80X50.crtc[i] ? [] : [i]);
  deepStrictEqual(diff, [0x09, 0x0a, 0x0b]);
  strictEqual(TEXT_80X50.crtc[0x09] & 0x1f, 7);
});

Deno.test("mode tables: EGA palette colours", () => {
  const p = egaPalette();
  const rgb = (i: number) => [...p.subarray(i * 3, i * 3 + 3)];
  deepStrictEqual(rgb(0x00), [0, 0, 0]);
  deepStrictEqual(rgb(0x01), [0, 0, 42]);
  deepStrictEqual(rgb(0x07), [42, 42, 42]);
  deepStrictEqual(rgb(0x14), [42, 21, 0]); // brown
  deepStrictEqual(rgb(0x38), [21, 21, 21]);
  deepStrictEqual(rgb(0x3f), [63, 63, 63]);
});

Deno.test("mode tables: programming loads the EGA colours into DAC 0-63", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  deepStrictEqual(vga.dacPalette().subarray(0, 192), egaPalette());
  strictEqual(vga.dac.writeIndex, 64);
});
