import { deepStrictEqual, strictEqual } from "node:assert";
import type { BarChange } from "../pci/config_space.ts";
import { ArrayGuestMemory } from "../testing/array_guest_memory.ts";
import { IdeController } from "./ide_controller.ts";
import { MemoryBackend } from "../testing/memory_backend.ts";
import { patternByte, patternedImage, PortHost, RecordingIrq } from "./test_utils.ts";

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
