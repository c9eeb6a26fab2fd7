/**
 * Opening a machine's disk images in the vCPU worker: raw files, behind a
 * copy-on-write overlay with --snapshot. They stay open across resets. A
 * path whose name is not UTF-8 arrives as `/proc/self/fd/<n>` of a handle
 * the main thread holds (machine/host_path.ts), which opens here as well.
 *
 * @module
 */

import type { BlockBackend } from "../devices/types.ts";
import type { MachineConfig } from "./config.ts";
import { FileBackend, SnapshotBackend } from "./disk_backend.ts";

/** An open image and what the devices see of it. */
export interface OpenDisk {
  readonly file: FileBackend;
  readonly backend: BlockBackend;
}

/** Opens every disk of `config` (read-only files under --snapshot and for CD-ROMs). */
export function openDisks(config: MachineConfig): OpenDisk[] {
  return config.disks.map((d) => {
    const readonly = d.readonly || d.media === "cdrom" || config.snapshot;
    const file = new FileBackend(d.path, readonly);
    const backend = config.snapshot && !d.readonly && d.media !== "cdrom"
      ? new SnapshotBackend(file)
      : file;
    return { file, backend };
  });
}

/** Flushes and closes every disk; safe to call twice. */
export function closeDisks(disks: readonly OpenDisk[]): void {
  for (const d of disks) {
    try {
      d.file.close();
    } catch {
      // Already closed.
    }
  }
}
