/**
 * The fw_cfg items and files a PC board hands SeaBIOS, as QEMU's PC does.
 *
 * Numbered items (keys from QEMU's fw_cfg key list in
 * include/standard-headers/linux/qemu_fw_cfg.h; integers little-endian):
 *
 * | key  | name      | format                                               |
 * |------|-----------|------------------------------------------------------|
 * | 0x02 | UUID      | 16 bytes (zeros unless given)                        |
 * | 0x03 | RAM_SIZE  | le64, all guest RAM (below plus above 4 GiB)         |
 * | 0x04 | NOGRAPHIC | le16, 0                                              |
 * | 0x05 | NB_CPUS   | le16                                                 |
 * | 0x0d | NUMA      | le64 node count, 0 (no NUMA)                         |
 * | 0x0e | BOOT_MENU | le16, 1 to offer the boot menu                       |
 * | 0x0f | MAX_CPUS  | le16                                                 |
 *
 * Files (names and meanings from SeaBIOS's docs/Runtime_config.md, "Configuring
 * boot order" and "Other Configuration items"; SeaBIOS reads integer files
 * with romfile_loadint, which accepts a little-endian value of 1, 2, 4 or 8
 * bytes):
 *
 * - `etc/e820`: 20-byte entries `{ le64 address; le64 length; le32 type }`
 *   (type 1 RAM). RAM from 0 to `ramBelow4g`, then from 4 GiB when there is
 *   RAM above it. SeaBIOS adds its own reservations (BIOS, 0xFFFC0000).
 * - `etc/show-boot-menu`: le16, 0 disables the menu (same width as QEMU's
 *   BOOT_MENU item, which SeaBIOS also maps to this name).
 * - `etc/boot-menu-wait`: le16 milliseconds, when given.
 * - `bootorder`: Open Firmware device paths, one per line, first tried first;
 *   newline-separated and NUL-terminated as QEMU writes it, when given.
 *
 * @module
 */

import { laneByte } from "./byte_lanes.ts";
import type { FwCfg } from "./fw_cfg.ts";

/** QEMU's fw_cfg keys used on the PC. */
export const FwCfgKey = {
  UUID: 0x02,
  RAM_SIZE: 0x03,
  NOGRAPHIC: 0x04,
  NB_CPUS: 0x05,
  NUMA: 0x0d,
  BOOT_MENU: 0x0e,
  MAX_CPUS: 0x0f,
} as const;

/** e820 entry type for usable RAM. */
export const E820_RAM = 1;
/** e820 entry type for reserved ranges. */
export const E820_RESERVED = 2;

/** One `etc/e820` entry. */
export interface E820Entry {
  readonly address: number;
  readonly length: number;
  readonly type: number;
}

/** What {@link buildPcFwCfg} describes. */
export interface PcFwCfgOptions {
  /** Bytes of RAM from address 0 (at most 4 GiB; the board leaves the PCI hole above it). */
  readonly ramBelow4g: number;
  /** Bytes of RAM from 4 GiB; 0 for none. */
  readonly ramAbove4g: number;
  /** Number of vCPUs (also reported as the maximum). */
  readonly cpus: number;
  /** Whether SeaBIOS offers its boot menu. */
  readonly bootMenu: boolean;
  /** How long the boot menu prompt waits, in milliseconds (0-65535). */
  readonly bootMenuWaitMs?: number;
  /** Open Firmware device paths, most preferred first ("/pci@i0cf8/*@1,1/drive@0/disk@0"). */
  readonly bootOrder?: readonly string[];
  /** The machine's SMBIOS UUID, 16 bytes; zeros when absent. */
  readonly uuid?: Uint8Array;
  /** More files to expose (option ROMs, "opt/..." items). */
  readonly extraFiles?: readonly { readonly name: string; readonly data: Uint8Array }[];
}

const FOUR_GIB = 2 ** 32;

/** Encodes e820 entries as `etc/e820` holds them. */
export function encodeE820(entries: readonly E820Entry[]): Uint8Array {
  const out = new Uint8Array(entries.length * 20);
  const view = new DataView(out.buffer);
  entries.forEach((e, i) => {
    view.setBigUint64(i * 20, BigInt(e.address), true);
    view.setBigUint64(i * 20 + 8, BigInt(e.length), true);
    view.setUint32(i * 20 + 16, e.type, true);
  });
  return out;
}

/** The RAM map the board reports: below 4 GiB, then above it when present. */
export function pcE820(ramBelow4g: number, ramAbove4g: number): E820Entry[] {
  const entries: E820Entry[] = [{ address: 0, length: ramBelow4g, type: E820_RAM }];
  if (ramAbove4g > 0) entries.push({ address: FOUR_GIB, length: ramAbove4g, type: E820_RAM });
  return entries;
}

/**
 * Adds the PC items and files to `fwcfg`.
 * @throws {RangeError} for sizes or counts that do not fit their fields
 */
export function buildPcFwCfg(fwcfg: FwCfg, options: PcFwCfgOptions): void {
  const { ramBelow4g, ramAbove4g, cpus, bootMenu } = options;
  if (!Number.isSafeInteger(ramBelow4g) || ramBelow4g <= 0 || ramBelow4g > FOUR_GIB) {
    throw new RangeError(`bad RAM size below 4 GiB: ${ramBelow4g}`);
  }
  if (!Number.isSafeInteger(ramAbove4g) || ramAbove4g < 0) {
    throw new RangeError(`bad RAM size above 4 GiB: ${ramAbove4g}`);
  }
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 0xffff) {
    throw new RangeError(`bad CPU count: ${cpus}`);
  }
  if (options.uuid && options.uuid.length !== 16) throw new RangeError("a UUID is 16 bytes");

  fwcfg.addItem(FwCfgKey.UUID, options.uuid ?? new Uint8Array(16));
  fwcfg.addItem(FwCfgKey.RAM_SIZE, le64(ramBelow4g + ramAbove4g));
  fwcfg.addItem(FwCfgKey.NOGRAPHIC, le16(0));
  fwcfg.addItem(FwCfgKey.NB_CPUS, le16(cpus));
  fwcfg.addItem(FwCfgKey.NUMA, le64(0));
  fwcfg.addItem(FwCfgKey.BOOT_MENU, le16(bootMenu ? 1 : 0));
  fwcfg.addItem(FwCfgKey.MAX_CPUS, le16(cpus));

  fwcfg.addFile("etc/e820", encodeE820(pcE820(ramBelow4g, ramAbove4g)));
  fwcfg.addFile("etc/show-boot-menu", le16(bootMenu ? 1 : 0));
  if (options.bootMenuWaitMs !== undefined) {
    const ms = options.bootMenuWaitMs;
    if (!Number.isInteger(ms) || ms < 0 || ms > 0xffff) {
      throw new RangeError(`bad boot menu wait: ${ms}`);
    }
    fwcfg.addFile("etc/boot-menu-wait", le16(ms));
  }
  if (options.bootOrder && options.bootOrder.length > 0) {
    if (options.bootOrder.some((p) => p.includes("\n") || p.includes("\0"))) {
      throw new RangeError("a boot order path cannot contain newlines or NULs");
    }
    fwcfg.addFile("bootorder", new TextEncoder().encode(options.bootOrder.join("\n") + "\0"));
  }
  for (const f of options.extraFiles ?? []) fwcfg.addFile(f.name, f.data);
}

function le16(v: number): Uint8Array {
  return new Uint8Array([laneByte(v, 0), laneByte(v, 1)]);
}

function le64(v: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(v), true);
  return out;
}
