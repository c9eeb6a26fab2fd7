import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { prng } from "../testing/seeded_random.ts";
import { StateError } from "../types.ts";
import { displayGeometry } from "./display_geometry.ts";
import { programRegisters, TEXT_80X25 } from "./mode_tables.ts";
import { Vga, VGA_PORT_BASE, type VgaState } from "./vga.ts";

const inb = (vga: Vga, port: number) => vga.read(port - VGA_PORT_BASE, 1);
const inw = (vga: Vga, port: number) => vga.read(port - VGA_PORT_BASE, 2);
const outb = (vga: Vga, port: number, v: number) => vga.write(port - VGA_PORT_BASE, 1, v);
const outw = (vga: Vga, port: number, v: number) => vga.write(port - VGA_PORT_BASE, 2, v);

Deno.test("vga: misc output is written at 0x3C2 and read at 0x3CC", () => {
  const vga = new Vga();
  outb(vga, 0x3c2, 0x67);
  strictEqual(inb(vga, 0x3cc), 0x67);
  strictEqual(inb(vga, 0x3c2), 0x00); // input status 0
});

Deno.test("vga: misc bit 0 moves the CRTC and input status between 0x3Bx and 0x3Dx", () => {
  const vga = new Vga();
  outb(vga, 0x3c2, 0x66); // mono addressing
  outb(vga, 0x3b4, 0x0e);
  outb(vga, 0x3b5, 0x12);
  strictEqual(inb(vga, 0x3b5), 0x12);
  strictEqual(inb(vga, 0x3d4), 0xff);
  outb(vga, 0x3d5, 0x34); // ignored: colour CRTC is not decoded
  strictEqual(inb(vga, 0x3b5), 0x12);
  outb(vga, 0x3c2, 0x67); // colour addressing
  strictEqual(inb(vga, 0x3b4), 0xff);
  strictEqual(inb(vga, 0x3d4), 0x0e);
  strictEqual(inb(vga, 0x3d5), 0x12);
  strictEqual(inb(vga, 0x3ba), 0xff);
});

Deno.test("vga: 16-bit writes are index then data, 16-bit reads index then data", () => {
  const vga = new Vga();
  outb(vga, 0x3c2, 0x67);
  outw(vga, 0x3c4, 0x0f02); // map mask = 0x0f
  strictEqual(vga.seq.mapMask, 0x0f);
  strictEqual(inw(vga, 0x3c4), 0x0f02);
  outw(vga, 0x3ce, 0xff08); // bit mask
  strictEqual(vga.gc.bitMask, 0xff);
  outw(vga, 0x3d4, 0x070e); // cursor location high
  outw(vga, 0x3d4, 0xd00f); // cursor location low
  strictEqual(vga.crtc.cursorLocation, 0x07d0);
  strictEqual(inw(vga, 0x3d4), 0xd00f);
});

Deno.test("vga: input status 1 toggles display-enable and vertical retrace", () => {
  const vga = new Vga();
  outb(vga, 0x3c2, 0x01);
  const seen = new Set<number>();
  for (let i = 0; i < 16; i++) {
    const v = inb(vga, 0x3da);
    seen.add(v & 0x09);
    if (v & 0x08) strictEqual(v & 0x01, 0x01); // retrace is never display time
  }
  deepStrictEqual([...seen].sort(), [0x00, 0x01, 0x09]);
  // The classic "wait for the end of retrace, then for its start" loop finishes.
  let reads = 0;
  while (inb(vga, 0x3da) & 0x08) reads++;
  while (!(inb(vga, 0x3da) & 0x08)) reads++;
  strictEqual(reads < 16, true);
  outb(vga, 0x3c2, 0x00); // the mono address answers in mono mode
  let retrace = false;
  for (let i = 0; i < 8; i++) retrace ||= (inb(vga, 0x3ba) & 0x08) !== 0;
  strictEqual(retrace, true);
});

Deno.test("vga: input status 1 resets the attribute flip-flop", () => {
  const vga = new Vga();
  outb(vga, 0x3c2, 0x01);
  outb(vga, 0x3c0, 0x10); // index; next write would be data
  inb(vga, 0x3da);
  outb(vga, 0x3c0, 0x31); // index 0x11 with palette source set
  outb(vga, 0x3c0, 0x05); // overscan
  strictEqual(inb(vga, 0x3c0), 0x31);
  strictEqual(inb(vga, 0x3c1), 0x05);
  strictEqual(vga.attr.paletteAddressSource, true);
  strictEqual(vga.attr.regs[0x10], 0);
});

Deno.test("vga: attribute palette through 0x3C0/0x3C1", () => {
  const vga = new Vga();
  outb(vga, 0x3c2, 0x01);
  inb(vga, 0x3da);
  for (let i = 0; i < 16; i++) {
    outb(vga, 0x3c0, i);
    outb(vga, 0x3c0, 0x3f - i);
  }
  outb(vga, 0x3c0, 0x20);
  deepStrictEqual([...vga.attributePalette()], [...new Array(16).keys()].map((i) => 0x3f - i));
});

Deno.test("vga: DAC ports with auto-increment", () => {
  const vga = new Vga();
  outb(vga, 0x3c6, 0xff);
  strictEqual(inb(vga, 0x3c6), 0xff);
  outb(vga, 0x3c8, 0x07);
  for (const v of [0x2a, 0x2a, 0x2a, 0x15, 0x15, 0x15]) outb(vga, 0x3c9, v);
  strictEqual(inb(vga, 0x3c8), 0x09);
  strictEqual(inb(vga, 0x3c7), 0x00);
  outb(vga, 0x3c7, 0x07);
  strictEqual(inb(vga, 0x3c7), 0x03);
  deepStrictEqual([0, 1, 2, 3, 4, 5].map(() => inb(vga, 0x3c9)), [42, 42, 42, 21, 21, 21]);
  // rep outsb to 0x3C9 loads several entries at once.
  outb(vga, 0x3c8, 0x20);
  vga.writeBlock(0x3c9 - VGA_PORT_BASE, 1, new Uint8Array([1, 2, 3, 4, 5, 6]));
  deepStrictEqual([...vga.dacPalette().subarray(0x60, 0x66)], [1, 2, 3, 4, 5, 6]);
  outb(vga, 0x3c7, 0x20);
  const dst = new Uint8Array(3);
  vga.readBlock(0x3c9 - VGA_PORT_BASE, 1, dst);
  deepStrictEqual([...dst], [1, 2, 3]);
});

Deno.test("vga: feature control is written at the input status address, read at 0x3CA", () => {
  const vga = new Vga();
  outb(vga, 0x3c2, 0x01);
  outb(vga, 0x3da, 0x08);
  strictEqual(inb(vga, 0x3ca), 0x08);
});

Deno.test("vga: unknown ports read all ones", () => {
  const vga = new Vga();
  strictEqual(inb(vga, 0x3b0), 0xff);
  strictEqual(inb(vga, 0x3cd), 0xff);
  strictEqual(inb(vga, 0x3df), 0xff);
});

/** Loads glyph rows the way a BIOS font load does (int 10h AX=1100h). */
function loadFont(vga: Vga, map: number, glyphs: Map<number, number[]>): void {
  outw(vga, 0x3c4, 0x0100); // synchronous reset
  outw(vga, 0x3c4, 0x0402); // write plane 2 only
  outw(vga, 0x3c4, 0x0704); // sequential addressing, no odd/even, no chain-4
  outw(vga, 0x3c4, 0x0300);
  outw(vga, 0x3ce, 0x0204); // read plane 2
  outw(vga, 0x3ce, 0x0005); // write mode 0, no odd/even
  outw(vga, 0x3ce, 0x0406); // A0000 64K
  for (const [code, rows] of glyphs) {
    rows.forEach((r, i) => vga.memory.write(map + code * 32 + i, 1, r));
  }
  outw(vga, 0x3c4, 0x0100);
  outw(vga, 0x3c4, 0x0302);
  outw(vga, 0x3c4, 0x0304);
  outw(vga, 0x3c4, 0x0300);
  outw(vga, 0x3ce, 0x0004);
  outw(vga, 0x3ce, 0x1005);
  outw(vga, 0x3ce, 0x0e06);
}

const A_GLYPH = [0, 0, 0x10, 0x38, 0x6c, 0xc6, 0xc6, 0xfe, 0xc6, 0xc6, 0xc6, 0xc6, 0, 0, 0, 0];

Deno.test("vga: glyph() reads a font loaded into plane 2 through the window", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  loadFont(vga, 0, new Map([[0x41, A_GLYPH]]));
  deepStrictEqual([...vga.glyph(0x41, 16)], A_GLYPH);
  deepStrictEqual([...vga.glyph(0x41, 8)], A_GLYPH.slice(0, 8));
  deepStrictEqual([...vga.glyph(0x42, 16)], new Array(16).fill(0));
  // Back in text mode, character writes do not touch the font.
  vga.memory.write(0x18000 + 0x41 * 32, 2, 0x0741);
  deepStrictEqual([...vga.glyph(0x41, 16)], A_GLYPH);
  strictEqual(vga.memory.planeByte(0, 0x41 * 32), 0x41);
});

Deno.test("vga: glyph() follows the character map select", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  const other = A_GLYPH.map((r) => r ^ 0xff);
  loadFont(vga, 0x4000, new Map([[0x41, other]])); // map 1
  loadFont(vga, 0x0000, new Map([[0x41, A_GLYPH]]));
  outw(vga, 0x3c4, 0x0403); // map A = 1, map B = 0
  deepStrictEqual([...vga.glyph(0x41, 16, 0x08)], other);
  deepStrictEqual([...vga.glyph(0x41, 16, 0x07)], A_GLYPH);
  outw(vga, 0x3c4, 0x0103); // map B = 1
  deepStrictEqual([...vga.glyph(0x41, 16)], other);
});

Deno.test("vga: reset returns to power-on state; startInTextMode comes up in 80x25", () => {
  const vga = new Vga();
  programRegisters(vga, TEXT_80X25);
  vga.memory.write(0x18000, 1, 0x41);
  vga.reset();
  strictEqual(vga.misc, 0);
  strictEqual(vga.memory.planeByte(0, 0), 0);
  strictEqual(displayGeometry(vga).mode, "off");
  const booted = new Vga({ startInTextMode: true });
  const g = displayGeometry(booted);
  deepStrictEqual([g.mode, g.cols, g.rows, booted.gc.memoryMap], ["text", 80, 25, 3]);
  booted.memory.write(0x18000, 2, 0x0748);
  strictEqual(booted.memory.planeByte(0, 0), 0x48);
});

Deno.test("vga: VRAM size is validated", () => {
  throws(() => new Vga({ vramSize: 0x1000 }), RangeError);
  strictEqual(new Vga({ vramSize: 0x100000 }).vram.length, 0x100000);
});

type VgaOp =
  | { kind: "out" | "in"; port: number; size: 1 | 2; value: number }
  | { kind: "memw" | "memr"; offset: number; size: 1 | 2 | 4; value: number }
  | { kind: "dispiw" | "dispir"; index: number; value: number };

const BUSY_PORTS = [0x3c0, 0x3c1, 0x3c4, 0x3c5, 0x3c7, 0x3c8, 0x3c9, 0x3ce, 0x3cf, 0x3d4, 0x3d5];

/** Guest accesses a VGA driver might make: register banks, DAC, window, DISPI. */
function vgaOps(next: (n: number) => number, count: number): VgaOp[] {
  const ops: VgaOp[] = [];
  for (let i = 0; i < count; i++) {
    const r = next(100);
    const value = next(0x10000);
    if (r < 45) {
      const port = next(4) ? BUSY_PORTS[next(BUSY_PORTS.length)] : 0x3b0 + next(0x30);
      ops.push({ kind: next(3) ? "out" : "in", port, size: next(5) ? 1 : 2, value });
    } else if (r < 50) {
      ops.push({ kind: "in", port: 0x3da, size: 1, value: 0 }); // resets the flip-flop
    } else if (r < 85) {
      const size = ([1, 2, 4] as const)[next(3)];
      const offset = next(0x20000 - 4);
      ops.push({ kind: next(2) ? "memw" : "memr", offset, size, value: value * 0x10001 });
    } else {
      const index = next(11);
      const pick = [
        value,
        [320, 640, 800, 1024][next(4)],
        [8, 15, 16, 24, 32, 4][next(6)],
        0x41 | (next(2) << 7), // enable (with or without NOCLEARMEM)
        next(16),
      ][next(5)];
      ops.push({ kind: next(4) ? "dispiw" : "dispir", index, value: pick });
    }
  }
  return ops;
}

/** Applies `ops` and returns every value read. */
function runVgaOps(vga: Vga, ops: readonly VgaOp[]): number[] {
  const reads: number[] = [];
  for (const op of ops) {
    switch (op.kind) {
      case "out":
        vga.write(op.port - VGA_PORT_BASE, op.size, op.value & (op.size === 1 ? 0xff : 0xffff));
        break;
      case "in":
        reads.push(vga.read(op.port - VGA_PORT_BASE, op.size));
        break;
      case "memw":
        vga.window.write(op.offset, op.size, op.value % 2 ** (8 * op.size));
        break;
      case "memr":
        reads.push(vga.window.read(op.offset, op.size));
        break;
      case "dispiw":
        vga.dispi.write(0, 2, op.index);
        vga.dispi.write(1, 2, op.value & 0xffff);
        break;
      case "dispir":
        vga.dispi.write(0, 2, op.index);
        reads.push(vga.dispi.read(1, 2));
        break;
    }
  }
  return reads;
}

Deno.test("vga: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  for (let seed = 1; seed <= 24; seed++) {
    const next = prng(seed);
    const a = new Vga({ vramSize: 0x100000, startInTextMode: seed % 2 === 0 });
    runVgaOps(a, vgaOps(next, 400));
    // Leave the interesting latches mid-way: attribute flip-flop at data,
    // DAC mid-triplet, DISPI on with a bank selected.
    if (seed % 3 === 0) {
      runVgaOps(a, [
        { kind: "dispiw", index: 4, value: 0 },
        { kind: "dispiw", index: 3, value: 8 },
        { kind: "dispiw", index: 4, value: 0xc1 },
        { kind: "dispiw", index: 5, value: 3 },
      ]);
    }
    runVgaOps(a, [
      { kind: "in", port: 0x3da, size: 1, value: 0 },
      { kind: "in", port: 0x3ba, size: 1, value: 0 }, // whichever addressing is on
      { kind: "out", port: 0x3c0, size: 1, value: 0x31 },
      { kind: "out", port: 0x3c8, size: 1, value: next(256) },
      { kind: "out", port: 0x3c9, size: 1, value: next(64) },
      { kind: "in", port: 0x3ce, size: 1, value: 0 },
      { kind: "memr", offset: next(0x10000), size: 1, value: 0 }, // loads the latches
    ]);
    const saved = a.snapshot();
    strictEqual(saved.attribute.dataNext, true);
    strictEqual(saved.dac.component, 1);
    if (seed % 3 === 0) deepStrictEqual([a.dispi.enabled, a.dispi.bankOffset], [true, 0x30000]);

    const b = new Vga({ vram: a.vram.slice() });
    b.restore(structuredClone(saved));
    deepStrictEqual(b.snapshot(), saved);
    saved.dac.palette.fill(0x3f); // a snapshot is a copy, not a view
    deepStrictEqual(b.snapshot(), a.snapshot());

    const more = vgaOps(next, 400);
    deepStrictEqual(runVgaOps(b, more), runVgaOps(a, more), `seed ${seed}`);
    deepStrictEqual(b.snapshot(), a.snapshot());
    ok(b.vram.every((v, i) => v === a.vram[i]), `seed ${seed}: video RAM differs`);
  }
});

Deno.test("vga: restore refuses unknown versions and malformed states, leaving the VGA alone", () => {
  const vga = new Vga({ startInTextMode: true });
  const good = vga.snapshot();
  const bad: unknown[] = [
    { ...good, version: 2 },
    { ...good, misc: 0x100 },
    { ...good, latches: new Uint8Array(3) },
    { ...good, dac: { ...good.dac, component: 3 } },
    { ...good, sequencer: { ...good.sequencer, regs: new Uint8Array(5).fill(0xff) } },
    { ...good, attribute: { ...good.attribute, dataNext: 1 } },
    { ...good, dispi: { ...good.dispi, regs: [0xb0c5, 2560, 1600, 32, 1, 0, 0, 0, 0, 0, 0] } },
    null,
  ];
  const fresh = new Vga();
  for (const s of bad) throws(() => fresh.restore(s as VgaState), StateError);
  deepStrictEqual(fresh.snapshot(), new Vga().snapshot());
});
