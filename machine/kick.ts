/**
 * Kicks a machine's vCPU out of KVM_RUN: from any thread at once, using the
 * address and thread id the worker published in the control buffer; and at
 * device deadlines, through a kernel timer aimed at the vCPU thread (no
 * timer thread of ours, so no extra isolate).
 *
 * @module
 */

import { currentKernelThreadId, KickTimer, VcpuKicker } from "../kvm/host.ts";
import { type ControlViews, CTRL, CTRL_BIG, CTRL_F64 } from "./control.ts";

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

/**
 * How often an expired deadline timer signals again until the worker
 * re-arms it: the signal only interrupts KVM_RUN while the thread is inside,
 * so one that lands while the worker handles an exit would otherwise be lost.
 */
export const DEADLINE_REPEAT_NS = 1_000_000;

/**
 * Worker side: kicks the calling (vCPU) thread out of KVM_RUN at the next
 * device deadline, through a kernel timer. Create it on the vCPU thread.
 */
export class DeadlineKicker {
  readonly #timer: KickTimer;
  #deadline = Infinity;
  #disposed = false;

  /** @param ctl the machine's control views; the timer id is published there */
  constructor(readonly ctl: ControlViews) {
    this.#timer = KickTimer.forThread(currentKernelThreadId());
    Atomics.store(ctl.bigs, CTRL_BIG.DEADLINE_TIMER, BigInt.asIntN(64, this.#timer.id + 1n));
    ctl.floats[CTRL_F64.DEADLINE] = Infinity;
  }

  /** The deadline armed, in ms (see {@link set}); Infinity when none. */
  get deadline(): number {
    return this.#deadline;
  }

  /**
   * Arms the timer for `deadlineMs`, `deadlineMs - nowMs` from now; Infinity
   * disarms. Give both on the timeline of the clock that decides whether a
   * device timer is due, so the signal never comes before it is (a coarser
   * clock here would kick early and leave the repeat to do the work).
   */
  set(deadlineMs: number, nowMs: number): void {
    if (this.#disposed) return;
    this.#deadline = deadlineMs;
    this.ctl.floats[CTRL_F64.DEADLINE] = deadlineMs;
    if (deadlineMs === Infinity) this.#timer.disarm();
    else this.#timer.armIn((deadlineMs - nowMs) * 1e6, DEADLINE_REPEAT_NS);
  }

  /** Disarms the timer (e.g. while paused); {@link set} arms it again. */
  suspend(): void {
    if (this.#disposed) return;
    this.#deadline = Infinity;
    this.#timer.disarm();
  }

  /** Deletes the timer, unless the main thread already has. */
  dispose(): void {
    this.#disposed = true;
    deleteDeadlineTimer(this.ctl);
  }
}

/**
 * Deletes the deadline timer published in `ctl`, once whoever calls first
 * (the worker as it ends, the main thread after a worker that died).
 */
export function deleteDeadlineTimer(ctl: ControlViews): void {
  const slot = Atomics.exchange(ctl.bigs, CTRL_BIG.DEADLINE_TIMER, 0n);
  if (slot !== 0n) KickTimer.deleteId(BigInt.asUintN(64, slot) - 1n);
}
