/**
 * The TUI's state as plain data: what the components render. The runner
 * owns it and changes it in response to snapshots, events and keys.
 *
 * @module
 */

import type { DeviceSection } from "./device_summary.ts";
import type { PaneName } from "./layout.ts";
import type { StatsView } from "./stats_tracker.ts";

/** Where the keyboard goes. */
export type Focus = "screen" | "serial";

/** What the header says the machine is doing. */
export type ShownRunState = "starting" | "running" | "halted" | "paused" | "reset" | "stopped";

/** Everything the components render. */
export interface UiState {
  readonly image: string;
  readonly runState: ShownRunState;
  readonly uptimeMs: number;
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly focus: Focus;
  /** The focused pane alone; null: when the terminal is too small for the panels. */
  readonly fullscreen: boolean | null;
  readonly help: boolean;
  readonly show: Readonly<Record<PaneName, boolean>>;
  /** Ctrl-a was pressed and vmrun waits for the command key. */
  readonly prefixArmed: boolean;
  readonly stats: StatsView | null;
  readonly postCode: number | null;
  readonly devices: readonly DeviceSection[] | null;
  /** A short notice for the status line ("pasting 120 characters"). */
  readonly notice: string | null;
}

/** The state before the first snapshot. */
export function initialUiState(image: string, cpus: number, memoryBytes: number): UiState {
  return {
    image,
    runState: "starting",
    uptimeMs: 0,
    cpus,
    memoryBytes,
    focus: "screen",
    fullscreen: null,
    help: false,
    show: { screen: true, serial: true, stats: true, devices: true },
    prefixArmed: false,
    stats: null,
    postCode: null,
    devices: null,
    notice: null,
  };
}
