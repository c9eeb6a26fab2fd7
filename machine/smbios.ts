/**
 * SMBIOS tables for a boot without firmware (`--firmware none --kernel`),
 * laid out as SeaBIOS installs the ones QEMU's PC hands it through fw_cfg
 * (DMTF DSP0134 2.8; integers little-endian): a 2.8 entry point ("_SM_",
 * 31 bytes, 16-byte aligned in the F segment where guests search for it)
 * and the structure table it points at:
 *
 * | type | handle        | what                                                |
 * |------|---------------|-----------------------------------------------------|
 * | 0    | 0x0000        | BIOS: vmrun, its version, no BIOS characteristics, "virtual machine" |
 * | 1    | 0x0100        | system: vmrun, "Standard PC (i440FX + PIIX, 1996)" (QEMU's name of the board), UUID 0, woken by the power switch |
 * | 3    | 0x0300        | chassis: type "other", states safe, security unknown |
 * | 4    | 0x0400        | the processor socket: CPUID 1 signature, 2000 MHz, all vCPUs as its cores |
 * | 16   | 0x1000        | the memory array: system memory, multi-bit ECC, all of RAM |
 * | 17   | 0x1100 + n    | one 16 GiB "DIMM n" per 16 GiB of RAM (the last smaller), as QEMU |
 * | 19   | 0x1300 + n    | RAM below 4 GiB, and above it, mapped to the array  |
 * | 32   | 0x2000        | boot: no errors                                     |
 * | 127  | 0x7F00        | end of table                                        |
 *
 * Each structure is its formatted area followed by its strings, each
 * NUL-terminated, and one more NUL (two when it has no strings).
 *
 * @module
 */

import { VMRUN_VERSION } from "./version.ts";

/** The board's product name, QEMU's for the same PC. */
export const SMBIOS_PRODUCT = "Standard PC (i440FX + PIIX, 1996)";
/** Manufacturer of the system, chassis, processor and memory. */
export const SMBIOS_MANUFACTURER = "vmrun";
/** The BIOS release date type 0 gives (mm/dd/yyyy): when this layout was written. */
export const SMBIOS_BIOS_DATE = "12/06/2026";
/** Bytes of the 2.1-style (32-bit) entry point. */
export const SMBIOS_ENTRY_SIZE = 31;
/** Processor speed QEMU reports (MHz). */
const CPU_MHZ = 2000;
/** QEMU's DIMM size in type 17 structures. */
const DIMM_BYTES = 16 * 2 ** 30;
const KIB = 1024;
const MIB = 2 ** 20;
const FOUR_GIB = 2 ** 32;

/** What the tables describe. */
export interface SmbiosOptions {
  readonly cpus: number;
  /** CPUID leaf 1 EAX (signature) and EDX (features), the processor ID. */
  readonly cpuSignature: number;
  readonly cpuFeatures: number;
  readonly lowRamBytes: number;
  readonly highRamBytes: number;
}

/** The entry point and the structure table, for guest addresses fixed by the caller. */
export interface SmbiosTables {
  readonly entry: Uint8Array;
  readonly table: Uint8Array;
}

/** One structure: formatted area (header filled in here) and strings. */
class Structure {
  readonly #strings: string[] = [];
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(type: number, length: number, handle: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
    this.bytes[0] = type;
    this.bytes[1] = length;
    this.view.setUint16(2, handle, true);
  }

  /** Adds `s` and stores its number (from 1) at `at`; an empty string is number 0. */
  str(at: number, s: string): this {
    if (s !== "") {
      this.#strings.push(s);
      this.bytes[at] = this.#strings.length;
    }
    return this;
  }

  u8(at: number, v: number): this {
    this.bytes[at] = v;
    return this;
  }

  u16(at: number, v: number): this {
    this.view.setUint16(at, v, true);
    return this;
  }

  u32(at: number, v: number): this {
    this.view.setUint32(at, v, true);
    return this;
  }

  u64(at: number, v: bigint): this {
    this.view.setBigUint64(at, v, true);
    return this;
  }

  /** The formatted area, the strings and the terminating NUL(s). */
  encode(): Uint8Array {
    const enc = new TextEncoder();
    const strings = this.#strings.map((s) => [...enc.encode(s), 0]).flat();
    const tail = strings.length === 0 ? [0, 0] : [...strings, 0];
    const out = new Uint8Array(this.bytes.length + tail.length);
    out.set(this.bytes);
    out.set(tail, this.bytes.length);
    return out;
  }
}

/** The structures in table order. */
function structures(o: SmbiosOptions): Structure[] {
  const out: Structure[] = [];
  out.push(
    new Structure(0, 0x18, 0x0000)
      .str(4, SMBIOS_MANUFACTURER)
      .str(5, VMRUN_VERSION)
      .u16(6, 0xe800) // starting segment, as SeaBIOS
      .str(8, SMBIOS_BIOS_DATE)
      .u8(9, 0) // ROM size: 64 KiB
      .u64(0x0a, 1n << 3n) // characteristics not supported
      .u8(0x13, 1 << 2 | 1 << 4) // targeted content distribution, virtual machine
      .u8(0x16, 0xff) // no embedded controller firmware
      .u8(0x17, 0xff),
  );
  out.push(
    new Structure(1, 0x1b, 0x0100)
      .str(4, SMBIOS_MANUFACTURER)
      .str(5, SMBIOS_PRODUCT)
      .str(6, VMRUN_VERSION)
      .u8(0x18, 6), // woken by the power switch; UUID (8-23) all zero: not set
  );
  out.push(
    new Structure(3, 0x16, 0x0300)
      .str(4, SMBIOS_MANUFACTURER)
      .u8(5, 0x01) // other
      .str(6, VMRUN_VERSION)
      .u8(9, 0x03) // boot-up, power supply and thermal state: safe
      .u8(10, 0x03)
      .u8(11, 0x03)
      .u8(12, 0x02), // security status: unknown
  );
  const cpus = Math.min(o.cpus, 255);
  out.push(
    new Structure(4, 0x2a, 0x0400)
      .str(4, "CPU 0")
      .u8(5, 0x03) // central processor
      .u8(6, 0x01) // family: other (family 2 at 0x28 says the same)
      .str(7, SMBIOS_MANUFACTURER)
      .u32(8, o.cpuSignature)
      .u32(12, o.cpuFeatures)
      .str(16, VMRUN_VERSION)
      .u16(20, CPU_MHZ)
      .u16(22, CPU_MHZ)
      .u8(24, 0x41) // socket populated, CPU enabled
      .u8(25, 0x01) // upgrade: other
      .u16(26, 0xffff) // no cache information
      .u16(28, 0xffff)
      .u16(30, 0xffff)
      .u8(35, cpus) // cores, enabled cores, threads
      .u8(36, cpus)
      .u8(37, cpus)
      .u16(38, 0x02) // characteristics: unknown
      .u16(40, 0x01),
  );
  const ram = o.lowRamBytes + o.highRamBytes;
  const dimms = Math.max(1, Math.ceil(ram / DIMM_BYTES));
  const ramKib = BigInt(Math.floor(ram / KIB));
  const array = new Structure(16, 0x17, 0x1000)
    .u8(4, 0x01) // location: other
    .u8(5, 0x03) // use: system memory
    .u8(6, 0x06) // multi-bit ECC
    .u16(11, 0xfffe) // no error information
    .u16(13, dimms);
  if (ramKib < 0x80000000n) array.u32(7, Number(ramKib));
  else array.u32(7, 0x80000000).u64(15, ramKib * 1024n);
  out.push(array);
  for (let n = 0; n < dimms; n++) {
    const sizeMib = Math.floor(Math.min(DIMM_BYTES, ram - n * DIMM_BYTES) / MIB);
    out.push(
      new Structure(17, 0x28, 0x1100 + n)
        .u16(4, 0x1000)
        .u16(6, 0xfffe)
        .u16(8, 0xffff) // total and data width unknown
        .u16(10, 0xffff)
        .u16(12, sizeMib) // at most 16384 MiB: below the extended-size threshold
        .u8(14, 0x09) // DIMM
        .str(16, `DIMM ${n}`)
        .u8(18, 0x07) // RAM
        .u16(19, 0x02) // type detail: other
        .str(23, SMBIOS_MANUFACTURER),
    );
  }
  const regions: [number, number][] = [[0, o.lowRamBytes]];
  if (o.highRamBytes > 0) regions.push([FOUR_GIB, FOUR_GIB + o.highRamBytes]);
  regions.forEach(([start, end], n) => {
    const s = new Structure(19, 0x1f, 0x1300 + n).u16(12, 0x1000).u8(14, 1);
    const endKib = Math.floor((end - 1) / KIB);
    // The KiB fields reach 4 TiB; beyond, 0xFFFFFFFF says "see the byte fields".
    if (endKib < 0xffffffff) {
      s.u32(4, Math.floor(start / KIB)).u32(8, endKib);
    } else {
      s.u32(4, 0xffffffff).u32(8, 0xffffffff).u64(15, BigInt(start)).u64(23, BigInt(end - 1));
    }
    out.push(s);
  });
  out.push(new Structure(32, 0x0b, 0x2000)); // boot status 0: no errors
  out.push(new Structure(127, 4, 0x7f00));
  return out;
}

/**
 * The entry point (for a 16-byte boundary in 0xF0000-0xFFFFF) and the
 * structure table (for `tableAddress`, below 4 GiB).
 * @throws {RangeError} for a table address that is not a 32-bit address
 */
export function buildSmbios(o: SmbiosOptions, tableAddress: number): SmbiosTables {
  if (!Number.isInteger(tableAddress) || tableAddress < 0 || tableAddress >= FOUR_GIB) {
    throw new RangeError(`SMBIOS table address 0x${tableAddress.toString(16)} is not 32-bit`);
  }
  const encoded = structures(o).map((s) => s.encode());
  const length = encoded.reduce((n, s) => n + s.length, 0);
  const table = new Uint8Array(length);
  let at = 0;
  for (const s of encoded) {
    table.set(s, at);
    at += s.length;
  }
  const entry = new Uint8Array(SMBIOS_ENTRY_SIZE);
  const v = new DataView(entry.buffer);
  entry.set(new TextEncoder().encode("_SM_"), 0);
  entry[5] = SMBIOS_ENTRY_SIZE;
  entry[6] = 2; // version 2.8
  entry[7] = 8;
  v.setUint16(8, Math.max(...encoded.map((s) => s.length)), true);
  entry.set(new TextEncoder().encode("_DMI_"), 16);
  v.setUint16(22, length, true);
  v.setUint32(24, tableAddress, true);
  v.setUint16(28, encoded.length, true);
  entry[30] = 0x28; // BCD revision 2.8
  // The intermediate checksum covers 16-30; the entry point's covers all 31 bytes.
  entry[21] = -sum(entry.subarray(16, 31)) & 0xff;
  entry[4] = -sum(entry) & 0xff;
  return { entry, table };
}

function sum(bytes: Uint8Array): number {
  return bytes.reduce((s, b) => s + b, 0);
}
