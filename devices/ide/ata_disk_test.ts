import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import { AtaChannel } from "./ata_channel.ts";
import type { AtaDisk, AtaDiskState } from "./ata_disk.ts";
import { getAtaString } from "./identify.ts";
import { MemoryBackend } from "../testing/memory_backend.ts";
import {
  assertRestoresExactly,
  cmdRead,
  cmdWrite,
  type IdeOp,
  ideRig,
  patternByte,
  patternedImage,
  PortHost,
  prng,
  RecordingIrq,
  runIdeOps,
  word,
} from "./test_utils.ts";

const SECTORS = 20 * 16 * 63 + 5; // 20 full cylinders of the default translation, plus a partial one

function setup(backend = patternedImage(SECTORS)) {
  const irq = new RecordingIrq();
  const channel = new AtaChannel({
    irq,
    master: { kind: "disk", backend, model: "VMRUN TEST DISK", serial: "SN1234" },
  });
  return { irq, channel, host: new PortHost(channel), backend, disk: channel.drives[0] as AtaDisk };
}

function expectSectors(data: Uint8Array, firstLba: number): void {
  for (let s = 0; s < data.length / 512; s++) {
    for (const i of [0, 1, 2, 3, 4, 255, 256, 511]) {
      strictEqual(
        data[s * 512 + i],
        patternByte(firstLba + s, i),
        `sector ${firstLba + s} byte ${i}`,
      );
    }
  }
}

Deno.test("disk: power-on signature and status", () => {
  const { host } = setup();
  strictEqual(host.status(), 0x50); // DRDY | DSC
  strictEqual(host.in(1), 0x01); // diagnostic passed
  deepStrictEqual([host.in(2), host.in(3), host.in(4), host.in(5)], [1, 1, 0, 0]);
});

Deno.test("disk: IDENTIFY DEVICE words, strings and checksum", () => {
  const { host, irq } = setup();
  host.select(0);
  host.command(0xec);
  strictEqual(irq.level, true);
  strictEqual(host.status(), 0x58); // DRDY | DSC | DRQ
  strictEqual(irq.level, false);
  const id = host.readWords(512);
  strictEqual(host.status() & 0x08, 0);
  const words = new Uint16Array(256).map((_, i) => word(id, i));
  strictEqual(words[0] & 0x8000, 0); // ATA device
  deepStrictEqual([words[1], words[3], words[6]], [20, 16, 63]); // whole cylinders only
  strictEqual(words[60] | words[61] << 16, SECTORS);
  strictEqual(words[100] + words[101] * 65536, SECTORS);
  deepStrictEqual([words[102], words[103]], [0, 0]);
  strictEqual(words[83] & 0x0400, 0x0400); // 48-bit address feature set
  strictEqual(words[83] & 0x2000, 0x2000); // FLUSH CACHE EXT
  strictEqual(words[86] & 0x2400, 0x2400);
  strictEqual(words[47], 0x8010); // up to 16 sectors per READ/WRITE MULTIPLE block
  strictEqual(words[49] & 0x0300, 0x0300); // LBA and DMA
  strictEqual(words[63] & 0x0007, 0x0007); // MWDMA 0-2
  strictEqual(words[88] & 0x003f, 0x003f); // UDMA 0-5
  // Strings: first character in the high byte of each word.
  strictEqual(String.fromCharCode(id[55], id[54], id[57], id[56]), "VMRU");
  strictEqual(getAtaString(words, 27, 20), "VMRUN TEST DISK");
  strictEqual(getAtaString(words, 10, 10), "SN1234");
  strictEqual(getAtaString(words, 23, 4), "1.0");
  strictEqual(id[510], 0xa5);
  strictEqual(id.reduce((a, b) => a + b, 0) & 0xff, 0);
});

Deno.test("disk: READ SECTORS LBA28 with word, dword and block reads, one interrupt per sector", () => {
  const { host, irq } = setup();
  host.lba28(0, 100, 3);
  host.command(0x20);
  strictEqual(irq.rises, 1);
  strictEqual(host.status(), 0x58);
  const a = host.readWords(512);
  strictEqual(irq.rises, 2); // second DRQ block announced
  strictEqual(host.status(), 0x58);
  const b = host.readDwords(512);
  strictEqual(irq.rises, 3);
  host.status();
  const c = host.readBlock(512);
  strictEqual(host.status(), 0x50); // no DRQ, no error, no further interrupt
  strictEqual(irq.rises, 3);
  expectSectors(a, 100);
  expectSectors(b, 101);
  expectSectors(c, 102);
  // Completion reports the last sector transferred.
  deepStrictEqual([host.in(2), host.in(3), host.in(4), host.in(6) & 0x0f], [0, 102, 0, 0]);
});

Deno.test("disk: a block read spanning several DRQ blocks (rep insw of a page)", () => {
  const { host, disk } = setup();
  host.lba28(0, 7, 8);
  host.command(0x20);
  const data = host.readBlock(4096);
  expectSectors(data, 7);
  strictEqual(host.status(), 0x50);
  strictEqual(disk.bytesRead, 4096);
});

Deno.test("disk: sector count 0 means 256 sectors in LBA28", () => {
  const { host } = setup();
  host.lba28(0, 1000, 0);
  host.command(0x20);
  const data = host.readBlock(256 * 512, 4);
  expectSectors(data.subarray(255 * 512), 1255);
  strictEqual(host.status(), 0x50);
});

Deno.test("disk: READ SECTORS in CHS addressing", () => {
  const { host } = setup();
  // Cylinder 2, head 3, sector 5 -> LBA (2*16 + 3)*63 + 4 = 2209.
  host.chs(0, 2, 3, 5, 2);
  host.command(0x20);
  const data = host.readWords(1024);
  expectSectors(data, 2209);
  strictEqual(host.status(), 0x50);
  // Last sector read (2210) reported as C/H/S 2/3/6.
  deepStrictEqual([host.in(5) << 8 | host.in(4), host.in(6) & 0x0f, host.in(3)], [2, 3, 6]);
});

Deno.test("disk: CHS sector 0 or a head beyond the translation is IDNF", () => {
  const { host } = setup();
  host.chs(0, 0, 0, 0, 1);
  host.command(0x20);
  strictEqual(host.status(), 0x51);
  strictEqual(host.in(1), 0x10);
  host.chs(0, 0, 0, 64, 1);
  host.command(0x20);
  strictEqual(host.in(1), 0x10);
});

Deno.test("disk: READ SECTORS EXT decodes the HOB byte pairs", () => {
  const { host } = setup();
  host.lba48(0, 0x0102, 2);
  host.command(0x24);
  expectSectors(host.readWords(1024), 0x0102);
  strictEqual(host.status(), 0x50);
  // An LBA with bits above 24 set is out of range on this small disk.
  host.lba48(0, 2 ** 32 + 5, 1);
  host.command(0x24);
  strictEqual(host.status(), 0x51);
  strictEqual(host.in(1), 0x10);
});

Deno.test("disk: HOB readback of the previous register bytes", () => {
  const { host } = setup();
  host.lba48(0, 0x0a0b0c0d0e0f, 0x1234);
  strictEqual(host.in(3), 0x0f);
  host.control(0x80); // HOB
  deepStrictEqual([host.in(2), host.in(3), host.in(4), host.in(5)], [0x12, 0x0c, 0x0b, 0x0a]);
  host.out(1, 0); // any command block write clears HOB
  strictEqual(host.in(3), 0x0f);
});

Deno.test("disk: WRITE SECTORS EXT writes through, interrupting per block and at the end", () => {
  const { host, irq, backend, disk } = setup();
  host.lba48(0, 50, 2);
  host.command(0x34);
  strictEqual(irq.rises, 0); // the first data-out block needs no interrupt
  strictEqual(host.altStatus(), 0x58);
  host.writeWords(new Uint8Array(512).fill(0xaa));
  strictEqual(irq.rises, 1);
  strictEqual(host.status(), 0x58);
  host.writeBlock(new Uint8Array(512).fill(0xbb), 4);
  strictEqual(irq.rises, 2);
  strictEqual(host.status(), 0x50);
  deepStrictEqual(
    [backend.bytes[50 * 512], backend.bytes[51 * 512 + 511], backend.bytes[52 * 512]],
    [
      0xaa,
      0xbb,
      patternByte(52, 0),
    ],
  );
  strictEqual(disk.bytesWritten, 1024);
});

Deno.test("disk: writes to a readonly backend abort", () => {
  const { host, backend } = setup(patternedImage(SECTORS, 512, true));
  host.lba28(0, 1, 1);
  host.command(0x30);
  strictEqual(host.status(), 0x51);
  strictEqual(host.in(1), 0x04);
  strictEqual(backend.bytes[512], patternByte(1, 0));
});

Deno.test("disk: out-of-range reads fail with IDNF and no data", () => {
  const { host, irq } = setup();
  host.lba28(0, SECTORS - 1, 2);
  host.command(0x20);
  strictEqual(irq.level, true);
  strictEqual(host.status(), 0x51);
  strictEqual(host.in(1), 0x10);
  strictEqual(host.in(0, 2), 0xffff);
});

Deno.test("disk: nIEN masks INTRQ but status still reports completion", () => {
  const { host, irq } = setup();
  host.control(0x02);
  host.lba28(0, 0, 1);
  host.command(0x20);
  strictEqual(irq.level, false);
  strictEqual(host.altStatus(), 0x58);
  // Clearing nIEN with the interrupt still pending asserts INTRQ.
  host.control(0x00);
  strictEqual(irq.level, true);
  host.status();
  strictEqual(irq.level, false);
});

Deno.test("disk: READ/WRITE MULTIPLE need SET MULTIPLE MODE and move blocks of that size", () => {
  const { host, irq, backend } = setup();
  host.lba28(0, 0, 10);
  host.command(0xc4);
  strictEqual(host.status(), 0x51);
  strictEqual(host.in(1), 0x04);
  host.out(2, 3); // not a power of two
  host.command(0xc6);
  strictEqual(host.in(1), 0x04);
  host.out(2, 4);
  host.command(0xc6);
  strictEqual(host.status(), 0x50);
  host.select(0);
  host.command(0xec);
  strictEqual(word(host.readWords(512), 59), 0x0104);

  host.lba28(0, 30, 10);
  const before = irq.rises;
  host.command(0xc4);
  const data = new Uint8Array(5120);
  let off = 0;
  for (const sectors of [4, 4, 2]) {
    strictEqual(host.status(), 0x58);
    data.set(host.readBlock(sectors * 512), off);
    off += sectors * 512;
  }
  strictEqual(host.status(), 0x50);
  strictEqual(irq.rises - before, 3); // one interrupt per block
  expectSectors(data, 30);

  host.lba48(0, 60, 6);
  host.command(0x39); // WRITE MULTIPLE EXT
  host.writeBlock(new Uint8Array(2048).fill(1));
  strictEqual(host.status(), 0x58);
  host.writeBlock(new Uint8Array(1024).fill(2));
  strictEqual(host.status(), 0x50);
  deepStrictEqual([backend.bytes[60 * 512], backend.bytes[64 * 512], backend.bytes[66 * 512]], [
    1,
    2,
    patternByte(66, 0),
  ]);
});

Deno.test("disk: INITIALIZE DEVICE PARAMETERS changes the CHS translation", () => {
  const { host } = setup();
  host.select(0, 0x07); // 8 heads
  host.out(2, 32); // 32 sectors per track
  host.command(0x91);
  strictEqual(host.status(), 0x50);
  host.select(0);
  host.command(0xec);
  const id = host.readWords(512);
  const cylinders = Math.floor(SECTORS / (8 * 32));
  deepStrictEqual([word(id, 54), word(id, 55), word(id, 56)], [cylinders, 8, 32]);
  strictEqual(word(id, 57) | word(id, 58) << 16, cylinders * 8 * 32);
  strictEqual(word(id, 1), 20); // default translation unchanged
  // C/H/S 1/2/3 now means (1*8 + 2)*32 + 2 = 322.
  host.chs(0, 1, 2, 3, 1);
  host.command(0x20);
  expectSectors(host.readWords(512), 322);
});

Deno.test("disk: SET FEATURES transfer mode is reflected in IDENTIFY", () => {
  const { host } = setup();
  host.select(0);
  host.out(1, 0x03);
  host.out(2, 0x45); // UDMA mode 5
  host.command(0xef);
  strictEqual(host.status(), 0x50);
  host.command(0xec);
  const id = host.readWords(512);
  strictEqual(word(id, 88), 0x203f);
  strictEqual(word(id, 63) & 0x0700, 0);
  host.out(1, 0x03);
  host.out(2, 0x47); // UDMA 7 is not supported
  host.command(0xef);
  strictEqual(host.status(), 0x51);
  host.out(1, 0x99);
  host.command(0xef);
  strictEqual(host.in(1), 0x04);
});

Deno.test("disk: FLUSH CACHE and FLUSH CACHE EXT flush the backend", () => {
  const { host, irq, backend } = setup();
  host.select(0);
  host.command(0xe7);
  strictEqual(irq.level, true);
  strictEqual(host.status(), 0x50);
  host.command(0xea);
  strictEqual(backend.flushes, 2);
});

Deno.test("disk: power management and CHECK POWER MODE", () => {
  const { host } = setup();
  host.select(0);
  host.command(0xe5);
  strictEqual(host.in(2), 0xff); // active
  host.command(0xe0); // STANDBY IMMEDIATE
  host.command(0xe5);
  strictEqual(host.in(2), 0x00);
  host.command(0xe1); // IDLE IMMEDIATE
  host.command(0xe5);
  strictEqual(host.in(2), 0x80);
  host.lba28(0, 0, 1);
  host.command(0x40); // READ VERIFY wakes the device
  strictEqual(host.status(), 0x50);
  host.command(0xe5);
  strictEqual(host.in(2), 0xff);
});

Deno.test("disk: READ VERIFY checks the range without data", () => {
  const { host, irq } = setup();
  host.lba48(0, SECTORS - 4, 4);
  host.command(0x42);
  strictEqual(irq.level, true);
  strictEqual(host.status(), 0x50);
  host.lba28(0, SECTORS - 4, 5);
  host.command(0x40);
  strictEqual(host.in(1), 0x10);
});

Deno.test("disk: packet commands, NOP and unknown opcodes abort", () => {
  const { host } = setup();
  for (const op of [0xa1, 0xa0, 0x08, 0x00, 0xf0]) {
    host.select(0);
    host.command(op);
    strictEqual(host.status(), 0x51, `opcode ${op}`);
    strictEqual(host.in(1), 0x04);
    deepStrictEqual([host.in(4), host.in(5)], [0, 0]);
  }
});

Deno.test("disk: tiny images still get a geometry", () => {
  const { host } = setup(new MemoryBackend(40 * 512));
  host.select(0);
  host.command(0xec);
  const id = host.readWords(512);
  deepStrictEqual([word(id, 1), word(id, 3), word(id, 6)], [1, 1, 40]);
  strictEqual(word(id, 60), 40);
});

Deno.test("disk: snapshot reports counters and registers", () => {
  const { host, disk } = setup();
  host.lba28(0, 3, 1);
  host.command(0x20);
  host.readBlock(512);
  const s = disk.snapshot();
  strictEqual(s.kind, "disk");
  strictEqual(s.size, SECTORS * 512);
  strictEqual(s.lastCommand, 0x20);
  strictEqual(s.bytesRead, 512);
  strictEqual(s.status, 0x50);
  strictEqual(s.multiple, 0);
  strictEqual(s.job, null);
  strictEqual(s.pio, null);
});

Deno.test("disk: restore mid-sector in PIO reads and part-way through multi-sector writes", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const next = prng(seed);
    const rig = ideRig();
    const op = [0x20, 0xc4, 0x30, 0xc5, 0xec][next(5)];
    const count = 1 + next(4);
    const setup: IdeOp[] = [
      cmdWrite(6, 0xe0),
      cmdWrite(2, 2),
      cmdWrite(7, 0xc6), // SET MULTIPLE MODE 2
      cmdWrite(2, count),
      cmdWrite(3, next(40)),
      cmdWrite(4, 0),
      cmdWrite(5, 0),
      cmdWrite(7, op),
    ];
    const write = op === 0x30 || op === 0xc5;
    // Stop anywhere inside the transfer, on a word boundary.
    const total = op === 0xec ? 512 : count * 512;
    const blockSize = op === 0xc4 || op === 0xc5 ? 1024 : 512;
    const part = 2 * next(total / 2);
    setup.push(
      write
        ? { kind: "outs", port: "cmd0", size: 2, data: new Uint8Array(part).map(() => next(256)) }
        : { kind: "ins", port: "cmd0", size: 2, bytes: part },
    );
    runIdeOps(rig, setup);
    const saved = assertRestoresExactly(rig, [
      write
        ? { kind: "outs", port: "cmd0", size: 2, data: new Uint8Array(2048).map(() => next(256)) }
        : { kind: "ins", port: "cmd0", size: 2, bytes: 2048 },
      cmdRead(7),
      cmdRead(3, 4),
    ]);
    const disk = saved.primary.master;
    ok(disk.kind === "disk" && disk.pio !== null && disk.pio.pos === part % blockSize);
    strictEqual(disk.job?.kind, op === 0xec ? "identify" : write ? "write" : "read");
  }
});

Deno.test("disk: restore refuses a job that does not match the transfer in flight", () => {
  const rig = ideRig();
  const host = new PortHost(rig.ide.primary);
  host.lba28(0, 2, 2);
  host.command(0x20);
  host.readWords(100);
  const disk = rig.ide.primary.drives[0] as AtaDisk;
  const saved = disk.snapshot();
  const fresh = ideRig().ide.primary.drives[0] as AtaDisk;
  for (
    const bad of [
      { ...saved, job: null },
      { ...saved, job: { kind: "write", lba: 3, left: 1, block: 1, addressing: "lba28" } },
      { ...saved, job: { kind: "read", lba: 60, left: 10, block: 1, addressing: "lba28" } },
      { ...saved, pio: { ...saved.pio!, pos: 512 } },
      { ...saved, multiple: 3 },
      { ...saved, kind: "cdrom" },
    ]
  ) throws(() => fresh.restore(bad as AtaDiskState), StateError);
  fresh.restore(saved);
  deepStrictEqual(fresh.snapshot(), saved);
});
