/**
 * Save and restore of what KVM holds for a VM and its vCPUs. A state is
 * plain data: the exact bytes of each kernel structure (so nothing is lost
 * in translation and the views of state_structs.ts can read them) plus a few
 * numbers, all structured-clone-able for posting between workers.
 *
 * Restore order, vCPU side ({@link restoreVcpuState}), and why:
 * 1. CPUID: which MSRs, XCR0 bits and XSAVE components are valid depends on it.
 * 2. TSC frequency: before the TSC MSR, whose value is scaled by it.
 * 3. sregs: EFER, CR0/CR4 and the APIC base; KVM_SET_LAPIC reads the APIC
 *    mode from the vCPU, and MSR checks depend on the CPU mode.
 * 4. regs: after sregs, so the mode they belong to is in place. KVM_SET_REGS
 *    also drops a queued exception, which is why events come later.
 * 5. XSAVE (or FPU), then XCRs: independent of each other and of the rest.
 * 6. LAPIC: after the APIC base (3). KVM restarts its timer from the initial count.
 * 7. MSRs: after the LAPIC, because KVM ignores a TSC-deadline write unless
 *    the LVT timer is in deadline mode; order within the list in msrs.ts.
 * 8. Debug registers.
 * 9. vCPU events: after regs and sregs, which discard or overwrite pending
 *    exceptions and interrupts; they also carry SMM and a latched INIT.
 * 10. MP state last: KVM_SET_SREGS can mark the vCPU runnable, and KVM checks
 *    the requested state against the latched INIT set in 9.
 *
 * VM side ({@link restoreVmState}): PICs, IOAPIC, PIT, kvmclock. Restore the
 * VM before its vCPUs: putting back the IOAPIC may deliver an interrupt to a
 * LAPIC, and the LAPIC's own saved state must then be what stays.
 *
 * @module
 */

import { KvmError, KvmStateError } from "./errors.ts";
import { KVM_CAP } from "./ioctls.ts";
import type { Vcpu, Vm } from "./kvm.ts";
import { MSR, mtrrMsrs, SAVED_MSRS, WALL_CLOCK_MSRS } from "./msrs.ts";
import {
  copyBytes,
  decodeMsrs,
  decodeXcrs,
  encodeMsrs,
  encodeXcrs,
  KvmClockData,
  KvmDebugregs,
  KvmFpu,
  KvmIrqchip,
  KvmLapicState,
  KvmPitState2,
  KvmVcpuEvents,
  KvmXsave,
  STATE_CONSTANTS as C,
} from "./state_structs.ts";
import { type CpuidEntry, KvmRegs, KvmSregs, LAYOUTS } from "./structs.ts";

/** The version {@link saveVcpuState} writes and {@link restoreVcpuState} reads. */
export const VCPU_STATE_VERSION = 1;
/** The version {@link saveVmState} writes and {@link restoreVmState} reads. */
export const VM_STATE_VERSION = 1;

/** Everything KVM holds for one vCPU. Blobs are the kernel structures' bytes. */
export interface VcpuState {
  readonly version: typeof VCPU_STATE_VERSION;
  /** The vCPU id it was saved from (restore into the same id). */
  readonly id: number;
  /** KVM_GET_CPUID2 (empty when the vCPU never had CPUID set). */
  readonly cpuid: CpuidEntry[];
  /** Guest TSC frequency, where KVM_CAP_GET_TSC_KHZ is offered. */
  readonly tscKhz?: number;
  /** `struct kvm_regs`. */
  readonly regs: Uint8Array<ArrayBuffer>;
  /** `struct kvm_sregs`. */
  readonly sregs: Uint8Array<ArrayBuffer>;
  /** `struct kvm_xsave` (4096 bytes or KVM_CAP_XSAVE2's size); absent without KVM_CAP_XSAVE. */
  readonly xsave?: Uint8Array<ArrayBuffer>;
  /**
   * `struct kvm_fpu`, carried instead of `xsave` where KVM has no XSAVE.
   * KVM_GET/SET_FPU leave MXCSR out, so on such a host it is not carried.
   */
  readonly fpu?: Uint8Array<ArrayBuffer>;
  /** `struct kvm_xcrs`, where KVM_CAP_XCRS is offered. */
  readonly xcrs?: Uint8Array<ArrayBuffer>;
  /** `struct kvm_lapic_state`, when the VM has the in-kernel irqchip. */
  readonly lapic?: Uint8Array<ArrayBuffer>;
  /** `struct kvm_msrs` with the entries of msrs.ts that this KVM reads. */
  readonly msrs: Uint8Array<ArrayBuffer>;
  /** `struct kvm_debugregs`, where KVM_CAP_DEBUGREGS is offered. */
  readonly debugregs?: Uint8Array<ArrayBuffer>;
  /** `struct kvm_vcpu_events`, where KVM_CAP_VCPU_EVENTS is offered. */
  readonly events?: Uint8Array<ArrayBuffer>;
  /** KVM_MP_STATE_*. */
  readonly mpState: number;
}

/** What KVM holds for the VM as a whole. Blobs are the kernel structures' bytes. */
export interface VmState {
  readonly version: typeof VM_STATE_VERSION;
  /** `struct kvm_irqchip` for the master PIC, slave PIC and IOAPIC (in-kernel irqchip only). */
  readonly irqchip?: {
    readonly picMaster: Uint8Array<ArrayBuffer>;
    readonly picSlave: Uint8Array<ArrayBuffer>;
    readonly ioapic: Uint8Array<ArrayBuffer>;
  };
  /** `struct kvm_pit_state2` (in-kernel PIT only). */
  readonly pit?: Uint8Array<ArrayBuffer>;
  /** `struct kvm_clock_data`, where KVM_CAP_ADJUST_CLOCK is offered. */
  readonly clock?: Uint8Array<ArrayBuffer>;
}

/** The MSR list each vCPU saves, worked out once per vCPU. */
const msrLists = new WeakMap<Vcpu, readonly number[]>();

/**
 * The MSRs this vCPU saves: those of {@link SAVED_MSRS} that KVM's index
 * list names, plus the MTRRs (which KVM handles but does not list), keeping
 * only what KVM_GET_MSRS actually reads for this vCPU and its CPUID.
 */
export function savedMsrIndices(vcpu: Vcpu): readonly number[] {
  const cached = msrLists.get(vcpu);
  if (cached) return cached;
  const listed = new Set(vcpu.vm.kvm.msrIndexList());
  const wanted = SAVED_MSRS.filter((m) => listed.has(m));
  if (vcpu.readableMsrCount([MSR.IA32_MTRRCAP]) === 1) {
    const cap = vcpu.getMsrs([MSR.IA32_MTRRCAP])[0].value;
    // The MTRRs go first: nothing in SAVED_MSRS depends on them.
    wanted.unshift(...mtrrMsrs(Number(cap & 0xffn)));
  }
  // KVM_GET_MSRS stops at the first MSR it refuses: drop that one and go on.
  const kept: number[] = [];
  let rest = wanted;
  while (rest.length > 0) {
    const n = vcpu.readableMsrCount(rest);
    kept.push(...rest.slice(0, n));
    rest = rest.slice(n + 1);
  }
  const frozen = Object.freeze(kept);
  msrLists.set(vcpu, frozen);
  return frozen;
}

/** Captures a vCPU. See {@link Vcpu.saveState}. */
export function saveVcpuState(vcpu: Vcpu): VcpuState {
  vcpu.completePendingExit();
  const kvm = vcpu.vm.kvm;
  const has = (cap: number) => kvm.checkExtension(cap) > 0;
  const xsave = vcpu.xsaveSize() > 0 ? vcpu.getXsave().bytes : undefined;
  return {
    version: VCPU_STATE_VERSION,
    id: vcpu.id,
    cpuid: vcpu.getCpuid(),
    ...(has(KVM_CAP.KVM_CAP_GET_TSC_KHZ) ? { tscKhz: vcpu.getTscKhz() } : {}),
    regs: vcpu.getRegs().bytes,
    sregs: vcpu.getSregs().bytes,
    ...(xsave ? { xsave } : { fpu: vcpu.getFpu().bytes }),
    ...(has(KVM_CAP.KVM_CAP_XCRS) ? { xcrs: encodeXcrs(vcpu.getXcrs()) } : {}),
    ...(vcpu.vm.hasIrqchip ? { lapic: vcpu.getLapic().bytes } : {}),
    msrs: encodeMsrs(vcpu.getMsrs(savedMsrIndices(vcpu))),
    ...(has(KVM_CAP.KVM_CAP_DEBUGREGS) ? { debugregs: vcpu.getDebugregs().bytes } : {}),
    ...(has(KVM_CAP.KVM_CAP_VCPU_EVENTS) ? { events: vcpu.getVcpuEvents().bytes } : {}),
    mpState: vcpu.mpState(),
  };
}

/**
 * Puts a saved vCPU back, in the order of the module comment. The vCPU
 * should be fresh (not yet run) or have run with the same CPUID.
 * @throws {KvmStateError} for a state of another version or malformed blobs
 * @throws {KvmError} naming the ioctl KVM refused
 */
export function restoreVcpuState(vcpu: Vcpu, state: VcpuState): void {
  const part = `vcpu ${vcpu.id}`;
  if (state.version !== VCPU_STATE_VERSION) {
    throw new KvmStateError(part, `state version ${state.version}, expected ${VCPU_STATE_VERSION}`);
  }
  if (state.id !== vcpu.id) {
    throw new KvmStateError(part, `state was saved from vcpu ${state.id}`);
  }
  const blob = (name: string, bytes: Uint8Array, size: number) => {
    if (bytes.length !== size) {
      throw new KvmStateError(part, `${name} is ${bytes.length} bytes, expected ${size}`);
    }
    return copyBytes(bytes);
  };
  const kvm = vcpu.vm.kvm;

  if (state.cpuid.length > 0) vcpu.setCpuid(state.cpuid);
  if (state.tscKhz !== undefined && kvm.checkExtension(KVM_CAP.KVM_CAP_GET_TSC_KHZ) > 0) {
    // Same host, same rate. KVM takes a rate within its tolerance (250 ppm)
    // as is; beyond that it needs TSC scaling (KVM_CAP_TSC_CONTROL).
    const now = vcpu.getTscKhz();
    if (now !== state.tscKhz) {
      try {
        vcpu.setTscKhz(state.tscKhz);
      } catch (e) {
        if (!(e instanceof KvmError)) throw e;
        throw new KvmError(
          e.call,
          e.errno,
          `the state's TSC runs at ${state.tscKhz} kHz, this host's at ${now} kHz`,
        );
      }
    }
  }
  vcpu.setSregs(new KvmSregs(blob("sregs", state.sregs, LAYOUTS.kvm_sregs.size)));
  vcpu.setRegs(new KvmRegs(blob("regs", state.regs, LAYOUTS.kvm_regs.size)));
  if (state.xsave) {
    if (state.xsave.length < LAYOUTS.kvm_xsave.size) {
      throw new KvmStateError(part, `xsave is ${state.xsave.length} bytes, at least 4096 expected`);
    }
    if (vcpu.xsaveSize() === 0) {
      throw new KvmError("KVM_SET_XSAVE", 0, "the state has an XSAVE image, this KVM no XSAVE");
    }
    vcpu.setXsave(new KvmXsave(copyBytes(state.xsave)));
  } else if (state.fpu) {
    vcpu.setFpu(new KvmFpu(blob("fpu", state.fpu, LAYOUTS.kvm_fpu.size)));
  } else {
    throw new KvmStateError(part, "neither xsave nor fpu");
  }
  if (state.xcrs) vcpu.setXcrs(decodeXcrs(blob("xcrs", state.xcrs, LAYOUTS.kvm_xcrs.size)));
  if (state.lapic) {
    vcpu.setLapic(new KvmLapicState(blob("lapic", state.lapic, LAYOUTS.kvm_lapic_state.size)));
  }
  const msrs = decodeMsrs(state.msrs).filter((m) => !(WALL_CLOCK_MSRS.has(m.index) && !m.value));
  vcpu.setMsrs(msrs);
  if (state.debugregs) {
    vcpu.setDebugregs(
      new KvmDebugregs(blob("debugregs", state.debugregs, LAYOUTS.kvm_debugregs.size)),
    );
  }
  if (state.events) {
    vcpu.setVcpuEvents(
      new KvmVcpuEvents(blob("events", state.events, LAYOUTS.kvm_vcpu_events.size)),
    );
  }
  vcpu.setMpState(state.mpState);
}

/** Captures the VM-wide state. See {@link Vm.saveState}. */
export function saveVmState(vm: Vm): VmState {
  const chip = (id: number) => vm.getIrqchip(id).bytes;
  return {
    version: VM_STATE_VERSION,
    ...(vm.hasIrqchip
      ? {
        irqchip: {
          picMaster: chip(C.KVM_IRQCHIP_PIC_MASTER),
          picSlave: chip(C.KVM_IRQCHIP_PIC_SLAVE),
          ioapic: chip(C.KVM_IRQCHIP_IOAPIC),
        },
      }
      : {}),
    ...(vm.hasPit ? { pit: vm.getPit2().bytes } : {}),
    ...(vm.kvm.checkExtension(KVM_CAP.KVM_CAP_ADJUST_CLOCK) > 0
      ? { clock: vm.getClock().bytes }
      : {}),
  };
}

/**
 * Puts the VM-wide state back: the irqchips, the PIT, then kvmclock (which
 * resumes from the saved value: the time spent saved is not seen by the guest).
 * @throws {KvmStateError} for a state of another version, malformed blobs, or
 *   an irqchip or PIT the VM lacks
 */
export function restoreVmState(vm: Vm, state: VmState): void {
  if (state.version !== VM_STATE_VERSION) {
    throw new KvmStateError("vm", `state version ${state.version}, expected ${VM_STATE_VERSION}`);
  }
  const blob = (name: string, bytes: Uint8Array, size: number) => {
    if (bytes.length !== size) {
      throw new KvmStateError("vm", `${name} is ${bytes.length} bytes, expected ${size}`);
    }
    return copyBytes(bytes);
  };
  if (state.irqchip) {
    if (!vm.hasIrqchip) throw new KvmStateError("vm", "state has irqchips, the VM has none");
    const chips = [
      ["picMaster", C.KVM_IRQCHIP_PIC_MASTER],
      ["picSlave", C.KVM_IRQCHIP_PIC_SLAVE],
      ["ioapic", C.KVM_IRQCHIP_IOAPIC],
    ] as const;
    for (const [name, id] of chips) {
      const chip = new KvmIrqchip(blob(name, state.irqchip[name], LAYOUTS.kvm_irqchip.size));
      if (chip.chipId !== id) {
        throw new KvmStateError("vm", `${name} carries chip id ${chip.chipId}, expected ${id}`);
      }
      vm.setIrqchip(chip);
    }
  }
  if (state.pit) {
    if (!vm.hasPit) throw new KvmStateError("vm", "state has a PIT, the VM has none");
    vm.setPit2(new KvmPitState2(blob("pit", state.pit, LAYOUTS.kvm_pit_state2.size)));
  }
  if (state.clock) {
    const saved = new KvmClockData(blob("clock", state.clock, LAYOUTS.kvm_clock_data.size));
    const clock = new KvmClockData();
    // Flags 0: KVM_CLOCK_REALTIME would advance the clock by the wall time
    // since the save (live migration); a resumed save continues where it stopped.
    clock.clock = saved.clock;
    vm.setClock(clock);
  }
}
