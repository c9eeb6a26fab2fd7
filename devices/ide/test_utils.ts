/**
 * Test helpers for the IDE models: an IRQ line that records edges, sector
 * patterned images, and a host that drives a channel's ports the way an ATA
 * driver does.
 *
 * @module
 */

import { deepStrictEqual, ok } from "node:assert";
import { RecordingIrq } from "../testing/recording_irq.ts";
export { RecordingIrq };
export { prng } from "../testing/seeded_random.ts";
import type { AccessSize, BusDevice } from "../types.ts";
import type { AtaChannel } from "./ata_channel.ts";
import { ArrayGuestMemory } from "../testing/array_guest_memory.ts";
import { MemoryBackend } from "../testing/memory_backend.ts";
import { IdeController, type IdeControllerState } from "./ide_controller.ts";

/** An IrqLine recording its level and rising edges. */

/** The byte at `offset` of sector `lba` in {@link patternedImage}. */
export function patternByte(lba: number, offset: number): number {
  // The first four bytes carry the sector number, the rest a sector-dependent ramp.
  if (offset < 4) return (lba >>> (8 * offset)) & 0xff;
  return (lba * 31 + offset + Math.floor(offset / 256) * 7) & 0xff;
}

/** A backend of `sectors` sectors, each filled by {@link patternByte}. */
export function patternedImage(sectors: number, sectorSize = 512, readonly = false): MemoryBackend {
  const bytes = new Uint8Array(sectors * sectorSize);
  for (let lba = 0; lba < sectors; lba++) {
    for (let i = 0; i < sectorSize; i++) bytes[lba * sectorSize + i] = patternByte(lba, i);
  }
  return new MemoryBackend(bytes, readonly);
}

/** Drives one channel's command and control blocks like a host driver. */
export class PortHost {
  /** @param channel the channel under test */
  constructor(readonly channel: AtaChannel) {}

  /** `out` to command block register `reg`. */
  out(reg: number, value: number, size: AccessSize = 1): void {
    this.channel.command.write(reg, size, value);
  }

  /** `in` from command block register `reg`. */
  in(reg: number, size: AccessSize = 1): number {
    return this.channel.command.read(reg, size);
  }

  /** Reads the status register (acknowledges INTRQ). */
  status(): number {
    return this.in(7);
  }

  /** Reads the alternate status register (does not acknowledge). */
  altStatus(): number {
    return this.channel.control.read(0, 1);
  }

  /** Writes the device control register. */
  control(value: number): void {
    this.channel.control.write(0, 1, value);
  }

  /** Selects `unit` with the extra device register bits `bits` (LBA, head / LBA 27:24). */
  select(unit: 0 | 1, bits = 0): void {
    this.out(6, 0xa0 | unit << 4 | bits);
  }

  /** Loads a 28-bit LBA and sector count (count 256 is written as 0) and selects `unit` in LBA mode. */
  lba28(unit: 0 | 1, lba: number, count: number): void {
    this.select(unit, 0x40 | ((lba >>> 24) & 0x0f));
    this.out(2, count & 0xff);
    this.out(3, lba & 0xff);
    this.out(4, (lba >>> 8) & 0xff);
    this.out(5, (lba >>> 16) & 0xff);
  }

  /** Loads a 48-bit LBA and count through the register FIFOs (high bytes first). */
  lba48(unit: 0 | 1, lba: number, count: number): void {
    this.select(unit, 0x40);
    const high = Math.floor(lba / 2 ** 24);
    this.out(2, (count >> 8) & 0xff);
    this.out(3, high & 0xff);
    this.out(4, (high >>> 8) & 0xff);
    this.out(5, (high >>> 16) & 0xff);
    this.out(2, count & 0xff);
    this.out(3, lba & 0xff);
    this.out(4, (lba >>> 8) & 0xff);
    this.out(5, (lba >>> 16) & 0xff);
  }

  /** Loads a CHS address and count and selects `unit` in CHS mode. */
  chs(unit: 0 | 1, cylinder: number, head: number, sector: number, count: number): void {
    this.select(unit, head & 0x0f);
    this.out(2, count & 0xff);
    this.out(3, sector);
    this.out(4, cylinder & 0xff);
    this.out(5, cylinder >> 8);
  }

  /** Writes the command register. */
  command(op: number): void {
    this.out(7, op);
  }

  /** Reads `bytes` bytes from the data port with 16-bit `in`s. */
  readWords(bytes: number): Uint8Array {
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 2) {
      const w = this.in(0, 2);
      out[i] = w & 0xff;
      out[i + 1] = w >> 8;
    }
    return out;
  }

  /** Reads `bytes` bytes from the data port with 32-bit `in`s. */
  readDwords(bytes: number): Uint8Array {
    const out = new Uint8Array(bytes);
    const view = new DataView(out.buffer);
    for (let i = 0; i < bytes; i += 4) view.setUint32(i, this.in(0, 4), true);
    return out;
  }

  /** Reads `bytes` bytes through the string I/O fast path (`rep insw`). */
  readBlock(bytes: number, size: AccessSize = 2): Uint8Array {
    const out = new Uint8Array(bytes);
    this.channel.command.readBlock!(0, size, out);
    return out;
  }

  /** Writes `data` to the data port with 16-bit `out`s. */
  writeWords(data: Uint8Array): void {
    for (let i = 0; i < data.length; i += 2) this.out(0, data[i] | data[i + 1] << 8, 2);
  }

  /** Writes `data` through the string I/O fast path (`rep outsw`/`outsd`). */
  writeBlock(data: Uint8Array, size: AccessSize = 2): void {
    this.channel.command.writeBlock!(0, size, data);
  }

  /** Sends a 12-byte ATAPI packet: PACKET with byte count `limit` (and DMA when `dma`), then the CDB. */
  packet(unit: 0 | 1, cdb: number[], limit = 0xfffe, dma = false): void {
    this.select(unit);
    this.out(1, dma ? 1 : 0);
    this.out(4, limit & 0xff);
    this.out(5, limit >> 8);
    this.command(0xa0);
    const bytes = new Uint8Array(12);
    bytes.set(cdb);
    this.writeWords(bytes);
  }

  /** Reads the byte count registers (LBA mid/high) of an ATAPI DRQ block. */
  byteCount(): number {
    return this.in(4) | this.in(5) << 8;
  }

  /**
   * Collects the data-in of an ATAPI command like an interrupt-driven host:
   * read status (acknowledging INTRQ), then a DRQ block of the announced byte
   * count, until completion. Returns the data and the block sizes.
   */
  readPacketData(): { data: Uint8Array; blocks: number[] } {
    const parts: Uint8Array[] = [];
    const blocks: number[] = [];
    while (this.status() & 0x08) {
      const n = this.byteCount();
      blocks.push(n);
      parts.push(this.readWords(n + (n & 1)).subarray(0, n));
      if (blocks.length > 10000) throw new Error("runaway transfer");
    }
    const data = new Uint8Array(parts.reduce((t, p) => t + p.length, 0));
    let off = 0;
    for (const p of parts) {
      data.set(p, off);
      off += p.length;
    }
    return { data, blocks };
  }
}

/** Little-endian 16-bit word `i` of an IDENTIFY block. */
export function word(data: Uint8Array, i: number): number {
  return data[2 * i] | data[2 * i + 1] << 8;
}

/** The register blocks a guest reaches on the controller. */
export type IdePort = "cmd0" | "ctl0" | "cmd1" | "ctl1" | "bm" | "cfg";

/** One guest access to an IDE controller, as data so it can be replayed. */
export type IdeOp =
  | { kind: "io"; port: IdePort; write: boolean; offset: number; size: AccessSize; value: number }
  | { kind: "ins"; port: "cmd0" | "cmd1"; size: 2 | 4; bytes: number }
  | { kind: "outs"; port: "cmd0" | "cmd1"; size: 2 | 4; data: Uint8Array }
  | { kind: "mem"; addr: number; data: Uint8Array };

/** A byte written to register `offset` of the primary channel's command block, as an op. */
export function cmdWrite(offset: number, value: number): IdeOp {
  return { kind: "io", port: "cmd0", write: true, offset, size: 1, value };
}

/** A read of `size` bytes at register `offset` of the primary channel's command block, as an op. */
export function cmdRead(offset: number, size: AccessSize = 1): IdeOp {
  return { kind: "io", port: "cmd0", write: false, offset, size, value: 0 };
}

/** A controller with a disk and a CD-ROM on the primary channel, a CD-ROM alone on the secondary. */
export interface IdeRig {
  readonly ide: IdeController;
  readonly memory: ArrayGuestMemory;
  readonly disk: MemoryBackend;
  readonly cd: MemoryBackend;
  readonly cd2: MemoryBackend;
  readonly irqs: readonly [RecordingIrq, RecordingIrq];
}

/** A fresh rig; with `from`, over copies of that rig's guest memory and disk contents. */
export function ideRig(from?: IdeRig): IdeRig {
  const memory = new ArrayGuestMemory(from ? from.memory.bytes.slice() : 0x80000);
  const disk = from ? new MemoryBackend(from.disk.bytes.slice()) : patternedImage(64);
  const cd = from ? new MemoryBackend(from.cd.bytes.slice(), true) : patternedImage(16, 2048, true);
  const cd2 = from
    ? new MemoryBackend(from.cd2.bytes.slice(), true)
    : patternedImage(8, 2048, true);
  const irqs = [new RecordingIrq(), new RecordingIrq()] as const;
  const ide = new IdeController({
    primaryIrq: irqs[0],
    secondaryIrq: irqs[1],
    memory,
    drives: {
      primaryMaster: { kind: "disk", backend: disk },
      primarySlave: { kind: "cdrom", backend: cd },
      secondaryMaster: { kind: "cdrom", backend: cd2 },
    },
  });
  return { ide, memory, disk, cd, cd2, irqs };
}

function portDevice(ide: IdeController, port: IdePort): BusDevice {
  switch (port) {
    case "cmd0":
      return ide.primaryCommand;
    case "ctl0":
      return ide.primaryControl;
    case "cmd1":
      return ide.secondaryCommand;
    case "ctl1":
      return ide.secondaryControl;
    case "bm":
      return ide.busMaster;
    case "cfg":
      return ide.config;
  }
}

/** Applies `ops`; returns every value read and both IRQ levels after each access. */
export function runIdeOps(rig: IdeRig, ops: readonly IdeOp[]): unknown[] {
  const out: unknown[] = [];
  for (const op of ops) {
    if (op.kind === "io") {
      const dev = portDevice(rig.ide, op.port);
      if (op.write) dev.write(op.offset, op.size, op.value);
      else out.push(dev.read(op.offset, op.size));
    } else if (op.kind === "ins") {
      const dst = new Uint8Array(op.bytes);
      portDevice(rig.ide, op.port).readBlock!(0, op.size, dst);
      out.push([...dst]);
    } else if (op.kind === "outs") {
      portDevice(rig.ide, op.port).writeBlock!(0, op.size, op.data);
    } else {
      rig.memory.write(op.addr, op.data);
    }
    out.push(rig.irqs[0].level, rig.irqs[1].level);
  }
  return out;
}

const COMMANDS = [0x20, 0x24, 0x30, 0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0xec, 0xa0, 0xa0, 0xa1, 0xe5];

function cdb(next: (n: number) => number): Uint8Array {
  const c = new Uint8Array(12);
  switch (next(7)) {
    case 0: // READ(10)
      c.set([0x28, 0, 0, 0, 0, next(15), 0, 0, 1 + next(2)]);
      break;
    case 1:
      c.set([0x12, 0, 0, 0, 36]); // INQUIRY
      break;
    case 2:
      c.set([0x03, 0, 0, 0, 18]); // REQUEST SENSE
      break;
    case 3:
      break; // TEST UNIT READY
    case 4:
      c.set([0x25]); // READ CAPACITY
      break;
    case 5:
      c.set([0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 0x40]); // MODE SENSE(10)
      break;
    default:
      c.set([0xff]); // invalid opcode
  }
  return c;
}

/**
 * Guest-like accesses: commands with their parameters, data in and out in
 * pieces of any length (so transfers stop mid-sector or mid-packet), bus
 * master PRD tables and start/stop, device control and the PCI command
 * register, with a sprinkle of arbitrary register accesses.
 */
export function randomIdeOps(next: (n: number) => number, count: number): IdeOp[] {
  const ops: IdeOp[] = [];
  const io = (port: IdePort, write: boolean, offset: number, value = 0, size: AccessSize = 1) =>
    ops.push({ kind: "io", port, write, offset, size, value });
  while (ops.length < count) {
    const ch = next(3) === 0 ? 1 : 0;
    const cmd = ch ? "cmd1" : "cmd0";
    const r = next(100);
    if (r < 18) {
      const op = COMMANDS[next(COMMANDS.length)];
      io(cmd, true, 6, 0xe0 | next(2) << 4);
      io(cmd, true, 1, op === 0xa0 ? next(2) : 0x03); // PACKET DMA bit / SET FEATURES
      io(cmd, true, 2, op === 0xc6 ? [0, 2, 4, 3][next(4)] : 1 + next(4));
      io(cmd, true, 3, next(60));
      io(cmd, true, 4, op === 0xa0 ? [0x00, 0x00, 0x01, 0x08, 0x00][next(5)] : 0);
      io(cmd, true, 5, op === 0xa0 ? [0x02, 0x08, 0x01, 0x00, 0xff][next(5)] : 0);
      io(cmd, true, 7, op);
    } else if (r < 40) {
      if (next(2)) {
        ops.push({ kind: "ins", port: cmd, size: next(4) ? 2 : 4, bytes: 4 * (1 + next(200)) });
      } else for (let i = next(8); i >= 0; i--) io(cmd, false, 0, 0, next(3) ? 2 : 4);
    } else if (r < 55) {
      if (next(2)) {
        ops.push({
          kind: "outs",
          port: cmd,
          size: 2,
          data: cdb(next).subarray(0, 2 * (1 + next(6))),
        });
      } else {
        const data = new Uint8Array(4 * (1 + next(200))).map(() => next(256));
        ops.push({ kind: "outs", port: cmd, size: next(4) ? 2 : 4, data });
      }
    } else if (r < 67) {
      io(cmd, false, 7);
      if (next(2)) io(ch ? "ctl1" : "ctl0", false, 0);
      if (next(2)) io(cmd, false, 1 + next(6), 0, ([1, 2, 4] as const)[next(3)]);
    } else if (r < 80) {
      // A PRD table of one to three entries at 0x1000 + 0x100 * channel.
      const table = 0x1000 + 0x100 * ch;
      const entries = 1 + next(3);
      const data = new Uint8Array(8 * entries);
      const view = new DataView(data.buffer);
      for (let i = 0; i < entries; i++) {
        view.setUint32(8 * i, 0x10000 + 0x8000 * next(8) + 2 * next(64), true);
        view.setUint32(
          8 * i + 4,
          (2 * (1 + next(1200))) | (i === entries - 1 ? 0x80000000 : 0),
          true,
        );
      }
      ops.push({ kind: "mem", addr: table, data });
      io("bm", true, 8 * ch + 4, table, 4);
      io("bm", true, 8 * ch, [0x09, 0x01, 0x00][next(3)]);
      if (next(2)) io("bm", true, 8 * ch + 2, 0x06 | next(2) << 5);
    } else if (r < 86) {
      io("bm", false, 8 * ch + next(8), 0, ([1, 2, 4] as const)[next(3)]);
    } else if (r < 91) {
      const dc = [0x00, 0x02, 0x00, 0x80, 0x04][next(5)];
      io(ch ? "ctl1" : "ctl0", true, 0, dc);
      if (dc === 0x04) io(ch ? "ctl1" : "ctl0", true, 0, 0);
    } else if (r < 95) {
      io("cfg", true, 0x04, [0x0005, 0x0001, 0x0401][next(3)], 2);
    } else {
      const port = (["cmd0", "ctl0", "cmd1", "ctl1", "bm"] as const)[next(5)];
      io(port, next(2) === 0, next(port[0] === "c" && port[1] === "m" ? 8 : 1), next(256));
    }
  }
  return ops;
}

/**
 * Saves `rig`, restores the state into a fresh rig over copies of its memory
 * and disks, checks the restored snapshot is the saved one, then runs
 * `more` on both and checks every read, IRQ level, memory byte, disk byte
 * and the final states agree. Returns the saved state.
 */
export function assertRestoresExactly(rig: IdeRig, more: readonly IdeOp[]): IdeControllerState {
  const saved = rig.ide.snapshot();
  const copy = ideRig(rig);
  // As it arrives from a worker or a save file: a structured clone, no shared references.
  copy.ide.restore(structuredClone(saved));
  deepStrictEqual(copy.ide.snapshot(), saved);
  deepStrictEqual([copy.irqs[0].level, copy.irqs[1].level], [rig.irqs[0].level, rig.irqs[1].level]);
  deepStrictEqual(runIdeOps(copy, more), runIdeOps(rig, more));
  deepStrictEqual(copy.ide.snapshot(), rig.ide.snapshot());
  ok(copy.memory.bytes.every((v, i) => v === rig.memory.bytes[i]), "guest memory differs");
  ok(copy.disk.bytes.every((v, i) => v === rig.disk.bytes[i]), "disk contents differ");
  return saved;
}
