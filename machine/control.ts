/**
 * Shared memory between the main thread and a machine's vCPU worker. The
 * worker sits in a blocking KVM_RUN loop and never runs its event loop, so
 * requests reach it through atomics here plus a kick; its answers come back
 * as ordinary worker messages.
 *
 * @module
 */

import type { NicConfig } from "./config.ts";

/** Request bits in {@link CTRL.REQUEST}. */
export const REQ = {
  /** Stop running the guest until the bit is cleared. */
  PAUSE: 1,
  /** Leave the run loop and tear the machine down. */
  STOP: 2,
  /** Messages are waiting in the mailbox. */
  MAIL: 4,
  /** A timer deadline has passed. */
  TIMER: 8,
  /** An application processor waits for vCPU 0's thread to handle its exit (see ap_slots.ts). */
  AP_EXIT: 16,
  /** The network worker put frames in a ring for the guest. */
  NET: 32,
} as const;

/** Worker run states in {@link CTRL.STATE}. */
export const RUN_STATE = ["starting", "running", "paused", "stopped"] as const;
/** A worker run state. */
export type RunState = typeof RUN_STATE[number];

/** Int32 slots of the control array. */
export const CTRL = {
  /** Request bits ({@link REQ}), set by the main thread, cleared by the worker. */
  REQUEST: 0,
  /** Index into {@link RUN_STATE}, written by the worker. */
  STATE: 1,
  /** Mailbox write position (bytes, monotonically increasing). */
  MAIL_HEAD: 3,
  /** Mailbox read position. */
  MAIL_TAIL: 4,
  /** Kicks in progress; the worker waits for zero before unmapping a kvm_run area. */
  KICKING: 6,
} as const;

/** BigInt64 slots of the control buffer, after the Int32 area; written by the worker. */
export const CTRL_BIG = {
  /** Host address of vCPU 0's kvm_run area (changes when a reset rebuilds the VM). */
  RUN_ADDRESS: 0,
  /** pthread id of vCPU 0's thread. */
  THREAD_ID: 1,
  /** 1 + the id of vCPU 0's deadline timer (see kick.ts); 0 when there is none. */
  DEADLINE_TIMER: 2,
} as const;

/** Float64 slots of the control buffer, after the BigInt64 area. */
export const CTRL_F64 = {
  /** Next timer deadline, in ms on the `performance.timeOrigin + now()` timeline; Infinity when none. */
  DEADLINE: 0,
} as const;

const INT_SLOTS = 16;
const BIG_SLOTS = 4;
const F64_SLOTS = 4;
/** Mailbox capacity in bytes (a power of two). */
export const MAILBOX_SIZE = 1 << 16;

/** The shared buffers of one machine, as passed to its workers. */
export interface ControlBuffers {
  readonly control: SharedArrayBuffer;
  readonly mailbox: SharedArrayBuffer;
  /** One slot per application processor (see ap_slots.ts). */
  readonly aps: SharedArrayBuffer;
}

/** Allocates zeroed control buffers for a machine with `cpus` vCPUs. */
export function createControlBuffers(cpus = 1): ControlBuffers {
  return {
    control: new SharedArrayBuffer(INT_SLOTS * 4 + BIG_SLOTS * 8 + F64_SLOTS * 8),
    mailbox: new SharedArrayBuffer(MAILBOX_SIZE),
    aps: new SharedArrayBuffer(Math.max(0, cpus - 1) * AP_SLOT_BYTES),
  };
}

/** Bytes of one application processor's slot in {@link ControlBuffers.aps}. */
export const AP_SLOT_BYTES = 128;

/** Typed views over {@link ControlBuffers}. */
export class ControlViews {
  readonly ints: Int32Array;
  readonly bigs: BigInt64Array;
  readonly floats: Float64Array;
  readonly mail: Uint8Array;

  /** @param buffers shared buffers from {@link createControlBuffers} */
  constructor(readonly buffers: ControlBuffers) {
    this.ints = new Int32Array(buffers.control, 0, INT_SLOTS);
    this.bigs = new BigInt64Array(buffers.control, INT_SLOTS * 4, BIG_SLOTS);
    this.floats = new Float64Array(buffers.control, INT_SLOTS * 4 + BIG_SLOTS * 8, F64_SLOTS);
    this.mail = new Uint8Array(buffers.mailbox);
  }

  /** Sets request bits and wakes a worker waiting on them (it still needs a kick if it is in KVM_RUN). */
  request(bits: number): void {
    Atomics.or(this.ints, CTRL.REQUEST, bits);
    Atomics.notify(this.ints, CTRL.REQUEST);
  }

  /** Now on the timeline shared by all threads of this process. */
  static wallMs(): number {
    return performance.timeOrigin + performance.now();
  }
}

/** A save asked of the worker (see {@link MailMessage}). */
export type SaveMail = Extract<MailMessage, { type: "save" }>;

/** Messages the main thread sends to the worker through the mailbox. */
export type MailMessage =
  | { type: "serial-in"; bytes: number[] }
  /** Input for a virtio console port (0 = hvc0). */
  | { type: "console-in"; port: number; bytes: number[] }
  | { type: "reset" }
  /** Press the ACPI power button (PWRBTN_STS, and the SCI when the guest enabled it). */
  | { type: "power-button" }
  /** Set the balloon's target (num_pages, 4 KiB pages); ignored without a balloon. */
  | { type: "balloon"; pages: number }
  | { type: "snapshot"; id: number }
  /** Answered by a "screenshot" event with the same id. */
  | { type: "screenshot"; id: number }
  /** What the graphics frame changed since the last one (all of it when `full`). */
  | { type: "frame"; id: number; full: boolean }
  | { type: "keys"; events: { key: string; down: boolean }[] }
  /**
   * Answered by a "saved" or "save-failed" event with the same id. `nics`:
   * the NICs as they stand (forwards changed while the guest ran), for the
   * saved configuration.
   */
  | { type: "save"; id: number; path: string; stop: boolean; nics?: readonly NicConfig[] };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Appends a message to the mailbox (single producer: the main thread).
 * @returns false when the mailbox is full; the caller retries later
 */
export function postMail(v: ControlViews, msg: MailMessage): boolean {
  const body = encoder.encode(JSON.stringify(msg));
  const need = 4 + body.length;
  const head = Atomics.load(v.ints, CTRL.MAIL_HEAD);
  const tail = Atomics.load(v.ints, CTRL.MAIL_TAIL);
  // Positions are int32 and wrap at 2^31; their difference must wrap the same way.
  if (need > MAILBOX_SIZE - ((head - tail) | 0)) return false;
  const frame = new Uint8Array(need);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame.set(body, 4);
  for (let i = 0; i < need; i++) v.mail[(head + i) & (MAILBOX_SIZE - 1)] = frame[i];
  Atomics.store(v.ints, CTRL.MAIL_HEAD, (head + need) | 0);
  Atomics.or(v.ints, CTRL.REQUEST, REQ.MAIL);
  return true;
}

/** Takes every waiting message out of the mailbox (single consumer: the worker). */
export function takeMail(v: ControlViews): MailMessage[] {
  const out: MailMessage[] = [];
  const head = Atomics.load(v.ints, CTRL.MAIL_HEAD);
  let tail = Atomics.load(v.ints, CTRL.MAIL_TAIL);
  while (tail !== head) {
    const byte = (i: number) => v.mail[(tail + i) & (MAILBOX_SIZE - 1)];
    const len = byte(0) | (byte(1) << 8) | (byte(2) << 16) | (byte(3) << 24);
    const body = new Uint8Array(len);
    for (let i = 0; i < len; i++) body[i] = byte(4 + i);
    out.push(JSON.parse(decoder.decode(body)));
    tail = (tail + 4 + len) | 0;
  }
  Atomics.store(v.ints, CTRL.MAIL_TAIL, tail);
  return out;
}
