/**
 * Disks as options give them: a structured {@link DiskSpec}, or the text
 * `path[,if=ide|virtio][,media=disk|cdrom][,readonly]` that `--disk` and the
 * API's disk lists take.
 *
 * @module
 */

import { ConfigError } from "./config_error.ts";

/** A disk to attach: the path, and what the defaults do not say. */
export interface DiskSpec {
  /** The image file. */
  readonly path: string;
  /** "ide" (default) or "virtio" (virtio-blk on PCI). */
  readonly interface?: "ide" | "virtio";
  /** "disk", or "cdrom" (ATAPI, read-only); default "cdrom" for `.iso` files. */
  readonly media?: "disk" | "cdrom";
  /** Never write the image. */
  readonly readonly?: boolean;
}

/**
 * Parses one disk spec text; `.iso` images default to CD-ROM media. With
 * `plainPath` (the positional image) the whole text is the path.
 * @throws {ConfigError} for an unknown option or a CD-ROM off IDE
 */
export function parseDiskSpec(spec: string, plainPath = false): Required<DiskSpec> {
  const [path, ...opts] = plainPath ? [spec] : spec.split(",");
  if (!path) throw new ConfigError("disk", `'${spec}' names no file`);
  let iface: DiskSpec["interface"] = "ide";
  let media: DiskSpec["media"] = /\.iso$/i.test(path) ? "cdrom" : "disk";
  let readonly = false;
  for (const opt of opts) {
    const [key, value] = opt.split("=", 2);
    if (key === "if" && (value === "ide" || value === "virtio")) iface = value;
    else if (key === "media" && (value === "disk" || value === "cdrom")) media = value;
    else if (key === "readonly" && (value === undefined || value === "on")) readonly = true;
    else if (key === "readonly" && value === "off") readonly = false;
    else {
      throw new ConfigError(
        "disk",
        `'${spec}': unknown option '${opt}' (use if=ide|virtio, media=disk|cdrom, readonly)`,
      );
    }
  }
  if (media === "cdrom" && iface !== "ide") {
    throw new ConfigError("disk", `'${spec}': CD-ROMs attach to IDE only`);
  }
  return { path, interface: iface, media, readonly: readonly || media === "cdrom" };
}

/** The most IDE devices a PIIX3 takes (two channels, master and slave). */
export const MAX_IDE_DEVICES = 4;
