/**
 * The run state the header shows: the machine's own (starting, running,
 * paused, stopped), "reset" for a moment after a reset, and "halted" when
 * the vCPU sits in HLT. KVM halts in the kernel without an exit; snapshots
 * ask the vCPU's MP state, and a low CPU share is the fallback.
 *
 * @module
 */

import type { RunState } from "../machine/control.ts";
import type { ShownRunState } from "./ui_state.ts";

/** Below this share of one core, a running guest counts as halted. */
export const HALTED_CPU_SHARE = 0.15;

/**
 * What the header calls the machine's state. `halted` is the vCPU's own
 * word (KVM_MP_STATE_HALTED) when the machine gives it; otherwise vmrun's
 * recent CPU use (`cpuShare`) stands in for it.
 */
export function shownRunState(
  state: RunState,
  cpuShare: number | null,
  resetRecently: boolean,
  halted?: boolean,
): ShownRunState {
  if (state !== "running") return state;
  if (resetRecently) return "reset";
  if (halted !== undefined) return halted ? "halted" : "running";
  if (cpuShare !== null && cpuShare < HALTED_CPU_SHARE) return "halted";
  return "running";
}

/** This process's CPU time in ms (user + system), from /proc; null where unavailable. */
export function processCpuMs(): number | null {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
