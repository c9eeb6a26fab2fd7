/**
 * An Intel MultiProcessor Specification 1.4 table for guests that look for
 * one instead of ACPI's MADT (old kernels, `acpi=off`): the MP floating
 * pointer (16 bytes, found by scanning the F segment) and the configuration
 * table it points at, laid out for the PC board vmrun builds.
 *
 * Floating pointer: "_MP_", le32 table address, u8 length in 16-byte units
 * (1), u8 spec revision (4), u8 checksum, five feature bytes (0: a table is
 * present; virtual-wire mode).
 *
 * Configuration table header (44 bytes): "PCMP", le16 base table length,
 * u8 revision, u8 checksum, OEM id[8], product id[12], le32 OEM table
 * pointer, le16 OEM table size, le16 entry count, le32 local APIC address,
 * le16 extended length, u8 extended checksum, u8 reserved. Then entries:
 * processors (20 bytes), buses, the I/O APIC, I/O interrupts and local
 * interrupts (8 bytes each).
 *
 * @module
 */

import { IOAPIC_ADDRESS, LOCAL_APIC_ADDRESS } from "./acpi.ts";

/** Options for {@link buildMpTable}. */
export interface MpTableOptions {
  /** vCPUs, APIC IDs 0..cpus-1; vCPU 0 is the bootstrap processor. */
  readonly cpus: number;
  /** CPUID.01H:EAX, the processors' signature. */
  readonly cpuSignature: number;
  /** CPUID.01H:EDX, the processors' feature flags. */
  readonly featureFlags: number;
  /** The ISA IRQ each PIIX3 PIRQ link (A-D) is routed to. */
  readonly pirqIrqs: readonly [number, number, number, number];
  /** ISA IRQs that are level-triggered, active high (the MADT's overrides). */
  readonly levelHighIrqs: readonly number[];
}

/** MP entry types. */
const ENTRY = { PROCESSOR: 0, BUS: 1, IOAPIC: 2, IO_INTERRUPT: 3, LOCAL_INTERRUPT: 4 } as const;
/** Interrupt types of interrupt entries. */
const INT = { INT: 0, NMI: 1, EXTINT: 3 } as const;
/** Interrupt flags: polarity active high (01), trigger level (11 << 2). */
const LEVEL_HIGH = 0x0d;
const BUS_PCI = 0;
const BUS_ISA = 1;
/** I/O APIC ID 0, as KVM's in-kernel one powers on and the MADT says. */
const IOAPIC_ID = 0;
const LOCAL_APIC_VERSION = 0x14;
const IOAPIC_VERSION = 0x11;
const PCI_SLOTS = 32;

/** The floating pointer and the configuration table, placed at the given addresses. */
export interface MpTable {
  readonly floating: Uint8Array;
  readonly table: Uint8Array;
}

/**
 * Builds both structures; `floatingAddr` must be 16-byte aligned in the F
 * segment (or the EBDA, or the last KiB of base memory) for guests to find it.
 * @throws {RangeError} for a CPU count of 0 or above 254
 */
export function buildMpTable(options: MpTableOptions, tableAddr: number): MpTable {
  const { cpus } = options;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 254) {
    throw new RangeError(`bad CPU count for the MP table: ${cpus}`);
  }
  const entries: number[][] = [];
  for (let i = 0; i < cpus; i++) {
    entries.push([
      ENTRY.PROCESSOR,
      i,
      LOCAL_APIC_VERSION,
      i === 0 ? 0x03 : 0x01, // enabled, and the bootstrap processor for vCPU 0
      ...u32(options.cpuSignature),
      ...u32(options.featureFlags),
      ...new Array(8).fill(0),
    ]);
  }
  entries.push([ENTRY.BUS, BUS_PCI, ...ascii("PCI   ")]);
  entries.push([ENTRY.BUS, BUS_ISA, ...ascii("ISA   ")]);
  entries.push([ENTRY.IOAPIC, IOAPIC_ID, IOAPIC_VERSION, 0x01, ...u32(IOAPIC_ADDRESS)]);
  // PCI INTx through the PIIX3's PIRQ links: slot s pin p (0 = INTA#) uses link (s + p - 1) & 3.
  for (let slot = 1; slot < PCI_SLOTS; slot++) {
    for (let pin = 0; pin < 4; pin++) {
      const irq = options.pirqIrqs[(slot + pin - 1) & 3];
      entries.push(
        interrupt(ENTRY.IO_INTERRUPT, INT.INT, LEVEL_HIGH, BUS_PCI, slot << 2 | pin, irq),
      );
    }
  }
  // ISA IRQs: identity onto the I/O APIC pins, except the PIT's IRQ 0 on pin 2.
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2) continue;
    const flags = options.levelHighIrqs.includes(irq) ? LEVEL_HIGH : 0;
    entries.push(interrupt(ENTRY.IO_INTERRUPT, INT.INT, flags, BUS_ISA, irq, irq === 0 ? 2 : irq));
  }
  // Local interrupts: the 8259's ExtINT on LINT0, NMI on LINT1, for every processor.
  entries.push([ENTRY.LOCAL_INTERRUPT, INT.EXTINT, 0, 0, BUS_ISA, 0, 0xff, 0]);
  entries.push([ENTRY.LOCAL_INTERRUPT, INT.NMI, 0, 0, BUS_ISA, 0, 0xff, 1]);

  const length = 44 + entries.reduce((n, e) => n + e.length, 0);
  const table = new Uint8Array(length);
  table.set(ascii("PCMP"), 0);
  le16(table, 4, length);
  table[6] = 4;
  table.set(ascii("VMRUN   "), 8);
  table.set(ascii("VMRUN PC    "), 16);
  le16(table, 34, entries.length);
  table.set(u32(LOCAL_APIC_ADDRESS), 36);
  let at = 44;
  for (const e of entries) {
    table.set(e, at);
    at += e.length;
  }
  table[7] = checksum(table);

  const floating = new Uint8Array(16);
  floating.set(ascii("_MP_"), 0);
  floating.set(u32(tableAddr), 4);
  floating[8] = 1;
  floating[9] = 4;
  floating[10] = checksum(floating);
  return { floating, table };
}

function interrupt(
  type: number,
  intType: number,
  flags: number,
  bus: number,
  busIrq: number,
  pin: number,
): number[] {
  return [type, intType, flags & 0xff, flags >> 8, bus, busIrq, IOAPIC_ID, pin];
}

/** The byte that makes `bytes` sum to 0 mod 256 (its own slot holding 0). */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum += b;
  return (256 - (sum & 0xff)) & 0xff;
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function le16(t: Uint8Array, at: number, v: number): void {
  t[at] = v & 0xff;
  t[at + 1] = (v >> 8) & 0xff;
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}
