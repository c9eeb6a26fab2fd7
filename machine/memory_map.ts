/**
 * The PC's guest-physical memory map, as named constants and one function
 * that lays RAM out around the holes.
 *
 * @module
 */

/** Conventional memory ends where the VGA window starts. */
export const VGA_WINDOW_BASE = 0xa0000;
/** The legacy VGA window is 128 KiB. */
export const VGA_WINDOW_SIZE = 0x20000;
/** Option ROMs and the BIOS live in RAM from here to 1 MiB (shadowed, as after PAM setup). */
export const SHADOW_BASE = 0xc0000;
/** End of the first megabyte. */
export const ONE_MIB = 0x100000;
/** Where the last 128 KiB of the BIOS image appear below 1 MiB. */
export const ISA_BIOS_BASE = 0xe0000;
/** Size of the ISA BIOS alias. */
export const ISA_BIOS_SIZE = 0x20000;
/** RAM above this (3.5 GiB) moves above 4 GiB, leaving room for PCI and the BIOS. */
export const LOW_RAM_LIMIT = 0xe0000000;
/** Start of the 32-bit PCI memory hole, where BARs are placed. */
export const PCI_HOLE_BASE = 0xe0000000;
/** 4 GiB: where high RAM starts. */
export const FOUR_GIB = 0x100000000;
/** KVM's real-mode TSS (three pages) and identity-map page, just below the BIOS. */
export const KVM_TSS_ADDR = 0xfffbd000;
/** @see KVM_TSS_ADDR */
export const KVM_IDENTITY_MAP_ADDR = 0xfffbc000;
/** A boot sector is loaded here. */
export const BOOT_SECTOR_ADDR = 0x7c00;

/** One KVM memory slot: guest-physical range backed by RAM at `hostOffset`. */
export interface RamSlot {
  readonly slot: number;
  readonly gpa: number;
  readonly size: number;
  /** Offset into the single host RAM mapping. */
  readonly hostOffset: number;
}

/** How guest RAM is laid out. */
export interface RamLayout {
  /** Total bytes of guest RAM (the host mapping's size). */
  readonly total: number;
  /** RAM below 4 GiB, including the VGA hole's addresses (which are not RAM). */
  readonly below4g: number;
  /** RAM from 4 GiB up. */
  readonly above4g: number;
  /** The KVM slots, skipping the VGA window. */
  readonly slots: readonly RamSlot[];
}

/**
 * Splits `total` bytes of RAM into slots: below the VGA window, from the
 * shadow area up to the 3.5 GiB limit, and the rest above 4 GiB.
 */
export function ramLayout(total: number): RamLayout {
  const below4g = Math.min(total, LOW_RAM_LIMIT);
  const above4g = total - below4g;
  const slots: RamSlot[] = [];
  slots.push({ slot: 0, gpa: 0, size: Math.min(below4g, VGA_WINDOW_BASE), hostOffset: 0 });
  if (below4g > SHADOW_BASE) {
    slots.push({
      slot: 1,
      gpa: SHADOW_BASE,
      size: below4g - SHADOW_BASE,
      hostOffset: SHADOW_BASE,
    });
  }
  if (above4g > 0) slots.push({ slot: 2, gpa: FOUR_GIB, size: above4g, hostOffset: below4g });
  return { total, below4g, above4g, slots };
}
