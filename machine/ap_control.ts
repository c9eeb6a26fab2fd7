/**
 * vCPU 0's side of the application processors (see ap_slots.ts): hands each
 * AP worker its vCPU, runs, parks, detaches and ends them, kicks them out of
 * KVM_RUN, and hands their exits to the run loop.
 *
 * @module
 */

import { VcpuKicker } from "../kvm/host.ts";
import type { Vcpu } from "../kvm/kvm.ts";
import { LAYOUTS } from "../kvm/structs.ts";
import {
  AP_CMD,
  AP_SLOT,
  AP_SLOT_BIG,
  AP_SLOT_F64,
  AP_STATE,
  apCount,
  ApSlot,
} from "./ap_slots.ts";
import type { ControlBuffers } from "./control.ts";

const IMMEDIATE_EXIT = LAYOUTS.kvm_run.fields.immediate_exit;
/** How long one wait for the APs sleeps before it looks for exits to handle again. */
const POLL_MS = 1;

/** Handles an AP's exit from its `kvm_run` page; `vcpu` is vCPU 0's thread's handle on it. */
export type ApExitHandler = (vcpu: Vcpu) => void;

/** The application processors, seen from vCPU 0's thread. */
export class ApControl {
  readonly slots: ApSlot[];
  #vcpus: Vcpu[] = [];
  #kickers: (VcpuKicker | null)[] = [];
  #generation = 0;
  #cmd: number = AP_CMD.WAIT;

  /**
   * @param buffers the machine's control buffers
   * @param onExit handles an AP's exit (port I/O, MMIO, the rare ones)
   */
  constructor(buffers: ControlBuffers, readonly onExit: ApExitHandler) {
    this.slots = Array.from({ length: apCount(buffers) }, (_, i) => new ApSlot(buffers, i));
  }

  /** How many APs there are. */
  get count(): number {
    return this.slots.length;
  }

  /** Whether the APs are held out of KVM_RUN by {@link park}. */
  get parked(): boolean {
    return this.#cmd === AP_CMD.PARK;
  }

  /** Gives the APs the vCPUs of a new board (`vcpus[1..]`); they start on {@link run}. */
  attach(vcpus: readonly Vcpu[]): void {
    this.#vcpus = vcpus.slice(1);
    if (this.#vcpus.length !== this.slots.length) {
      throw new Error(`${vcpus.length} vCPUs for ${this.slots.length + 1} vCPU workers`);
    }
    this.#kickers = this.#vcpus.map(() => null);
    this.#generation++;
    this.slots.forEach((s, i) => {
      const v = this.#vcpus[i];
      Atomics.store(s.ints, AP_SLOT.FD, v.fd);
      Atomics.store(s.ints, AP_SLOT.RUN_SIZE, v.runBytes.length);
      Atomics.store(s.ints, AP_SLOT.GENERATION, this.#generation);
      Atomics.store(s.ints, AP_SLOT.MP_STATE, -1);
    });
  }

  /** Lets every AP run. */
  run(): void {
    this.#command(AP_CMD.RUN, false);
  }

  /** Holds every AP out of KVM_RUN and returns once all are (handling their exits meanwhile). */
  park(): void {
    if (this.#cmd === AP_CMD.PARK || this.#cmd === AP_CMD.WAIT) return;
    this.#command(AP_CMD.PARK, true);
    this.#await(AP_STATE.PARKED);
  }

  /** Parks the APs around `fn` (unless they already are) and lets them go on after. */
  held<T>(fn: () => T): T {
    if (this.#cmd !== AP_CMD.RUN) return fn();
    this.park();
    try {
      return fn();
    } finally {
      this.run();
    }
  }

  /** Takes the vCPUs away (before the board is disposed): the APs unmap and wait for a new board. */
  detach(): void {
    this.#command(AP_CMD.WAIT, true);
    this.#await(AP_STATE.IDLE);
    this.#vcpus = [];
    this.#kickers = [];
  }

  /** Ends every AP worker; returns once none uses its vCPU. */
  quit(): void {
    if (this.#cmd === AP_CMD.QUIT) return;
    // Parked first: a kick must never signal a thread that may already have ended.
    this.park();
    this.#command(AP_CMD.QUIT, false);
    this.#await(AP_STATE.GONE);
  }

  /** Kicks every running AP out of KVM_RUN (it then records its MP state and goes on). */
  kickAll(): void {
    this.slots.forEach((_, i) => this.#kick(i));
  }

  /** Handles every exit the APs handed over; true when there was one. */
  serviceExits(): boolean {
    let any = false;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      if (Atomics.load(s.ints, AP_SLOT.EXIT) !== 1) continue;
      any = true;
      try {
        this.onExit(this.#vcpus[i]);
      } finally {
        s.set(AP_SLOT.EXIT, 0);
      }
    }
    return any;
  }

  /** An AP's figures: time in the guest and whether it sat in HLT when last kicked. */
  figures(index: number): { guestMs: number; halted: boolean | undefined } {
    const s = this.slots[index];
    const mp = Atomics.load(s.ints, AP_SLOT.MP_STATE);
    return { guestMs: s.floats[AP_SLOT_F64.GUEST_MS], halted: mp < 0 ? undefined : mp === 3 };
  }

  #command(cmd: number, kick: boolean): void {
    this.#cmd = cmd;
    this.slots.forEach((s, i) => {
      s.set(AP_SLOT.CMD, cmd);
      if (kick) this.#kick(i);
    });
  }

  /** Interrupts AP `i`'s current or next KVM_RUN, through this thread's mapping of its kvm_run. */
  #kick(i: number): void {
    const v = this.#vcpus[i];
    if (!v || this.slots[i].get(AP_SLOT.STATE) === AP_STATE.GONE) return;
    let k = this.#kickers[i];
    if (!k) {
      const tid = Atomics.load(this.slots[i].bigs, AP_SLOT_BIG.THREAD_ID);
      if (tid === 0n) {
        // The worker has not started: it sees the flag on its first KVM_RUN.
        Atomics.store(v.runBytes, IMMEDIATE_EXIT, 1);
        return;
      }
      k = this.#kickers[i] = new VcpuKicker(v.runAddress, BigInt.asUintN(64, tid));
    }
    k.kick();
  }

  /** Waits until every AP is in `state` (or gone), handling their exits meanwhile. */
  #await(state: number): void {
    for (;;) {
      this.serviceExits();
      const waiting = this.slots.find((s) => {
        const st = s.get(AP_SLOT.STATE);
        return st !== state && st !== AP_STATE.GONE;
      });
      if (!waiting) return;
      Atomics.wait(waiting.ints, AP_SLOT.STATE, waiting.get(AP_SLOT.STATE), POLL_MS);
    }
  }
}
