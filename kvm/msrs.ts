/**
 * The model-specific registers a saved vCPU carries, in the order they are
 * restored. Architectural numbers are from the Intel SDM vol. 4 and AMD APM
 * vol. 2; the kvmclock and paravirtual ones from <asm/kvm_para.h> (checked
 * by structs_test.ts).
 *
 * @module
 */

/** MSR numbers vmrun names. */
export const MSR = {
  IA32_TSC: 0x10,
  IA32_APIC_BASE: 0x1b,
  IA32_TSC_ADJUST: 0x3b,
  IA32_SPEC_CTRL: 0x48,
  IA32_MTRRCAP: 0xfe,
  IA32_SYSENTER_CS: 0x174,
  IA32_SYSENTER_ESP: 0x175,
  IA32_SYSENTER_EIP: 0x176,
  IA32_MISC_ENABLE: 0x1a0,
  IA32_MTRR_PHYSBASE0: 0x200,
  IA32_MTRR_FIX64K_00000: 0x250,
  IA32_MTRR_FIX16K_80000: 0x258,
  IA32_MTRR_FIX16K_A0000: 0x259,
  IA32_MTRR_FIX4K_C0000: 0x268,
  IA32_PAT: 0x277,
  IA32_MTRR_DEF_TYPE: 0x2ff,
  IA32_TSC_DEADLINE: 0x6e0,
  IA32_XSS: 0xda0,
  STAR: 0xc0000081,
  LSTAR: 0xc0000082,
  CSTAR: 0xc0000083,
  SFMASK: 0xc0000084,
  KERNEL_GS_BASE: 0xc0000102,
  TSC_AUX: 0xc0000103,
  AMD64_VIRT_SPEC_CTRL: 0xc001011f,
  KVM_WALL_CLOCK: 0x11,
  KVM_SYSTEM_TIME: 0x12,
  KVM_WALL_CLOCK_NEW: 0x4b564d00,
  KVM_SYSTEM_TIME_NEW: 0x4b564d01,
  KVM_ASYNC_PF_EN: 0x4b564d02,
  KVM_STEAL_TIME: 0x4b564d03,
  KVM_PV_EOI_EN: 0x4b564d04,
  KVM_POLL_CONTROL: 0x4b564d05,
  KVM_ASYNC_PF_INT: 0x4b564d06,
} as const;

/** The kvmclock and paravirtual MSRs, whose numbers <asm/kvm_para.h> defines. */
export const KVM_PARA_MSRS = [
  "KVM_WALL_CLOCK",
  "KVM_SYSTEM_TIME",
  "KVM_WALL_CLOCK_NEW",
  "KVM_SYSTEM_TIME_NEW",
  "KVM_ASYNC_PF_EN",
  "KVM_STEAL_TIME",
  "KVM_PV_EOI_EN",
  "KVM_POLL_CONTROL",
  "KVM_ASYNC_PF_INT",
] as const;

/** The MTRRs: architectural, handled by KVM for every vCPU, but absent from its MSR index list. */
export function mtrrMsrs(variableRanges: number): number[] {
  const out: number[] = [MSR.IA32_MTRR_DEF_TYPE];
  out.push(MSR.IA32_MTRR_FIX64K_00000, MSR.IA32_MTRR_FIX16K_80000, MSR.IA32_MTRR_FIX16K_A0000);
  for (let i = 0; i < 8; i++) out.push(MSR.IA32_MTRR_FIX4K_C0000 + i);
  for (let i = 0; i < variableRanges * 2; i++) out.push(MSR.IA32_MTRR_PHYSBASE0 + i);
  return out;
}

/**
 * The MSRs a saved vCPU carries when KVM lists them, in restore order.
 * KVM_SET_MSRS writes entries one after another, so the order matters:
 * - IA32_TSC before IA32_TSC_DEADLINE: the deadline is a guest-TSC value,
 *   armed against the TSC as it stands when the deadline is written.
 * - KVM_ASYNC_PF_INT before KVM_ASYNC_PF_EN: KVM refuses to enable
 *   interrupt-based async page faults before their vector is set.
 * - IA32_APIC_BASE repeats what KVM_SET_SREGS already set; writing the same
 *   value again changes nothing.
 * EFER, FS.base and GS.base travel in `kvm_sregs`, not here.
 */
export const SAVED_MSRS: readonly number[] = [
  MSR.IA32_TSC,
  MSR.IA32_TSC_ADJUST,
  MSR.IA32_APIC_BASE,
  MSR.IA32_MISC_ENABLE,
  MSR.IA32_PAT,
  MSR.IA32_SYSENTER_CS,
  MSR.IA32_SYSENTER_ESP,
  MSR.IA32_SYSENTER_EIP,
  MSR.STAR,
  MSR.LSTAR,
  MSR.CSTAR,
  MSR.SFMASK,
  MSR.KERNEL_GS_BASE,
  MSR.TSC_AUX,
  MSR.IA32_SPEC_CTRL,
  MSR.AMD64_VIRT_SPEC_CTRL,
  MSR.IA32_XSS,
  MSR.KVM_WALL_CLOCK,
  MSR.KVM_SYSTEM_TIME,
  MSR.KVM_WALL_CLOCK_NEW,
  MSR.KVM_SYSTEM_TIME_NEW,
  MSR.KVM_STEAL_TIME,
  MSR.KVM_PV_EOI_EN,
  MSR.KVM_POLL_CONTROL,
  MSR.KVM_ASYNC_PF_INT,
  MSR.KVM_ASYNC_PF_EN,
  MSR.IA32_TSC_DEADLINE,
];

/**
 * The wall-clock MSRs are write-only triggers: writing one makes KVM store
 * the wall clock at that guest address. Restoring a zero (never written)
 * would be a write to guest address 0, so zeros are skipped.
 */
export const WALL_CLOCK_MSRS: ReadonlySet<number> = new Set([
  MSR.KVM_WALL_CLOCK,
  MSR.KVM_WALL_CLOCK_NEW,
]);

/** A readable name for an MSR number, for error messages. */
export function msrName(index: number): string {
  const found = Object.entries(MSR).find(([, v]) => v === index);
  return found ? `MSR_${found[0]}` : `MSR 0x${index.toString(16)}`;
}
