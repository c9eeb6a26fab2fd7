import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import {
  Dispi,
  DISPI_ENABLE,
  DISPI_INDEX,
  DISPI_MAX_BPP,
  DISPI_MAX_XRES,
  DISPI_MAX_YRES,
  DispiWindow,
} from "./dispi.ts";
import { VgaPci } from "./vga_pci.ts";
import type { AccessSize, BusDevice } from "../types.ts";

const MiB = 1024 * 1024;

/** Writes a register the way SeaVGABIOS does: outw index, outw data. */
function set(d: BusDevice, index: number, value: number): void {
  d.write(0, 2, index);
  d.write(1, 2, value);
}

function get(d: BusDevice, index: number): number {
  d.write(0, 2, index);
  return d.read(1, 2);
}

function mode(d: Dispi, width: number, height: number, bpp: number, flags = 0): void {
  set(d, DISPI_INDEX.ENABLE, 0);
  set(d, DISPI_INDEX.BPP, bpp);
  set(d, DISPI_INDEX.XRES, width);
  set(d, DISPI_INDEX.YRES, height);
  set(d, DISPI_INDEX.ENABLE, DISPI_ENABLE.ENABLED | flags);
}

Deno.test("DISPI ID keeps the interface versions it is told, and only those", () => {
  const d = new Dispi(new Uint8Array(MiB));
  strictEqual(get(d, DISPI_INDEX.ID), 0xb0c5);
  for (const id of [0xb0c0, 0xb0c2, 0xb0c5]) {
    set(d, DISPI_INDEX.ID, id);
    strictEqual(get(d, DISPI_INDEX.ID), id);
  }
  set(d, DISPI_INDEX.ID, 0xb0c6);
  strictEqual(get(d, DISPI_INDEX.ID), 0xb0c5);
  set(d, DISPI_INDEX.ID, 0x1234);
  strictEqual(get(d, DISPI_INDEX.ID), 0xb0c5);
});

Deno.test("DISPI GETCAPS reads the maxima; the video memory register counts 64 KiB units", () => {
  const d = new Dispi(new Uint8Array(16 * MiB));
  strictEqual(get(d, DISPI_INDEX.VIDEO_MEMORY_64K), 256);
  set(d, DISPI_INDEX.ENABLE, DISPI_ENABLE.GETCAPS);
  deepStrictEqual(
    [get(d, DISPI_INDEX.XRES), get(d, DISPI_INDEX.YRES), get(d, DISPI_INDEX.BPP)],
    [DISPI_MAX_XRES, DISPI_MAX_YRES, DISPI_MAX_BPP],
  );
  set(d, DISPI_INDEX.ENABLE, 0);
  deepStrictEqual([get(d, DISPI_INDEX.XRES), get(d, DISPI_INDEX.BPP)], [640, 8]);
  strictEqual(d.read(0, 2), DISPI_INDEX.BPP, "the index port reads back");
});

Deno.test("enabling a DISPI mode lays it out, clears its memory unless told not to", () => {
  const vram = new Uint8Array(16 * MiB).fill(0xaa);
  const d = new Dispi(vram);
  const cleared: [number, number][] = [];
  d.onClear = (start, end) => cleared.push([start, end]);
  strictEqual(d.layout(), null);
  mode(d, 1024, 768, 32);
  deepStrictEqual(d.layout(), {
    width: 1024,
    height: 768,
    bpp: 32,
    lineBytes: 4096,
    startByte: 0,
    virtualHeight: 4096,
  });
  deepStrictEqual(cleared, [[0, 768 * 4096]]);
  strictEqual(vram[768 * 4096 - 1], 0);
  strictEqual(vram[768 * 4096], 0xaa);
  vram.fill(0x55, 0, 16);
  mode(d, 640, 480, 16, DISPI_ENABLE.NOCLEARMEM);
  strictEqual(vram[0], 0x55);
  strictEqual(d.layout()?.lineBytes, 1280);
  // Enabling again while enabled changes nothing and clears nothing.
  set(d, DISPI_INDEX.ENABLE, DISPI_ENABLE.ENABLED);
  strictEqual(vram[0], 0x55);
  strictEqual(cleared.length, 1);
});

Deno.test("DISPI panning: virtual width and x/y offsets move the start, clamped inside memory", () => {
  const d = new Dispi(new Uint8Array(4 * MiB));
  mode(d, 800, 600, 24);
  set(d, DISPI_INDEX.VIRT_WIDTH, 1024);
  set(d, DISPI_INDEX.X_OFFSET, 16);
  set(d, DISPI_INDEX.Y_OFFSET, 10);
  const l = d.layout()!;
  strictEqual(l.lineBytes, 1024 * 3);
  strictEqual(l.startByte, 10 * 1024 * 3 + 16 * 3);
  strictEqual(get(d, DISPI_INDEX.VIRT_HEIGHT), Math.floor((4 * MiB) / (1024 * 3)));
  set(d, DISPI_INDEX.X_OFFSET, 5000);
  strictEqual(get(d, DISPI_INDEX.X_OFFSET), 1024 - 800);
  set(d, DISPI_INDEX.Y_OFFSET, 60000);
  strictEqual(get(d, DISPI_INDEX.Y_OFFSET), get(d, DISPI_INDEX.VIRT_HEIGHT) - 600);
});

Deno.test("DISPI clamps impossible modes: depth, width alignment, height against memory", () => {
  const d = new Dispi(new Uint8Array(1 * MiB));
  mode(d, 1030, 200, 12);
  strictEqual(get(d, DISPI_INDEX.BPP), 8);
  strictEqual(get(d, DISPI_INDEX.XRES), 1024);
  mode(d, 1024, 768, 32); // needs 3 MiB
  const l = d.layout()!;
  strictEqual(l.height, Math.floor(MiB / 4096));
  strictEqual(l.height * l.lineBytes <= MiB, true);
  mode(d, 320, 200, 4);
  strictEqual(d.layout()?.lineBytes, 160, "4-bit planar lines are half a byte a pixel");
});

Deno.test("the window shows the selected bank byte for byte while a packed DISPI mode is on", () => {
  const vram = new Uint8Array(4 * MiB);
  const d = new Dispi(vram);
  const planarWrites: number[] = [];
  const planar: BusDevice = {
    read: () => 0x42,
    write: (offset: number, _size: AccessSize) => planarWrites.push(offset),
  };
  const w = new DispiWindow(d, vram, planar);
  const banked: [number, number][] = [];
  w.onBankedWrite = (start, end) => banked.push([start, end]);
  strictEqual(w.read(0, 1), 0x42, "DISPI off: the VGA's window");
  w.write(8, 1, 1);
  deepStrictEqual(planarWrites, [8]);
  mode(d, 640, 480, 32);
  set(d, DISPI_INDEX.BANK, 3);
  strictEqual(d.bankOffset, 3 * 0x10000);
  w.write(0x10, 4, 0x11223344);
  deepStrictEqual([...vram.subarray(0x30010, 0x30014)], [0x44, 0x33, 0x22, 0x11]);
  strictEqual(w.read(0x10, 2), 0x3344);
  deepStrictEqual(banked, [[0x30010, 0x30014]]);
  strictEqual(w.read(0x10000, 1), 0xff, "only 64 KiB of the window are decoded");
  set(d, DISPI_INDEX.BANK, 1000);
  strictEqual(get(d, DISPI_INDEX.BANK) < 64, true, "banks wrap at the end of video RAM");
  mode(d, 640, 480, 4);
  strictEqual(w.read(0, 1), 0x42, "4-bit planar DISPI modes use the VGA's window");
  set(d, DISPI_INDEX.ENABLE, 0);
  strictEqual(d.bankOffset, 0, "disabling resets the bank");
});

Deno.test("the standard VGA's BAR2 reaches the DISPI registers at 0x500 + index × 2", () => {
  const pci = new VgaPci({ vramSize: 4 * MiB });
  strictEqual(pci.mmio.read(0x500, 2), 0xb0c5);
  strictEqual(pci.mmio.read(0x500 + DISPI_INDEX.VIDEO_MEMORY_64K * 2, 2), 64);
  pci.mmio.write(0x500 + DISPI_INDEX.XRES * 2, 2, 800);
  strictEqual(pci.vga.dispi.regs[DISPI_INDEX.XRES], 800);
  strictEqual(pci.mmio.read(0x600, 2), 0xffff, "the QEMU extension block is absent");
});

Deno.test("dispi: snapshot -> restore in a VBE mode with a bank set; the window shows the same bank", () => {
  const vram = new Uint8Array(0x400000).map((_, i) => i * 7);
  const a = new Dispi(vram);
  const set = (d: Dispi, index: number, value: number) => d.writeRegister(index, value);
  set(a, DISPI_INDEX.XRES, 1024);
  set(a, DISPI_INDEX.YRES, 768);
  set(a, DISPI_INDEX.BPP, 16);
  set(a, DISPI_INDEX.ENABLE, DISPI_ENABLE.ENABLED | DISPI_ENABLE.NOCLEARMEM);
  set(a, DISPI_INDEX.BANK, 5);
  set(a, DISPI_INDEX.Y_OFFSET, 100);
  a.write(0, 2, DISPI_INDEX.BANK);
  const saved = a.snapshot();
  const b = new Dispi(vram);
  b.restore(structuredClone(saved));
  deepStrictEqual(b.snapshot(), saved);
  deepStrictEqual(b.layout(), a.layout());
  strictEqual(b.read(1, 2), 5);
  const planar = { read: () => 0, write: () => {} };
  const wa = new DispiWindow(a, vram, planar);
  const wb = new DispiWindow(b, vram, planar);
  strictEqual(wb.read(0x1234, 4), wa.read(0x1234, 4));
  // Too big for a smaller video RAM: refused, the registers untouched.
  const small = new Dispi(new Uint8Array(0x100000));
  const before = small.snapshot();
  throws(() => small.restore(saved), StateError);
  deepStrictEqual(small.snapshot(), before);
});
