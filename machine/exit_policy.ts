/**
 * What the run loop does with a vCPU exit other than port I/O and MMIO
 * (those are bus accesses, handled on the fast path): carry on, reset the
 * machine, or end the run with a reason. Pure, so every exit KVM can give
 * is unit-tested without a vCPU.
 *
 * @module
 */

import { SYSTEM_EVENT, type VcpuExit } from "../kvm/exits.ts";
import type { GuestExit } from "./board.ts";

/** The loop's next move. */
export type ExitAction =
  | { readonly kind: "continue" }
  | { readonly kind: "reset" }
  /** The run ends; a `fault` also reports the vCPU's registers. */
  | { readonly kind: "end"; readonly exit: GuestExit; readonly fault: boolean };

const CONTINUE: ExitAction = { kind: "continue" };

/** Decides what an exit means for the run. */
export function exitAction(exit: VcpuExit): ExitAction {
  switch (exit.kind) {
    case "io":
    case "mmio":
    case "interrupted":
    case "intr":
    case "hlt":
    case "irq-window-open":
      return CONTINUE;
    case "shutdown":
      return fault("triple-fault", "the guest triple-faulted (KVM_EXIT_SHUTDOWN)");
    case "internal-error": {
      const data = exit.data.length
        ? `, data ${exit.data.map((d) => "0x" + d.toString(16)).join(" ")}`
        : "";
      return fault(
        "internal-error",
        `KVM could not emulate an instruction (KVM_EXIT_INTERNAL_ERROR: ${exit.description}${data})`,
      );
    }
    case "fail-entry":
      return fault(
        "fail-entry",
        `KVM could not enter the guest (KVM_EXIT_FAIL_ENTRY, hardware reason 0x${
          exit.hardwareReason.toString(16)
        })`,
      );
    case "system-event":
      if (exit.type === SYSTEM_EVENT.RESET) return { kind: "reset" };
      if (exit.type === SYSTEM_EVENT.CRASH) {
        return fault("vmm-error", "the guest reported a crash (KVM_SYSTEM_EVENT_CRASH)");
      }
      return {
        kind: "end",
        exit: { reason: "shutdown", code: 0, detail: `system event ${exit.type}` },
        fault: false,
      };
    case "unknown":
      return fault("vmm-error", `unexpected KVM exit reason ${exit.reason}`);
  }
}

function fault(reason: GuestExit["reason"], detail: string): ExitAction {
  return { kind: "end", exit: { reason, code: 1, detail }, fault: true };
}
