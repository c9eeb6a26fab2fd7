/**
 * Channel 2 of KVM's in-kernel PIT for the PC speaker, read and gated the
 * way QEMU's pcspk does with an in-kernel PIT: KVM_GET_PIT2 for the mode,
 * count and gate (the output computed from the time the count was loaded),
 * KVM_GET_PIT2 + KVM_SET_PIT2 to change the gate. KVM_SET_PIT2 reloads every
 * channel's count, so the gate is only written when it changes.
 *
 * @module
 */

import { type Pit2Status, PIT_HZ, type PitChannel2, pitOutput } from "../devices/pc_speaker.ts";
import { hostMonotonicNs, type Vm } from "../kvm/kvm.ts";
import { STATE_CONSTANTS } from "../kvm/state_structs.ts";

/** Channel 2 of `vm`'s in-kernel PIT. */
export function kvmPitChannel2(vm: Vm): PitChannel2 {
  return {
    status(): Pit2Status {
      const ch = vm.getPit2().channel(2);
      const count = ch.count === 0 ? 0x10000 : ch.count;
      const elapsedNs = Math.max(0, hostMonotonicNs() - Number(ch.count_load_time));
      const ticks = Math.floor((elapsedNs * PIT_HZ) / 1e9);
      return { mode: ch.mode, count, gate: ch.gate !== 0, out: pitOutput(ch.mode, count, ticks) };
    },
    setGate(level: boolean): void {
      const pit = vm.getPit2();
      const ch = pit.channel(2);
      if ((ch.gate !== 0) === level) return;
      // The kernel reloads every count from now: channel 2 restarts as on a rising gate.
      pit.setChannel(2, { gate: level ? 1 : 0 });
      vm.setPit2(pit);
    },
  };
}

/**
 * Holds the in-kernel PIT's interrupt off while the HPET is in legacy
 * replacement mode (`on`), and lets it through again, as QEMU does with its
 * in-kernel PIT: KVM_PIT_FLAGS_HPET_LEGACY in KVM_SET_PIT2 keeps KVM from
 * injecting IRQ 0 (the counters keep running).
 */
export function holdOffKvmPit(vm: Vm, on: boolean): void {
  const pit = vm.getPit2();
  const flags = on
    ? pit.flags | STATE_CONSTANTS.KVM_PIT_FLAGS_HPET_LEGACY
    : pit.flags & ~STATE_CONSTANTS.KVM_PIT_FLAGS_HPET_LEGACY;
  if (flags === pit.flags) return;
  pit.flags = flags;
  vm.setPit2(pit);
}
