/**
 * How a run ended, and the exit statuses vmrun uses, defined once for the
 * process, the API, the report and the control socket.
 *
 * @module
 */

import type { GuestExit } from "./board.ts";

/** Success. */
export const EXIT_OK = 0;
/** A VMM failure, a guest fault, a failed check or KVM being unavailable. */
export const EXIT_FAILURE = 1;
/** Bad usage or bad input. */
export const EXIT_USAGE = 2;
/** `--timeout` or `--step-timeout` expired (as timeout(1)). */
export const EXIT_TIMEOUT = 124;

/** The signals that end a run, and the status each ends it with (128 + the number). */
export const SIGNAL_STATUS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
/** A signal that ends a run. */
export type StopSignal = keyof typeof SIGNAL_STATUS;
/** Every signal that ends a run. */
export const STOP_SIGNALS = Object.keys(SIGNAL_STATUS) as StopSignal[];

/**
 * Why a run ended. The guest's own endings ("debug-exit", "shutdown",
 * "reset" with noReboot, "triple-fault", "internal-error", "fail-entry"),
 * "vmm-error" (vmrun failed), and endings from outside the guest:
 * "timeout" (--timeout, `timeout`, --step-timeout), "signal" (SIGTERM,
 * SIGINT, SIGHUP), "fail-on" and "exit-on" (a COM1 line matched),
 * "step-failed" (a script step could not be done), "incomplete" (the guest
 * ended before the script's steps were done), and "stopped" (a stop asked
 * for: `vm.stop()`, Ctrl-a x, the console's quit, the control socket's quit).
 */
export type ExitReason =
  | GuestExit["reason"]
  | "signal"
  | "fail-on"
  | "exit-on"
  | "step-failed"
  | "incomplete";

/**
 * How a run ended: `reason`, `code` (the status `vmrun` exits with), an
 * optional `detail`, and a faulting vCPU's `registers`.
 */
export interface VmExit {
  readonly reason: ExitReason;
  readonly code: number;
  readonly detail?: string;
  readonly registers?: Record<string, unknown>;
}

/** The ending a stop request gives (`vm.stop()`, Ctrl-a x, quit). */
export function stoppedExit(detail?: string): VmExit {
  return detail === undefined
    ? { reason: "stopped", code: EXIT_OK }
    : { reason: "stopped", code: EXIT_OK, detail };
}

/** The ending a run's time limit gives. */
export function timeoutExit(detail: string): VmExit {
  return { reason: "timeout", code: EXIT_TIMEOUT, detail };
}

/** The ending a stop signal gives. */
export function signalExit(signal: StopSignal): VmExit {
  return { reason: "signal", code: SIGNAL_STATUS[signal], detail: signal };
}
