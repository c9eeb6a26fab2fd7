/**
 * Image locks: a writable image is locked exclusively, a read-only or
 * --snapshot one shared, so two vmruns never write the same image and none
 * writes an image another one is reading. A name that is not UTF-8 arrives
 * as `/proc/self/fd/<n>` (machine/host_path.ts), which flock(2) follows to the
 * image; messages use the disk's `name`.
 *
 * @module
 */

import { FileLock } from "../kvm/host.ts";
import type { DiskConfig } from "./config.ts";

/** Another process holds a conflicting lock on an image. */
export class ImageLockedError extends Error {
  /** @param path the image that is in use */
  constructor(readonly path: string) {
    super(`image '${path}' is in use by another vmrun (it holds a lock on it)`);
    this.name = "ImageLockedError";
  }
}

/** Whether vmrun will write `disk`'s file. */
export function writesFile(disk: DiskConfig, snapshot: boolean): boolean {
  return !disk.readonly && disk.media !== "cdrom" && !snapshot;
}

/**
 * Locks every disk image; all or nothing.
 * @throws {ImageLockedError} when one is in use
 */
export function lockImages(disks: readonly DiskConfig[], snapshot: boolean): FileLock[] {
  const held: FileLock[] = [];
  for (const d of disks) {
    const lock = FileLock.tryAcquire(d.path, !writesFile(d, snapshot));
    if (!lock) {
      for (const l of held) l.release();
      throw new ImageLockedError(d.name ?? d.path);
    }
    held.push(lock);
  }
  return held;
}
