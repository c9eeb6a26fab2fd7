/**
 * Parsing of `--disk <path>[,if=ide|virtio][,media=disk|cdrom][,readonly]`.
 *
 * @module
 */

import type { DiskConfig } from "../machine/config.ts";
import { UsageError } from "./errors.ts";

/**
 * Parses one --disk value; `.iso` images default to CD-ROM media. With
 * `plainPath` (the positional image) the whole text is the path.
 */
export function parseDiskSpec(spec: string, plainPath = false): DiskConfig {
  const [path, ...opts] = plainPath ? [spec] : spec.split(",");
  if (!path) throw new UsageError(`--disk '${spec}' names no file`);
  let iface: DiskConfig["interface"] = "ide";
  let media: DiskConfig["media"] = /\.iso$/i.test(path) ? "cdrom" : "disk";
  let readonly = false;
  for (const opt of opts) {
    const [key, value] = opt.split("=", 2);
    if (key === "if" && (value === "ide" || value === "virtio")) iface = value;
    else if (key === "media" && (value === "disk" || value === "cdrom")) media = value;
    else if (key === "readonly" && (value === undefined || value === "on")) readonly = true;
    else if (key === "readonly" && value === "off") readonly = false;
    else {
      throw new UsageError(
        `--disk '${spec}': unknown option '${opt}' (use if=ide|virtio, media=disk|cdrom, readonly)`,
      );
    }
  }
  if (media === "cdrom" && iface !== "ide") {
    throw new UsageError(`--disk '${spec}': CD-ROMs attach to IDE only`);
  }
  return { path, interface: iface, media, readonly: readonly || media === "cdrom" };
}

/** The most IDE devices a PIIX3 takes (two channels, master and slave). */
export const MAX_IDE_DEVICES = 4;
