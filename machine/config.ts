/**
 * What a machine is built from: plain data, validated on the main thread and
 * sent to the vCPU worker as is.
 *
 * @module
 */

import type { AudioConfig } from "./audio.ts";
import type { WatchdogConfig } from "./watchdog.ts";

/** A disk attached to the machine. */
export interface DiskConfig {
  readonly path: string;
  readonly interface: "ide" | "virtio";
  /** CD-ROM media (ATAPI) instead of a hard disk. */
  readonly media: "disk" | "cdrom";
  readonly readonly: boolean;
}

/** Firmware choice. */
export type FirmwareConfig =
  /** No BIOS: the first disk's boot sector runs at 0000:7c00 in real mode. */
  | { readonly kind: "none" }
  /** A BIOS image mapped below 4 GiB; the vCPU starts at the reset vector. */
  | { readonly kind: "bios"; readonly path: string; readonly vgaBiosPath: string | null };

/** Everything needed to build a machine. */
export interface MachineConfig {
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly firmware: FirmwareConfig;
  readonly disks: readonly DiskConfig[];
  /** Keep all disk writes in memory. */
  readonly snapshot: boolean;
  readonly bootMenu: boolean;
  /** Guest wall-clock time at start, epoch ms (the RTC's base). */
  readonly startTimeMs: number;
  /** VGA video RAM (BAR0) in bytes, a power of two; 16 MiB when absent. */
  readonly vgaMemoryBytes?: number;
  /** A reset ends the run (reason "reset") instead of rebooting. */
  readonly noReboot?: boolean;
  /** A watchdog device and what its expiry does; none when absent. */
  readonly watchdog?: WatchdogConfig;
  /** Record what the guest plays to a WAV file; nothing is recorded when absent. */
  readonly audio?: AudioConfig;
}

/** The largest guest vmrun will build. */
export const MAX_CPUS = 16;
