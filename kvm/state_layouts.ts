/**
 * Layouts of the <linux/kvm.h> structures that carry a VM's saved state
 * (KVM_GET/SET_* for FPU, XSAVE, XCRs, LAPIC, MSRs, vCPU events, debug
 * registers, irqchips, PIT and kvmclock). They join {@link LAYOUTS} in
 * structs.ts, so structs_test.ts checks every offset against the C headers.
 *
 * @module
 */

import type { StructLayout } from "./structs.ts";

/** Bytes in `struct kvm_lapic_state` (KVM_APIC_REG_SIZE). */
export const LAPIC_STATE_SIZE = 0x400;
/** Bytes in the fixed part of `struct kvm_xsave` (KVM_GET_XSAVE2 may use more). */
export const XSAVE_SIZE = 4096;
/** Entries in `struct kvm_xcrs` (KVM_MAX_XCRS). */
export const MAX_XCRS = 16;
/** IOAPIC pins (KVM_IOAPIC_NUM_PINS). */
export const IOAPIC_NUM_PINS = 24;

/** The state-carrying structures, keyed by C struct name. */
export const STATE_LAYOUTS = {
  kvm_fpu: {
    size: 416,
    fields: {
      fpr: 0,
      fcw: 128,
      fsw: 130,
      ftwx: 132,
      last_opcode: 134,
      last_ip: 136,
      last_dp: 144,
      xmm: 152,
      mxcsr: 408,
    },
  },
  kvm_lapic_state: { size: LAPIC_STATE_SIZE, fields: { regs: 0 } },
  kvm_msr_entry: { size: 16, fields: { index: 0, data: 8 } },
  kvm_msrs: { size: 8, fields: { nmsrs: 0, entries: 8 } },
  kvm_msr_list: { size: 4, fields: { nmsrs: 0, indices: 4 } },
  kvm_vcpu_events: {
    size: 64,
    fields: {
      "exception.injected": 0,
      "exception.nr": 1,
      "exception.has_error_code": 2,
      "exception.pending": 3,
      "exception.error_code": 4,
      "interrupt.injected": 8,
      "interrupt.nr": 9,
      "interrupt.soft": 10,
      "interrupt.shadow": 11,
      "nmi.injected": 12,
      "nmi.pending": 13,
      "nmi.masked": 14,
      sipi_vector: 16,
      flags: 20,
      "smi.smm": 24,
      "smi.pending": 25,
      "smi.smm_inside_nmi": 26,
      "smi.latched_init": 27,
      "triple_fault.pending": 28,
      exception_has_payload: 55,
      exception_payload: 56,
    },
  },
  kvm_debugregs: { size: 128, fields: { db: 0, dr6: 32, dr7: 40, flags: 48 } },
  kvm_xsave: { size: XSAVE_SIZE, fields: { region: 0 } },
  kvm_xcr: { size: 16, fields: { xcr: 0, value: 8 } },
  kvm_xcrs: { size: 392, fields: { nr_xcrs: 0, flags: 4, xcrs: 8 } },
  kvm_irqchip: { size: 520, fields: { chip_id: 0, "chip.pic": 8, "chip.ioapic": 8 } },
  kvm_pic_state: {
    size: 16,
    fields: {
      last_irr: 0,
      irr: 1,
      imr: 2,
      isr: 3,
      priority_add: 4,
      irq_base: 5,
      read_reg_select: 6,
      poll: 7,
      special_mask: 8,
      init_state: 9,
      auto_eoi: 10,
      rotate_on_auto_eoi: 11,
      special_fully_nested_mode: 12,
      init4: 13,
      elcr: 14,
      elcr_mask: 15,
    },
  },
  kvm_ioapic_state: {
    size: 24 + IOAPIC_NUM_PINS * 8,
    fields: { base_address: 0, ioregsel: 8, id: 12, irr: 16, redirtbl: 24 },
  },
  kvm_pit_channel_state: {
    size: 24,
    fields: {
      count: 0,
      latched_count: 4,
      count_latched: 6,
      status_latched: 7,
      status: 8,
      read_state: 9,
      write_state: 10,
      write_latch: 11,
      rw_mode: 12,
      mode: 13,
      bcd: 14,
      gate: 15,
      count_load_time: 16,
    },
  },
  kvm_pit_state2: { size: 112, fields: { channels: 0, flags: 72 } },
  kvm_clock_data: { size: 48, fields: { clock: 0, flags: 8, realtime: 16, host_tsc: 24 } },
} as const satisfies Record<string, StructLayout>;
