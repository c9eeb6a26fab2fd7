/**
 * The run state the header shows: the machine's own (starting, running,
 * paused, stopped), "reset" for a moment after a reset, and "halted" when
 * the vCPU sits in HLT. KVM halts in the kernel without an exit, so halting
 * shows as a process that uses almost no CPU while its guest runs.
 *
 * @module
 */

import type { RunState } from "../machine/control.ts";
import type { ShownRunState } from "./ui_state.ts";

/** Below this share of one core, a running guest counts as halted. */
export const HALTED_CPU_SHARE = 0.15;

/** What the header calls the machine's state; `cpuShare` is vmrun's recent CPU use, if known. */
export function shownRunState(
  state: RunState,
  cpuShare: number | null,
  resetRecently: boolean,
): ShownRunState {
  if (state !== "running") return state;
  if (resetRecently) return "reset";
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
