/**
 * What a vmrun save file holds, on top of the container format of
 * save_file.ts: the header (checked before a restore commits to anything)
 * and the machine state (the board's devices and KVM state, the device
 * clock, input not yet delivered, and the firmware images, so a restore
 * needs neither the BIOS files nor their versions to match).
 *
 * @module
 */

import type { BoardSnapshot } from "./board.ts";
import type { MachineConfig } from "./config.ts";
import { changedDisks, type DiskIdentity } from "./disk_identity.ts";
import { SaveFileError } from "./save_file.ts";

/** The save file's header. */
export interface SaveHeader {
  readonly vmrunVersion: string;
  /** ISO 8601. */
  readonly savedAt: string;
  readonly config: MachineConfig;
  readonly disks: readonly DiskIdentity[];
}

/** The machine state section. */
export interface SavedMachineState {
  readonly version: 1;
  /** The device clock when the VM was saved (a restore resumes it there). */
  readonly clockNs: number;
  /** COM1 input vmrun had accepted but the UART had not taken yet. */
  readonly serialIn: readonly number[];
  readonly board: BoardSnapshot;
  readonly firmware: { readonly bios: Uint8Array | null; readonly vgaBios: Uint8Array | null };
}

/** Memory region names in a save file. */
export const REGION = { RAM: "ram", VRAM: "vram", BIOS_ROM: "bios-rom" } as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Checks a header's shape, and that the images are the ones saved unless
 * `force`.
 * @throws {SaveFileError} naming the first problem
 */
export function checkSaveHeader(h: unknown, force = false): SaveHeader {
  if (
    !isObject(h) || typeof h.vmrunVersion !== "string" || !isObject(h.config) ||
    !Array.isArray(h.disks) || !Array.isArray(h.config.disks) ||
    typeof h.config.memoryBytes !== "number"
  ) {
    throw new SaveFileError("damaged save file: the header is not vmrun's");
  }
  const header = { ...h, config: upgradeConfig(h.config) } as unknown as SaveHeader;
  if (!force) {
    const changed = changedDisks(header.disks);
    if (changed.length) {
      throw new SaveFileError(
        `the disks changed since the save (${changed.join("; ")}): restoring would ` +
          `corrupt them; --force-restore restores anyway`,
      );
    }
  }
  return header;
}

/**
 * A configuration saved before the watchdog and sound card were optional
 * devices (`watchdog: {model, action}`, `audio: {wavPath, model}`) in
 * today's words: the watchdog, then the card, after the `devices`, where
 * that build placed them (and where {@link legacyOptionalStates} puts their
 * states).
 */
export function upgradeConfig(config: Record<string, unknown>): MachineConfig {
  const { watchdog, audio, ...rest } = config as {
    watchdog?: { model?: unknown; action?: unknown };
    audio?: { wavPath?: unknown; model?: unknown };
  } & Record<string, unknown>;
  if (watchdog === undefined && (audio === undefined || !("model" in audio))) {
    return config as unknown as MachineConfig;
  }
  const devices = [...((rest.devices as MachineConfig["devices"]) ?? [])];
  if (watchdog) devices.push({ name: String(watchdog.model), options: {} });
  if (audio?.model != null) {
    devices.push({ name: audio.model === "es1370" ? "ES1370" : String(audio.model), options: {} });
  }
  return {
    ...rest,
    devices,
    ...(watchdog ? { watchdogAction: watchdog.action } : {}),
    ...(audio ? { audio: { wavPath: audio.wavPath } } : {}),
  } as unknown as MachineConfig;
}

/**
 * The `--device` states of a board snapshot, with those of a save from
 * before the watchdog and sound cards were optional devices (kept apart as
 * `watchdog`, `sb16`, `es1370`) after them, as {@link upgradeConfig} orders
 * the devices.
 */
export function legacyOptionalStates(s: BoardSnapshot): readonly unknown[] {
  const old = s as unknown as { watchdog?: unknown; sb16?: unknown; es1370?: unknown };
  const apart = [old.watchdog, old.sb16, old.es1370].filter((x) => x != null);
  return [...s.optional, ...apart];
}

/**
 * Checks the state section's outer shape (each device checks its own).
 * @throws {SaveFileError} when it is not a machine state this build reads
 */
export function checkSavedState(s: unknown): SavedMachineState {
  if (!isObject(s) || s.version !== 1) {
    throw new SaveFileError(`the machine state has an unknown version`);
  }
  if (
    typeof s.clockNs !== "number" || !Array.isArray(s.serialIn) || !isObject(s.board) ||
    !isObject(s.firmware)
  ) {
    throw new SaveFileError("damaged save file: the machine state is incomplete");
  }
  return s as unknown as SavedMachineState;
}
