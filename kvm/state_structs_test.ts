import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { MSR, msrName, mtrrMsrs, SAVED_MSRS } from "./msrs.ts";
import {
  decodeMsrList,
  decodeMsrs,
  decodeXcrs,
  encodeMsrs,
  encodeXcrs,
  FXSAVE,
  KvmClockData,
  KvmDebugregs,
  KvmFpu,
  KvmIrqchip,
  KvmLapicState,
  KvmPitState2,
  KvmVcpuEvents,
  KvmXsave,
  LAPIC_REG,
  msrListBuffer,
} from "./state_structs.ts";
import { LAYOUTS } from "./structs.ts";

Deno.test("MSR entries encode as struct kvm_msrs and decode back, 64-bit values intact", () => {
  const entries = [
    { index: MSR.IA32_TSC, value: 0xffff_ffff_ffff_fff0n },
    { index: MSR.KVM_SYSTEM_TIME_NEW, value: 0x1234_5001n },
    { index: MSR.LSTAR, value: 0xffff_8000_0010_0000n },
  ];
  const bytes = encodeMsrs(entries);
  strictEqual(bytes.length, LAYOUTS.kvm_msrs.size + 3 * LAYOUTS.kvm_msr_entry.size);
  const dv = new DataView(bytes.buffer);
  strictEqual(dv.getUint32(LAYOUTS.kvm_msrs.fields.nmsrs, true), 3);
  const second = LAYOUTS.kvm_msrs.fields.entries + LAYOUTS.kvm_msr_entry.size;
  strictEqual(dv.getUint32(second + LAYOUTS.kvm_msr_entry.fields.index, true), 0x4b564d01);
  strictEqual(dv.getBigUint64(second + LAYOUTS.kvm_msr_entry.fields.data, true), 0x1234_5001n);
  deepStrictEqual(decodeMsrs(bytes), entries);
  // A count beyond the buffer is malformed, not read past the end.
  dv.setUint32(0, 4, true);
  throws(() => decodeMsrs(bytes), RangeError);
});

Deno.test("an MSR index list decodes the count KVM wrote", () => {
  const buf = msrListBuffer(3);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, 2, true);
  dv.setUint32(4, 0x10, true);
  dv.setUint32(8, 0xc0000082, true);
  deepStrictEqual(decodeMsrList(buf), [0x10, 0xc0000082]);
  dv.setUint32(0, 9, true);
  throws(() => decodeMsrList(buf), RangeError);
});

Deno.test("XCRs encode as struct kvm_xcrs and decode back; more than 16 is refused", () => {
  const xcrs = [{ xcr: 0, value: 7n }, { xcr: 1, value: 0x1_0000_0000n }];
  const bytes = encodeXcrs(xcrs);
  strictEqual(bytes.length, LAYOUTS.kvm_xcrs.size);
  deepStrictEqual(decodeXcrs(bytes), xcrs);
  throws(
    () => encodeXcrs(Array.from({ length: 17 }, (_, xcr) => ({ xcr, value: 1n }))),
    RangeError,
  );
  throws(() => decodeXcrs(new Uint8Array(10)), RangeError);
});

Deno.test("KvmFpu and KvmXsave find XMM registers and MXCSR where the formats put them", () => {
  const fpu = new KvmFpu();
  const x7 = new Uint8Array(16).map((_, i) => i + 1);
  fpu.setXmm(7, x7);
  deepStrictEqual(fpu.xmm(7), x7);
  deepStrictEqual(
    fpu.bytes.subarray(LAYOUTS.kvm_fpu.fields.xmm + 7 * 16, LAYOUTS.kvm_fpu.fields.xmm + 8 * 16),
    x7,
  );
  fpu.mxcsr = 0x1f80;
  fpu.fcw = 0x37f;
  const dv = new DataView(fpu.bytes.buffer);
  strictEqual(dv.getUint32(LAYOUTS.kvm_fpu.fields.mxcsr, true), 0x1f80);
  strictEqual(dv.getUint16(LAYOUTS.kvm_fpu.fields.fcw, true), 0x37f);
  throws(() => fpu.xmm(16), RangeError);
  throws(() => fpu.setXmm(0, new Uint8Array(8)), RangeError);

  const img = new KvmXsave();
  strictEqual(img.bytes.length, 4096);
  const xdv = new DataView(img.bytes.buffer);
  xdv.setUint32(FXSAVE.mxcsr, 0x7f80, true);
  xdv.setBigUint64(FXSAVE.xstateBv, 7n, true);
  img.bytes.set(x7, FXSAVE.xmm0 + 2 * 16);
  strictEqual(img.mxcsr, 0x7f80);
  strictEqual(img.xstateBv, 7n);
  deepStrictEqual(img.xmm(2), x7);
  // KVM_GET_XSAVE2 may hand back more than 4096 bytes; never less.
  strictEqual(new KvmXsave(new Uint8Array(8192)).bytes.length, 8192);
  throws(() => new KvmXsave(new Uint8Array(512)), RangeError);
});

Deno.test("KvmLapicState reads 32-bit registers at 16-byte offsets", () => {
  const lapic = new KvmLapicState();
  lapic.setReg(LAPIC_REG.tpr, 0x30);
  lapic.setReg(LAPIC_REG.lvtTimer, 0x200ef);
  lapic.setReg(LAPIC_REG.timerInitial, 0xffff_ffff);
  strictEqual(new DataView(lapic.bytes.buffer).getUint32(0x80, true), 0x30);
  strictEqual(lapic.reg(LAPIC_REG.timerInitial), 0xffff_ffff);
  const json = lapic.toJSON();
  strictEqual(json.lvtTimer, 0x200ef);
  strictEqual(json.svr, 0);
  throws(() => lapic.reg(0x84), RangeError);
  throws(() => lapic.reg(0x400), RangeError);
});

Deno.test("KvmVcpuEvents decodes each member from its C offset", () => {
  const ev = new KvmVcpuEvents();
  const f = LAYOUTS.kvm_vcpu_events.fields;
  const dv = new DataView(ev.bytes.buffer);
  dv.setUint8(f["exception.nr"], 14);
  dv.setUint32(f["exception.error_code"], 0x2, true);
  dv.setUint8(f["interrupt.shadow"], 1);
  dv.setUint8(f["nmi.masked"], 1);
  dv.setUint32(f.sipi_vector, 0x9a, true);
  dv.setUint8(f["smi.latched_init"], 1);
  dv.setBigUint64(f.exception_payload, 0xdead_0000_0000n, true);
  ev.flags = 0x14;
  const j = ev.toJSON();
  strictEqual(j.exception.nr, 14);
  strictEqual(j.exception.errorCode, 2);
  strictEqual(j.interrupt.shadow, 1);
  strictEqual(j.nmi.masked, 1);
  strictEqual(j.sipiVector, 0x9a);
  strictEqual(j.smi.latchedInit, 1);
  strictEqual(j.exceptionPayload, 0xdead_0000_0000n);
  strictEqual(j.flags, 0x14);
});

Deno.test("KvmDebugregs, KvmClockData: registers and fields at their C offsets", () => {
  const dr = new KvmDebugregs();
  dr.setDb(3, 0xffff_ffff_ffff_0000n);
  dr.dr7 = 0x400n;
  const dv = new DataView(dr.bytes.buffer);
  strictEqual(dv.getBigUint64(LAYOUTS.kvm_debugregs.fields.db + 24, true), 0xffff_ffff_ffff_0000n);
  strictEqual(dv.getBigUint64(LAYOUTS.kvm_debugregs.fields.dr7, true), 0x400n);
  strictEqual(dr.db(3), 0xffff_ffff_ffff_0000n);
  throws(() => dr.db(4), RangeError);

  const clock = new KvmClockData();
  clock.clock = 123_456_789_000n;
  clock.flags = 2;
  const cv = new DataView(clock.bytes.buffer);
  strictEqual(cv.getBigUint64(LAYOUTS.kvm_clock_data.fields.clock, true), 123_456_789_000n);
  strictEqual(cv.getUint32(LAYOUTS.kvm_clock_data.fields.flags, true), 2);
  cv.setBigUint64(LAYOUTS.kvm_clock_data.fields.host_tsc, 77n, true);
  strictEqual(clock.hostTsc, 77n);
});

Deno.test("KvmIrqchip: PIC members and IOAPIC redirection entries round-trip", () => {
  const pic = new KvmIrqchip();
  pic.chipId = 1;
  pic.setPic({ irq_base: 0x28, imr: 0xbf, elcr: 0x8e, elcr_mask: 0xde });
  const p = pic.pic();
  strictEqual(p.irq_base, 0x28);
  strictEqual(p.imr, 0xbf);
  strictEqual(p.elcr, 0x8e);
  strictEqual(p.elcr_mask, 0xde);
  strictEqual(p.isr, 0);
  strictEqual(
    pic.bytes[LAYOUTS.kvm_irqchip.fields["chip.pic"] + LAYOUTS.kvm_pic_state.fields.imr],
    0xbf,
  );
  strictEqual(new DataView(pic.bytes.buffer).getUint32(0, true), 1);

  const io = new KvmIrqchip();
  io.chipId = 2;
  io.setRedirection(23, 0xff00_0000_0000_a0b1n);
  const base = LAYOUTS.kvm_irqchip.fields["chip.ioapic"];
  const dv = new DataView(io.bytes.buffer);
  dv.setBigUint64(base + LAYOUTS.kvm_ioapic_state.fields.base_address, 0xfec00000n, true);
  dv.setUint32(base + LAYOUTS.kvm_ioapic_state.fields.id, 2 << 24, true);
  const s = io.ioapic();
  strictEqual(s.redirection.length, 24);
  strictEqual(s.redirection[23], 0xff00_0000_0000_a0b1n);
  strictEqual(s.redirection[22], 0n);
  strictEqual(s.baseAddress, 0xfec00000n);
  strictEqual(s.id, 2 << 24);
  throws(() => io.setRedirection(24, 0n), RangeError);
});

Deno.test("KvmPitState2: each channel's members, by width, at their C offsets", () => {
  const pit = new KvmPitState2();
  pit.setChannel(2, { count: 65536, latched_count: 0xbeef, mode: 3, rw_mode: 3, gate: 1 });
  pit.setChannel(0, { count_load_time: -5n, bcd: 1 });
  pit.flags = 2;
  const c2 = pit.channel(2);
  strictEqual(c2.count, 65536);
  strictEqual(c2.latched_count, 0xbeef);
  strictEqual(c2.mode, 3);
  strictEqual(c2.gate, 1);
  strictEqual(pit.channel(0).count_load_time, -5n);
  strictEqual(pit.channel(0).bcd, 1);
  strictEqual(pit.channel(1).count, 0);
  const dv = new DataView(pit.bytes.buffer);
  const o2 = 2 * LAYOUTS.kvm_pit_channel_state.size;
  strictEqual(dv.getUint32(o2 + LAYOUTS.kvm_pit_channel_state.fields.count, true), 65536);
  strictEqual(dv.getUint16(o2 + LAYOUTS.kvm_pit_channel_state.fields.latched_count, true), 0xbeef);
  strictEqual(dv.getUint32(LAYOUTS.kvm_pit_state2.fields.flags, true), 2);
  throws(() => pit.channel(3), RangeError);
});

Deno.test("MSR list: TSC before TSC deadline, async-PF vector before enable, MTRRs by count", () => {
  strictEqual(SAVED_MSRS.indexOf(MSR.IA32_TSC) < SAVED_MSRS.indexOf(MSR.IA32_TSC_DEADLINE), true);
  strictEqual(
    SAVED_MSRS.indexOf(MSR.KVM_ASYNC_PF_INT) < SAVED_MSRS.indexOf(MSR.KVM_ASYNC_PF_EN),
    true,
  );
  strictEqual(new Set(SAVED_MSRS).size, SAVED_MSRS.length, "no MSR twice");
  const mtrrs = mtrrMsrs(8);
  strictEqual(mtrrs.length, 1 + 3 + 8 + 16);
  strictEqual(mtrrs.includes(0x20f), true);
  strictEqual(mtrrs.includes(0x210), false);
  strictEqual(mtrrs.includes(0x26f), true);
  strictEqual(msrName(0x10), "MSR_IA32_TSC");
  strictEqual(msrName(0x12345), "MSR 0x12345");
});
