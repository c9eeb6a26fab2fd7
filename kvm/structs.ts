/**
 * Layouts of the <linux/kvm.h> structures vmrun uses, as offsets and sizes
 * (checked against the C headers by structs_test.ts), and typed views over
 * byte buffers laid out that way.
 *
 * @module
 */

import { STATE_LAYOUTS } from "./state_layouts.ts";

/** A structure's size and the offsets of the members vmrun touches (C member designators). */
export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, number>>;
}

const REG_NAMES = [
  "rax",
  "rbx",
  "rcx",
  "rdx",
  "rsi",
  "rdi",
  "rsp",
  "rbp",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
  "rip",
  "rflags",
] as const;

/** A general-purpose register name in `struct kvm_regs`. */
export type RegName = typeof REG_NAMES[number];

/** Segment register names in `struct kvm_sregs`, in kernel order. */
export const SEGMENT_NAMES = ["cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"] as const;
/** A segment register of `struct kvm_sregs`. */
export type SegmentName = typeof SEGMENT_NAMES[number];

const CONTROL_NAMES = ["cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apic_base"] as const;
/** A control register field of `struct kvm_sregs`. */
export type ControlName = typeof CONTROL_NAMES[number];

/** Every layout vmrun relies on, keyed by C struct name. */
export const LAYOUTS = {
  kvm_run: {
    size: 2352,
    fields: {
      request_interrupt_window: 0,
      immediate_exit: 1,
      exit_reason: 8,
      ready_for_interrupt_injection: 12,
      if_flag: 13,
      flags: 14,
      cr8: 16,
      apic_base: 24,
      "io.direction": 32,
      "io.size": 33,
      "io.port": 34,
      "io.count": 36,
      "io.data_offset": 40,
      "mmio.phys_addr": 32,
      "mmio.data": 40,
      "mmio.len": 48,
      "mmio.is_write": 52,
      "fail_entry.hardware_entry_failure_reason": 32,
      "fail_entry.cpu": 40,
      "internal.suberror": 32,
      "internal.ndata": 36,
      "internal.data": 40,
      "system_event.type": 32,
      "system_event.ndata": 36,
      "system_event.data": 40,
      "hw.hardware_exit_reason": 32,
    },
  },
  kvm_regs: {
    size: 144,
    fields: Object.fromEntries(REG_NAMES.map((r, i) => [r, i * 8])) as Record<RegName, number>,
  },
  kvm_segment: {
    size: 24,
    fields: {
      base: 0,
      limit: 8,
      selector: 12,
      type: 14,
      present: 15,
      dpl: 16,
      db: 17,
      s: 18,
      l: 19,
      g: 20,
      avl: 21,
      unusable: 22,
    },
  },
  kvm_dtable: { size: 16, fields: { base: 0, limit: 8 } },
  kvm_sregs: {
    size: 312,
    fields: {
      ...Object.fromEntries(SEGMENT_NAMES.map((s, i) => [s, i * 24])) as Record<
        SegmentName,
        number
      >,
      gdt: 192,
      idt: 208,
      ...Object.fromEntries(CONTROL_NAMES.map((c, i) => [c, 224 + i * 8])) as Record<
        ControlName,
        number
      >,
      interrupt_bitmap: 280,
    },
  },
  kvm_userspace_memory_region: {
    size: 32,
    fields: { slot: 0, flags: 4, guest_phys_addr: 8, memory_size: 16, userspace_addr: 24 },
  },
  kvm_cpuid2: { size: 8, fields: { nent: 0, entries: 8 } },
  kvm_cpuid_entry2: {
    size: 40,
    fields: { function: 0, index: 4, flags: 8, eax: 12, ebx: 16, ecx: 20, edx: 24 },
  },
  kvm_irq_level: { size: 8, fields: { irq: 0, level: 4 } },
  kvm_irq_routing: { size: 8, fields: { nr: 0, flags: 4, entries: 8 } },
  kvm_irq_routing_entry: { size: 48, fields: { gsi: 0, type: 4, flags: 8, pad: 12, u: 16 } },
  kvm_irq_routing_irqchip: { size: 8, fields: { irqchip: 0, pin: 4 } },
  kvm_pit_config: { size: 64, fields: { flags: 0 } },
  kvm_mp_state: { size: 4, fields: { mp_state: 0 } },
  kvm_dirty_log: { size: 16, fields: { slot: 0, dirty_bitmap: 8 } },
  kvm_ioeventfd: { size: 64, fields: { datamatch: 0, addr: 8, len: 16, fd: 20, flags: 24 } },
  kvm_coalesced_mmio_zone: { size: 16, fields: { addr: 0, size: 8, pad: 12 } },
  kvm_coalesced_mmio: { size: 24, fields: { phys_addr: 0, len: 8, pad: 12, data: 16 } },
  kvm_coalesced_mmio_ring: { size: 8, fields: { first: 0, last: 4, coalesced_mmio: 8 } },
  ...STATE_LAYOUTS,
} as const satisfies Record<string, StructLayout>;

const F = LAYOUTS;

/** A typed view over a byte buffer holding one C structure. */
export class StructView {
  readonly bytes: Uint8Array<ArrayBuffer>;
  protected readonly view: DataView;

  /** @param bytes the buffer; a fresh zeroed one of `size` bytes when omitted */
  constructor(size: number, bytes?: Uint8Array<ArrayBuffer>) {
    this.bytes = bytes ?? new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Reads a u64 as a number (exact below 2^53). */
  protected u64(offset: number): number {
    return Number(this.view.getBigUint64(offset, true));
  }
  /** Writes a u64 from a number or bigint. */
  protected setU64(offset: number, value: number | bigint): void {
    this.view.setBigUint64(offset, BigInt(value), true);
  }
}

/** `struct kvm_regs`: general-purpose registers, rip and rflags. */
export class KvmRegs extends StructView {
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(F.kvm_regs.size, bytes);
  }
  /** A register's value. */
  get(name: RegName): number {
    return this.u64(F.kvm_regs.fields[name]);
  }
  /** Sets a register. */
  set(name: RegName, value: number | bigint): void {
    this.setU64(F.kvm_regs.fields[name], value);
  }
  /** All registers as a plain object. */
  toJSON(): Record<RegName, number> {
    return Object.fromEntries(REG_NAMES.map((r) => [r, this.get(r)])) as Record<RegName, number>;
  }
}

/** One `struct kvm_segment`, as a plain object. */
export interface Segment {
  base: number;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}

const SEGMENT_BYTE_FIELDS = [
  "type",
  "present",
  "dpl",
  "db",
  "s",
  "l",
  "g",
  "avl",
  "unusable",
] as const;

/** `struct kvm_sregs`: segment, descriptor-table and control registers. */
export class KvmSregs extends StructView {
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(F.kvm_sregs.size, bytes);
  }
  /** A segment register. */
  segment(name: SegmentName): Segment {
    const o = F.kvm_sregs.fields[name];
    const s = F.kvm_segment.fields;
    const seg = {
      base: this.u64(o + s.base),
      limit: this.view.getUint32(o + s.limit, true),
      selector: this.view.getUint16(o + s.selector, true),
    } as Segment;
    for (const k of SEGMENT_BYTE_FIELDS) seg[k] = this.view.getUint8(o + s[k]);
    return seg;
  }
  /** Replaces fields of a segment register. */
  setSegment(name: SegmentName, seg: Partial<Segment>): void {
    const o = F.kvm_sregs.fields[name];
    const s = F.kvm_segment.fields;
    if (seg.base !== undefined) this.setU64(o + s.base, seg.base);
    if (seg.limit !== undefined) this.view.setUint32(o + s.limit, seg.limit, true);
    if (seg.selector !== undefined) this.view.setUint16(o + s.selector, seg.selector, true);
    for (const k of SEGMENT_BYTE_FIELDS) {
      const v = seg[k];
      if (v !== undefined) this.view.setUint8(o + s[k], v);
    }
  }
  /** A control register (cr0, cr3, efer, ...). */
  control(name: ControlName): number {
    return this.u64(F.kvm_sregs.fields[name]);
  }
  /** Sets a control register. */
  setControl(name: ControlName, value: number): void {
    this.setU64(F.kvm_sregs.fields[name], value);
  }
  /** GDT or IDT base and limit. */
  table(name: "gdt" | "idt"): { base: number; limit: number } {
    const o = F.kvm_sregs.fields[name];
    return { base: this.u64(o), limit: this.view.getUint16(o + 8, true) };
  }
  /** Everything as a plain object, for fault reports. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const s of SEGMENT_NAMES) out[s] = this.segment(s);
    out.gdt = this.table("gdt");
    out.idt = this.table("idt");
    for (const c of CONTROL_NAMES) out[c] = this.control(c);
    return out;
  }
}

/** `struct kvm_userspace_memory_region`. */
export function memoryRegion(
  slot: number,
  guestPhysAddr: number,
  size: number,
  userspaceAddr: bigint,
  flags = 0,
): Uint8Array<ArrayBuffer> {
  const f = F.kvm_userspace_memory_region.fields;
  const v = new StructView(F.kvm_userspace_memory_region.size);
  const dv = new DataView(v.bytes.buffer);
  dv.setUint32(f.slot, slot, true);
  dv.setUint32(f.flags, flags, true);
  dv.setBigUint64(f.guest_phys_addr, BigInt(guestPhysAddr), true);
  dv.setBigUint64(f.memory_size, BigInt(size), true);
  dv.setBigUint64(f.userspace_addr, userspaceAddr, true);
  return v.bytes;
}

/** One CPUID leaf as KVM reports it. */
export interface CpuidEntry {
  function: number;
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/** A `struct kvm_cpuid2` buffer with room for `capacity` entries. */
export function cpuid2Buffer(capacity: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(F.kvm_cpuid2.size + capacity * F.kvm_cpuid_entry2.size);
  new DataView(bytes.buffer).setUint32(F.kvm_cpuid2.fields.nent, capacity, true);
  return bytes;
}

/** Decodes the entries of a `struct kvm_cpuid2`. */
export function decodeCpuid2(bytes: Uint8Array<ArrayBuffer>): CpuidEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(F.kvm_cpuid2.fields.nent, true);
  const e = F.kvm_cpuid_entry2;
  const out: CpuidEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = F.kvm_cpuid2.fields.entries + i * e.size;
    out.push({
      function: dv.getUint32(o + e.fields.function, true),
      index: dv.getUint32(o + e.fields.index, true),
      flags: dv.getUint32(o + e.fields.flags, true),
      eax: dv.getUint32(o + e.fields.eax, true),
      ebx: dv.getUint32(o + e.fields.ebx, true),
      ecx: dv.getUint32(o + e.fields.ecx, true),
      edx: dv.getUint32(o + e.fields.edx, true),
    });
  }
  return out;
}

/** Encodes entries as a `struct kvm_cpuid2`. */
export function encodeCpuid2(entries: readonly CpuidEntry[]): Uint8Array<ArrayBuffer> {
  const bytes = cpuid2Buffer(entries.length);
  const dv = new DataView(bytes.buffer);
  const e = F.kvm_cpuid_entry2;
  entries.forEach((entry, i) => {
    const o = F.kvm_cpuid2.fields.entries + i * e.size;
    for (const k of ["function", "index", "flags", "eax", "ebx", "ecx", "edx"] as const) {
      dv.setUint32(o + e.fields[k], entry[k] >>> 0, true);
    }
  });
  return bytes;
}

/** `struct kvm_irq_level`. */
export function irqLevel(irq: number, level: boolean): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(F.kvm_irq_level.size);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(F.kvm_irq_level.fields.irq, irq, true);
  dv.setUint32(F.kvm_irq_level.fields.level, level ? 1 : 0, true);
  return bytes;
}

/** Flags of `struct kvm_ioeventfd` (<linux/kvm.h>). */
export const IOEVENTFD = {
  KVM_IOEVENTFD_FLAG_DATAMATCH: 1 << 0,
  KVM_IOEVENTFD_FLAG_PIO: 1 << 1,
  KVM_IOEVENTFD_FLAG_DEASSIGN: 1 << 2,
} as const;

/** What a KVM_IOEVENTFD registration matches: a guest write of `length` bytes at `address`. */
export interface IoEventFdMatch {
  /** A port (`pio`) or a guest-physical MMIO address. */
  readonly address: number;
  /** 1, 2, 4 or 8: only writes of exactly this width match. */
  readonly length: number;
  readonly pio: boolean;
  /** Only writes of this value match; any value when absent. */
  readonly datamatch?: number;
}

/** `struct kvm_ioeventfd`: signal eventfd `fd` on a matching write (or, `deassign`, stop). */
export function ioeventfd(
  match: IoEventFdMatch,
  fd: number,
  deassign = false,
): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(F.kvm_ioeventfd.size);
  const dv = new DataView(bytes.buffer);
  const f = F.kvm_ioeventfd.fields;
  dv.setBigUint64(f.datamatch, BigInt(match.datamatch ?? 0), true);
  dv.setBigUint64(f.addr, BigInt(match.address), true);
  dv.setUint32(f.len, match.length, true);
  dv.setInt32(f.fd, fd, true);
  dv.setUint32(
    f.flags,
    (match.datamatch === undefined ? 0 : IOEVENTFD.KVM_IOEVENTFD_FLAG_DATAMATCH) |
      (match.pio ? IOEVENTFD.KVM_IOEVENTFD_FLAG_PIO : 0) |
      (deassign ? IOEVENTFD.KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
    true,
  );
  return bytes;
}

/** `struct kvm_coalesced_mmio_zone` for port-less (MMIO) writes at `[addr, addr + size)`. */
export function coalescedMmioZone(addr: number, size: number): Uint8Array<ArrayBuffer> {
  const f = F.kvm_coalesced_mmio_zone.fields;
  const bytes = new Uint8Array(F.kvm_coalesced_mmio_zone.size);
  const dv = new DataView(bytes.buffer);
  dv.setBigUint64(f.addr, BigInt(addr), true);
  dv.setUint32(f.size, size, true);
  return bytes;
}

/** Constants of KVM_SET_GSI_ROUTING (<linux/kvm.h>, <asm/kvm.h>). */
export const IRQ_ROUTING = {
  KVM_IRQ_ROUTING_IRQCHIP: 1,
  KVM_IRQCHIP_PIC_MASTER: 0,
  KVM_IRQCHIP_PIC_SLAVE: 1,
  KVM_IRQCHIP_IOAPIC: 2,
} as const;

/** One GSI's route to a pin of an in-kernel interrupt controller. */
export interface IrqchipRoute {
  readonly gsi: number;
  /** KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE or KVM_IRQCHIP_IOAPIC. */
  readonly irqchip: number;
  readonly pin: number;
}

/** `struct kvm_irq_routing` with its irqchip entries, for KVM_SET_GSI_ROUTING. */
export function irqRouting(routes: readonly IrqchipRoute[]): Uint8Array<ArrayBuffer> {
  const head = F.kvm_irq_routing;
  const e = F.kvm_irq_routing_entry;
  const chip = F.kvm_irq_routing_irqchip;
  const bytes = new Uint8Array(head.size + routes.length * e.size);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(head.fields.nr, routes.length, true);
  routes.forEach((r, i) => {
    const o = head.fields.entries + i * e.size;
    dv.setUint32(o + e.fields.gsi, r.gsi, true);
    dv.setUint32(o + e.fields.type, IRQ_ROUTING.KVM_IRQ_ROUTING_IRQCHIP, true);
    dv.setUint32(o + e.fields.u + chip.fields.irqchip, r.irqchip, true);
    dv.setUint32(o + e.fields.u + chip.fields.pin, r.pin, true);
  });
  return bytes;
}

/** `struct kvm_pit_config` with the given flags (KVM_PIT_SPEAKER_DUMMY = 1). */
export function pitConfig(flags: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(F.kvm_pit_config.size);
  new DataView(bytes.buffer).setUint32(F.kvm_pit_config.fields.flags, flags, true);
  return bytes;
}
