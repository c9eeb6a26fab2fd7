/**
 * What a save file remembers of each disk image, so that a restore against
 * an image that changed since the save (written by another run, replaced,
 * resized) is refused instead of corrupting the guest's file system.
 *
 * @module
 */

import type { DiskConfig } from "./config.ts";

/** An image as it was when the VM was saved. */
export interface DiskIdentity {
  readonly path: string;
  readonly size: number;
  /** Modification time, ms since the epoch (null where the file system has none). */
  readonly mtimeMs: number | null;
  /** Device and inode: a file replaced under the same name is another file. */
  readonly dev: number;
  readonly ino: number | null;
}

/** Stats each disk's image now. */
export function diskIdentities(disks: readonly DiskConfig[]): DiskIdentity[] {
  return disks.map((d) => {
    const st = Deno.statSync(d.path);
    return {
      path: d.path,
      size: st.size,
      mtimeMs: st.mtime?.getTime() ?? null,
      dev: st.dev,
      ino: st.ino,
    };
  });
}

/**
 * How each image differs from what was saved; empty when every image is the
 * one the save file knew.
 */
export function changedDisks(saved: readonly DiskIdentity[]): string[] {
  const problems: string[] = [];
  for (const s of saved) {
    let st: Deno.FileInfo;
    try {
      st = Deno.statSync(s.path);
    } catch {
      problems.push(`${s.path} is gone`);
      continue;
    }
    if (st.size !== s.size) problems.push(`${s.path} is ${st.size} bytes, was ${s.size}`);
    else if (st.dev !== s.dev || st.ino !== s.ino) problems.push(`${s.path} is another file`);
    else if ((st.mtime?.getTime() ?? null) !== s.mtimeMs) {
      problems.push(`${s.path} was modified after the save`);
    }
  }
  return problems;
}
