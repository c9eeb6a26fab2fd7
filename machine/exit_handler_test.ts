import { deepStrictEqual, strictEqual } from "node:assert";
import { Bus } from "../devices/bus.ts";
import type { AccessSize, BusDevice } from "../devices/types.ts";
import type { IoExit, MmioExit } from "../kvm/exits.ts";
import { LAYOUTS } from "../kvm/structs.ts";
import { ExitStats, handleIoExit, handleMmioExit } from "./exit_handler.ts";

const MMIO_DATA = LAYOUTS.kvm_run.fields["mmio.data"];
/** Where KVM puts port I/O data: the page after the kvm_run header. */
const DATA_OFFSET = 4096;

type Access = [op: "r" | "w", offset: number, size: AccessSize, value?: number];

/** Logs accesses; reads return successive values from `reads` (or `offset` when they run out). */
class Probe implements BusDevice {
  readonly log: Access[] = [];
  constructor(readonly reads: number[] = []) {}
  read(offset: number, size: AccessSize): number {
    this.log.push(["r", offset, size]);
    return this.reads.shift() ?? offset;
  }
  write(offset: number, size: AccessSize, value: number): void {
    this.log.push(["w", offset, size, value]);
  }
}

/** A probe with the string-I/O fast path. */
class BlockProbe extends Probe {
  readonly blocks: {
    op: "readBlock" | "writeBlock";
    offset: number;
    size: AccessSize;
    data: number[];
  }[] = [];
  readBlock(offset: number, size: AccessSize, dst: Uint8Array): void {
    dst.forEach((_, i) => dst[i] = 0x40 + i);
    this.blocks.push({ op: "readBlock", offset, size, data: [...dst] });
  }
  writeBlock(offset: number, size: AccessSize, src: Uint8Array): void {
    this.blocks.push({ op: "writeBlock", offset, size, data: [...src] });
  }
}

function fakeRun(): { run: Uint8Array; view: DataView } {
  const run = new Uint8Array(2 * 4096);
  return { run, view: new DataView(run.buffer) };
}

const F = LAYOUTS.kvm_run.fields;

/** Lays a decoded port-I/O exit out in the kvm_run page as KVM does, then handles it. */
function handleIo(bus: Bus, run: Uint8Array, view: DataView, exit: IoExit): void {
  view.setUint8(F["io.direction"], exit.direction === "out" ? 1 : 0);
  view.setUint8(F["io.size"], exit.size);
  view.setUint16(F["io.port"], exit.port, true);
  view.setUint32(F["io.count"], exit.count, true);
  view.setBigUint64(F["io.data_offset"], BigInt(exit.dataOffset), true);
  handleIoExit(bus, run, view);
}

/** Lays a decoded MMIO exit out in the kvm_run page as KVM does, then handles it. */
function handleMmio(bus: Bus, view: DataView, exit: MmioExit): void {
  view.setBigUint64(F["mmio.phys_addr"], BigInt(exit.addr), true);
  view.setUint32(F["mmio.len"], exit.len, true);
  view.setUint8(F["mmio.is_write"], exit.isWrite ? 1 : 0);
  handleMmioExit(bus, view);
}

function io(
  direction: "in" | "out",
  port: number,
  size: AccessSize,
  count = 1,
  dataOffset = DATA_OFFSET,
): IoExit {
  return { kind: "io", direction, size, port, count, dataOffset };
}

Deno.test("handleIo: OUT of sizes 1, 2 and 4 passes the data to the device", () => {
  const bus = new Bus("pio");
  const dev = new Probe();
  bus.register("dev", 0x3f8, 8, dev);
  const { run, view } = fakeRun();
  view.setUint32(DATA_OFFSET, 0x12345678, true);
  handleIo(bus, run, view, io("out", 0x3f8, 1));
  handleIo(bus, run, view, io("out", 0x3fa, 2));
  handleIo(bus, run, view, io("out", 0x3fc, 4));
  deepStrictEqual(dev.log, [
    ["w", 0, 1, 0x78],
    ["w", 2, 2, 0x5678],
    ["w", 4, 4, 0x12345678],
  ]);
});

Deno.test("handleIo: IN of sizes 1, 2 and 4 writes the device's value little-endian", () => {
  const bus = new Bus("pio");
  const dev = new Probe([0xab, 0xbeef, 0xcafef00d]);
  bus.register("dev", 0xcf8, 8, dev);
  const { run, view } = fakeRun();
  run.fill(0xee, DATA_OFFSET, DATA_OFFSET + 8);
  handleIo(bus, run, view, io("in", 0xcf9, 1));
  deepStrictEqual(
    [...run.subarray(DATA_OFFSET, DATA_OFFSET + 2)],
    [0xab, 0xee],
    "size 1 writes one byte",
  );
  handleIo(bus, run, view, io("in", 0xcfa, 2));
  deepStrictEqual([...run.subarray(DATA_OFFSET, DATA_OFFSET + 3)], [0xef, 0xbe, 0xee]);
  handleIo(bus, run, view, io("in", 0xcfc, 4));
  deepStrictEqual([...run.subarray(DATA_OFFSET, DATA_OFFSET + 5)], [0x0d, 0xf0, 0xfe, 0xca, 0xee]);
  deepStrictEqual(dev.log, [["r", 1, 1], ["r", 2, 2], ["r", 4, 4]]);
});

Deno.test("handleIo: IN from an empty port reads all ones; OUT is dropped and counted", () => {
  const bus = new Bus("pio");
  const { run, view } = fakeRun();
  handleIo(bus, run, view, io("in", 0x80, 1));
  strictEqual(run[DATA_OFFSET], 0xff);
  handleIo(bus, run, view, io("in", 0x80, 2, 1, DATA_OFFSET + 8));
  strictEqual(view.getUint16(DATA_OFFSET + 8, true), 0xffff);
  handleIo(bus, run, view, io("in", 0x80, 4, 1, DATA_OFFSET + 16));
  strictEqual(view.getUint32(DATA_OFFSET + 16, true), 0xffffffff);
  handleIo(bus, run, view, io("out", 0x80, 1));
  deepStrictEqual(bus.misses, { reads: 3, writes: 1 });
});

Deno.test("handleIo: string OUT without writeBlock becomes one write per element", () => {
  const bus = new Bus("pio");
  const dev = new Probe();
  bus.register("ide", 0x1f0, 8, dev);
  const { run, view } = fakeRun();
  [0x1111, 0x2222, 0x3333].forEach((w, i) => view.setUint16(DATA_OFFSET + 2 * i, w, true));
  handleIo(bus, run, view, io("out", 0x1f0, 2, 3));
  deepStrictEqual(dev.log, [["w", 0, 2, 0x1111], ["w", 0, 2, 0x2222], ["w", 0, 2, 0x3333]]);
});

Deno.test("handleIo: string IN without readBlock becomes one read per element", () => {
  const bus = new Bus("pio");
  const dev = new Probe([0x01020304, 0x05060708]);
  bus.register("dev", 0x100, 4, dev);
  const { run, view } = fakeRun();
  handleIo(bus, run, view, io("in", 0x102, 4, 2, 0x1800));
  deepStrictEqual([...run.subarray(0x1800, 0x1808)], [4, 3, 2, 1, 8, 7, 6, 5]);
  deepStrictEqual(dev.log, [["r", 2, 4], ["r", 2, 4]]);
  // A string IN from nowhere fills every element with ones.
  handleIo(bus, run, view, io("in", 0x300, 1, 3, 0x1900));
  deepStrictEqual([...run.subarray(0x1900, 0x1904)], [0xff, 0xff, 0xff, 0]);
  strictEqual(bus.misses.reads, 3);
});

Deno.test("handleIo: string I/O uses readBlock/writeBlock with the element data in place", () => {
  const bus = new Bus("pio");
  const dev = new BlockProbe();
  bus.register("ide", 0x1f0, 8, dev);
  const { run, view } = fakeRun();
  handleIo(bus, run, view, io("in", 0x1f0, 2, 4));
  deepStrictEqual(dev.blocks, [{
    op: "readBlock",
    offset: 0,
    size: 2,
    data: [0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47],
  }]);
  deepStrictEqual(
    [...run.subarray(DATA_OFFSET, DATA_OFFSET + 9)],
    [0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0],
    "readBlock filled exactly count * size bytes of the kvm_run page",
  );

  run.set([9, 8, 7, 6, 5, 4], 0x1100);
  handleIo(bus, run, view, io("out", 0x1f4, 1, 6, 0x1100));
  deepStrictEqual(dev.blocks[1], {
    op: "writeBlock",
    offset: 4,
    size: 1,
    data: [9, 8, 7, 6, 5, 4],
  });
  strictEqual(dev.log.length, 0, "no per-element accesses");

  // Single-element I/O still goes through read/write.
  handleIo(bus, run, view, io("out", 0x1f0, 2, 1));
  deepStrictEqual(dev.log, [["w", 0, 2, 0x4140]]);
  strictEqual(dev.blocks.length, 2);
});

Deno.test("handleIo: a device with only readBlock falls back per element for OUT", () => {
  const bus = new Bus("pio");
  const dev = new Probe();
  const readOnlyBlock: BusDevice = {
    read: (o, s) => dev.read(o, s),
    write: (o, s, v) => dev.write(o, s, v),
    readBlock: (_o, _s, dst) => dst.fill(0x77),
  };
  bus.register("dev", 0x60, 1, readOnlyBlock);
  const { run, view } = fakeRun();
  run.set([1, 2], DATA_OFFSET);
  handleIo(bus, run, view, io("out", 0x60, 1, 2));
  deepStrictEqual(dev.log, [["w", 0, 1, 1], ["w", 0, 1, 2]]);
  handleIo(bus, run, view, io("in", 0x60, 1, 2));
  deepStrictEqual([...run.subarray(DATA_OFFSET, DATA_OFFSET + 3)], [0x77, 0x77, 0]);
  strictEqual(dev.log.length, 2);
});

function mmio(addr: number, len: number, isWrite: boolean): MmioExit {
  return { kind: "mmio", addr, len, isWrite };
}

Deno.test("handleMmio: reads and writes of 1, 2 and 4 bytes use mmio.data", () => {
  const bus = new Bus("mmio");
  const dev = new Probe([0x5a, 0x1234, 0x89abcdef]);
  bus.register("bar", 0xfebf0000, 0x1000, dev);
  const { view } = fakeRun();
  view.setUint32(MMIO_DATA, 0xddccbbaa, true);
  handleMmio(bus, view, mmio(0xfebf0010, 1, true));
  handleMmio(bus, view, mmio(0xfebf0012, 2, true));
  handleMmio(bus, view, mmio(0xfebf0014, 4, true));
  deepStrictEqual(dev.log, [["w", 0x10, 1, 0xaa], ["w", 0x12, 2, 0xbbaa], [
    "w",
    0x14,
    4,
    0xddccbbaa,
  ]]);

  view.setBigUint64(MMIO_DATA, 0n, true);
  handleMmio(bus, view, mmio(0xfebf0020, 1, false));
  strictEqual(view.getBigUint64(MMIO_DATA, true), 0x5an);
  handleMmio(bus, view, mmio(0xfebf0020, 2, false));
  strictEqual(view.getBigUint64(MMIO_DATA, true), 0x1234n);
  handleMmio(bus, view, mmio(0xfebf0020, 4, false));
  strictEqual(view.getBigUint64(MMIO_DATA, true), 0x89abcdefn);
});

Deno.test("handleMmio: an 8-byte access becomes two 4-byte accesses, low half first", () => {
  const bus = new Bus("mmio");
  const dev = new Probe([0x33221100, 0x77665544]);
  bus.register("bar", 0xfe000000, 0x100, dev);
  const { view } = fakeRun();
  view.setBigUint64(MMIO_DATA, 0x0123456789abcdefn, true);
  handleMmio(bus, view, mmio(0xfe000008, 8, true));
  deepStrictEqual(dev.log, [["w", 8, 4, 0x89abcdef], ["w", 12, 4, 0x01234567]]);

  handleMmio(bus, view, mmio(0xfe000040, 8, false));
  strictEqual(view.getBigUint64(MMIO_DATA, true), 0x7766554433221100n);
  deepStrictEqual(dev.log.slice(2), [["r", 0x40, 4], ["r", 0x44, 4]]);
});

Deno.test("handleMmio: a read of unmapped memory returns all ones", () => {
  const bus = new Bus("mmio");
  const { view } = fakeRun();
  handleMmio(bus, view, mmio(0xd0000000, 8, false));
  strictEqual(view.getBigUint64(MMIO_DATA, true), 0xffff_ffff_ffff_ffffn);
  handleMmio(bus, view, mmio(0xd0000000, 4, true));
  deepStrictEqual(bus.misses, { reads: 2, writes: 1 });
});

Deno.test("ExitStats counts exits by kind and ranks the busiest ports", () => {
  const stats = new ExitStats();
  stats.count("io");
  stats.count("io");
  stats.count("mmio");
  deepStrictEqual(stats.byKind, { io: 2, mmio: 1 });
  strictEqual(stats.total, 3);
  stats.portCounts[0x3f8] = 10;
  stats.portCounts[0x60] = 3;
  stats.portCounts[0xcfc] = 7;
  deepStrictEqual(stats.busiestPorts(2), [{ port: 0x3f8, exits: 10 }, { port: 0xcfc, exits: 7 }]);
  strictEqual(stats.busiestPorts(10).length, 3);
});
