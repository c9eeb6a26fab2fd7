import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import type { BarChange } from "../pci/config_space.ts";
import { ArrayGuestMemory } from "../testing/array_guest_memory.ts";
import { IdeController, type IdeControllerState } from "./ide_controller.ts";
import { MemoryBackend } from "../testing/memory_backend.ts";
import {
  assertRestoresExactly,
  type IdeOp,
  type IdePort,
  ideRig,
  patternByte,
  patternedImage,
  PortHost,
  prng,
  randomIdeOps,
  RecordingIrq,
  runIdeOps,
} from "./test_utils.ts";

function setup() {
  const memory = new ArrayGuestMemory(0x40000);
  const primaryIrq = new RecordingIrq();
  const secondaryIrq = new RecordingIrq();
  const disk = patternedImage(256);
  const cd = patternedImage(32, 2048, true);
  const ide = new IdeController({
    primaryIrq,
    secondaryIrq,
    memory,
    drives: {
      primaryMaster: { kind: "disk", backend: disk },
      secondaryMaster: { kind: "cdrom", backend: cd },
    },
  });
  const changes: BarChange[] = [];
  ide.config.onBarChange = (c) => changes.push(c);
  // Firmware: BAR4 at C000h, I/O decoding and bus mastering on.
  ide.config.write(0x20, 4, 0xc000);
  ide.config.write(0x04, 2, 0x0005);
  return {
    ide,
    memory,
    disk,
    cd,
    primaryIrq,
    secondaryIrq,
    changes,
    primary: new PortHost(ide.primary),
    secondary: new PortHost(ide.secondary),
  };
}

function prd(memory: ArrayGuestMemory, table: number, entries: [number, number][]): void {
  entries.forEach(([addr, count], i) => {
    memory.writeU32(table + 8 * i, addr);
    memory.writeU32(
      table + 8 * i + 4,
      (count & 0xffff) | (i === entries.length - 1 ? 0x80000000 : 0),
    );
  });
}

Deno.test("controller: PIIX3 IDE identity and BAR4", () => {
  const { ide, changes } = setup();
  strictEqual(ide.name, "piix3-ide");
  strictEqual(ide.config.read(0x00, 4), 0x70108086);
  strictEqual(ide.config.read(0x08, 4) >>> 8, 0x010180);
  // BAR4 is a 16-byte I/O BAR: sizing reads back FFFFFFF1.
  ide.config.write(0x20, 4, 0xffffffff);
  strictEqual(ide.config.read(0x20, 4), 0xfffffff1);
  ide.config.write(0x20, 4, 0xc000);
  deepStrictEqual(changes[0], { index: 4, kind: "io", base: 0xc000, size: 16 });
  for (const bar of [0x10, 0x14, 0x18, 0x1c]) strictEqual(ide.config.read(bar, 4), 0);
  ide.config.write(0x40, 2, 0x8000); // IDETIM: IDE decode enable
  strictEqual(ide.config.read(0x40, 2), 0x8000);
});

Deno.test("controller: READ DMA through a PRD table", () => {
  const { ide, memory, primary, primaryIrq } = setup();
  prd(memory, 0x8000, [[0x10000, 1024], [0x20000, 2048]]);
  const bm = ide.busMaster;
  bm.write(4, 4, 0x8000);
  bm.write(0, 1, 0x08); // device to memory
  bm.write(2, 1, 0x06); // clear interrupt and error
  primary.lba28(0, 40, 6);
  primary.command(0xc8);
  strictEqual(primaryIrq.level, false); // waiting for the engine
  bm.write(0, 1, 0x09);
  strictEqual(primaryIrq.level, true);
  strictEqual(bm.read(2, 1) & 0x07, 0x04); // interrupt, not active, no error
  strictEqual(primary.status(), 0x50);
  for (let s = 0; s < 6; s++) {
    const addr = s < 2 ? 0x10000 + s * 512 : 0x20000 + (s - 2) * 512;
    strictEqual(memory.bytes[addr], 40 + s);
    strictEqual(memory.bytes[addr + 300], patternByte(40 + s, 300));
  }
  bm.write(0, 1, 0x08);
  bm.write(2, 1, 0x04);
  strictEqual(bm.read(2, 1) & 0x04, 0);
});

Deno.test("controller: WRITE DMA EXT with the engine started first", () => {
  const { ide, memory, primary, disk } = setup();
  memory.bytes.fill(0x5a, 0x10000, 0x10000 + 1024);
  prd(memory, 0x8000, [[0x10000, 1024]]);
  const bm = ide.busMaster;
  bm.write(4, 4, 0x8000);
  bm.write(0, 1, 0x01); // memory to device, started
  primary.lba48(0, 100, 2);
  primary.command(0x35);
  strictEqual(primary.status(), 0x50);
  strictEqual(bm.read(2, 1) & 0x05, 0x04);
  deepStrictEqual([disk.bytes[100 * 512], disk.bytes[102 * 512 - 1], disk.bytes[102 * 512]], [
    0x5a,
    0x5a,
    patternByte(102, 0),
  ]);
});

Deno.test("controller: a DMA buffer outside RAM ends the command with an error", () => {
  const { ide, memory, primary, primaryIrq } = setup();
  prd(memory, 0x8000, [[0x7ff00000, 512]]);
  const bm = ide.busMaster;
  bm.write(4, 4, 0x8000);
  bm.write(0, 1, 0x09);
  primary.lba28(0, 0, 1);
  primary.command(0xc8);
  strictEqual(primaryIrq.level, true);
  strictEqual(bm.read(2, 1) & 0x07, 0x06); // error and interrupt
  strictEqual(primary.status(), 0x51);
  strictEqual(primary.in(1), 0x04);
});

Deno.test("controller: DMA waits while PCI bus mastering is off", () => {
  const { ide, memory, primary, primaryIrq } = setup();
  ide.config.write(0x04, 2, 0x0001);
  prd(memory, 0x8000, [[0x10000, 512]]);
  ide.busMaster.write(4, 4, 0x8000);
  ide.busMaster.write(0, 1, 0x09);
  primary.lba28(0, 0, 1);
  primary.command(0xc8);
  strictEqual(primaryIrq.level, false);
  strictEqual(primary.altStatus() & 0x08, 0x08);
});

Deno.test("controller: ATAPI READ(10) by DMA on the secondary channel", () => {
  const { ide, memory, secondary, secondaryIrq, primaryIrq } = setup();
  prd(memory, 0x9000, [[0x20000, 4096]]);
  const bm = ide.busMaster;
  bm.write(0x0c, 4, 0x9000);
  bm.write(0x08, 1, 0x08);
  secondary.packet(0, [0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0], 0, true);
  strictEqual(secondaryIrq.level, false);
  bm.write(0x08, 1, 0x09);
  strictEqual(secondaryIrq.level, true);
  strictEqual(primaryIrq.level, false);
  strictEqual(bm.read(0x0a, 1) & 0x05, 0x04);
  strictEqual(bm.read(0x02, 1) & 0x04, 0);
  strictEqual(secondary.status(), 0x40);
  strictEqual(secondary.in(2), 0x03);
  strictEqual(memory.bytes[0x20000], 5);
  strictEqual(memory.bytes[0x20000 + 2048], 6);
  strictEqual(memory.bytes[0x20000 + 4095], patternByte(6, 2047));
});

Deno.test("controller: reset, flush and snapshot", () => {
  const { ide, primary, disk, cd } = setup();
  primary.out(2, 4);
  primary.select(0);
  primary.command(0xc6); // SET MULTIPLE MODE 4
  ide.busMaster.write(4, 4, 0x1234);
  ide.flush();
  strictEqual(disk.flushes, 1);
  strictEqual(cd.flushes, 1);
  const s = ide.snapshot();
  strictEqual(s.primary.master.kind === "disk" && s.primary.master.multiple, 4);
  strictEqual(s.primary.master.kind === "disk" && s.primary.master.lastCommand, 0xc6);
  strictEqual(s.secondary.master.kind, "cdrom");
  strictEqual(s.primary.slave.kind, "empty");
  strictEqual(s.busMaster.channels[0].prdTable, 0x1234);
  deepStrictEqual([s.config.bytes[2], s.config.bytes[3]], [0x10, 0x70]);
  ide.reset();
  const after = ide.snapshot();
  strictEqual(after.primary.master.kind === "disk" && after.primary.master.multiple, 0);
  strictEqual(after.primary.master.kind === "disk" && after.primary.master.lastCommand, null);
  strictEqual(after.busMaster.channels[0].prdTable, 0);
  deepStrictEqual([after.config.bytes[4], after.config.bytes[5]], [0, 0]);
  strictEqual(primary.status(), 0x50);
});

Deno.test("controller: the board-facing BusDevices", () => {
  const { ide } = setup();
  strictEqual(ide.primaryCommand, ide.primary.command);
  strictEqual(ide.primaryControl.read(0, 1), 0x50);
  strictEqual(ide.secondaryControl.read(0, 1), 0x00);
  strictEqual(ide.secondaryCommand.read(5, 1), 0xeb);
  const empty = new IdeController({
    primaryIrq: new RecordingIrq(),
    secondaryIrq: new RecordingIrq(),
    memory: new ArrayGuestMemory(4096),
    drives: { primarySlave: { kind: "disk", backend: new MemoryBackend(512 * 64) } },
  });
  strictEqual(empty.secondaryCommand.read(7, 1), 0xff);
  strictEqual(empty.primaryCommand.read(7, 1), 0x00); // master absent, slave present
});

/** Accesses that leave a transfer part-way, whatever state the random ones left. */
function midTransfer(which: number): IdeOp[] {
  const ops: IdeOp[] = [];
  const io = (port: IdePort, offset: number, value: number, size: 1 | 2 | 4 = 1) =>
    ops.push({ kind: "io", port, write: true, offset, size, value });
  io("ctl0", 0, 0x00); // release SRST, interrupts on
  io("cfg", 0x04, 0x0005, 2); // I/O decoding and bus mastering
  const command = (device: number, count: number, op: number, limit = 0) => {
    io("cmd0", 6, 0xe0 | device);
    io("cmd0", 1, 0);
    io("cmd0", 2, count);
    io("cmd0", 3, 5);
    io("cmd0", 4, limit & 0xff);
    io("cmd0", 5, limit >> 8);
    io("cmd0", 7, op);
  };
  switch (which) {
    case 0: // PIO read, 300 bytes into the first of three sectors
      command(0, 3, 0x20);
      ops.push({ kind: "ins", port: "cmd0", size: 2, bytes: 300 });
      break;
    case 1: // PIO write of four sectors, half-way through the second
      command(0, 4, 0x30);
      ops.push({ kind: "outs", port: "cmd0", size: 2, data: new Uint8Array(768).fill(0xa5) });
      break;
    case 2: // PACKET READ(10) with three of its six words sent
      command(0x10, 0, 0xa0, 0x800);
      ops.push({
        kind: "outs",
        port: "cmd0",
        size: 2,
        data: new Uint8Array([0x28, 0, 0, 0, 0, 3]),
      });
      break;
    case 3: { // READ DMA of 2 KiB into a 1 KiB PRD table: the engine stops half-way
      io("bm", 0, 0x00);
      const prd = new Uint8Array(8);
      new DataView(prd.buffer).setUint32(0, 0x20000, true);
      new DataView(prd.buffer).setUint32(4, 0x80000400, true);
      ops.push({ kind: "mem", addr: 0x1000, data: prd });
      io("bm", 4, 0x1000, 4);
      command(0, 4, 0xc8);
      io("bm", 0, 0x09);
      break;
    }
    case 4: // WRITE DMA posted, the engine not started
      io("bm", 0, 0x00);
      command(0, 2, 0xca);
      break;
  }
  return ops;
}

Deno.test("controller: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  const seen = new Set<string>();
  for (let seed = 1; seed <= 60; seed++) {
    const next = prng(seed);
    const rig = ideRig();
    runIdeOps(rig, randomIdeOps(next, 150 + next(300)));
    runIdeOps(rig, midTransfer(seed % 6));
    const saved = assertRestoresExactly(rig, randomIdeOps(next, 300));
    // Note which mid-transfer states the seeds reached.
    for (const ch of [saved.primary, saved.secondary]) {
      for (const d of [ch.master, ch.slave]) {
        if (d.kind === "empty") continue;
        if (d.pio?.dir === "in" && d.pio.pos % 512 !== 0) seen.add("pio in mid-sector");
        if (d.kind === "disk" && d.job?.kind === "write" && d.job.left > 1 && d.pio!.pos > 0) {
          seen.add("multi-sector write part-way");
        }
        if (d.kind === "cdrom" && d.job?.kind === "packet" && d.pio!.pos > 0) {
          seen.add("packet half-sent");
        }
        if (d.dma) seen.add("dma posted");
        if (d.dma && d.dma.pos > 0) seen.add("dma part-way");
      }
    }
    if (saved.busMaster.channels.some((c) => c.used > 0 || c.entry > c.prdTable)) {
      seen.add("prd progress");
    }
  }
  deepStrictEqual([...seen].sort(), [
    "dma part-way",
    "dma posted",
    "multi-sector write part-way",
    "packet half-sent",
    "pio in mid-sector",
    "prd progress",
  ]);
});

Deno.test("controller: restore refuses a state for other drives and changes nothing", () => {
  const rig = ideRig();
  const saved = rig.ide.snapshot();
  const other = new IdeController({
    primaryIrq: new RecordingIrq(),
    secondaryIrq: new RecordingIrq(),
    memory: new ArrayGuestMemory(4096),
    drives: { primaryMaster: { kind: "cdrom", backend: new MemoryBackend(2048) } },
  });
  const before = other.snapshot();
  throws(() => other.restore(saved), StateError);
  const smaller = ideRig();
  const disk = smaller.ide.snapshot().primary.master;
  for (
    const bad of [
      { ...saved, version: 2 },
      { ...saved, primary: { ...saved.primary, master: { ...disk, size: 512 } } },
      { ...saved, primary: { ...saved.primary, master: { ...disk, status: 0x58 } } }, // DRQ, no transfer
      { ...saved, busMaster: { ...saved.busMaster, channels: [saved.busMaster.channels[0]] } },
    ]
  ) throws(() => rig.ide.restore(bad as IdeControllerState), StateError);
  deepStrictEqual(other.snapshot(), before);
  deepStrictEqual(rig.ide.snapshot(), saved);
});
