/**
 * Kicks a machine's vCPU out of KVM_RUN from any thread, using the address
 * and thread id the worker published in the control buffer.
 *
 * @module
 */

import { VcpuKicker } from "../kvm/host.ts";
import { type ControlViews, CTRL, CTRL_BIG } from "./control.ts";

/** Kicks the vCPU whose kvm_run address is in `ctl`; cached per address. */
export class ControlKicker {
  #kicker: VcpuKicker | undefined;

  /** @param ctl the machine's control views */
  constructor(readonly ctl: ControlViews) {}

  /** Interrupts the vCPU's KVM_RUN; a no-op before the worker published its vCPU. */
  kick(): void {
    const ints = this.ctl.ints;
    // Announce the kick before reading the address: the worker clears the
    // address and waits for KICKING to drop before it unmaps a kvm_run area.
    Atomics.add(ints, CTRL.KICKING, 1);
    try {
      const run = Atomics.load(this.ctl.bigs, CTRL_BIG.RUN_ADDRESS);
      if (run === 0n) return;
      const addr = BigInt.asUintN(64, run);
      if (!this.#kicker || this.#kicker.runAddress !== addr) {
        const tid = Atomics.load(this.ctl.bigs, CTRL_BIG.THREAD_ID);
        this.#kicker = new VcpuKicker(addr, BigInt.asUintN(64, tid));
      }
      this.#kicker.kick();
    } finally {
      Atomics.sub(ints, CTRL.KICKING, 1);
    }
  }
}

/** Worker side: withdraws the published kvm_run address and waits until no kick is using it. */
export function retractRunAddress(ctl: ControlViews): void {
  Atomics.store(ctl.bigs, CTRL_BIG.RUN_ADDRESS, 0n);
  while (Atomics.load(ctl.ints, CTRL.KICKING) !== 0) {
    Atomics.wait(ctl.ints, CTRL.KICKING, Atomics.load(ctl.ints, CTRL.KICKING), 1);
  }
}

/** Worker side: publishes vCPU 0's kvm_run address and thread for kickers. */
export function publishRunAddress(ctl: ControlViews, runAddress: bigint, threadId: bigint): void {
  Atomics.store(ctl.bigs, CTRL_BIG.THREAD_ID, BigInt.asIntN(64, threadId));
  Atomics.store(ctl.bigs, CTRL_BIG.RUN_ADDRESS, BigInt.asIntN(64, runAddress));
}
