/**
 * Checks of the files a machine is built from, before anything starts:
 * readable, non-empty, and a boot disk with whole sectors and a boot
 * signature. Each problem is one {@link ConfigError} naming the file.
 *
 * @module
 */

import { ConfigError } from "./config_error.ts";
import { displayPath, openablePath } from "./host_path.ts";

/** What a file check found. */
export interface FileInfo {
  /** A path Deno's file APIs open (see {@link openablePath}). */
  readonly path: string;
  /** How messages show it. */
  readonly name: string;
  readonly size: number;
}

/**
 * Checks that `path` is a readable, non-empty regular file or block device.
 * @param what how to name it in messages ("image", "firmware")
 * @throws {ConfigError} naming the problem
 */
export function checkReadableFile(path: string, what: string): FileInfo {
  const name = displayPath(path);
  let info: Deno.FileInfo;
  let openable: string;
  try {
    openable = openablePath(path);
    info = Deno.statSync(openable);
  } catch (e) {
    throw new ConfigError(null, `cannot open ${what} '${name}': ${reason(e)}`);
  }
  if (info.isDirectory) throw new ConfigError(null, `${what} '${name}' is a directory, not a file`);
  if (!info.isFile && !info.isBlockDevice) {
    throw new ConfigError(null, `${what} '${name}' is not a regular file`);
  }
  try {
    Deno.openSync(openable, { read: true }).close();
  } catch (e) {
    throw new ConfigError(null, `cannot read ${what} '${name}': ${reason(e)}`);
  }
  if (info.size === 0) throw new ConfigError(null, `${what} '${name}' is empty`);
  return { path: openable, name, size: info.size };
}

/**
 * Checks the disk vmrun boots from: whole sectors, and for a hard disk a
 * boot sector with its 55 AA signature (a BIOS would refuse it too; without
 * firmware nothing else could run).
 * @throws {ConfigError} naming the problem
 */
export function checkBootDisk(file: FileInfo, media: "disk" | "cdrom", noFirmware: boolean): void {
  const { name, size } = file;
  const blockSize = media === "cdrom" ? 2048 : 512;
  if (size % blockSize !== 0) {
    throw new ConfigError(
      null,
      `image '${name}' is truncated: ${size} bytes is not a whole number of ${blockSize}-byte sectors`,
    );
  }
  if (media === "cdrom" && !noFirmware) return;
  const sector = new Uint8Array(512);
  const f = Deno.openSync(file.path, { read: true });
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
    throw new ConfigError(
      null,
      `image '${name}' is not bootable: ${n} bytes, less than one 512-byte sector`,
    );
  }
  if (sector[510] !== 0x55 || sector[511] !== 0xaa) {
    throw new ConfigError(
      null,
      `image '${name}' is not bootable: no boot signature 55 AA at byte 510`,
    );
  }
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message.replace(/,? *(stat|open) '.*'$/, "") : String(e);
}
