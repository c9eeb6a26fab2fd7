/**
 * Firmware: locating SeaBIOS and SeaVGABIOS, checking a BIOS image, and
 * mapping it the way the PC does (all of it just below 4 GiB, its last
 * 128 KiB again below 1 MiB).
 *
 * @module
 */

import { type HostMemory, mapAnonymous } from "../kvm/host.ts";
import type { FirmwareImages } from "./board.ts";
import type { MachineConfig } from "./config.ts";
import type { Vm } from "../kvm/kvm.ts";
import type { GuestRam } from "./guest_ram.ts";
import { FOUR_GIB, ISA_BIOS_SIZE, ONE_MIB } from "./memory_map.ts";

/** Where Debian's `seabios` package puts SeaBIOS. */
export const DEFAULT_BIOS = "/usr/share/seabios/bios.bin";
/** SeaVGABIOS for QEMU's standard VGA, from the same package. */
export const DEFAULT_VGA_BIOS = "/usr/share/seabios/vgabios-stdvga.bin";
/** SeaVGABIOS for QEMU's virtio-vga, from the same package. */
export const VIRTIO_VGA_BIOS = "/usr/share/seabios/vgabios-virtio.bin";
/** The KVM memory slot of the BIOS ROM. */
export const BIOS_ROM_SLOT = 3;
/** KVM_MEM_READONLY: writes to the slot exit as MMIO instead of landing. */
const KVM_MEM_READONLY = 2;

/** Why a file is not a usable BIOS image, or null when it is. */
export function biosImageProblem(size: number): string | null {
  if (size < 64 * 1024 || size > 16 * ONE_MIB) {
    return `${size} bytes: a BIOS image is 64 KiB to 16 MiB`;
  }
  if (size % (64 * 1024) !== 0) return `${size} bytes: not a whole number of 64 KiB blocks`;
  return null;
}

/** Guest-physical base of a BIOS image of `size` bytes: it ends at 4 GiB. */
export function biosBase(size: number): number {
  return FOUR_GIB - size;
}

/**
 * Maps `image` as ROM ending at 4 GiB (read-only when KVM allows) and copies
 * its last 128 KiB into RAM at 0xE0000, where the CPU's first far jump lands.
 */
export function mapBios(
  vm: Vm,
  ram: GuestRam,
  rom: HostMemory,
  image: Uint8Array,
  readonlySupported: boolean,
): void {
  new Uint8Array(rom.buffer, 0, image.length).set(image);
  vm.setUserMemoryRegion(
    BIOS_ROM_SLOT,
    biosBase(image.length),
    image.length,
    rom.address,
    readonlySupported ? KVM_MEM_READONLY : 0,
  );
  const low = image.subarray(Math.max(0, image.length - ISA_BIOS_SIZE));
  ram.write(ONE_MIB - low.length, low);
}

/** Reads the firmware a config names and prepares the BIOS ROM's host memory. */
export function loadFirmware(config: MachineConfig): FirmwareImages {
  const fw = config.firmware;
  if (fw.kind === "none") return { bios: null, biosRom: null, vgaBios: null };
  const bios = Deno.readFileSync(fw.path);
  return {
    bios,
    biosRom: mapAnonymous(bios.length),
    vgaBios: fw.vgaBiosPath ? Deno.readFileSync(fw.vgaBiosPath) : null,
  };
}
