/**
 * Typed views over the state structures of state_layouts.ts. Each view wraps
 * the exact bytes the kernel reads and writes, so a saved state is those
 * bytes and a view is only a way of looking at (or editing) them.
 *
 * @module
 */

import { IOAPIC_NUM_PINS, MAX_XCRS, STATE_LAYOUTS as L } from "./state_layouts.ts";
import { StructView } from "./structs.ts";

/** Named constants of <linux/kvm.h> used with the state ioctls (checked by structs_test.ts). */
export const STATE_CONSTANTS = {
  KVM_IRQCHIP_PIC_MASTER: 0,
  KVM_IRQCHIP_PIC_SLAVE: 1,
  KVM_IRQCHIP_IOAPIC: 2,
  KVM_MP_STATE_RUNNABLE: 0,
  KVM_MP_STATE_UNINITIALIZED: 1,
  KVM_MP_STATE_INIT_RECEIVED: 2,
  KVM_MP_STATE_HALTED: 3,
  KVM_MP_STATE_SIPI_RECEIVED: 4,
  KVM_VCPUEVENT_VALID_NMI_PENDING: 0x1,
  KVM_VCPUEVENT_VALID_SIPI_VECTOR: 0x2,
  KVM_VCPUEVENT_VALID_SHADOW: 0x4,
  KVM_VCPUEVENT_VALID_SMM: 0x8,
  KVM_VCPUEVENT_VALID_PAYLOAD: 0x10,
  KVM_VCPUEVENT_VALID_TRIPLE_FAULT: 0x20,
  KVM_PIT_FLAGS_HPET_LEGACY: 0x1,
  KVM_PIT_FLAGS_SPEAKER_DATA_ON: 0x2,
  KVM_CLOCK_TSC_STABLE: 0x2,
  KVM_CLOCK_REALTIME: 0x4,
  KVM_CLOCK_HOST_TSC: 0x8,
} as const;

/** A copy of `bytes` in a fresh buffer of its own (what a saved state keeps). */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** Checks that `bytes` is a whole structure of `size` bytes before the kernel sees it. */
export function expectSize(what: string, bytes: Uint8Array, size: number): void {
  if (bytes.length !== size) {
    throw new RangeError(`${what}: ${bytes.length} bytes, expected ${size}`);
  }
}

/** `struct kvm_fpu`: x87 and SSE state in FXSAVE terms (for hosts without XSAVE). */
export class KvmFpu extends StructView {
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(L.kvm_fpu.size, bytes);
  }
  /** x87 control word. */
  get fcw(): number {
    return this.view.getUint16(L.kvm_fpu.fields.fcw, true);
  }
  set fcw(v: number) {
    this.view.setUint16(L.kvm_fpu.fields.fcw, v, true);
  }
  /** SSE control and status (KVM_GET_FPU leaves it 0 and KVM_SET_FPU ignores it). */
  get mxcsr(): number {
    return this.view.getUint32(L.kvm_fpu.fields.mxcsr, true);
  }
  set mxcsr(v: number) {
    this.view.setUint32(L.kvm_fpu.fields.mxcsr, v, true);
  }
  /** A copy of XMM register `i` (16 bytes). */
  xmm(i: number): Uint8Array<ArrayBuffer> {
    const o = L.kvm_fpu.fields.xmm + checkIndex(i, 16) * 16;
    return this.bytes.slice(o, o + 16);
  }
  /** Sets XMM register `i`. */
  setXmm(i: number, value: Uint8Array): void {
    expectSize(`xmm${i}`, value, 16);
    this.bytes.set(value, L.kvm_fpu.fields.xmm + checkIndex(i, 16) * 16);
  }
}

/** Offsets in the FXSAVE legacy area that starts both `kvm_xsave` and the XSAVE image. */
export const FXSAVE = { fcw: 0, mxcsr: 24, st0: 32, xmm0: 160, xstateBv: 512 } as const;

/** `struct kvm_xsave` (and KVM_GET_XSAVE2's longer form): an XSAVE image in standard format. */
export class KvmXsave extends StructView {
  /** @param bytes at least 4096 bytes; a fresh zeroed 4096 when omitted */
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(bytes?.length ?? L.kvm_xsave.size, bytes);
    if (this.bytes.length < L.kvm_xsave.size) {
      throw new RangeError(`kvm_xsave: ${this.bytes.length} bytes, at least 4096 needed`);
    }
  }
  /** SSE control and status. */
  get mxcsr(): number {
    return this.view.getUint32(FXSAVE.mxcsr, true);
  }
  /** The XSTATE_BV header word: which components the image holds. */
  get xstateBv(): bigint {
    return this.view.getBigUint64(FXSAVE.xstateBv, true);
  }
  /** A copy of XMM register `i` (16 bytes, the low half of YMM `i`). */
  xmm(i: number): Uint8Array<ArrayBuffer> {
    const o = FXSAVE.xmm0 + checkIndex(i, 16) * 16;
    return this.bytes.slice(o, o + 16);
  }
  /** A copy of `length` bytes at `offset` (a component found through CPUID leaf 0xD). */
  slice(offset: number, length: number): Uint8Array<ArrayBuffer> {
    return this.bytes.slice(offset, offset + length);
  }
}

/** One extended control register. */
export interface Xcr {
  xcr: number;
  value: bigint;
}

/** Encodes `struct kvm_xcrs`. */
export function encodeXcrs(xcrs: readonly Xcr[]): Uint8Array<ArrayBuffer> {
  if (xcrs.length > MAX_XCRS) throw new RangeError(`kvm_xcrs: ${xcrs.length} > ${MAX_XCRS}`);
  const bytes = new Uint8Array(L.kvm_xcrs.size);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(L.kvm_xcrs.fields.nr_xcrs, xcrs.length, true);
  xcrs.forEach((x, i) => {
    const o = L.kvm_xcrs.fields.xcrs + i * L.kvm_xcr.size;
    dv.setUint32(o + L.kvm_xcr.fields.xcr, x.xcr, true);
    dv.setBigUint64(o + L.kvm_xcr.fields.value, x.value, true);
  });
  return bytes;
}

/** Decodes `struct kvm_xcrs`. */
export function decodeXcrs(bytes: Uint8Array): Xcr[] {
  expectSize("kvm_xcrs", bytes, L.kvm_xcrs.size);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(L.kvm_xcrs.fields.nr_xcrs, true);
  if (n > MAX_XCRS) throw new RangeError(`kvm_xcrs: nr_xcrs ${n} > ${MAX_XCRS}`);
  const out: Xcr[] = [];
  for (let i = 0; i < n; i++) {
    const o = L.kvm_xcrs.fields.xcrs + i * L.kvm_xcr.size;
    out.push({
      xcr: dv.getUint32(o + L.kvm_xcr.fields.xcr, true),
      value: dv.getBigUint64(o + L.kvm_xcr.fields.value, true),
    });
  }
  return out;
}

/** Offsets of local APIC registers in its 1 KiB register page (xAPIC layout, SDM 11.4.1). */
export const LAPIC_REG = {
  id: 0x20,
  version: 0x30,
  tpr: 0x80,
  ppr: 0xa0,
  ldr: 0xd0,
  dfr: 0xe0,
  svr: 0xf0,
  isr: 0x100,
  tmr: 0x180,
  irr: 0x200,
  esr: 0x280,
  icrLow: 0x300,
  icrHigh: 0x310,
  lvtTimer: 0x320,
  lvtThermal: 0x330,
  lvtPerf: 0x340,
  lvtLint0: 0x350,
  lvtLint1: 0x360,
  lvtError: 0x370,
  timerInitial: 0x380,
  timerCurrent: 0x390,
  timerDivide: 0x3e0,
} as const;

/** `struct kvm_lapic_state`: the local APIC's register page. */
export class KvmLapicState extends StructView {
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(L.kvm_lapic_state.size, bytes);
  }
  /** The 32-bit register at `offset` (see {@link LAPIC_REG}). */
  reg(offset: number): number {
    return this.view.getUint32(checkApicOffset(offset), true);
  }
  /** Sets the 32-bit register at `offset`. */
  setReg(offset: number, value: number): void {
    this.view.setUint32(checkApicOffset(offset), value >>> 0, true);
  }
  /** The named registers as a plain object. */
  toJSON(): Record<keyof typeof LAPIC_REG, number> {
    return Object.fromEntries(
      Object.entries(LAPIC_REG).map(([k, o]) => [k, this.reg(o)]),
    ) as Record<keyof typeof LAPIC_REG, number>;
  }
}

function checkApicOffset(offset: number): number {
  if (offset % 16 !== 0 || offset < 0 || offset >= L.kvm_lapic_state.size) {
    throw new RangeError(`LAPIC register offset 0x${offset.toString(16)}`);
  }
  return offset;
}

function checkIndex(i: number, n: number): number {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`index ${i} not in [0, ${n})`);
  return i;
}

/** One model-specific register and its value. */
export interface MsrEntry {
  index: number;
  value: bigint;
}

/** Encodes `struct kvm_msrs` with its entries. */
export function encodeMsrs(entries: readonly MsrEntry[]): Uint8Array<ArrayBuffer> {
  const e = L.kvm_msr_entry;
  const bytes = new Uint8Array(L.kvm_msrs.size + entries.length * e.size);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(L.kvm_msrs.fields.nmsrs, entries.length, true);
  entries.forEach((m, i) => {
    const o = L.kvm_msrs.fields.entries + i * e.size;
    dv.setUint32(o + e.fields.index, m.index >>> 0, true);
    dv.setBigUint64(o + e.fields.data, BigInt.asUintN(64, m.value), true);
  });
  return bytes;
}

/** Decodes `struct kvm_msrs`. */
export function decodeMsrs(bytes: Uint8Array): MsrEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(L.kvm_msrs.fields.nmsrs, true);
  const e = L.kvm_msr_entry;
  if (L.kvm_msrs.size + n * e.size > bytes.length) {
    throw new RangeError(`kvm_msrs: ${n} entries do not fit in ${bytes.length} bytes`);
  }
  const out: MsrEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = L.kvm_msrs.fields.entries + i * e.size;
    out.push({
      index: dv.getUint32(o + e.fields.index, true),
      value: dv.getBigUint64(o + e.fields.data, true),
    });
  }
  return out;
}

/** A `struct kvm_msr_list` buffer with room for `capacity` indices. */
export function msrListBuffer(capacity: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(L.kvm_msr_list.size + capacity * 4);
  new DataView(bytes.buffer).setUint32(L.kvm_msr_list.fields.nmsrs, capacity, true);
  return bytes;
}

/** Decodes the indices of a `struct kvm_msr_list`. */
export function decodeMsrList(bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(L.kvm_msr_list.fields.nmsrs, true);
  if (L.kvm_msr_list.size + n * 4 > bytes.length) {
    throw new RangeError(`kvm_msr_list: ${n} entries do not fit in ${bytes.length} bytes`);
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(dv.getUint32(L.kvm_msr_list.fields.indices + i * 4, true));
  return out;
}

/** `struct kvm_vcpu_events` as plain data. */
export interface VcpuEvents {
  exception: {
    injected: number;
    nr: number;
    hasErrorCode: number;
    pending: number;
    errorCode: number;
  };
  interrupt: { injected: number; nr: number; soft: number; shadow: number };
  nmi: { injected: number; pending: number; masked: number };
  sipiVector: number;
  flags: number;
  smi: { smm: number; pending: number; smmInsideNmi: number; latchedInit: number };
  tripleFaultPending: number;
  exceptionHasPayload: number;
  exceptionPayload: bigint;
}

/** `struct kvm_vcpu_events`: pending and injected exceptions, interrupts, NMIs and SMIs. */
export class KvmVcpuEvents extends StructView {
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(L.kvm_vcpu_events.size, bytes);
  }
  /** The `flags` word (KVM_VCPUEVENT_VALID_*). */
  get flags(): number {
    return this.view.getUint32(L.kvm_vcpu_events.fields.flags, true);
  }
  set flags(v: number) {
    this.view.setUint32(L.kvm_vcpu_events.fields.flags, v, true);
  }
  /** Everything as plain data. */
  toJSON(): VcpuEvents {
    const f = L.kvm_vcpu_events.fields;
    const b = (o: number) => this.view.getUint8(o);
    return {
      exception: {
        injected: b(f["exception.injected"]),
        nr: b(f["exception.nr"]),
        hasErrorCode: b(f["exception.has_error_code"]),
        pending: b(f["exception.pending"]),
        errorCode: this.view.getUint32(f["exception.error_code"], true),
      },
      interrupt: {
        injected: b(f["interrupt.injected"]),
        nr: b(f["interrupt.nr"]),
        soft: b(f["interrupt.soft"]),
        shadow: b(f["interrupt.shadow"]),
      },
      nmi: {
        injected: b(f["nmi.injected"]),
        pending: b(f["nmi.pending"]),
        masked: b(f["nmi.masked"]),
      },
      sipiVector: this.view.getUint32(f.sipi_vector, true),
      flags: this.flags,
      smi: {
        smm: b(f["smi.smm"]),
        pending: b(f["smi.pending"]),
        smmInsideNmi: b(f["smi.smm_inside_nmi"]),
        latchedInit: b(f["smi.latched_init"]),
      },
      tripleFaultPending: b(f["triple_fault.pending"]),
      exceptionHasPayload: b(f.exception_has_payload),
      exceptionPayload: this.view.getBigUint64(f.exception_payload, true),
    };
  }
}

/** `struct kvm_debugregs`: DR0-DR3, DR6 and DR7. */
export class KvmDebugregs extends StructView {
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(L.kvm_debugregs.size, bytes);
  }
  /** Breakpoint address register DR`i` (0-3). */
  db(i: number): bigint {
    return this.view.getBigUint64(L.kvm_debugregs.fields.db + checkIndex(i, 4) * 8, true);
  }
  /** Sets DR`i` (0-3). */
  setDb(i: number, value: bigint): void {
    this.view.setBigUint64(L.kvm_debugregs.fields.db + checkIndex(i, 4) * 8, value, true);
  }
  /** Debug status. */
  get dr6(): bigint {
    return this.view.getBigUint64(L.kvm_debugregs.fields.dr6, true);
  }
  /** Debug control. */
  get dr7(): bigint {
    return this.view.getBigUint64(L.kvm_debugregs.fields.dr7, true);
  }
  set dr7(v: bigint) {
    this.view.setBigUint64(L.kvm_debugregs.fields.dr7, v, true);
  }
}

const PIC_FIELDS = Object.keys(L.kvm_pic_state.fields) as (keyof typeof L.kvm_pic_state.fields)[];
/** `struct kvm_pic_state` as plain data, members named as in C. */
export type PicState = Record<keyof typeof L.kvm_pic_state.fields, number>;

/** `struct kvm_ioapic_state` as plain data (redirection entries as 64-bit words). */
export interface IoapicState {
  baseAddress: bigint;
  ioregsel: number;
  id: number;
  irr: number;
  redirection: bigint[];
}

/** `struct kvm_irqchip`: one of the master PIC, slave PIC or IOAPIC. */
export class KvmIrqchip extends StructView {
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(L.kvm_irqchip.size, bytes);
  }
  /** Which chip (KVM_IRQCHIP_PIC_MASTER, _SLAVE or _IOAPIC). */
  get chipId(): number {
    return this.view.getUint32(L.kvm_irqchip.fields.chip_id, true);
  }
  set chipId(v: number) {
    this.view.setUint32(L.kvm_irqchip.fields.chip_id, v, true);
  }
  /** The PIC state (meaningful for the two PIC chips). */
  pic(): PicState {
    const o = L.kvm_irqchip.fields["chip.pic"];
    return Object.fromEntries(
      PIC_FIELDS.map((k) => [k, this.view.getUint8(o + L.kvm_pic_state.fields[k])]),
    ) as PicState;
  }
  /** Replaces fields of the PIC state. */
  setPic(state: Partial<PicState>): void {
    const o = L.kvm_irqchip.fields["chip.pic"];
    for (const k of PIC_FIELDS) {
      const v = state[k];
      if (v !== undefined) this.view.setUint8(o + L.kvm_pic_state.fields[k], v);
    }
  }
  /** The IOAPIC state (meaningful for chip KVM_IRQCHIP_IOAPIC). */
  ioapic(): IoapicState {
    const o = L.kvm_irqchip.fields["chip.ioapic"];
    const f = L.kvm_ioapic_state.fields;
    const redirection: bigint[] = [];
    for (let pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
      redirection.push(this.view.getBigUint64(o + f.redirtbl + pin * 8, true));
    }
    return {
      baseAddress: this.view.getBigUint64(o + f.base_address, true),
      ioregsel: this.view.getUint32(o + f.ioregsel, true),
      id: this.view.getUint32(o + f.id, true),
      irr: this.view.getUint32(o + f.irr, true),
      redirection,
    };
  }
  /** Sets one IOAPIC redirection-table entry. */
  setRedirection(pin: number, entry: bigint): void {
    const o = L.kvm_irqchip.fields["chip.ioapic"] + L.kvm_ioapic_state.fields.redirtbl;
    this.view.setBigUint64(o + checkIndex(pin, IOAPIC_NUM_PINS) * 8, entry, true);
  }
}

const PIT_FIELDS = [
  "count",
  "latched_count",
  "count_latched",
  "status_latched",
  "status",
  "read_state",
  "write_state",
  "write_latch",
  "rw_mode",
  "mode",
  "bcd",
  "gate",
] as const;
const PIT_WIDTH: Record<typeof PIT_FIELDS[number], 1 | 2 | 4> = {
  count: 4,
  latched_count: 2,
  count_latched: 1,
  status_latched: 1,
  status: 1,
  read_state: 1,
  write_state: 1,
  write_latch: 1,
  rw_mode: 1,
  mode: 1,
  bcd: 1,
  gate: 1,
};

/** `struct kvm_pit_channel_state` as plain data, members named as in C. */
export type PitChannel = Record<typeof PIT_FIELDS[number], number> & { count_load_time: bigint };

/** `struct kvm_pit_state2`: the three i8254 channels and the PIT flags. */
export class KvmPitState2 extends StructView {
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(L.kvm_pit_state2.size, bytes);
  }
  /** KVM_PIT_FLAGS_*. */
  get flags(): number {
    return this.view.getUint32(L.kvm_pit_state2.fields.flags, true);
  }
  set flags(v: number) {
    this.view.setUint32(L.kvm_pit_state2.fields.flags, v, true);
  }
  /** Channel `i` (0-2). */
  channel(i: number): PitChannel {
    const o = L.kvm_pit_state2.fields.channels + checkIndex(i, 3) * L.kvm_pit_channel_state.size;
    const f = L.kvm_pit_channel_state.fields;
    const out = {
      count_load_time: this.view.getBigInt64(o + f.count_load_time, true),
    } as PitChannel;
    for (const k of PIT_FIELDS) {
      const at = o + f[k];
      const w = PIT_WIDTH[k];
      out[k] = w === 4
        ? this.view.getUint32(at, true)
        : w === 2
        ? this.view.getUint16(at, true)
        : this.view.getUint8(at);
    }
    return out;
  }
  /** Replaces fields of channel `i`. */
  setChannel(i: number, ch: Partial<PitChannel>): void {
    const o = L.kvm_pit_state2.fields.channels + checkIndex(i, 3) * L.kvm_pit_channel_state.size;
    const f = L.kvm_pit_channel_state.fields;
    if (ch.count_load_time !== undefined) {
      this.view.setBigInt64(o + f.count_load_time, ch.count_load_time, true);
    }
    for (const k of PIT_FIELDS) {
      const v = ch[k];
      if (v === undefined) continue;
      const w = PIT_WIDTH[k];
      if (w === 4) this.view.setUint32(o + f[k], v, true);
      else if (w === 2) this.view.setUint16(o + f[k], v, true);
      else this.view.setUint8(o + f[k], v);
    }
  }
}

/** `struct kvm_clock_data`: the VM's kvmclock base. */
export class KvmClockData extends StructView {
  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    super(L.kvm_clock_data.size, bytes);
  }
  /** kvmclock in nanoseconds. */
  get clock(): bigint {
    return this.view.getBigUint64(L.kvm_clock_data.fields.clock, true);
  }
  set clock(v: bigint) {
    this.view.setBigUint64(L.kvm_clock_data.fields.clock, v, true);
  }
  /** KVM_CLOCK_* flags. */
  get flags(): number {
    return this.view.getUint32(L.kvm_clock_data.fields.flags, true);
  }
  set flags(v: number) {
    this.view.setUint32(L.kvm_clock_data.fields.flags, v, true);
  }
  /** Host CLOCK_REALTIME at the read, when KVM_CLOCK_REALTIME is set. */
  get realtime(): bigint {
    return this.view.getBigUint64(L.kvm_clock_data.fields.realtime, true);
  }
  /** Host TSC at the read, when KVM_CLOCK_HOST_TSC is set. */
  get hostTsc(): bigint {
    return this.view.getBigUint64(L.kvm_clock_data.fields.host_tsc, true);
  }
}
