/**
 * An application processor's worker: runs one vCPU (created by vCPU 0's
 * worker, which owns the board) in a blocking KVM_RUN loop and hands every
 * exit it cannot handle itself to vCPU 0's thread (see ap_slots.ts). With
 * the in-kernel irqchip, KVM_RUN blocks in the kernel until the guest's
 * INIT-SIPI-SIPI starts the AP.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { EXIT_INTERRUPTED } from "../kvm/exits.ts";
import { currentThreadId } from "../kvm/host.ts";
import { AttachedVcpu, hostNowMs } from "../kvm/kvm.ts";
import { AP_CMD, AP_SLOT, AP_SLOT_BIG, AP_SLOT_F64, AP_STATE, ApSlot } from "./ap_slots.ts";
import { type ControlBuffers, ControlViews, CTRL, REQ } from "./control.ts";
import { ControlKicker } from "./kick.ts";

/** The message that starts an AP worker. */
export interface ApWorkerInit {
  readonly buffers: ControlBuffers;
  /** 0 for vCPU 1. */
  readonly index: number;
}

self.onmessage = (ev: MessageEvent<ApWorkerInit>) => {
  self.onmessage = null;
  runAp(ev.data);
  self.close();
};

/** The AP's loop, until vCPU 0's thread says quit. */
export function runAp(init: ApWorkerInit): void {
  const slot = new ApSlot(init.buffers, init.index);
  const ctl = new ControlViews(init.buffers);
  const bsp = new ControlKicker(ctl);
  Atomics.store(slot.bigs, AP_SLOT_BIG.THREAD_ID, BigInt.asIntN(64, currentThreadId()));
  let vcpu: AttachedVcpu | null = null;
  let generation = -1;
  let guestMs = 0;
  const setState = (s: number) => {
    if (slot.get(AP_SLOT.STATE) !== s) slot.set(AP_SLOT.STATE, s);
  };
  try {
    for (;;) {
      const cmd = slot.get(AP_SLOT.CMD);
      if (cmd === AP_CMD.RUN) {
        if (!vcpu || generation !== slot.get(AP_SLOT.GENERATION)) {
          vcpu?.detach();
          generation = slot.get(AP_SLOT.GENERATION);
          vcpu = new AttachedVcpu(slot.get(AP_SLOT.FD), slot.get(AP_SLOT.RUN_SIZE));
        }
        setState(AP_STATE.RUNNING);
        const t0 = hostNowMs();
        const reason = vcpu.runRaw();
        guestMs += hostNowMs() - t0;
        slot.floats[AP_SLOT_F64.GUEST_MS] = guestMs;
        // Cleared before the command is read again: a kick after this lands in the next run.
        vcpu.immediateExit = false;
        if (reason === EXIT_INTERRUPTED) {
          Atomics.store(slot.ints, AP_SLOT.MP_STATE, vcpu.mpState());
          continue;
        }
        Atomics.store(slot.ints, AP_SLOT.EXIT, 1);
        Atomics.or(ctl.ints, CTRL.REQUEST, REQ.AP_EXIT);
        Atomics.notify(ctl.ints, CTRL.REQUEST);
        bsp.kick();
        while (Atomics.load(slot.ints, AP_SLOT.EXIT) === 1) {
          Atomics.wait(slot.ints, AP_SLOT.EXIT, 1);
        }
        continue;
      }
      if (cmd === AP_CMD.QUIT) break;
      if (cmd === AP_CMD.WAIT && vcpu) {
        vcpu.detach();
        vcpu = null;
      }
      setState(cmd === AP_CMD.PARK ? AP_STATE.PARKED : AP_STATE.IDLE);
      Atomics.wait(slot.ints, AP_SLOT.CMD, cmd);
    }
  } finally {
    vcpu?.detach();
    setState(AP_STATE.GONE);
  }
}
