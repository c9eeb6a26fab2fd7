/**
 * Puts the first code in place and points vCPU 0 at it: a boot sector at
 * 0000:7c00 without firmware.
 *
 * @module
 */

import type { BlockBackend } from "../devices/types.ts";
import type { Vcpu } from "../kvm/kvm.ts";
import type { GuestRam } from "./guest_ram.ts";
import { BOOT_SECTOR_ADDR } from "./memory_map.ts";

/** The first hard disk's BIOS drive number, passed in DL as a BIOS would. */
const FIRST_HARD_DISK = 0x80;

/**
 * Loads the boot disk's first sector, as the devices see the disk (a
 * `--snapshot` overlay included), at 0x7c00 and starts vCPU 0 in real mode at
 * 0000:7c00 with DL set to the boot drive.
 */
export function bootSectorStart(ram: GuestRam, vcpu: Vcpu, disk: BlockBackend): void {
  const sector = new Uint8Array(512);
  disk.read(0, sector);
  ram.write(BOOT_SECTOR_ADDR, sector);
  const sregs = vcpu.getSregs();
  for (const seg of ["cs", "ds", "es", "ss", "fs", "gs"] as const) {
    sregs.setSegment(seg, { base: 0, selector: 0 });
  }
  vcpu.setSregs(sregs);
  const regs = vcpu.getRegs();
  regs.set("rip", BOOT_SECTOR_ADDR);
  regs.set("rsp", BOOT_SECTOR_ADDR);
  regs.set("rdx", FIRST_HARD_DISK);
  regs.set("rflags", 0x2);
  vcpu.setRegs(regs);
}
