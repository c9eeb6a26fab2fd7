/**
 * Which IDE position each disk of a configuration takes (command-line order,
 * primary master first) and the geometry the CMOS reports for it.
 *
 * @module
 */

import type { CmosDiskGeometry } from "../devices/cmos_rtc.ts";
import type { DriveSpec } from "../devices/ide/ata_channel.ts";
import { defaultGeometry } from "../devices/ide/identify.ts";
import type { BlockBackend } from "../devices/types.ts";
import type { MachineConfig } from "./config.ts";

/** The four IDE positions of the PIIX3, in the order disks fill them. */
export const IDE_POSITIONS = [
  "primaryMaster",
  "primarySlave",
  "secondaryMaster",
  "secondarySlave",
] as const;

/** IDE disks and CD-ROMs in command-line order: primary master first. */
export function ideDrives(
  config: MachineConfig,
  backends: readonly BlockBackend[],
): Partial<Record<(typeof IDE_POSITIONS)[number], DriveSpec>> {
  const drives: Partial<Record<(typeof IDE_POSITIONS)[number], DriveSpec>> = {};
  let next = 0;
  config.disks.forEach((disk, i) => {
    if (disk.interface !== "ide" || next >= IDE_POSITIONS.length) return;
    drives[IDE_POSITIONS[next++]] = {
      kind: disk.media,
      backend: backends[i],
      serial: `VMRUN${String(i).padStart(4, "0")}`,
    };
  });
  return drives;
}

/**
 * CMOS geometry of the IDE hard disks, by position (CD-ROMs and empty slots
 * are null), with the translation QEMU reports: none within 1024/16/63.
 */
export function cmosDisks(
  config: MachineConfig,
  backends: readonly BlockBackend[],
): (CmosDiskGeometry | null)[] {
  const out: (CmosDiskGeometry | null)[] = [];
  config.disks.forEach((disk, i) => {
    if (disk.interface !== "ide" || out.length >= IDE_POSITIONS.length) return;
    if (disk.media !== "disk") return void out.push(null);
    const g = defaultGeometry(Math.floor(backends[i].size / 512));
    const fits = g.cylinders <= 1024 && g.heads <= 16 && g.sectors <= 63;
    out.push({ ...g, translation: fits ? "none" : "lba" });
  });
  return out;
}
