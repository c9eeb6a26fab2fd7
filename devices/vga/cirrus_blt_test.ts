/**
 * The BitBLT engine through the CL-GD5446's registers, each kind checked
 * against the result computed here from the operation's definition.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { SeededRandom } from "../testing/seeded_random.ts";
import { CIRRUS_VRAM_SIZE, CirrusVga } from "./cirrus.ts";

interface Blt {
  width: number;
  height: number;
  dst: number;
  src?: number;
  dstPitch: number;
  srcPitch?: number;
  /** GR30 (pixel width bits included). */
  mode: number;
  rop?: number;
  modeExt?: number;
  fg?: number;
  bg?: number;
  skip?: number;
  transparent?: number;
}

function gr(c: CirrusVga, i: number, v: number): void {
  c.ports.write(0x3ce - 0x3b0, 1, i);
  c.ports.write(0x3cf - 0x3b0, 1, v);
}

/** Programs GR00-GR35 for `b` and sets the start bit. */
function blt(c: CirrusVga, b: Blt): void {
  const fg = b.fg ?? 0, bg = b.bg ?? 0;
  const regs: [number, number][] = [
    [0x00, bg & 0xff],
    [0x10, (bg >> 8) & 0xff],
    [0x12, (bg >> 16) & 0xff],
    [0x14, (bg >>> 24) & 0xff],
    [0x01, fg & 0xff],
    [0x11, (fg >> 8) & 0xff],
    [0x13, (fg >> 16) & 0xff],
    [0x15, (fg >>> 24) & 0xff],
    [0x20, (b.width - 1) & 0xff],
    [0x21, (b.width - 1) >> 8],
    [0x22, (b.height - 1) & 0xff],
    [0x23, (b.height - 1) >> 8],
    [0x24, b.dstPitch & 0xff],
    [0x25, b.dstPitch >> 8],
    [0x26, (b.srcPitch ?? 0) & 0xff],
    [0x27, (b.srcPitch ?? 0) >> 8],
    [0x28, b.dst & 0xff],
    [0x29, (b.dst >> 8) & 0xff],
    [0x2a, b.dst >> 16],
    [0x2c, (b.src ?? 0) & 0xff],
    [0x2d, ((b.src ?? 0) >> 8) & 0xff],
    [0x2e, (b.src ?? 0) >> 16],
    [0x2f, b.skip ?? 0],
    [0x30, b.mode],
    [0x32, b.rop ?? 0x0d],
    [0x33, b.modeExt ?? 0],
    [0x34, (b.transparent ?? 0) & 0xff],
    [0x35, (b.transparent ?? 0) >> 8],
  ];
  for (const [i, v] of regs) gr(c, i, v);
  gr(c, 0x31, 0x02);
}

function status(c: CirrusVga): number {
  c.ports.write(0x3ce - 0x3b0, 1, 0x31);
  return c.ports.read(0x3cf - 0x3b0, 1);
}

/** A Cirrus whose video RAM holds seeded noise (`expected` starts as a copy). */
function noisy(seed: number): { c: CirrusVga; vram: Uint8Array; expected: Uint8Array } {
  const c = new CirrusVga();
  const rnd = new SeededRandom(seed);
  const vram = c.vga.vram;
  for (let i = 0; i < 0x40000; i++) vram[i] = rnd.byte();
  return { c, vram, expected: vram.slice() };
}

function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      throw new Error(`${what}: byte 0x${i.toString(16)} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** The ROPs by their definitions (GR32 codes as in the CL-GD5446 data book). */
const ROP_DEFS: [number, string, (d: number, s: number) => number][] = [
  [0x00, "0", () => 0],
  [0x05, "S and D", (d, s) => s & d],
  [0x06, "D", (d) => d],
  [0x09, "S and not D", (d, s) => s & (255 - d)],
  [0x0b, "not D", (d) => 255 - d],
  [0x0d, "S", (_d, s) => s],
  [0x0e, "1", () => 255],
  [0x50, "not S and D", (d, s) => (255 - s) & d],
  [0x59, "S xor D", (d, s) => s ^ d],
  [0x6d, "S or D", (d, s) => s | d],
  [0x90, "not (S and D)", (d, s) => 255 - (s & d)],
  [0x95, "not (S xor D)", (d, s) => 255 - (s ^ d)],
  [0xad, "S or not D", (d, s) => s | (255 - d)],
  [0xd0, "not S", (_d, s) => 255 - s],
  [0xd6, "not S or D", (d, s) => (255 - s) | d],
  [0xda, "not (S or D)", (d, s) => 255 - (s | d)],
  [0x33, "an unknown code does nothing", (d) => d],
];

Deno.test("cirrus blt: solid fill at 8, 16, 24 and 32 bpp", () => {
  for (const [pw, fg] of [[1, 0x5a], [2, 0xbeef], [3, 0x123456], [4, 0x89abcdef]]) {
    const { c, vram, expected } = noisy(pw);
    const b = {
      width: 24 * pw,
      height: 7,
      dst: 0x1234,
      dstPitch: 640,
      mode: 0xc0 | ((pw - 1) << 4),
      modeExt: 0x04,
      fg,
    };
    blt(c, b);
    for (let y = 0; y < b.height; y++) {
      for (let x = 0; x < b.width; x++) {
        expected[b.dst + y * b.dstPitch + x] = (fg >>> (8 * (x % pw))) & 0xff;
      }
    }
    sameBytes(vram, expected, `fill ${pw * 8} bpp`);
    strictEqual(status(c), 0, "the BLT is done at once");
  }
});

Deno.test("cirrus blt: every ROP on a screen-to-screen copy", () => {
  for (const [code, name, f] of ROP_DEFS) {
    const { c, vram, expected } = noisy(code);
    const b = { width: 33, height: 5, dst: 0x20000, src: 0x100, dstPitch: 100, srcPitch: 50 };
    blt(c, { ...b, mode: 0, rop: code });
    for (let y = 0; y < b.height; y++) {
      for (let x = 0; x < b.width; x++) {
        const d = b.dst + y * b.dstPitch + x;
        expected[d] = f(expected[d], expected[b.src + y * b.srcPitch + x]);
      }
    }
    sameBytes(vram, expected, `ROP ${name}`);
  }
});

Deno.test("cirrus blt: backward copy moves an overlapping block down and right intact", () => {
  const { c, vram, expected } = noisy(7);
  const pitch = 256, w = 40, h = 20;
  const src = 0x8000 + 10 * pitch + 10, dst = src + 3 * pitch + 5;
  // Both addresses name the last byte of the block for a backward BLT.
  blt(c, {
    width: w,
    height: h,
    dst: dst + (h - 1) * pitch + w - 1,
    src: src + (h - 1) * pitch + w - 1,
    dstPitch: pitch,
    srcPitch: pitch,
    mode: 0x01,
  });
  const before = expected.slice();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) expected[dst + y * pitch + x] = before[src + y * pitch + x];
  }
  sameBytes(vram, expected, "backward copy");
});

Deno.test("cirrus blt: transparent copies skip the key colour (8 and 16 bpp)", () => {
  const { c, vram, expected } = noisy(8);
  for (let i = 0; i < 64; i += 3) vram[0x300 + i] = 0x77;
  expected.set(vram.subarray(0x300, 0x340), 0x300);
  blt(c, {
    width: 64,
    height: 1,
    dst: 0x5000,
    src: 0x300,
    dstPitch: 64,
    srcPitch: 64,
    mode: 0x08,
    transparent: 0x77,
  });
  for (let x = 0; x < 64; x++) {
    if (expected[0x300 + x] !== 0x77) expected[0x5000 + x] = expected[0x300 + x];
  }
  sameBytes(vram, expected, "8 bpp");
  for (let i = 0; i < 64; i += 6) [vram[0x400 + i], vram[0x401 + i]] = [0x34, 0x12];
  expected.set(vram.subarray(0x400, 0x440), 0x400);
  blt(c, {
    width: 64,
    height: 1,
    dst: 0x6000,
    src: 0x400,
    dstPitch: 64,
    srcPitch: 64,
    mode: 0x18,
    transparent: 0x1234,
  });
  for (let x = 0; x < 64; x += 2) {
    const p = expected[0x400 + x] | (expected[0x401 + x] << 8);
    if (p !== 0x1234) [expected[0x6000 + x], expected[0x6001 + x]] = [p & 0xff, p >> 8];
  }
  sameBytes(vram, expected, "16 bpp");
});

Deno.test("cirrus blt: 8x8 pattern fill at 8 and 32 bpp from video memory", () => {
  for (const pw of [1, 4]) {
    const { c, vram, expected } = noisy(10 + pw);
    // Outside extended modes QEMU aligns a video pattern to 256 bytes.
    const pat = 0x2300;
    const b = { width: 21 * pw, height: 11, dst: 0x9001 * pw, src: pat + 5, dstPitch: 300 * pw };
    blt(c, { ...b, mode: 0x40 | ((pw - 1) << 4) });
    const rowBytes = pw === 1 ? 8 : 32;
    for (let y = 0; y < b.height; y++) {
      for (let x = 0; x < b.width / pw; x++) {
        for (let i = 0; i < pw; i++) {
          expected[b.dst + y * b.dstPitch + x * pw + i] =
            expected[pat + (y & 7) * rowBytes + (x & 7) * pw + i];
        }
      }
    }
    sameBytes(vram, expected, `pattern ${pw * 8} bpp`);
  }
});

/** Bit `x` of a monochrome row (MSB first). */
const bit = (bytes: Uint8Array, at: number, x: number) =>
  (bytes[at + (x >> 3)] >> (7 - (x & 7))) & 1;

Deno.test("cirrus blt: colour expansion, opaque and transparent, with a left skip", () => {
  const { c, vram, expected } = noisy(20);
  const w = 19, h = 6, src = 0x700;
  const lineBytes = Math.ceil(w / 8);
  const opaque = {
    width: w,
    height: h,
    dst: 0x10000,
    src,
    dstPitch: 64,
    mode: 0x80,
    fg: 0xf0,
    bg: 0x0f,
  };
  // QEMU's bounds check refuses a source pitch of 0, although expansion does not use it.
  blt(c, { ...opaque, srcPitch: 0 });
  sameBytes(vram, expected, "source pitch 0");
  // Opaque at 8 bpp: each line's bits start on a new byte.
  blt(c, { ...opaque, srcPitch: lineBytes });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      expected[0x10000 + y * 64 + x] = bit(expected, src + y * lineBytes, x) ? 0xf0 : 0x0f;
    }
  }
  sameBytes(vram, expected, "opaque 8 bpp");
  // Transparent at 16 bpp, skipping the first 3 pixels: zeros leave the screen alone.
  blt(c, {
    width: 2 * w,
    height: h,
    dst: 0x11000,
    src,
    dstPitch: 128,
    srcPitch: 1,
    mode: 0x98,
    fg: 0xabcd,
    skip: 3,
  });
  for (let y = 0; y < h; y++) {
    for (let x = 3; x < w; x++) {
      if (!bit(expected, src + y * lineBytes, x)) continue;
      expected[0x11000 + y * 128 + 2 * x] = 0xcd;
      expected[0x11001 + y * 128 + 2 * x] = 0xab;
    }
  }
  sameBytes(vram, expected, "transparent 16 bpp");
  // Inverted transparency paints the zeros with the background colour.
  blt(c, {
    width: w,
    height: h,
    dst: 0x12000,
    src,
    dstPitch: 64,
    srcPitch: 1,
    mode: 0x88,
    modeExt: 0x02,
    bg: 0x42,
  });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!bit(expected, src + y * lineBytes, x)) expected[0x12000 + y * 64 + x] = 0x42;
    }
  }
  sameBytes(vram, expected, "inverted transparent 8 bpp");
});

Deno.test("cirrus blt: colour-expanded 8x8 pattern at 24 bpp", () => {
  const { c, vram, expected } = noisy(30);
  const pat = 0x4400, w = 13, h = 10;
  blt(c, {
    width: 3 * w,
    height: h,
    dst: 0x30000,
    src: pat,
    dstPitch: 1000,
    mode: 0xe0,
    fg: 0x010203,
    bg: 0xa0b0c0,
  });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const col = (expected[pat + (y & 7)] >> (7 - (x & 7))) & 1 ? 0x010203 : 0xa0b0c0;
      for (let i = 0; i < 3; i++) {
        expected[0x30000 + y * 1000 + 3 * x + i] = (col >> (8 * i)) & 0xff;
      }
    }
  }
  sameBytes(vram, expected, "expanded pattern 24 bpp");
});

Deno.test("cirrus blt: system-to-screen copy fed through the 0xA0000 window in dwords", () => {
  const { c, vram, expected } = noisy(40);
  c.ports.write(0x3c4 - 0x3b0, 1, 0x07);
  c.ports.write(0x3c5 - 0x3b0, 1, 0x01);
  const w = 10, h = 4, dst = 0x2000;
  blt(c, { width: w, height: h, dst, dstPitch: 32, mode: 0x04 });
  ok(!c.directAccess, "the linear window feeds the BLT while it waits");
  strictEqual(status(c) & 0x01, 0x01, "busy while waiting");
  const rnd = new SeededRandom(41);
  const pitch = 12; // lines are padded to whole dwords
  const data = Uint8Array.from({ length: pitch * h }, () => rnd.byte());
  for (let i = 0; i < data.length; i += 4) {
    c.window.write(0, 4, data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
  }
  for (let y = 0; y < h; y++) expected.set(data.subarray(y * pitch, y * pitch + w), dst + y * 32);
  sameBytes(vram, expected, "system source");
  strictEqual(status(c), 0);
  ok(c.directAccess);
});

Deno.test("cirrus blt: system colour expansion through the BAR0 BLT window", () => {
  const { c, vram, expected } = noisy(50);
  const w = 10, h = 3, dst = 0x40000;
  blt(c, {
    width: 4 * w,
    height: h,
    dst,
    dstPitch: 160,
    mode: 0xb4,
    fg: 0x11223344,
    bg: 0x55667788,
  });
  const lines = [[0xa5, 0xc0], [0xff, 0x00], [0x01, 0x40]];
  for (const line of lines) for (const b of line) c.bar0.write(0x1000000, 1, b);
  lines.forEach((line, y) => {
    const bytes = Uint8Array.from(line);
    for (let x = 0; x < w; x++) {
      const col = bit(bytes, 0, x) ? 0x11223344 : 0x55667788;
      for (let i = 0; i < 4; i++) expected[dst + y * 160 + 4 * x + i] = (col >>> (8 * i)) & 0xff;
    }
  });
  sameBytes(vram, expected, "system colour expansion");
  strictEqual(status(c), 0);
});

Deno.test("cirrus blt: operations that would leave video RAM are dropped", () => {
  const { c, vram, expected } = noisy(60);
  blt(c, {
    width: 100,
    height: 10,
    dst: CIRRUS_VRAM_SIZE - 500,
    dstPitch: 100,
    mode: 0xc0,
    modeExt: 4,
    fg: 1,
  });
  sameBytes(vram, expected, "fill past the end");
  strictEqual(status(c), 0);
  deepStrictEqual(c.blitter.phase, "idle");
});

Deno.test("cirrus blt: GR2A with autostart (GR31 bit 7) starts the BLT", () => {
  const { c, vram } = noisy(70);
  gr(c, 0x31, 0x80);
  blt(c, { width: 4, height: 1, dst: 0x100, dstPitch: 4, mode: 0xc0, modeExt: 4, fg: 0x99 });
  deepStrictEqual([...vram.subarray(0x100, 0x104)], [0x99, 0x99, 0x99, 0x99]);
});
