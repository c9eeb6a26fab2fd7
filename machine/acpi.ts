/**
 * ACPI tables for the PC board, in two forms:
 * - for SeaBIOS, through fw_cfg the way QEMU does it ({@link buildAcpiTables}):
 *   the tables in `etc/acpi/tables`, the RSDP in `etc/acpi/rsdp`, and a BIOS
 *   linker/loader script in `etc/table-loader` that tells the firmware where
 *   to put each blob, which pointers to patch once it knows the addresses,
 *   and which checksums to compute afterwards;
 * - for a boot without firmware, laid out at given guest addresses with the
 *   pointers and checksums filled in ({@link layoutAcpiTables}).
 *
 * Tables (ACPI specification, chapter 5; integers little-endian):
 * - RSDP in the F segment, where guests search 0xE0000-0xFFFFF: revision 0
 *   (20 bytes, ACPI 1.0 form) pointing at the RSDT under SeaBIOS, as QEMU's
 *   PC has it; revision 2 (36 bytes) pointing at the RSDT and the XSDT in
 *   the firmware-less layout.
 * - RSDT (and XSDT) listing the FADT, the MADT and the HPET table, in
 *   QEMU's order. No WAET (a hint for Windows only).
 * - FADT, revision 3 (244 bytes): the PIIX4 PM block at the base SeaBIOS
 *   programs (0x600): PM1a event at +0, PM1a control at +4, PM timer at +8
 *   (24-bit), GPE0 at +0x0C; SCI on IRQ 9; SMI_CMD 0xB2 with the APM values
 *   that switch ACPI mode; reset register 0xCF9 (value 6); boot flags
 *   "legacy devices" and "8042 present"; the 32- and 64-bit DSDT pointers;
 *   PWR_BUTTON clear, so the power button is the fixed-feature one
 *   (PWRBTN_STS/EN in PM1, raising the SCI: Piix4Pm.pressPowerButton).
 *   Without firmware, whoever boots the guest must enable the PM block at
 *   `pmBase` (PMBA, PMREGMISC) as SeaBIOS does, or the FADT points at nothing.
 * - FACS (64 bytes, 64-byte aligned at the start of the tables blob).
 * - DSDT: the PCI host bridge with its windows and interrupt routing, the
 *   PIRQ links, the ISA devices, the processors and `\_S5_` (see
 *   acpi_dsdt.ts).
 * - HPET (56 bytes, revision 1) as QEMU builds it: the event timer block
 *   ID (the HPET's capabilities, 0x8086A201), its base address as a
 *   system-memory GAS (0xFED00000), HPET number 0, minimum tick 0 (QEMU's),
 *   no page protection.
 * - MADT: one local APIC per vCPU, the I/O APIC at 0xFEC00000 (GSI base 0),
 *   interrupt source overrides as QEMU gives them (IRQ 0 → GSI 2; IRQs 5, 9,
 *   10 and 11 level-triggered, active high), and a local APIC NMI on LINT1.
 *
 * Linker/loader commands (QEMU docs/specs and SeaBIOS src/fw/romfile_loader.h)
 * are 128 bytes each: a le32 command, then its fields, zero-padded.
 * - 1 ALLOCATE: file[56], le32 align, u8 zone (1 high memory, 2 F segment).
 * - 2 ADD_POINTER: dest_file[56], src_file[56], le32 offset, u8 size; adds
 *   the address of src_file to the `size`-byte integer at `offset` in
 *   dest_file (which holds an offset into src_file beforehand).
 * - 3 ADD_CHECKSUM: file[56], le32 offset, le32 start, le32 length; subtracts
 *   the byte sum of [start, start+length) from the byte at offset (which
 *   holds 0 beforehand), so the range sums to 0.
 *
 * @module
 */

import {
  APM_PORT_BASE,
  APMC_ACPI_DISABLE,
  APMC_ACPI_ENABLE,
  GPE0_BLOCK_SIZE,
  PM_REG,
  SEABIOS_PM_BASE,
} from "../devices/pci/piix4_pm.ts";
import { Hpet } from "../devices/hpet.ts";
import { buildDsdtAml } from "./acpi_dsdt.ts";
import { MMIO } from "./io_map.ts";
import { FOUR_GIB } from "./memory_map.ts";

/** fw_cfg file names QEMU and SeaBIOS use. */
export const ACPI_FILES = {
  RSDP: "etc/acpi/rsdp",
  TABLES: "etc/acpi/tables",
  LOADER: "etc/table-loader",
} as const;

/** Linker/loader command codes. */
export const LOADER_COMMAND = { ALLOCATE: 1, ADD_POINTER: 2, ADD_CHECKSUM: 3 } as const;
/** Where ALLOCATE puts a file. */
export const LOADER_ZONE = { HIGH: 1, FSEG: 2 } as const;
/** Bytes of a linker/loader command. */
export const LOADER_ENTRY_SIZE = 128;
/** Bytes of a file name field, NUL included. */
export const LOADER_FILE_SIZE = 56;

/** What the tables describe. */
export interface AcpiOptions {
  /** vCPUs (APIC IDs 0..cpus-1). */
  readonly cpus: number;
  /** I/O base of the PIIX4 PM block (default 0x600, where SeaBIOS puts it). */
  readonly pmBase?: number;
  /** ISA IRQ of the SCI (default 9). */
  readonly sciIrq?: number;
  /** End of RAM below 4 GiB, where the PCI hole starts (default 0xE0000000). */
  readonly lowRamBytes?: number;
  /** RAM above 4 GiB; the 64-bit PCI window starts above it (default 0). */
  readonly highRamBytes?: number;
}

/** The three fw_cfg files. */
export interface AcpiBlobs {
  readonly rsdp: Uint8Array;
  readonly tables: Uint8Array;
  readonly loader: Uint8Array;
}

/** Guest-physical address of the I/O APIC. */
export const IOAPIC_ADDRESS = 0xfec00000;
/** Guest-physical address of the local APICs. */
export const LOCAL_APIC_ADDRESS = 0xfee00000;
/** ISA IRQs QEMU's MADT declares level-triggered, active high (the SCI and PCI interrupts). */
const LEVEL_HIGH_IRQS = [5, 9, 10, 11];
/** MPS INTI flags: polarity active high (01), trigger level (11). */
const INTI_LEVEL_HIGH = 0x000d;

const OEM_ID = "VMRUN ";
const OEM_TABLE_ID = "VMRUNPC ";
const CREATOR_ID = "VMRN";
const HEADER_SIZE = 36;
const FADT_SIZE = 244;
const FACS_SIZE = 64;
const CHECKSUM_OFFSET = 9;
/** The FACS must be 64-byte aligned; it starts the tables blob. */
const FACS_ALIGN = 64;
/** The RSDP sits on a 16-byte boundary. */
const RSDP_ALIGN = 16;

/** FADT field offsets (ACPI table 5.9). */
const FADT = {
  FIRMWARE_CTRL: 36,
  DSDT: 40,
  SCI_INT: 46,
  SMI_CMD: 48,
  ACPI_ENABLE: 52,
  ACPI_DISABLE: 53,
  PM1A_EVT_BLK: 56,
  PM1A_CNT_BLK: 64,
  PM_TMR_BLK: 76,
  GPE0_BLK: 80,
  PM1_EVT_LEN: 88,
  PM1_CNT_LEN: 89,
  PM_TMR_LEN: 91,
  GPE0_BLK_LEN: 92,
  P_LVL2_LAT: 96,
  P_LVL3_LAT: 98,
  CENTURY: 108,
  IAPC_BOOT_ARCH: 109,
  FLAGS: 112,
  RESET_REG: 116,
  RESET_VALUE: 128,
  X_DSDT: 140,
  X_PM1A_EVT_BLK: 148,
  X_PM1A_CNT_BLK: 172,
  X_PM_TMR_BLK: 208,
  X_GPE0_BLK: 220,
} as const;

/** FADT flags: WBINVD, PROC_C1, SLP_BUTTON (none), FIX_RTC (no RTC wake), RESET_REG_SUP. */
const FADT_FLAGS = 1 << 0 | 1 << 2 | 1 << 5 | 1 << 6 | 1 << 10;
/** IA-PC boot architecture flags: LEGACY_DEVICES, 8042. */
const BOOT_ARCH = 1 << 0 | 1 << 1;
const CMOS_CENTURY = 0x32;
const RESET_PORT = 0xcf9;
const RESET_VALUE = 0x06;
/** Latencies above 100 µs (C2) and 1000 µs (C3) mean "not supported". */
const NO_C_STATE_LATENCY = 0x0fff;

/** Builds the 128-byte commands of a linker/loader script. */
export class TableLoader {
  readonly #entries: Uint8Array[] = [];

  /** Allocates `file` aligned to `align` (a power of two) in `zone` and loads it there. */
  allocate(file: string, align: number, zone: number): void {
    const e = this.#entry(LOADER_COMMAND.ALLOCATE);
    putName(e, 4, file);
    le32(e, 4 + LOADER_FILE_SIZE, align);
    e[8 + LOADER_FILE_SIZE] = zone;
  }

  /** Adds the address of `src` to the `size`-byte integer at `offset` in `dest`. */
  addPointer(dest: string, src: string, offset: number, size: 1 | 2 | 4 | 8): void {
    const e = this.#entry(LOADER_COMMAND.ADD_POINTER);
    putName(e, 4, dest);
    putName(e, 4 + LOADER_FILE_SIZE, src);
    le32(e, 4 + 2 * LOADER_FILE_SIZE, offset);
    e[8 + 2 * LOADER_FILE_SIZE] = size;
  }

  /** Makes `[start, start+length)` of `file` sum to 0 by adjusting the byte at `offset`. */
  addChecksum(file: string, offset: number, start: number, length: number): void {
    const e = this.#entry(LOADER_COMMAND.ADD_CHECKSUM);
    putName(e, 4, file);
    le32(e, 4 + LOADER_FILE_SIZE, offset);
    le32(e, 8 + LOADER_FILE_SIZE, start);
    le32(e, 12 + LOADER_FILE_SIZE, length);
  }

  #entry(command: number): Uint8Array {
    const e = new Uint8Array(LOADER_ENTRY_SIZE);
    le32(e, 0, command);
    this.#entries.push(e);
    return e;
  }

  /** The script: the commands in order. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#entries.length * LOADER_ENTRY_SIZE);
    this.#entries.forEach((e, i) => out.set(e, i * LOADER_ENTRY_SIZE));
    return out;
  }
}

/** Where each table sits in the tables blob. */
export interface TableLayout {
  readonly facs: number;
  readonly dsdt: number;
  readonly fadt: number;
  readonly madt: number;
  readonly hpet: number;
  /** The XSDT, in the firmware-less layout only. */
  readonly xsdt?: number;
  readonly rsdt: number;
}

/** A pointer field holding an offset into the tables blob, to which the blob's address is added. */
interface Pointer {
  readonly file: "rsdp" | "tables";
  readonly offset: number;
  readonly size: 4 | 8;
}

/** A checksum byte at `offset` over `[start, start + length)`. */
interface Checksum {
  readonly file: "rsdp" | "tables";
  readonly offset: number;
  readonly start: number;
  readonly length: number;
}

/** Tables with pointers as blob offsets and checksums zero, and what to patch. */
interface Assembly {
  readonly rsdp: Uint8Array;
  readonly tables: Uint8Array;
  readonly layout: TableLayout;
  readonly pointers: readonly Pointer[];
  /** In the order to compute them: a table's before anything that covers it. */
  readonly checksums: readonly Checksum[];
}

/**
 * Builds the tables, the RSDP and the loader script.
 * @throws {RangeError} for a CPU count the MADT cannot describe (1-255)
 */
export function buildAcpiTables(options: AcpiOptions): AcpiBlobs & { layout: TableLayout } {
  const a = assemble(options, false);
  const name = (file: Pointer["file"]) => file === "rsdp" ? ACPI_FILES.RSDP : ACPI_FILES.TABLES;
  const loader = new TableLoader();
  loader.allocate(ACPI_FILES.TABLES, FACS_ALIGN, LOADER_ZONE.HIGH);
  loader.allocate(ACPI_FILES.RSDP, RSDP_ALIGN, LOADER_ZONE.FSEG);
  for (const p of a.pointers) loader.addPointer(name(p.file), ACPI_FILES.TABLES, p.offset, p.size);
  // Checksums last: they cover the patched pointers.
  for (const c of a.checksums) loader.addChecksum(name(c.file), c.offset, c.start, c.length);
  return { rsdp: a.rsdp, tables: a.tables, loader: loader.bytes(), layout: a.layout };
}

/** Where {@link layoutAcpiTables} puts the RSDP and the other tables. */
export interface AcpiPlacement {
  /** Guest-physical address of the RSDP: 16-byte aligned in the F segment (0xE0000-0xFFFFF). */
  readonly rsdpAddress: number;
  /** Guest-physical address of the other tables, 64-byte aligned (the FACS comes first), below 4 GiB. */
  readonly tablesAddress: number;
}

/** Tables ready to copy into guest memory at their {@link AcpiPlacement}. */
export interface PlacedAcpiTables {
  /** The RSDP (revision 2, 36 bytes), for `rsdpAddress`. */
  readonly rsdp: Uint8Array;
  /** FACS, DSDT, FADT, MADT, XSDT and RSDT, for `tablesAddress`. */
  readonly tables: Uint8Array;
  /** Offsets of the tables in `tables`. */
  readonly layout: TableLayout;
}

/** Lowest address the BIOS search for the RSDP covers. */
export const RSDP_SEARCH_BASE = 0xe0000;
/** End of the RSDP search area (1 MiB). */
export const RSDP_SEARCH_END = 0x100000;
/** Bytes of an ACPI 2.0 RSDP. */
export const RSDP_V2_SIZE = 36;
/** Bytes of an ACPI 1.0 RSDP. */
export const RSDP_V1_SIZE = 20;

/**
 * The tables for a boot without firmware: an ACPI 2.0 RSDP (RSDT and XSDT)
 * and the tables laid out at fixed guest addresses, with every pointer and
 * checksum filled in, ready to copy into guest RAM.
 * @throws {RangeError} for a CPU count the MADT cannot describe, or
 *   addresses that are misaligned, outside the RSDP search area, beyond 4 GiB
 *   or overlapping
 */
export function layoutAcpiTables(options: AcpiOptions, place: AcpiPlacement): PlacedAcpiTables {
  const { rsdpAddress, tablesAddress } = place;
  if (
    !Number.isInteger(rsdpAddress) || rsdpAddress % RSDP_ALIGN !== 0 ||
    rsdpAddress < RSDP_SEARCH_BASE || rsdpAddress + RSDP_V2_SIZE > RSDP_SEARCH_END
  ) {
    throw new RangeError(
      `RSDP address 0x${rsdpAddress.toString(16)} is not 16-byte aligned in 0xe0000-0xfffff`,
    );
  }
  const a = assemble(options, true);
  if (
    !Number.isInteger(tablesAddress) || tablesAddress % FACS_ALIGN !== 0 || tablesAddress < 0 ||
    tablesAddress + a.tables.length > FOUR_GIB
  ) {
    throw new RangeError(
      `ACPI tables address 0x${tablesAddress.toString(16)} is not 64-byte aligned below 4 GiB`,
    );
  }
  if (tablesAddress < rsdpAddress + RSDP_V2_SIZE && rsdpAddress < tablesAddress + a.tables.length) {
    throw new RangeError("the RSDP overlaps the ACPI tables");
  }
  const files = { rsdp: a.rsdp, tables: a.tables };
  for (const p of a.pointers) {
    const view = new DataView(files[p.file].buffer);
    if (p.size === 4) {
      view.setUint32(p.offset, view.getUint32(p.offset, true) + tablesAddress, true);
    } else {view.setBigUint64(
        p.offset,
        view.getBigUint64(p.offset, true) + BigInt(tablesAddress),
        true,
      );}
  }
  for (const c of a.checksums) {
    const bytes = files[c.file];
    bytes[c.offset] = -byteSum(bytes.subarray(c.start, c.start + c.length)) & 0xff;
  }
  return { rsdp: a.rsdp, tables: a.tables, layout: a.layout };
}

function byteSum(bytes: Uint8Array): number {
  return bytes.reduce((s, b) => s + b, 0);
}

/**
 * The tables, FACS first for its alignment and the root tables last
 * (QEMU's order); with `xsdt`, an XSDT too and an ACPI 2.0 RSDP.
 */
function assemble(options: AcpiOptions, xsdt: boolean): Assembly {
  const { cpus } = options;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 255) {
    throw new RangeError(`bad CPU count for the MADT: ${cpus}`);
  }
  const pmBase = options.pmBase ?? SEABIOS_PM_BASE;
  const sciIrq = options.sciIrq ?? 9;

  const facs = new Uint8Array(FACS_SIZE);
  putAscii(facs, 0, "FACS");
  le32(facs, 4, FACS_SIZE);
  facs[32] = 1; // version: ACPI 2.0 layout

  // Revision 2: 64-bit AML integers.
  const dsdt = table(
    "DSDT",
    2,
    buildDsdtAml({
      cpus,
      sciIrq,
      lowRamBytes: options.lowRamBytes,
      highRamBytes: options.highRamBytes,
    }),
  );
  const madt = buildMadt(cpus);
  const hpet = buildHpetTable();
  const entries = 3; // FADT, MADT, HPET
  const xsdtSize = xsdt ? HEADER_SIZE + 8 * entries : 0;

  let at = 0;
  const next = (size: number) => (at += size) - size;
  const facsAt = next(FACS_SIZE);
  const dsdtAt = next(dsdt.length);
  const fadtAt = next(FADT_SIZE);
  const madtAt = next(madt.length);
  const hpetAt = next(hpet.length);
  const xsdtAt = xsdt ? next(xsdtSize) : undefined;
  const rsdtAt = next(HEADER_SIZE + 4 * entries);
  const layout: TableLayout = {
    facs: facsAt,
    dsdt: dsdtAt,
    fadt: fadtAt,
    madt: madtAt,
    hpet: hpetAt,
    ...(xsdtAt === undefined ? {} : { xsdt: xsdtAt }),
    rsdt: rsdtAt,
  };

  const fadt = buildFadt(pmBase, sciIrq, layout);
  const rsdt = table("RSDT", 1, new Uint8Array(4 * entries));
  le32(rsdt, HEADER_SIZE, layout.fadt);
  le32(rsdt, HEADER_SIZE + 4, layout.madt);
  le32(rsdt, HEADER_SIZE + 8, layout.hpet);

  const tables = new Uint8Array(at);
  tables.set(facs, layout.facs);
  tables.set(dsdt, layout.dsdt);
  tables.set(fadt, layout.fadt);
  tables.set(madt, layout.madt);
  tables.set(hpet, layout.hpet);
  tables.set(rsdt, layout.rsdt);

  const pointers: Pointer[] = [
    { file: "tables", offset: layout.fadt + FADT.FIRMWARE_CTRL, size: 4 },
    { file: "tables", offset: layout.fadt + FADT.DSDT, size: 4 },
    { file: "tables", offset: layout.fadt + FADT.X_DSDT, size: 8 },
    { file: "tables", offset: layout.rsdt + HEADER_SIZE, size: 4 },
    { file: "tables", offset: layout.rsdt + HEADER_SIZE + 4, size: 4 },
    { file: "tables", offset: layout.rsdt + HEADER_SIZE + 8, size: 4 },
  ];
  const sized: [number, number][] = [
    [layout.dsdt, dsdt.length],
    [layout.fadt, FADT_SIZE],
    [layout.madt, madt.length],
    [layout.hpet, hpet.length],
    [layout.rsdt, rsdt.length],
  ];
  if (xsdtAt !== undefined) {
    const x = table("XSDT", 1, new Uint8Array(8 * entries));
    le32(x, HEADER_SIZE, layout.fadt);
    le32(x, HEADER_SIZE + 8, layout.madt);
    le32(x, HEADER_SIZE + 16, layout.hpet);
    tables.set(x, xsdtAt);
    pointers.push(
      { file: "tables", offset: xsdtAt + HEADER_SIZE, size: 8 },
      { file: "tables", offset: xsdtAt + HEADER_SIZE + 8, size: 8 },
      { file: "tables", offset: xsdtAt + HEADER_SIZE + 16, size: 8 },
    );
    sized.push([xsdtAt, xsdtSize]);
  }

  const rsdp = new Uint8Array(xsdt ? RSDP_V2_SIZE : RSDP_V1_SIZE);
  putAscii(rsdp, 0, "RSD PTR ");
  putAscii(rsdp, 9, OEM_ID);
  le32(rsdp, 16, layout.rsdt);
  pointers.push({ file: "rsdp", offset: 16, size: 4 });
  const checksums: Checksum[] = sized.map(([start, length]) => ({
    file: "tables",
    offset: start + CHECKSUM_OFFSET,
    start,
    length,
  }));
  checksums.push({ file: "rsdp", offset: 8, start: 0, length: RSDP_V1_SIZE });
  if (xsdtAt !== undefined) {
    rsdp[15] = 2; // revision 2: ACPI 2.0, with the XSDT
    le32(rsdp, 20, RSDP_V2_SIZE);
    le32(rsdp, 24, xsdtAt); // XsdtAddress, 64-bit
    pointers.push({ file: "rsdp", offset: 24, size: 8 });
    checksums.push({ file: "rsdp", offset: 32, start: 0, length: RSDP_V2_SIZE });
  } else {
    rsdp[15] = 0; // revision 0: ACPI 1.0, RSDT only
  }
  return { rsdp, tables, layout, pointers, checksums };
}

/** The fw_cfg files for {@link buildAcpiTables}' output, as `buildPcFwCfg`'s `extraFiles`. */
export function acpiFwCfgFiles(blobs: AcpiBlobs): { name: string; data: Uint8Array }[] {
  return [
    { name: ACPI_FILES.RSDP, data: blobs.rsdp },
    { name: ACPI_FILES.TABLES, data: blobs.tables },
    { name: ACPI_FILES.LOADER, data: blobs.loader },
  ];
}

function buildFadt(pmBase: number, sciIrq: number, layout: TableLayout): Uint8Array {
  const f = table("FACP", 3, new Uint8Array(FADT_SIZE - HEADER_SIZE));
  // Pointers hold offsets into the tables blob; the loader adds its address.
  le32(f, FADT.FIRMWARE_CTRL, layout.facs);
  le32(f, FADT.DSDT, layout.dsdt);
  le32(f, FADT.X_DSDT, layout.dsdt);
  le16(f, FADT.SCI_INT, sciIrq);
  le32(f, FADT.SMI_CMD, APM_PORT_BASE);
  f[FADT.ACPI_ENABLE] = APMC_ACPI_ENABLE;
  f[FADT.ACPI_DISABLE] = APMC_ACPI_DISABLE;
  const blocks: [number, number, number, number][] = [
    // 32-bit field, X_ field, address, length
    [FADT.PM1A_EVT_BLK, FADT.X_PM1A_EVT_BLK, pmBase + PM_REG.PM1_STS, 4],
    [FADT.PM1A_CNT_BLK, FADT.X_PM1A_CNT_BLK, pmBase + PM_REG.PM1_CNT, 2],
    [FADT.PM_TMR_BLK, FADT.X_PM_TMR_BLK, pmBase + PM_REG.PM_TMR, 4],
    [FADT.GPE0_BLK, FADT.X_GPE0_BLK, pmBase + PM_REG.GPE0_STS, GPE0_BLOCK_SIZE],
  ];
  for (const [field, xField, address, length] of blocks) {
    le32(f, field, address);
    gas(f, xField, 8 * length, address);
  }
  f[FADT.PM1_EVT_LEN] = 4;
  f[FADT.PM1_CNT_LEN] = 2;
  f[FADT.PM_TMR_LEN] = 4;
  f[FADT.GPE0_BLK_LEN] = GPE0_BLOCK_SIZE;
  le16(f, FADT.P_LVL2_LAT, NO_C_STATE_LATENCY);
  le16(f, FADT.P_LVL3_LAT, NO_C_STATE_LATENCY);
  f[FADT.CENTURY] = CMOS_CENTURY;
  le16(f, FADT.IAPC_BOOT_ARCH, BOOT_ARCH);
  le32(f, FADT.FLAGS, FADT_FLAGS);
  gas(f, FADT.RESET_REG, 8, RESET_PORT, 1);
  f[FADT.RESET_VALUE] = RESET_VALUE;
  return f;
}

function buildMadt(cpus: number): Uint8Array {
  const entries: number[][] = [];
  for (let i = 0; i < cpus; i++) {
    // Processor local APIC: UID, APIC ID, flags (enabled).
    entries.push([0, 8, i, i, ...u32(1)]);
  }
  // I/O APIC: ID 0 (as KVM's in-kernel one powers on), address, GSI base 0.
  entries.push([1, 12, 0, 0, ...u32(IOAPIC_ADDRESS), ...u32(0)]);
  // Interrupt source overrides: ISA bus, source IRQ, GSI, flags.
  entries.push([2, 10, 0, 0, ...u32(2), 0, 0]);
  for (const irq of LEVEL_HIGH_IRQS) {
    entries.push([2, 10, 0, irq, ...u32(irq), INTI_LEVEL_HIGH & 0xff, INTI_LEVEL_HIGH >> 8]);
  }
  // Local APIC NMI: all processors, flags 0 (conforming), LINT1.
  entries.push([4, 6, 0xff, 0, 0, 1]);
  const body = new Uint8Array(8 + entries.reduce((n, e) => n + e.length, 0));
  le32(body, 0, LOCAL_APIC_ADDRESS);
  le32(body, 4, 1); // PCAT_COMPAT: dual 8259s are present too
  let at = 8;
  for (const e of entries) {
    body.set(e, at);
    at += e.length;
  }
  return table("APIC", 1, body);
}

/** The HPET description table (IA-PC HPET specification 1.0a, section 3.2.4). */
function buildHpetTable(): Uint8Array {
  const body = new Uint8Array(20);
  le32(body, 0, Number(Hpet.capabilities() & 0xffffffffn)); // event timer block ID
  // Base address: a GAS in system memory (space 0), widths and offset 0, as QEMU's.
  le32(body, 8, MMIO.HPET.base);
  body[16] = 0; // HPET number
  le16(body, 17, 0); // main counter minimum clock tick in periodic mode (QEMU gives 0)
  body[19] = 0; // page protection: none
  return table("HPET", 1, body);
}

/** A table: the 36-byte header (checksum left 0 for the loader) and `body`. */
function table(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const t = new Uint8Array(HEADER_SIZE + body.length);
  putAscii(t, 0, signature);
  le32(t, 4, t.length);
  t[8] = revision;
  putAscii(t, 10, OEM_ID);
  putAscii(t, 16, OEM_TABLE_ID);
  le32(t, 24, 1); // OEM revision
  putAscii(t, 28, CREATOR_ID);
  le32(t, 32, 1); // creator revision
  t.set(body, HEADER_SIZE);
  return t;
}

/** A Generic Address Structure in system I/O space. */
function gas(t: Uint8Array, at: number, bitWidth: number, address: number, accessSize = 0): void {
  t[at] = 1; // system I/O
  t[at + 1] = bitWidth;
  t[at + 2] = 0; // bit offset
  t[at + 3] = accessSize; // 0: undefined (legacy), 1: byte
  le32(t, at + 4, address);
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function le16(t: Uint8Array, at: number, v: number): void {
  t[at] = v & 0xff;
  t[at + 1] = (v >> 8) & 0xff;
}

function le32(t: Uint8Array, at: number, v: number): void {
  t.set(u32(v), at);
}

function putAscii(t: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) t[at + i] = s.charCodeAt(i);
}

function putName(t: Uint8Array, at: number, name: string): void {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length >= LOADER_FILE_SIZE) throw new RangeError(`loader file name too long: ${name}`);
  t.set(bytes, at);
}
