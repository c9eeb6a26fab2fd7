/**
 * Test helpers for the IDE models: an IRQ line that records edges, sector
 * patterned images, and a host that drives a channel's ports the way an ATA
 * driver does.
 *
 * @module
 */

export { RecordingIrq } from "../testing/recording_irq.ts";
import type { AccessSize } from "../types.ts";
import type { AtaChannel } from "./ata_channel.ts";
import { MemoryBackend } from "../testing/memory_backend.ts";

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
