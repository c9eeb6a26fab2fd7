/**
 * The host's side of virtio-balloon-pci in QEMU's terms: a balloon target is
 * the memory the guest should keep (QEMU's `balloon <MiB>`), so the balloon
 * holds RAM minus the target. Checks a requested target once for the API,
 * the control socket and the console, and reads the device's snapshot into
 * what they report.
 *
 * @module
 */

import type { BalloonStats, VirtioBalloonState } from "../devices/virtio/virtio_balloon.ts";
import { VIRTIO_BALLOON_PAGE_SIZE } from "../devices/virtio/virtio_balloon_units.ts";
import type { BoardState } from "./board.ts";
import type { MachineConfig } from "./config.ts";
import { optionalState } from "./optional_devices.ts";

/** The `--device` name of the balloon. */
export const BALLOON_DEVICE = "virtio-balloon-pci";

const MiB = 1024 * 1024;

/** A balloon request vmrun refuses: no balloon, or a target out of range. One line. */
export class BalloonError extends Error {
  /** @param message what is wrong, in one line */
  constructor(message: string) {
    super(message);
    this.name = "BalloonError";
  }
}

/** The balloon as the API, the control socket and the console report it. */
export interface BalloonInfo {
  /** Guest RAM, bytes. */
  readonly ramBytes: number;
  /** What the guest is asked to keep: RAM less the balloon's target, bytes. */
  readonly targetBytes: number;
  /** What the guest keeps now: RAM less the pages its driver put in the balloon, bytes. */
  readonly actualBytes: number;
  /** 4 KiB pages the device asks the balloon to hold (num_pages). */
  readonly targetPages: number;
  /** 4 KiB pages the driver says the balloon holds (actual). */
  readonly actualPages: number;
  /** The driver's last memory statistics (byte counts and event counts), or null before any. */
  readonly stats: BalloonStats | null;
  /** Pages the driver has put in the balloon, and taken back, since the device was reset. */
  readonly inflatedPages: number;
  readonly deflatedPages: number;
}

/** Whether `config` has a balloon. */
export function hasBalloon(config: MachineConfig): boolean {
  return (config.devices ?? []).some((d) => d.name === BALLOON_DEVICE);
}

/**
 * Checks that `config` has a balloon.
 * @throws {BalloonError} when it has none
 */
export function requireBalloon(config: MachineConfig): void {
  if (!hasBalloon(config)) {
    throw new BalloonError(`this VM has no balloon (start it with --device ${BALLOON_DEVICE})`);
  }
}

/**
 * Balloon pages for a target of `targetMiB` MiB of guest memory.
 * @throws {BalloonError} without a balloon, or unless 1 <= targetMiB <= RAM in whole MiB
 */
export function balloonTargetPages(config: MachineConfig, targetMiB: unknown): number {
  requireBalloon(config);
  const ramMiB = Math.floor(config.memoryBytes / MiB);
  if (typeof targetMiB !== "number" || !Number.isInteger(targetMiB) || targetMiB < 1) {
    throw new BalloonError(
      `balloon target must be a whole number of MiB from 1 to ${ramMiB}, not ${String(targetMiB)}`,
    );
  }
  if (targetMiB > ramMiB) {
    throw new BalloonError(
      `balloon target ${targetMiB} MiB is more than the guest's RAM (${ramMiB} MiB)`,
    );
  }
  return Math.floor((config.memoryBytes - targetMiB * MiB) / VIRTIO_BALLOON_PAGE_SIZE);
}

/** The balloon's device state in a board snapshot, or null when there is none. */
export function balloonState(devices: BoardState): VirtioBalloonState | null {
  return optionalState(devices.optional, BALLOON_DEVICE);
}

/** What to report of the balloon in `devices`, or null when there is none. */
export function balloonInfo(config: MachineConfig, devices: BoardState): BalloonInfo | null {
  const s = balloonState(devices);
  if (!s) return null;
  const ram = config.memoryBytes;
  const bytes = (pages: number) => Math.max(0, ram - pages * VIRTIO_BALLOON_PAGE_SIZE);
  return {
    ramBytes: ram,
    targetBytes: bytes(s.numPages),
    actualBytes: bytes(s.actual),
    targetPages: s.numPages,
    actualPages: s.actual,
    stats: s.statsUpdatedNs === null ? null : { ...s.stats },
    inflatedPages: s.counters.inflated,
    deflatedPages: s.counters.deflated,
  };
}

/**
 * The console's step: the target (MiB the guest keeps) one eighth of RAM
 * lower (`direction` 1, more balloon) or higher (-1), never below one step
 * nor above RAM.
 */
export function balloonStepTarget(info: BalloonInfo, direction: 1 | -1): number {
  const ramMiB = Math.floor(info.ramBytes / MiB);
  const step = Math.max(1, Math.floor(ramMiB / 8));
  const now = Math.round(info.targetBytes / MiB);
  return Math.min(ramMiB, Math.max(step, now - direction * step));
}
