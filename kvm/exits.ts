/**
 * `KVM_RUN` exits decoded from the shared `struct kvm_run` page into a
 * discriminated union.
 *
 * @module
 */

import { LAYOUTS } from "./structs.ts";

const R = LAYOUTS.kvm_run.fields;

/** Exit reasons from <linux/kvm.h>. */
export const EXIT_REASON = {
  UNKNOWN: 0,
  EXCEPTION: 1,
  IO: 2,
  HYPERCALL: 3,
  DEBUG: 4,
  HLT: 5,
  MMIO: 6,
  IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8,
  FAIL_ENTRY: 9,
  INTR: 10,
  INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24,
} as const;

/** KVM_SYSTEM_EVENT types. */
export const SYSTEM_EVENT = { SHUTDOWN: 1, RESET: 2, CRASH: 3 } as const;

/** What {@link Vcpu.runRaw} returns when KVM_RUN was interrupted by a kick (EINTR/EAGAIN). */
export const EXIT_INTERRUPTED = -1;

/** Suberrors of KVM_EXIT_INTERNAL_ERROR. */
export const INTERNAL_SUBERROR: Record<number, string> = {
  1: "emulation failure",
  2: "simultaneous exceptions",
  3: "delivery event",
  4: "unexpected exit reason",
};

/** A port I/O exit; data lives in the kvm_run page at `dataOffset`. */
export interface IoExit {
  kind: "io";
  direction: "in" | "out";
  size: 1 | 2 | 4;
  port: number;
  /** Elements for string I/O (`rep ins/outs`), 1 otherwise. */
  count: number;
  dataOffset: number;
}

/** An MMIO exit; data lives in the kvm_run page at the mmio.data offset. */
export interface MmioExit {
  kind: "mmio";
  addr: number;
  len: number;
  isWrite: boolean;
}

/** Every exit vmrun handles or reports. */
export type VcpuExit =
  | IoExit
  | MmioExit
  | { kind: "hlt" }
  | { kind: "shutdown" }
  | { kind: "intr" }
  | { kind: "irq-window-open" }
  | { kind: "fail-entry"; hardwareReason: number; cpu: number }
  | { kind: "internal-error"; suberror: number; description: string; data: number[] }
  | { kind: "system-event"; type: number; data: number[] }
  | { kind: "unknown"; reason: number }
  /** KVM_RUN returned EINTR: a kick (signal or immediate_exit), not a guest event. */
  | { kind: "interrupted" };

function u64(v: DataView, off: number): number {
  return Number(v.getBigUint64(off, true));
}

function u64Array(v: DataView, off: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(n, 16); i++) out.push(u64(v, off + i * 8));
  return out;
}

/** Decodes the exit described by a `struct kvm_run` view. */
export function decodeExit(run: DataView): VcpuExit {
  const reason = run.getUint32(R.exit_reason, true);
  switch (reason) {
    case EXIT_REASON.IO:
      return {
        kind: "io",
        direction: run.getUint8(R["io.direction"]) === 1 ? "out" : "in",
        size: run.getUint8(R["io.size"]) as 1 | 2 | 4,
        port: run.getUint16(R["io.port"], true),
        count: run.getUint32(R["io.count"], true),
        dataOffset: u64(run, R["io.data_offset"]),
      };
    case EXIT_REASON.MMIO:
      return {
        kind: "mmio",
        addr: u64(run, R["mmio.phys_addr"]),
        len: run.getUint32(R["mmio.len"], true),
        isWrite: run.getUint8(R["mmio.is_write"]) !== 0,
      };
    case EXIT_REASON.HLT:
      return { kind: "hlt" };
    case EXIT_REASON.SHUTDOWN:
      return { kind: "shutdown" };
    case EXIT_REASON.INTR:
      return { kind: "intr" };
    case EXIT_REASON.IRQ_WINDOW_OPEN:
      return { kind: "irq-window-open" };
    case EXIT_REASON.FAIL_ENTRY:
      return {
        kind: "fail-entry",
        hardwareReason: u64(run, R["fail_entry.hardware_entry_failure_reason"]),
        cpu: run.getUint32(R["fail_entry.cpu"], true),
      };
    case EXIT_REASON.INTERNAL_ERROR: {
      const suberror = run.getUint32(R["internal.suberror"], true);
      return {
        kind: "internal-error",
        suberror,
        description: INTERNAL_SUBERROR[suberror] ?? `suberror ${suberror}`,
        data: u64Array(run, R["internal.data"], run.getUint32(R["internal.ndata"], true)),
      };
    }
    case EXIT_REASON.SYSTEM_EVENT:
      return {
        kind: "system-event",
        type: run.getUint32(R["system_event.type"], true),
        data: u64Array(run, R["system_event.data"], run.getUint32(R["system_event.ndata"], true)),
      };
    default:
      return { kind: "unknown", reason };
  }
}
