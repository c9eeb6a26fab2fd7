/**
 * The memory map a firmware-less boot hands the kernel (zero page e820 table,
 * PVH memmap), from the board's RAM layout, laid out as QEMU's PC reports it
 * to Linux: no usable RAM between the EBDA and 1 MiB.
 *
 * @module
 */

import { E820_RAM, E820_RESERVED } from "../devices/fw_cfg_pc.ts";
import { FOUR_GIB, ONE_MIB, type RamLayout } from "./memory_map.ts";

export { E820_RAM, E820_RESERVED };

/** One e820 entry (address and length in bytes, type 1 RAM, 2 reserved). */
export interface E820Entry {
  readonly address: number;
  readonly length: number;
  readonly type: number;
}

/** Where conventional memory ends: the last KiB below 640 KiB is the EBDA, as SeaBIOS keeps it. */
export const EBDA_BASE = 0x9fc00;

/**
 * The firmware-less map: RAM below the EBDA; reserved from the EBDA to 1 MiB
 * (VGA window, option ROM space, the F segment with vmrun's ACPI and MP
 * tables); RAM from 1 MiB to the end of low RAM; RAM above 4 GiB.
 */
export function directE820(layout: RamLayout): E820Entry[] {
  const out: E820Entry[] = [
    { address: 0, length: EBDA_BASE, type: E820_RAM },
    { address: EBDA_BASE, length: ONE_MIB - EBDA_BASE, type: E820_RESERVED },
  ];
  if (layout.below4g > ONE_MIB) {
    out.push({ address: ONE_MIB, length: layout.below4g - ONE_MIB, type: E820_RAM });
  }
  if (layout.above4g > 0) out.push({ address: FOUR_GIB, length: layout.above4g, type: E820_RAM });
  return out;
}

/** Bytes of usable RAM (type 1) in a map. */
export function usableBytes(map: readonly E820Entry[]): number {
  return map.filter((e) => e.type === E820_RAM).reduce((n, e) => n + e.length, 0);
}
