import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { SeededRandom } from "../testing/seeded_random.ts";
import { assertRestoreIdentity, assertRestoreRejects } from "../testing/snapshot_check.ts";
import {
  CIRRUS_BAR0_SIZE,
  CIRRUS_BLT_WINDOW,
  CIRRUS_CHIP_ID,
  CIRRUS_MMIO_SIZE,
  CIRRUS_VRAM_SIZE,
  CirrusVga,
} from "./cirrus.ts";
import { frameFormat, renderFrame } from "./graphics_render.ts";

/** Port helpers over the Cirrus's 0x3B0-0x3DF region. */
function io(c: CirrusVga) {
  const out = (port: number, v: number) => c.ports.write(port - 0x3b0, 1, v);
  const inp = (port: number) => c.ports.read(port - 0x3b0, 1);
  return {
    out,
    inp,
    sr: (i: number, v?: number) => {
      out(0x3c4, i);
      if (v !== undefined) out(0x3c5, v);
      return inp(0x3c5);
    },
    gr: (i: number, v?: number) => {
      out(0x3ce, i);
      if (v !== undefined) out(0x3cf, v);
      return inp(0x3cf);
    },
    cr: (i: number, v?: number) => {
      out(0x3d4, i);
      if (v !== undefined) out(0x3d5, v);
      return inp(0x3d5);
    },
  };
}

function colourCirrus(): CirrusVga {
  const c = new CirrusVga();
  c.ports.write(0x3c2 - 0x3b0, 1, 0x01); // colour addressing: CRTC at 0x3D4
  return c;
}

Deno.test("cirrus: PCI identity and BARs as QEMU's CL-GD5446", () => {
  const c = new CirrusVga({ romData: new Uint8Array(40 * 1024) });
  strictEqual(c.config.read(0x00, 4), 0x00b81013);
  strictEqual(c.config.read(0x0a, 2), 0x0300);
  c.config.write(0x10, 4, 0xffffffff);
  strictEqual(c.config.read(0x10, 4) >>> 0, (~(CIRRUS_BAR0_SIZE - 1) | 0x08) >>> 0);
  c.config.write(0x14, 4, 0xffffffff);
  strictEqual(c.config.read(0x14, 4) >>> 0, (~(CIRRUS_MMIO_SIZE - 1) & ~0xf) >>> 0);
  strictEqual(c.romSize, 64 * 1024);
});

Deno.test("cirrus: chip ID, unlock, power-on memory configuration", () => {
  const c = colourCirrus();
  const r = io(c);
  strictEqual(r.cr(0x27), CIRRUS_CHIP_ID);
  r.cr(0x27, 0x12); // read-only
  strictEqual(r.cr(0x27), CIRRUS_CHIP_ID);
  strictEqual(r.sr(0x06), 0x0f);
  strictEqual(r.sr(0x06, 0x12), 0x12);
  strictEqual(r.sr(0x06, 0x57), 0x0f, "only 0x12 (under mask 0x17) unlocks");
  deepStrictEqual([r.sr(0x0f), r.sr(0x15), r.sr(0x17), r.sr(0x1f), r.gr(0x18)], [
    0x98,
    0x04,
    0x20,
    0x2d,
    0x0f,
  ]);
  strictEqual(r.sr(0x17, 0xff), 0xe7, "SR17 bits 3-5 are read-only");
  strictEqual(r.sr(0x20), 0xff);
  strictEqual(r.cr(0x30), 0xff);
  strictEqual(r.gr(0x3a), 0xff);
  strictEqual(r.cr(0x1b, 0x5a), 0x5a);
  strictEqual(r.gr(0x21, 0xff), 0x1f, "BLT width high is 5 bits");
  strictEqual(r.gr(0x2a, 0xff), 0x3f);
  strictEqual(r.gr(0x00, 0xa5), 0xa5, "GR00 keeps all 8 bits as the BLT background");
  strictEqual(c.vga.gc.regs[0], 0x05, "the VGA core sees 4 bits");
  strictEqual(r.gr(0x05, 0xff), 0x7f);
});

Deno.test("cirrus: hidden DAC after four reads of 0x3C6, reset by 0x3C8", () => {
  const r = io(colourCirrus());
  r.inp(0x3c6);
  r.out(0x3c6, 0x33); // the sequence has not started since power-on: ignored
  r.inp(0x3c8);
  deepStrictEqual([0, 1, 2, 3].map(() => r.inp(0x3c6)), [0xff, 0xff, 0xff, 0xff]);
  r.out(0x3c6, 0xe1);
  r.inp(0x3c8);
  for (let i = 0; i < 4; i++) r.inp(0x3c6);
  strictEqual(r.inp(0x3c6), 0xe1);
  r.inp(0x3c6);
  r.out(0x3c6, 0x00); // only one read before: ignored
  for (let i = 0; i < 4; i++) r.inp(0x3c6);
  strictEqual(r.inp(0x3c6), 0xe1);
});

Deno.test("cirrus: cursor position takes its low bits from the index; hidden palette", () => {
  const c = colourCirrus();
  const r = io(c);
  r.sr(0xb0, 0x12);
  r.sr(0x51, 0x05);
  deepStrictEqual([c.cursorX, c.cursorY], [(0x12 << 3) | 5, (0x05 << 3) | 2]);
  strictEqual(r.sr(0x10), 0x12);
  r.sr(0x12, 0x02);
  r.out(0x3c8, 0x0f);
  for (const v of [1, 2, 3]) r.out(0x3c9, v);
  deepStrictEqual([...c.hiddenPalette.subarray(45, 48)], [1, 2, 3]);
  deepStrictEqual([...c.vga.dac.palette.subarray(45, 48)], [0, 0, 0], "DAC entry 15 untouched");
  r.sr(0x12, 0x00);
  r.out(0x3c7, 0x0f);
  deepStrictEqual([r.inp(0x3c9), r.inp(0x3c9), r.inp(0x3c9)], [0, 0, 0]);
});

Deno.test("cirrus: banked window, granularity, dual banks and linear BAR0", () => {
  const c = colourCirrus();
  const r = io(c);
  c.window.write(0x10, 1, 0x11); // SR07 off: the VGA's planar window
  strictEqual(c.vga.vram[0x10 * 4], 0, "planar write with map mask 0 reaches no plane");
  r.sr(0x07, 0x01);
  r.gr(0x09, 0x02);
  c.window.write(0x0010, 1, 0xaa);
  strictEqual(c.vga.vram[0x2000 + 0x10], 0xaa, "4 KiB units");
  c.window.write(0x8010, 1, 0xbb);
  strictEqual(c.vga.vram[0x2000 + 0x8010], 0xbb, "single bank: the second half follows");
  r.gr(0x0b, 0x21);
  r.gr(0x0a, 0x03);
  c.window.write(0x8004, 2, 0xccdd);
  deepStrictEqual([...c.vga.vram.subarray(0xc004, 0xc006)], [0xdd, 0xcc], "dual, 16 KiB units");
  strictEqual(c.window.read(0x0010, 1), c.vga.vram[0x8010]);
  c.bar0.write(0x123456, 4, 0x44332211);
  deepStrictEqual([...c.vga.vram.subarray(0x123456, 0x12345a)], [0x11, 0x22, 0x33, 0x44]);
  strictEqual(c.bar0.read(0x123456, 2), 0x2211);
  r.gr(0x0b, 0x02); // ×8 addressing
  c.bar0.write(0x10, 1, 0x77);
  strictEqual(c.vga.vram[0x80], 0x77);
  ok(!c.directAccess, "shifted addressing cannot be a plain memory slot");
  r.gr(0x0b, 0x00);
  ok(c.directAccess);
  r.sr(0x17, 0x44);
  ok(!c.directAccess, "MMIO at the top of the linear window");
});

Deno.test("cirrus: write mode 5 expands a CPU byte into 8 pixels of GR01/GR00", () => {
  const c = colourCirrus();
  const r = io(c);
  r.sr(0x07, 0x01);
  r.gr(0x0b, 0x06); // extended write modes, ×8 addressing
  r.gr(0x05, 0x05);
  r.gr(0x00, 0x10);
  r.gr(0x01, 0xe0);
  c.bar0.write(0x40, 1, 0b10100001);
  deepStrictEqual(
    [...c.vga.vram.subarray(0x200, 0x208)],
    [0xe0, 0x10, 0xe0, 0x10, 0x10, 0x10, 0x10, 0xe0],
  );
  r.gr(0x05, 0x04); // mode 4: zeros leave memory alone
  c.bar0.write(0x40, 1, 0b01000000);
  deepStrictEqual(
    [...c.vga.vram.subarray(0x200, 0x208)],
    [0xe0, 0xe0, 0xe0, 0x10, 0x10, 0x10, 0x10, 0xe0],
  );
});

/** Programs an extended mode the way the Cirrus BIOS leaves it (the registers the display reads). */
function setMode(c: CirrusVga, width: number, height: number, sr7: number, pitch: number) {
  const r = io(c);
  r.sr(0x07, sr7);
  r.cr(0x11, 0x00);
  r.cr(0x01, width / 8 - 1);
  r.cr(0x12, (height - 1) & 0xff);
  r.cr(0x07, (((height - 1) >> 8) & 1 ? 0x02 : 0) | (((height - 1) >> 9) & 1 ? 0x40 : 0));
  r.cr(0x13, (pitch >> 3) & 0xff);
  r.cr(0x1b, (pitch >> 11) & 1 ? 0x12 : 0x02);
  r.gr(0x05, 0x40);
  r.gr(0x06, 0x01);
  r.out(0x3c0, 0x20); // palette address source: display on
}

Deno.test("cirrus: extended modes reach the renderer through SR07, CRTC and hidden DAC", () => {
  const c = colourCirrus();
  setMode(c, 1024, 768, 0x01, 1024);
  const f8 = frameFormat(c.vga);
  deepStrictEqual([f8.mode, f8.width, f8.height, f8.bpp, f8.stride, f8.start], [
    "graphics",
    1024,
    768,
    8,
    1024,
    0,
  ]);
  setMode(c, 800, 600, 0x07, 1600);
  strictEqual(frameFormat(c.vga).bpp, 15, "Sierra 5-5-5 by default");
  const r = io(c);
  r.inp(0x3c8);
  for (let i = 0; i < 4; i++) r.inp(0x3c6);
  r.out(0x3c6, 0xc1);
  deepStrictEqual([frameFormat(c.vga).bpp, frameFormat(c.vga).stride], [16, 1600]);
  setMode(c, 640, 480, 0x05, 1920);
  strictEqual(frameFormat(c.vga).bpp, 24);
  setMode(c, 640, 480, 0x09, 2560);
  strictEqual(frameFormat(c.vga).bpp, 32);
  strictEqual(frameFormat(c.vga).stride, 2560, "CR1B bit 4 is pitch bit 11");
  r.cr(0x0c, 0x01);
  r.cr(0x1b, 0x13);
  strictEqual(frameFormat(c.vga).start, ((1 << 16) | 0x100) * 4, "CR1B bit 0 widens the start");
  r.sr(0x07, 0x00);
  strictEqual(frameFormat(c.vga).source, "vga", "SR07 bit 0 off: the VGA's own 256-colour mode");
});

Deno.test("cirrus: BitBLT registers are reachable through BAR1 and at 0xB8000", () => {
  const c = colourCirrus();
  const r = io(c);
  c.mmio.write(0x100 + 0x08, 2, 0x0123);
  deepStrictEqual([r.gr(0x20), r.gr(0x21)], [0x23, 0x01]);
  c.mmio.write(0x100 + 0x10, 4, 0x00345678);
  strictEqual(c.mmio.read(0x100 + 0x10, 4), 0xff345678, "0x13 is no register");
  strictEqual(c.mmio.read(0x4, 1), r.inp(0x3c4), "offset 4 is port 0x3C4");
  r.sr(0x07, 0x01);
  c.window.write(0x18000 + 0x18, 1, 0x80);
  strictEqual(r.gr(0x30), 0, "0xB8000 decodes only with SR17 bit 2");
  r.sr(0x17, 0x04);
  c.window.write(0x18000 + 0x18, 1, 0x80);
  strictEqual(r.gr(0x30), 0x80);
  strictEqual(c.bar0.read(CIRRUS_BLT_WINDOW, 1), 0xff);
});

Deno.test("cirrus: snapshot and restore are exact; bad states are refused whole", () => {
  const rnd = new SeededRandom(5446);
  for (let round = 0; round < 20; round++) {
    const c = colourCirrus();
    const r = io(c);
    for (let i = 0; i < 200; i++) {
      const which = rnd.below(4);
      if (which === 0) r.sr(rnd.int(0, 0x1f), rnd.byte());
      else if (which === 1) {
        r.gr(rnd.pick([0, 1, 5, 9, 0x0a, 0x0b, 0x10, 0x11, 0x2f, 0x34]), rnd.byte());
      } else if (which === 2) r.cr(rnd.int(0x19, 0x1d), rnd.byte());
      else r.inp(0x3c6);
    }
    const good = assertRestoreIdentity(c, colourCirrus());
    assertRestoreRejects(c, good, [
      { sr: new Uint8Array(3) },
      { cr: new Uint8Array(0x28) },
      { hiddenPalette: new Uint8Array(48).fill(0x40) },
      { cursorX: -1 },
      { vga: { ...good.vga, version: 9 } },
    ]);
  }
});

Deno.test("cirrus: the hardware cursor is drawn over the picture from its planes and hidden palette", () => {
  const c = colourCirrus();
  const r = io(c);
  setMode(c, 640, 480, 0x01, 640);
  r.sr(0x12, 0x02); // the DAC reaches the hidden palette
  r.out(0x3c8, 0x00);
  for (const v of [63, 0, 0]) r.out(0x3c9, v);
  r.out(0x3c8, 0x0f);
  for (const v of [0, 63, 0]) r.out(0x3c9, v);
  const base = CIRRUS_VRAM_SIZE - 0x4000 + 2 * 256; // SR13 = 2
  c.vga.vram[base + 5 * 4] = 0b1010_0000; // row 5, plane 0
  c.vga.vram[base + 128 + 5 * 4] = 0b1100_0000; // plane 1
  r.sr(0x13, 0x02);
  r.sr(0x50, 0x01); // x = 8 + 2
  r.sr(0xb1, 0x00); // y = 5
  ok(renderFrame(c.vga)!.rgba.every((v, i) => i % 4 === 3 || v === 0), "hidden: nothing drawn");
  r.sr(0x12, 0x01);
  const img = renderFrame(c.vga)!;
  const px = (
    x: number,
    y: number,
  ) => [...img.rgba.subarray((y * 640 + x) * 4, (y * 640 + x) * 4 + 3)];
  deepStrictEqual(
    [px(10, 10), px(11, 10), px(12, 10), px(13, 10), px(9, 10)],
    [[0, 255, 0], [255, 0, 0], [255, 255, 255], [0, 0, 0], [0, 0, 0]],
  );
  strictEqual(frameFormat(c.vga).cursor?.size, 32);
});
