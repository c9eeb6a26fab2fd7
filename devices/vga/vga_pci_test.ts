import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { prng } from "../testing/seeded_random.ts";
import { type BarChange, PCI_COMMAND_MEMORY, ROM_BAR } from "../pci/config_space.ts";
import { StateError } from "../types.ts";
import { romSizeFor, VgaPci, type VgaPciState } from "./vga_pci.ts";

Deno.test("vga pci: identity of QEMU's standard VGA", () => {
  const dev = new VgaPci();
  const c = dev.config;
  deepStrictEqual(
    [c.getU16(0x00), c.getU16(0x02), c.bytes[0x08], c.read(0x09, 1), c.read(0x0a, 2)],
    [0x1234, 0x1111, 2, 0x00, 0x0300],
  );
  deepStrictEqual([c.getU16(0x2c), c.getU16(0x2e)], [0x1af4, 0x1100]);
  strictEqual(dev.name, "vga");
});

Deno.test("vga pci: BAR sizing: prefetchable framebuffer, 4 KiB MMIO, nothing at BAR1", () => {
  const dev = new VgaPci();
  const c = dev.config;
  for (const off of [0x10, 0x14, 0x18]) c.write(off, 4, 0xffffffff);
  strictEqual(c.read(0x10, 4), 0xff000008);
  strictEqual(c.read(0x14, 4), 0);
  strictEqual(c.read(0x18, 4), 0xfffff000);
  const small = new VgaPci({ vramSize: 4 * 1024 * 1024 });
  small.config.write(0x10, 4, 0xffffffff);
  strictEqual(small.config.read(0x10, 4), 0xffc00008);
  strictEqual(small.vga.vram.length, 4 * 1024 * 1024);
});

Deno.test("vga pci: expansion ROM rounded to a power of two and readable", () => {
  const data = new Uint8Array(3000).map((_, i) => i & 0xff);
  data[0] = 0x55;
  data[1] = 0xaa;
  const dev = new VgaPci({ romData: data });
  strictEqual(dev.romSize, 4096);
  dev.config.write(0x30, 4, 0xfffff800);
  strictEqual(dev.config.read(0x30, 4), 0xfffff000);
  strictEqual(dev.rom.read(0, 2), 0xaa55);
  strictEqual(dev.rom.read(4, 4), 0x07060504);
  strictEqual(dev.rom.read(3000, 1), 0); // padding
  strictEqual(dev.rom.read(4096, 1), 0xff);
  dev.rom.write(0, 1, 0);
  strictEqual(dev.rom.read(0, 1), 0x55);
  deepStrictEqual([romSizeFor(0), romSizeFor(1), romSizeFor(2048), romSizeFor(40000)], [
    0,
    2048,
    2048,
    65536,
  ]);
  const none = new VgaPci();
  none.config.write(0x30, 4, 0xfffff800);
  strictEqual(none.config.read(0x30, 4), 0);
});

Deno.test("vga pci: BAR programming reports the mapping for the board", () => {
  const dev = new VgaPci({ romData: new Uint8Array(0x8000) });
  const changes: BarChange[] = [];
  dev.config.onBarChange = (c) => changes.push(c);
  dev.config.write(0x10, 4, 0xfd000000);
  dev.config.write(0x18, 4, 0xfebf0000);
  dev.config.write(0x30, 4, 0xfeb80001);
  dev.config.write(0x04, 2, PCI_COMMAND_MEMORY);
  deepStrictEqual(changes, [
    { index: 0, kind: "mem32", base: 0xfd000000, size: 16 * 1024 * 1024 },
    { index: 2, kind: "mem32", base: 0xfebf0000, size: 0x1000 },
    { index: ROM_BAR, kind: "rom", base: 0xfeb80000, size: 0x8000 },
  ]);
});

Deno.test("vga pci: framebuffer is the VGA's memory, linear", () => {
  const dev = new VgaPci({ vramSize: 1024 * 1024 });
  dev.framebuffer.write(4, 4, 0x44332211);
  deepStrictEqual([...dev.vga.vram.subarray(4, 8)], [0x11, 0x22, 0x33, 0x44]);
  strictEqual(dev.vga.memory.planeByte(1, 1), 0x22); // planes are interleaved
  strictEqual(dev.framebuffer.read(4, 2), 0x2211);
  strictEqual(dev.framebuffer.read(1024 * 1024, 1), 0xff);
  dev.framebuffer.writeBlock!(8, 2, new Uint8Array([1, 2, 3, 4]));
  strictEqual(dev.framebuffer.read(8, 2), 0x0403);
  const dst = new Uint8Array(4);
  dev.framebuffer.readBlock!(4, 2, dst);
  deepStrictEqual([...dst], [0x11, 0x22, 0x11, 0x22]);
});

Deno.test("vga pci: MMIO 0x400-0x41F mirrors ports 0x3C0-0x3DF", () => {
  const dev = new VgaPci();
  dev.mmio.write(0x402, 1, 0x67); // misc output
  strictEqual(dev.vga.misc, 0x67);
  strictEqual(dev.mmio.read(0x40c, 1), 0x67);
  dev.mmio.write(0x404, 2, 0x0f02); // sequencer map mask
  strictEqual(dev.vga.seq.mapMask, 0x0f);
  dev.mmio.write(0x414, 2, 0x550c); // colour CRTC: start address high
  strictEqual(dev.vga.crtc.startAddress, 0x5500);
  strictEqual(dev.mmio.read(0x600, 2), 0xffff); // no QEMU extension block (DISPI: dispi_test.ts)
  strictEqual(dev.mmio.read(0x41f, 2), 0xffff); // straddles the end of the port block
});

Deno.test("vga pci: reset and state", () => {
  const dev = new VgaPci({ startInTextMode: true });
  dev.config.write(0x10, 4, 0xfd000000);
  dev.vga.write(0x12, 1, 0x00);
  dev.reset();
  strictEqual(dev.config.read(0x10, 4), 0x00000008);
  strictEqual(dev.vga.misc, 0x67);
  const s = dev.snapshot();
  strictEqual(s.vga.misc, 0x67);
  deepStrictEqual([s.config.bytes[0], s.config.bytes[1]], [0x34, 0x12]);
  deepStrictEqual(s.config.bars.map((b) => b.index), [0, 2]); // no ROM
  throws(() => new VgaPci({ vramSize: 3 * 1024 * 1024 }), RangeError);
});

type PciOp = {
  bus: "config" | "mmio" | "fb" | "rom";
  write: boolean;
  offset: number;
  size: 1 | 2 | 4;
  value: number;
};

/** Firmware- and driver-like accesses: BAR sizing and placement, MMIO ports and DISPI, framebuffer. */
function pciOps(next: (n: number) => number, count: number): PciOp[] {
  const ops: PciOp[] = [];
  for (let i = 0; i < count; i++) {
    const r = next(100);
    const write = next(3) !== 0;
    const value = (next(0x10000) * 0x10000 + next(0x10000)) >>> 0;
    if (r < 20) {
      const offset = [0x04, 0x10, 0x18, 0x30, 0x3c, 0x0c][next(6)];
      const v = [0xffffffff, 0xfd000000, 0xfebf0000, 0xfeb00001, 0x3, 0x7, value][next(7)];
      ops.push({ bus: "config", write, offset, size: offset === 0x04 ? 2 : 4, value: v });
    } else if (r < 60) {
      const dispi = next(2) === 0;
      const offset = dispi ? 0x500 + 2 * next(11) : 0x400 + next(0x20);
      const size = dispi ? 2 : ([1, 2] as const)[next(2)];
      ops.push({ bus: "mmio", write, offset, size, value: value & (size === 1 ? 0xff : 0xffff) });
    } else if (r < 90) {
      const size = ([1, 2, 4] as const)[next(3)];
      ops.push({ bus: "fb", write, offset: next(0x40000), size, value: value % 2 ** (8 * size) });
    } else {
      ops.push({ bus: "rom", write: false, offset: next(0x900), size: 4, value: 0 });
    }
  }
  return ops;
}

function runPciOps(dev: VgaPci, ops: readonly PciOp[]): number[] {
  const reads: number[] = [];
  for (const op of ops) {
    const target = op.bus === "config"
      ? dev.config
      : op.bus === "mmio"
      ? dev.mmio
      : op.bus === "fb"
      ? dev.framebuffer
      : dev.rom;
    if (op.write) target.write(op.offset, op.size, op.value);
    else reads.push(target.read(op.offset, op.size));
  }
  return reads;
}

Deno.test("vga pci: snapshot -> restore -> snapshot is the identity, BARs and behaviour follow", () => {
  const romData = new Uint8Array(0x900).map((_, i) => i * 7);
  for (let seed = 1; seed <= 12; seed++) {
    const next = prng(seed);
    const a = new VgaPci({ vramSize: 0x100000, romData });
    runPciOps(a, pciOps(next, 300));
    // DISPI on in an 8-bit mode with bank 2, BAR0 placed and decoding.
    runPciOps(a, [
      { bus: "config", write: true, offset: 0x10, size: 4, value: 0xfd000000 },
      { bus: "config", write: true, offset: 0x04, size: 2, value: 0x0003 },
      { bus: "mmio", write: true, offset: 0x508, size: 2, value: 0 },
      { bus: "mmio", write: true, offset: 0x506, size: 2, value: 8 },
      { bus: "mmio", write: true, offset: 0x508, size: 2, value: 0xc1 },
      { bus: "mmio", write: true, offset: 0x50a, size: 2, value: 2 },
    ]);
    const saved = a.snapshot();
    strictEqual(a.vga.dispi.bankOffset, 0x20000);

    const b = new VgaPci({ vram: a.vga.vram.slice(), romData });
    const changes: BarChange[] = [];
    b.config.onBarChange = (c) => changes.push(c);
    b.restore(structuredClone(saved));
    deepStrictEqual(b.snapshot(), saved);
    ok(changes.some((c) => c.index === 0 && c.base === 0xfd000000), "BAR0 mapping reported");
    deepStrictEqual(changes.map((c) => [c.index, c.base]), [
      ...saved.config.bars.filter((bar) => bar.base !== null).map((bar) => [bar.index, bar.base]),
    ]);

    const more = pciOps(next, 300);
    deepStrictEqual(runPciOps(b, more), runPciOps(a, more), `seed ${seed}`);
    deepStrictEqual(b.snapshot(), a.snapshot());
    ok(b.vga.vram.every((v, i) => v === a.vga.vram[i]), `seed ${seed}: video RAM differs`);
  }
});

Deno.test("vga pci: restore refuses a bad version or config space and changes nothing", () => {
  const dev = new VgaPci({ startInTextMode: true });
  const good = dev.snapshot();
  const fresh = new VgaPci();
  const before = fresh.snapshot();
  for (
    const bad of [
      { ...good, version: 0 },
      { ...good, config: { ...good.config, bytes: new Uint8Array(255) } },
      { ...good, vga: { ...good.vga, statusPhase: 8 } },
    ]
  ) throws(() => fresh.restore(bad as VgaPciState), StateError);
  deepStrictEqual(fresh.snapshot(), before);
});
