import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { AtaChannel } from "./ata_channel.ts";
import type { AtapiCdrom } from "./atapi_cdrom.ts";
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

const BLOCKS = 300;

function setup(backend = patternedImage(BLOCKS, 2048, true)) {
  const irq = new RecordingIrq();
  // CD-ROM as secondary master, the usual place.
  const channel = new AtaChannel({ irq, master: { kind: "cdrom", backend }, index: 1 });
  return { irq, channel, host: new PortHost(channel), cd: channel.drives[0] as AtapiCdrom };
}

function be32(b: Uint8Array, off: number): number {
  return (b[off] << 24 | b[off + 1] << 16 | b[off + 2] << 8 | b[off + 3]) >>> 0;
}

/** Runs a packet command expected to succeed and returns its data. */
function run(host: PortHost, cdb: number[], limit = 0xfffe): Uint8Array {
  host.packet(0, cdb, limit);
  const { data } = host.readPacketData();
  strictEqual(host.status() & 0x89, 0, `command 0x${cdb[0].toString(16)} completes without error`);
  strictEqual(host.in(2), 0x03); // I/O and C/D: status phase
  return data;
}

/** REQUEST SENSE: [key, asc, ascq]. */
function sense(host: PortHost): number[] {
  const s = run(host, [0x03, 0, 0, 0, 18, 0]);
  strictEqual(s[0], 0x70);
  return [s[2] & 0x0f, s[12], s[13]];
}

Deno.test("cdrom: packet signature after reset, DRDY clear until a command", () => {
  const { host } = setup();
  strictEqual(host.status(), 0x00);
  deepStrictEqual([host.in(2), host.in(3), host.in(4), host.in(5)], [0x01, 0x01, 0x14, 0xeb]);
  strictEqual(host.in(1), 0x01);
});

Deno.test("cdrom: IDENTIFY DEVICE aborts and leaves the signature", () => {
  const { host, irq } = setup();
  host.out(4, 0);
  host.out(5, 0);
  host.select(0);
  host.command(0xec);
  strictEqual(irq.level, true);
  strictEqual(host.status(), 0x41);
  strictEqual(host.in(1), 0x04);
  deepStrictEqual([host.in(4), host.in(5)], [0x14, 0xeb]);
});

Deno.test("cdrom: IDENTIFY PACKET DEVICE", () => {
  const { host } = setup();
  host.select(0);
  host.command(0xa1);
  strictEqual(host.status(), 0x48);
  const id = host.readWords(512);
  strictEqual(host.status(), 0x40);
  const words = new Uint16Array(256).map((_, i) => word(id, i));
  strictEqual(words[0] >> 14, 2); // ATAPI
  strictEqual((words[0] >> 8) & 0x1f, 5); // CD-ROM
  strictEqual(words[0] & 0x80, 0x80); // removable
  strictEqual(words[0] & 3, 0); // 12-byte packets
  strictEqual(words[82] & 0x0010, 0x0010); // PACKET feature set
  strictEqual(getAtaString(words, 27, 20), "VMRUN CD-ROM");
  strictEqual(getAtaString(words, 10, 10), "VMRUN-2");
  // Device 0 with no device 1: the check firmware uses to skip probing the slave.
  strictEqual(words[93] & 0xdf61, 0x4041);
  strictEqual(id.reduce((a, b) => a + b, 0) & 0xff, 0);
});

Deno.test("cdrom: PACKET asks for the command packet without an interrupt", () => {
  const { host, irq } = setup();
  host.select(0);
  host.out(4, 0x00);
  host.out(5, 0x08);
  host.command(0xa0);
  strictEqual(irq.level, false);
  strictEqual(host.altStatus(), 0x48); // DRDY | DRQ
  strictEqual(host.in(2), 0x01); // C/D, to the device
  host.writeWords(new Uint8Array(12)); // TEST UNIT READY
  strictEqual(irq.level, true);
  strictEqual(host.status(), 0x40);
  strictEqual(host.in(2), 0x03);
});

Deno.test("cdrom: INQUIRY", () => {
  const { host } = setup();
  const data = run(host, [0x12, 0, 0, 0, 96, 0]);
  strictEqual(data.length, 36);
  strictEqual(data[0], 0x05); // CD/DVD device
  strictEqual(data[1], 0x80); // removable
  strictEqual(data[4], 31);
  strictEqual(new TextDecoder().decode(data.subarray(8, 16)), "VMRUN   ");
  strictEqual(new TextDecoder().decode(data.subarray(16, 32)).trimEnd(), "VMRUN CD-ROM");
  // Allocation length cuts the data.
  strictEqual(run(host, [0x12, 0, 0, 0, 5, 0]).length, 5);
});

Deno.test("cdrom: READ CAPACITY", () => {
  const { host } = setup();
  const data = run(host, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  deepStrictEqual([be32(data, 0), be32(data, 4)], [BLOCKS - 1, 2048]);
});

Deno.test("cdrom: READ(10) of several sectors in byte-count-limited DRQ blocks", () => {
  const { host, irq, cd } = setup();
  const before = irq.rises;
  host.packet(0, [0x28, 0, 0, 0, 0, 10, 0, 0, 3, 0], 2048);
  const { data, blocks } = host.readPacketData();
  deepStrictEqual(blocks, [2048, 2048, 2048]);
  strictEqual(irq.rises - before, 4); // three data blocks and the status phase
  strictEqual(host.status(), 0x40);
  strictEqual(host.in(2), 0x03);
  for (let s = 0; s < 3; s++) {
    for (const i of [0, 3, 4, 1000, 2047]) strictEqual(data[s * 2048 + i], patternByte(10 + s, i));
  }
  strictEqual(cd.bytesRead, 3 * 2048);
});

Deno.test("cdrom: odd byte count limits give even blocks until the last", () => {
  const { host } = setup();
  host.packet(0, [0x28, 0, 0, 0, 0, 1, 0, 0, 2, 0], 1001);
  const { data, blocks } = host.readPacketData();
  strictEqual(blocks.length, 5);
  deepStrictEqual(blocks.slice(0, 4), [1000, 1000, 1000, 1000]);
  strictEqual(blocks[4], 96);
  strictEqual(data[2048 + 5], patternByte(2, 5));
  strictEqual(host.status(), 0x40);
});

Deno.test("cdrom: the interrupt reason says data to the host during DRQ", () => {
  const { host } = setup();
  host.packet(0, [0xa8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], 0x8000);
  strictEqual(host.status(), 0x48);
  strictEqual(host.in(2), 0x02); // I/O, data
  strictEqual(host.byteCount(), 2048);
  const first = host.readBlock(2048, 4);
  strictEqual(first[0], 0);
  strictEqual(first[100], patternByte(0, 100));
  strictEqual(host.status(), 0x40);
});

Deno.test("cdrom: READ beyond the last block is ILLEGAL REQUEST / LBA OUT OF RANGE", () => {
  const { host, irq } = setup();
  host.packet(0, [0x28, 0, 0, 0, 0x01, 0x2b, 0, 0, 2, 0]); // LBA 299, 2 blocks
  strictEqual(irq.level, true);
  strictEqual(host.status(), 0x41);
  strictEqual(host.in(1), 0x54); // sense key 5, ABRT
  strictEqual(host.in(2), 0x03);
  deepStrictEqual(sense(host), [0x05, 0x21, 0x00]);
  deepStrictEqual(sense(host), [0x00, 0x00, 0x00]); // cleared once reported
});

Deno.test("cdrom: unknown packet commands are INVALID COMMAND OPERATION CODE", () => {
  const { host } = setup();
  host.packet(0, [0xff]);
  strictEqual(host.status(), 0x41);
  strictEqual(host.in(1), 0x54);
  deepStrictEqual(sense(host), [0x05, 0x20, 0x00]);
  host.packet(0, [0x12, 0x01, 0x80, 0, 36, 0]); // vital product data page
  strictEqual(host.status(), 0x41);
  deepStrictEqual(sense(host), [0x05, 0x24, 0x00]);
});

Deno.test("cdrom: TEST UNIT READY and NOT READY without a disc", () => {
  const { host } = setup();
  strictEqual(run(host, [0x00]).length, 0);
  const empty = setup(new MemoryBackend(0, true));
  empty.host.packet(0, [0x00]);
  strictEqual(empty.host.status(), 0x41);
  strictEqual(empty.host.in(1), 0x20);
  deepStrictEqual(sense(empty.host), [0x02, 0x3a, 0x00]);
});

Deno.test("cdrom: MODE SENSE(10) capabilities page", () => {
  const { host } = setup();
  const data = run(host, [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255, 0]);
  strictEqual(data.length, 8 + 22);
  strictEqual(data[0] << 8 | data[1], data.length - 2);
  deepStrictEqual([data[6], data[7]], [0, 0]); // no block descriptors
  deepStrictEqual([data[8], data[9]], [0x2a, 0x14]);
  strictEqual(data[8 + 6] & 0x09, 0x09); // lock and eject supported
  strictEqual(data[8 + 6] & 0x02, 0); // not locked
  run(host, [0x1e, 0, 0, 0, 1, 0]); // PREVENT MEDIUM REMOVAL
  strictEqual(run(host, [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255, 0])[8 + 6] & 0x02, 0x02);
  const all = run(host, [0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255, 0]);
  strictEqual(all.length, 8 + 12 + 8 + 22);
  host.packet(0, [0x5a, 0, 0x05, 0, 0, 0, 0, 0, 255, 0]);
  strictEqual(host.status(), 0x41);
  deepStrictEqual(sense(host), [0x05, 0x24, 0x00]);
});

Deno.test("cdrom: READ TOC in LBA and MSF", () => {
  const { host } = setup();
  const lba = run(host, [0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0]);
  strictEqual(lba.length, 4 + 16);
  deepStrictEqual([...lba.subarray(0, 4)], [0, 18, 1, 1]);
  deepStrictEqual([lba[5], lba[6], be32(lba, 8)], [0x14, 1, 0]);
  deepStrictEqual([lba[14], be32(lba, 16)], [0xaa, BLOCKS]);
  const msf = run(host, [0x43, 0x02, 0, 0, 0, 0, 0, 0, 100, 0]);
  deepStrictEqual([...msf.subarray(8, 12)], [0, 0, 2, 0]); // track 1 at 00:02:00
  // Lead-out at LBA 300 + 150 = 450 frames = 00:06:00.
  deepStrictEqual([...msf.subarray(16, 20)], [0, 0, 6, 0]);
  const session = run(host, [0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0]);
  deepStrictEqual([session[2], session[3], session[6]], [1, 1, 1]);
  host.packet(0, [0x43, 0, 0, 0, 0, 0, 5, 0, 100, 0]); // no track 5
  deepStrictEqual(sense(host), [0x05, 0x24, 0x00]);
});

Deno.test("cdrom: GET CONFIGURATION reports the CD-ROM profile", () => {
  const { host } = setup();
  const data = run(host, [0x46, 0, 0, 0, 0, 0, 0, 0x01, 0, 0]);
  strictEqual(be32(data, 0), data.length - 4);
  strictEqual(data[6] << 8 | data[7], 0x0008);
  // First feature: the profile list with CD-ROM current.
  deepStrictEqual([...data.subarray(8, 16)], [0, 0, 0x03, 4, 0, 8, 1, 0]);
  const one = run(host, [0x46, 0x02, 0, 0x10, 0, 0, 0, 0x01, 0, 0]); // only Random Readable
  strictEqual(one.length, 8 + 12);
  strictEqual(one[8] << 8 | one[9], 0x0010);
  strictEqual(run(host, [0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0]).length, 8);
});

Deno.test("cdrom: GET EVENT STATUS NOTIFICATION, READ DISC INFORMATION, MECHANISM STATUS", () => {
  const { host } = setup();
  const event = run(host, [0x4a, 0x01, 0, 0, 0x10, 0, 0, 0, 8, 0]);
  deepStrictEqual([...event], [0, 6, 0x04, 0x10, 0, 0x02, 0, 0]);
  host.packet(0, [0x4a, 0x00, 0, 0, 0x10, 0, 0, 0, 8, 0]); // asynchronous: unsupported
  deepStrictEqual(sense(host), [0x05, 0x24, 0x00]);
  const disc = run(host, [0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
  deepStrictEqual([disc[0] << 8 | disc[1], disc[2] & 3, disc[3], disc[4]], [32, 2, 1, 1]);
  strictEqual(run(host, [0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]).length, 8);
});

Deno.test("cdrom: START STOP UNIT refuses to eject a locked disc", () => {
  const { host } = setup();
  run(host, [0x1b, 0, 0, 0, 0x01, 0]); // start
  run(host, [0x1e, 0, 0, 0, 0x01, 0]); // prevent removal
  host.packet(0, [0x1b, 0, 0, 0, 0x02, 0]); // eject
  strictEqual(host.status(), 0x41);
  deepStrictEqual(sense(host), [0x05, 0x53, 0x02]);
  run(host, [0x1e, 0, 0, 0, 0x00, 0]);
  run(host, [0x1b, 0, 0, 0, 0x02, 0]);
});

Deno.test("cdrom: READ CD of user data and DEVICE RESET", () => {
  const { host, cd } = setup();
  const data = run(host, [0xbe, 0, 0, 0, 0, 4, 0, 0, 1, 0x10, 0, 0], 0x8000);
  strictEqual(data.length, 2048);
  strictEqual(data[0], 4);
  host.packet(0, [0xbe, 0, 0, 0, 0, 4, 0, 0, 1, 0xf8, 0, 0]); // raw sectors: not available
  deepStrictEqual(sense(host), [0x05, 0x24, 0x00]);
  host.select(0);
  host.command(0x08);
  strictEqual(host.status(), 0x00);
  deepStrictEqual([host.in(4), host.in(5)], [0x14, 0xeb]);
  strictEqual(cd.snapshot().lastPacket, 0x03);
});

Deno.test("cdrom: SET FEATURES and power commands; ATA data commands abort", () => {
  const { host } = setup();
  host.select(0);
  host.out(1, 0x03);
  host.out(2, 0x22); // MWDMA 2
  host.command(0xef);
  strictEqual(host.status(), 0x40);
  host.command(0xe5);
  strictEqual(host.in(2), 0xff);
  for (const op of [0x20, 0xc8, 0xe7]) {
    host.command(op);
    strictEqual(host.status(), 0x41);
    strictEqual(host.in(1), 0x04);
  }
});

Deno.test("cdrom: restore with a packet half-sent or a data block half-read", () => {
  const cdbs = [
    [0x28, 0, 0, 0, 0, 2, 0, 0, 2, 0, 0, 0], // READ(10) of two blocks
    [0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0], // INQUIRY
    [0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0], // REQUEST SENSE
    [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 0x40, 0, 0, 0], // MODE SENSE(10)
  ];
  for (let seed = 1; seed <= 40; seed++) {
    const next = prng(seed);
    const rig = ideRig();
    const cdb = new Uint8Array(cdbs[next(cdbs.length)]);
    const limit = [0x800, 0x0101, 0x200, 0xfffe][next(4)];
    const ops: IdeOp[] = [
      cmdWrite(6, 0xf0),
      cmdWrite(1, 0),
      cmdWrite(4, limit & 0xff),
      cmdWrite(5, limit >> 8),
      cmdWrite(7, 0xa0),
    ];
    const halfPacket = next(2) === 0;
    const sent = halfPacket ? 2 * (1 + next(5)) : 12;
    ops.push({ kind: "outs", port: "cmd0", size: 2, data: cdb.subarray(0, sent) });
    if (!halfPacket) ops.push({ kind: "ins", port: "cmd0", size: 2, bytes: 2 * next(64) });
    runIdeOps(rig, ops);
    const saved = assertRestoresExactly(rig, [
      { kind: "outs", port: "cmd0", size: 2, data: cdb.subarray(sent) },
      cmdRead(7),
      cmdRead(4, 2),
      { kind: "ins", port: "cmd0", size: 2, bytes: 4096 },
      cmdRead(7),
    ]);
    const cd = saved.primary.slave;
    ok(cd.kind === "cdrom");
    if (halfPacket) {
      strictEqual(cd.job?.kind, "packet");
      strictEqual(cd.pio?.pos, sent);
    }
  }
});

Deno.test("cdrom: without a disc, a reply half-read still saves and restores", () => {
  const make = () => setup(new MemoryBackend(0, true));
  const { host, cd } = make();
  host.packet(0, [0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0]); // INQUIRY
  host.readWords(10);
  const saved = cd.snapshot();
  strictEqual(saved.job?.kind, "send");
  const copy = make();
  copy.cd.restore(structuredClone(saved));
  deepStrictEqual(copy.cd.snapshot(), saved);
  deepStrictEqual(copy.host.readWords(26), host.readWords(26));
});
