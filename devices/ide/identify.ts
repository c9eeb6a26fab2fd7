/**
 * IDENTIFY DEVICE and IDENTIFY PACKET DEVICE data (ATA8-ACS 7.16 / 7.17):
 * 256 little-endian words, strings stored with the first character in the
 * high byte of each word, and an integrity word (255) whose checksum makes
 * the 512 bytes sum to zero.
 *
 * @module
 */

/** A cylinder/head/sector translation. */
export interface Chs {
  readonly cylinders: number;
  readonly heads: number;
  readonly sectors: number;
}

/** The transfer modes selected with SET FEATURES (null: none of that kind). */
export interface TransferMode {
  pio: number;
  mwdma: number | null;
  udma: number | null;
}

/** Largest block READ/WRITE MULTIPLE accepts (IDENTIFY word 47). */
export const MAX_MULTIPLE = 16;

/** Sectors reachable through CHS: 16383 cylinders x 16 heads x 63 sectors. */
export const CHS_LIMIT = 16383 * 16 * 63;

/**
 * The default geometry of an ATA disk of `sectors` sectors: 16 heads, 63
 * sectors per track, at most 16383 cylinders (ATA-3 Annex B); tiny images get
 * fewer heads and sectors so at least one cylinder exists.
 */
export function defaultGeometry(sectors: number): Chs {
  if (sectors >= 16 * 63) {
    return { cylinders: Math.min(16383, Math.floor(sectors / (16 * 63))), heads: 16, sectors: 63 };
  }
  const spt = Math.max(1, Math.min(63, sectors));
  const heads = Math.max(1, Math.min(16, Math.floor(sectors / spt)));
  return { cylinders: Math.max(1, Math.floor(sectors / (heads * spt))), heads, sectors: spt };
}

/** Cylinders of a translation with `heads` x `spt` over `sectors` sectors (words 54 and 57-58). */
export function currentCylinders(sectors: number, heads: number, spt: number): number {
  return Math.min(65535, Math.floor(Math.min(sectors, CHS_LIMIT) / (heads * spt)));
}

/** Writes `text` into `count` words from `first`, space padded, two characters per word, first in the high byte. */
export function putAtaString(words: Uint16Array, first: number, count: number, text: string): void {
  const padded = text.padEnd(count * 2, " ").slice(0, count * 2);
  for (let i = 0; i < count; i++) {
    words[first + i] = (ascii(padded, 2 * i) << 8) | ascii(padded, 2 * i + 1);
  }
}

/** Reads back a string written by {@link putAtaString}, trailing spaces removed. */
export function getAtaString(words: Uint16Array, first: number, count: number): string {
  let s = "";
  for (let i = 0; i < count; i++) {
    s += String.fromCharCode(words[first + i] >> 8, words[first + i] & 0xff);
  }
  return s.trimEnd();
}

function ascii(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0x20 && c < 0x7f ? c : 0x20;
}

/** Sets word 255 (signature 0xA5, checksum) and returns the 512 bytes in little-endian order. */
export function sealIdentify(words: Uint16Array): Uint8Array {
  const bytes = new Uint8Array(512);
  words[255] = 0x00a5;
  let sum = 0;
  for (let i = 0; i < 255; i++) {
    bytes[2 * i] = words[i] & 0xff;
    bytes[2 * i + 1] = words[i] >> 8;
    sum += bytes[2 * i] + bytes[2 * i + 1];
  }
  sum += 0xa5;
  words[255] = ((-sum & 0xff) << 8) | 0xa5;
  bytes[510] = 0xa5;
  bytes[511] = words[255] >> 8;
  return bytes;
}

/**
 * Word 93, hardware reset result: device 0 reports the diagnostics and
 * whether it answers for an absent device 1 (bit 6); device 1 reports itself.
 * Both report an 80-conductor cable (bit 13).
 */
export function resetResult(unit: 0 | 1, peerPresent: boolean): number {
  // Bit 14 set / bit 15 clear mark the word valid; bits 2:1 = 01: jumper-selected.
  if (unit === 1) return 0x4000 | 0x2000 | 0x0800 | 0x0200 | 0x0100;
  return 0x4000 | 0x2000 | (peerPresent ? 0x0030 : 0x0040) | 0x0008 | 0x0002 | 0x0001;
}

/** Identity strings and interface state shared by both IDENTIFY variants. */
export interface IdentifyCommon {
  model: string;
  serial: string;
  firmware: string;
  mode: TransferMode;
  unit: 0 | 1;
  peerPresent: boolean;
}

function common(words: Uint16Array, p: IdentifyCommon): void {
  putAtaString(words, 10, 10, p.serial);
  putAtaString(words, 23, 4, p.firmware);
  putAtaString(words, 27, 20, p.model);
  words[49] = 0x0b00; // IORDY supported, LBA, DMA
  words[50] = 0x4000;
  words[51] = 0x0200; // obsolete PIO timing: mode 2
  words[63] = 0x0007 | (p.mode.mwdma === null ? 0 : 0x100 << p.mode.mwdma);
  words[64] = 0x0003; // PIO modes 3 and 4
  words[65] = 120; // minimum MWDMA cycle time (ns)
  words[66] = 120; // recommended MWDMA cycle time
  words[67] = 120; // minimum PIO cycle time without IORDY
  words[68] = 120; // with IORDY
  words[80] = 0x00f0; // ATA/ATAPI-4 to ATA/ATAPI-7
  words[88] = 0x003f | (p.mode.udma === null ? 0 : 0x100 << p.mode.udma);
  words[93] = resetResult(p.unit, p.peerPresent);
}

/** What IDENTIFY DEVICE reports for a disk. */
export interface DiskIdentifyParams extends IdentifyCommon {
  /** Total 512-byte sectors. */
  sectors: number;
  /** Default translation (words 1, 3, 6). */
  geometry: Chs;
  /** Current translation heads and sectors per track (INITIALIZE DEVICE PARAMETERS). */
  currentHeads: number;
  currentSectors: number;
  /** Current READ/WRITE MULTIPLE block size, 0 when disabled. */
  multiple: number;
  writeCache: boolean;
}

/** IDENTIFY DEVICE data of an ATA disk, 512 bytes. */
export function identifyDevice(p: DiskIdentifyParams): Uint8Array {
  const w = new Uint16Array(256);
  w[0] = 0x0040; // ATA device, not removable
  w[1] = p.geometry.cylinders;
  w[3] = p.geometry.heads;
  w[6] = p.geometry.sectors;
  common(w, p);
  w[47] = 0x8000 | MAX_MULTIPLE;
  w[53] = 0x0007; // words 54-58, 64-70 and 88 valid
  const cyl = currentCylinders(p.sectors, p.currentHeads, p.currentSectors);
  const chsCapacity = cyl * p.currentHeads * p.currentSectors;
  w[54] = cyl;
  w[55] = p.currentHeads;
  w[56] = p.currentSectors;
  w[57] = chsCapacity & 0xffff;
  w[58] = chsCapacity >>> 16;
  w[59] = 0x0100 | p.multiple;
  const lba28 = Math.min(p.sectors, 0x0fffffff);
  w[60] = lba28 & 0xffff;
  w[61] = lba28 >>> 16;
  // 82: NOP, write cache, power management; 83: FLUSH CACHE EXT, FLUSH CACHE, 48-bit.
  w[82] = 0x4028;
  w[83] = 0x7400;
  w[84] = 0x4000;
  w[85] = 0x4008 | (p.writeCache ? 0x0020 : 0);
  w[86] = 0x3400;
  w[87] = 0x4000;
  let n = p.sectors;
  for (let i = 100; i < 104; i++) {
    w[i] = n % 0x10000;
    n = Math.floor(n / 0x10000);
  }
  w[106] = 0x4000; // one logical sector per physical sector
  return sealIdentify(w);
}

/** IDENTIFY PACKET DEVICE data of an ATAPI CD-ROM, 512 bytes. */
export function identifyPacketDevice(p: IdentifyCommon): Uint8Array {
  const w = new Uint16Array(256);
  // ATAPI (10b), CD-ROM (05h), removable, DRQ within 50 us, 12-byte packets.
  w[0] = 0x8000 | 0x0500 | 0x0080 | 0x0040;
  common(w, p);
  w[53] = 0x0006; // words 64-70 and 88 valid
  // 82: NOP, DEVICE RESET, PACKET, power management.
  w[82] = 0x4218;
  w[83] = 0x4000;
  w[84] = 0x4000;
  w[85] = 0x4218;
  w[86] = 0x0000;
  w[87] = 0x4000;
  return sealIdentify(w);
}
