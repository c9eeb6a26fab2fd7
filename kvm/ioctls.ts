/**
 * KVM ioctl request numbers, computed as <asm-generic/ioctl.h> does from the
 * structure sizes in {@link LAYOUTS} (so a wrong layout shows up here too).
 *
 * @module
 */

import { LAYOUTS } from "./structs.ts";

const KVMIO = 0xae;
const NONE = 0;
const WRITE = 1;
const READ = 2;

function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
}
const io = (nr: number) => ioc(NONE, nr, 0);
const ior = (nr: number, size: number) => ioc(READ, nr, size);
const iow = (nr: number, size: number) => ioc(WRITE, nr, size);
const iowr = (nr: number, size: number) => ioc(READ | WRITE, nr, size);

/** Every ioctl vmrun issues, by its <linux/kvm.h> name. */
export const IOCTLS = {
  KVM_GET_API_VERSION: io(0x00),
  KVM_CREATE_VM: io(0x01),
  KVM_GET_MSR_INDEX_LIST: iowr(0x02, LAYOUTS.kvm_msr_list.size),
  KVM_CHECK_EXTENSION: io(0x03),
  KVM_GET_VCPU_MMAP_SIZE: io(0x04),
  KVM_GET_SUPPORTED_CPUID: iowr(0x05, LAYOUTS.kvm_cpuid2.size),
  KVM_CREATE_VCPU: io(0x41),
  KVM_GET_DIRTY_LOG: iow(0x42, LAYOUTS.kvm_dirty_log.size),
  KVM_SET_USER_MEMORY_REGION: iow(0x46, LAYOUTS.kvm_userspace_memory_region.size),
  KVM_SET_TSS_ADDR: io(0x47),
  KVM_SET_IDENTITY_MAP_ADDR: iow(0x48, 8),
  KVM_CREATE_IRQCHIP: io(0x60),
  KVM_IRQ_LINE: iow(0x61, LAYOUTS.kvm_irq_level.size),
  KVM_REGISTER_COALESCED_MMIO: iow(0x67, LAYOUTS.kvm_coalesced_mmio_zone.size),
  KVM_SET_GSI_ROUTING: iow(0x6a, LAYOUTS.kvm_irq_routing.size),
  KVM_GET_IRQCHIP: iowr(0x62, LAYOUTS.kvm_irqchip.size),
  // Not a typo: <linux/kvm.h> declares SET_IRQCHIP as _IOR.
  KVM_SET_IRQCHIP: ior(0x63, LAYOUTS.kvm_irqchip.size),
  KVM_CREATE_PIT2: iow(0x77, LAYOUTS.kvm_pit_config.size),
  KVM_IOEVENTFD: iow(0x79, LAYOUTS.kvm_ioeventfd.size),
  KVM_SET_CLOCK: iow(0x7b, LAYOUTS.kvm_clock_data.size),
  KVM_GET_CLOCK: ior(0x7c, LAYOUTS.kvm_clock_data.size),
  KVM_RUN: io(0x80),
  KVM_GET_REGS: ior(0x81, LAYOUTS.kvm_regs.size),
  KVM_SET_REGS: iow(0x82, LAYOUTS.kvm_regs.size),
  KVM_GET_SREGS: ior(0x83, LAYOUTS.kvm_sregs.size),
  KVM_SET_SREGS: iow(0x84, LAYOUTS.kvm_sregs.size),
  KVM_GET_MSRS: iowr(0x88, LAYOUTS.kvm_msrs.size),
  KVM_SET_MSRS: iow(0x89, LAYOUTS.kvm_msrs.size),
  KVM_GET_FPU: ior(0x8c, LAYOUTS.kvm_fpu.size),
  KVM_SET_FPU: iow(0x8d, LAYOUTS.kvm_fpu.size),
  KVM_GET_LAPIC: ior(0x8e, LAYOUTS.kvm_lapic_state.size),
  KVM_SET_LAPIC: iow(0x8f, LAYOUTS.kvm_lapic_state.size),
  KVM_SET_CPUID2: iow(0x90, LAYOUTS.kvm_cpuid2.size),
  KVM_GET_CPUID2: iowr(0x91, LAYOUTS.kvm_cpuid2.size),
  KVM_GET_MP_STATE: ior(0x98, LAYOUTS.kvm_mp_state.size),
  KVM_SET_MP_STATE: iow(0x99, LAYOUTS.kvm_mp_state.size),
  // 0x9f/0xa0 are used twice: the VM's PIT and the vCPU's events differ in size.
  KVM_GET_PIT2: ior(0x9f, LAYOUTS.kvm_pit_state2.size),
  KVM_SET_PIT2: iow(0xa0, LAYOUTS.kvm_pit_state2.size),
  KVM_GET_VCPU_EVENTS: ior(0x9f, LAYOUTS.kvm_vcpu_events.size),
  KVM_SET_VCPU_EVENTS: iow(0xa0, LAYOUTS.kvm_vcpu_events.size),
  KVM_GET_DEBUGREGS: ior(0xa1, LAYOUTS.kvm_debugregs.size),
  KVM_SET_DEBUGREGS: iow(0xa2, LAYOUTS.kvm_debugregs.size),
  KVM_SET_TSC_KHZ: io(0xa2),
  KVM_GET_TSC_KHZ: io(0xa3),
  KVM_GET_XSAVE: ior(0xa4, LAYOUTS.kvm_xsave.size),
  KVM_SET_XSAVE: iow(0xa5, LAYOUTS.kvm_xsave.size),
  KVM_GET_XCRS: ior(0xa6, LAYOUTS.kvm_xcrs.size),
  KVM_SET_XCRS: iow(0xa7, LAYOUTS.kvm_xcrs.size),
  KVM_GET_XSAVE2: ior(0xcf, LAYOUTS.kvm_xsave.size),
} as const;

/** An ioctl name. */
export type IoctlName = keyof typeof IOCTLS;

/** KVM_CHECK_EXTENSION capability numbers vmrun asks about. */
export const KVM_CAP = {
  KVM_CAP_IRQCHIP: 0,
  KVM_CAP_USER_MEMORY: 3,
  KVM_CAP_SET_TSS_ADDR: 4,
  KVM_CAP_EXT_CPUID: 7,
  KVM_CAP_MP_STATE: 14,
  KVM_CAP_COALESCED_MMIO: 15,
  KVM_CAP_PIT2: 33,
  KVM_CAP_PIT_STATE2: 35,
  KVM_CAP_ADJUST_CLOCK: 39,
  KVM_CAP_VCPU_EVENTS: 41,
  KVM_CAP_DEBUGREGS: 50,
  KVM_CAP_XSAVE: 55,
  KVM_CAP_XCRS: 56,
  KVM_CAP_TSC_CONTROL: 60,
  KVM_CAP_GET_TSC_KHZ: 61,
  KVM_CAP_XSAVE2: 208,
  KVM_CAP_READONLY_MEM: 81,
  KVM_CAP_SET_IDENTITY_MAP_ADDR: 37,
  KVM_CAP_IMMEDIATE_EXIT: 136,
  KVM_CAP_IOEVENTFD: 36,
} as const;
