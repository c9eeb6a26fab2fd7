/**
 * Validation of the user's inputs before any machine starts: sizes, counts
 * and disk images, each refused with one line that names the problem.
 *
 * @module
 */

import { type DiskConfig, MAX_CPUS } from "../machine/config.ts";
import { UsageError } from "./errors.ts";
import { formatSize, parseSize } from "./sizes.ts";

/** The smallest guest RAM vmrun builds. */
export const MIN_MEMORY = 2 ** 20;

/** Parses --memory against the smallest guest and this host's RAM. */
export function parseMemory(text: string, hostBytes: number): number {
  const bytes = parseSize(text);
  if (bytes === null) {
    throw new UsageError(`--memory '${text}' is not a size (try 256M or 2G)`);
  }
  if (bytes < MIN_MEMORY) throw new UsageError(`--memory ${text} is too small: the least is 1M`);
  if (bytes % 4096 !== 0) {
    throw new UsageError(`--memory ${text} is not a whole number of 4K pages`);
  }
  if (bytes > hostBytes) {
    throw new UsageError(
      `--memory ${text} is more than this host's ${formatSize(hostBytes)} of RAM`,
    );
  }
  return bytes;
}

/** Parses --cpus. */
export function parseCpus(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_CPUS)) {
    throw new UsageError(`--cpus '${text}' must be a whole number from 1 to ${MAX_CPUS}`);
  }
  return n;
}

/** Parses --timeout (seconds, fractions allowed). */
export function parseTimeout(text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n > 0)) throw new UsageError(`--timeout '${text}' must be a positive number of seconds`);
  return n;
}

/** What an image check found. */
export interface ImageInfo {
  readonly path: string;
  readonly size: number;
}

/**
 * Checks that `path` is a readable, non-empty regular file.
 * @param what how to name it in messages ("image", "disk", "firmware")
 */
export function checkReadableFile(path: string, what: string): ImageInfo {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    throw new UsageError(`cannot open ${what} '${path}': ${reason(e)}`);
  }
  if (info.isDirectory) throw new UsageError(`${what} '${path}' is a directory, not a file`);
  if (!info.isFile && !info.isBlockDevice) {
    throw new UsageError(`${what} '${path}' is not a regular file`);
  }
  try {
    Deno.openSync(path, { read: true }).close();
  } catch (e) {
    throw new UsageError(`cannot read ${what} '${path}': ${reason(e)}`);
  }
  if (info.size === 0) throw new UsageError(`${what} '${path}' is empty`);
  return { path, size: info.size };
}

/**
 * Checks the disk vmrun boots from: whole 512-byte sectors, and for a hard
 * disk a boot sector with its 55 AA signature (a BIOS would refuse it too;
 * without firmware nothing else could run).
 */
export function checkBootDisk(disk: DiskConfig, noFirmware: boolean): void {
  const path = disk.path;
  const size = Deno.statSync(path).size;
  const blockSize = disk.media === "cdrom" ? 2048 : 512;
  if (size % blockSize !== 0) {
    throw new UsageError(
      `image '${path}' is truncated: ${size} bytes is not a whole number of ${blockSize}-byte sectors`,
    );
  }
  if (disk.media === "cdrom" && !noFirmware) return;
  const sector = new Uint8Array(512);
  const f = Deno.openSync(path, { read: true });
  let n = 0;
  try {
    while (n < 512) {
      const got = f.readSync(sector.subarray(n));
      if (got === null) break;
      n += got;
    }
  } finally {
    f.close();
  }
  if (n < 512) {
    throw new UsageError(
      `image '${path}' is not bootable: ${n} bytes, less than one 512-byte sector`,
    );
  }
  if (sector[510] !== 0x55 || sector[511] !== 0xaa) {
    throw new UsageError(`image '${path}' is not bootable: no boot signature 55 AA at byte 510`);
  }
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message.replace(/,? *(stat|open) '.*'$/, "") : String(e);
}
