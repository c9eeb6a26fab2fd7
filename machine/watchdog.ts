/**
 * The watchdog choice of a machine (QEMU's `-device ib700|i6300esb` with
 * `-action watchdog=`) and what its expiry does to the run. Pure, so every
 * action is unit-tested without a vCPU.
 *
 * @module
 */

import type { GuestExit } from "./board.ts";

/** Watchdog models, by QEMU's device names. */
export const WATCHDOG_MODELS = ["ib700", "i6300esb"] as const;
/** A watchdog model. */
export type WatchdogModel = typeof WATCHDOG_MODELS[number];

/**
 * What an expired watchdog does: `reset` the machine (QEMU's default),
 * `poweroff` (the run ends as a guest power-off, status 0), `pause` the
 * guest (resume from the console or control socket), `exit` (the run ends
 * with {@link EXIT_WATCHDOG} and a line on stderr), or `none` (only
 * recorded).
 */
export const WATCHDOG_ACTIONS = ["reset", "poweroff", "pause", "exit", "none"] as const;
/** A watchdog action. */
export type WatchdogAction = typeof WATCHDOG_ACTIONS[number];

/**
 * Exit status of a run ended by the `exit` watchdog action. 3 follows
 * vmrun's own small statuses (0 success, 1 failure or guest fault, 2 bad
 * usage) and stays clear of the ones with a meaning elsewhere: 124 (timeout,
 * as timeout(1)), 125-127 (the shell's) and 128+n (signals: 129, 130, 143).
 * A guest can write 3 to isa-debug-exit too; the line on stderr tells them
 * apart.
 */
export const EXIT_WATCHDOG = 3;

/** A watchdog and what its expiry does. */
export interface WatchdogConfig {
  readonly model: WatchdogModel;
  readonly action: WatchdogAction;
}

/** What the run loop does when the watchdog expires. */
export type WatchdogOutcome =
  | { readonly kind: "reset" }
  | { readonly kind: "pause" }
  | { readonly kind: "none" }
  | { readonly kind: "end"; readonly exit: GuestExit };

/** A watchdog expiry: which watchdog, and the action under way. */
export interface WatchdogEvent {
  readonly model: WatchdogModel;
  readonly action: WatchdogAction;
}

/** A watchdog expiry as the API, the control socket and the report see it. */
export interface WatchdogExpiry extends WatchdogEvent {
  /** When it expired, in ms after the run started. */
  readonly atMs: number;
}

/** Decides what an expiry of `config`'s watchdog does to the run. */
export function watchdogOutcome(config: WatchdogConfig): WatchdogOutcome {
  const detail = `the ${config.model} watchdog expired (action ${config.action})`;
  switch (config.action) {
    case "reset":
      return { kind: "reset" };
    case "pause":
      return { kind: "pause" };
    case "none":
      return { kind: "none" };
    case "poweroff":
      return { kind: "end", exit: { reason: "shutdown", code: 0, detail } };
    case "exit":
      return { kind: "end", exit: { reason: "watchdog", code: EXIT_WATCHDOG, detail } };
  }
}
