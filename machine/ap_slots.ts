/**
 * One shared slot per application processor (vCPUs 1..n-1), between vCPU 0's
 * worker (the device thread, which creates every vCPU and owns the board)
 * and the AP's own worker, which runs the vCPU's blocking KVM_RUN loop.
 *
 * vCPU 0's thread writes the command ({@link AP_CMD}) and the vCPU to run
 * (descriptor, `kvm_run` size, a generation that changes with each board);
 * the AP answers with its state ({@link AP_STATE}). An exit the AP cannot
 * handle (port I/O, MMIO and the rare ones) is handed over: the AP sets
 * {@link AP_SLOT.EXIT}, sets `REQ.AP_EXIT` and kicks vCPU 0, and waits; vCPU
 * 0's thread handles it straight from the AP's `kvm_run` page (its own
 * mapping of the same page) and clears the flag. Devices stay single-threaded.
 *
 * @module
 */

import { AP_SLOT_BYTES, type ControlBuffers } from "./control.ts";

/** Commands, written by vCPU 0's thread. */
export const AP_CMD = {
  /** No vCPU to run (before the board exists, and while a reset rebuilds it). */
  WAIT: 0,
  RUN: 1,
  /** Stay out of KVM_RUN (pause, save). */
  PARK: 2,
  /** Unmap and end the worker. */
  QUIT: 3,
} as const;

/** States, written by the AP's thread. */
export const AP_STATE = {
  /** The worker has not read a command yet. */
  STARTING: 0,
  /** Not attached to a vCPU. */
  IDLE: 1,
  RUNNING: 2,
  PARKED: 3,
  GONE: 4,
} as const;

/** Int32 slots. */
export const AP_SLOT = {
  CMD: 0,
  STATE: 1,
  /** 1 while an exit waits for vCPU 0's thread. */
  EXIT: 2,
  FD: 3,
  RUN_SIZE: 4,
  /** Changes whenever the board (and so the vCPU) is new. */
  GENERATION: 5,
  /** KVM_GET_MP_STATE as the AP last saw it (after a kick); -1 before. */
  MP_STATE: 6,
} as const;

const INTS = 16;
/** BigInt64 slots, after the Int32 area. */
export const AP_SLOT_BIG = {
  /** pthread id of the AP's thread (0 until its worker starts). */
  THREAD_ID: 0,
} as const;
const BIGS = 4;
/** Float64 slots, after the BigInt64 area. */
export const AP_SLOT_F64 = {
  /** Milliseconds spent inside KVM_RUN. */
  GUEST_MS: 0,
} as const;

/** Typed views over one AP's slot. */
export class ApSlot {
  readonly ints: Int32Array;
  readonly bigs: BigInt64Array;
  readonly floats: Float64Array;

  /**
   * @param buffers the machine's control buffers
   * @param index 0 for vCPU 1, and so on
   */
  constructor(buffers: ControlBuffers, readonly index: number) {
    const base = index * AP_SLOT_BYTES;
    this.ints = new Int32Array(buffers.aps, base, INTS);
    this.bigs = new BigInt64Array(buffers.aps, base + INTS * 4, BIGS);
    this.floats = new Float64Array(buffers.aps, base + INTS * 4 + BIGS * 8, 2);
  }

  /** The value of an Int32 slot. */
  get(i: number): number {
    return Atomics.load(this.ints, i);
  }

  /** Sets an Int32 slot and wakes whoever waits on it. */
  set(i: number, value: number): void {
    Atomics.store(this.ints, i, value);
    Atomics.notify(this.ints, i);
  }
}

/** How many AP slots the buffers hold. */
export function apCount(buffers: ControlBuffers): number {
  return buffers.aps.byteLength / AP_SLOT_BYTES;
}
