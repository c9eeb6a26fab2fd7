/**
 * The Linux x86 boot protocol for bzImage kernels (Documentation/arch/x86/
 * boot.rst): reading and checking the setup header, and filling the zero
 * page (`struct boot_params`) a 32- or 64-bit entry receives.
 *
 * Offsets below are into the kernel file and into the zero page alike: the
 * setup header sits at 0x1f1 in both.
 *
 * @module
 */

import { KernelError } from "./kernel_error.ts";
import type { E820Entry } from "./e820.ts";

/** Oldest boot protocol vmrun loads: 2.06 gives cmdline_size and a 32-bit entry contract. */
export const MIN_BOOT_PROTOCOL = 0x206;
/** Where the setup header starts. */
export const SETUP_HEADER_OFFSET = 0x1f1;
/** Bytes of the zero page. */
export const ZERO_PAGE_SIZE = 4096;
/** Most e820 entries the zero page holds. */
export const E820_MAX_ENTRIES = 128;

/** Zero page / setup header field offsets (boot.rst and zero-page.rst). */
export const BP = {
  ACPI_RSDP_ADDR: 0x070,
  EXT_RAMDISK_IMAGE: 0x0c0,
  EXT_RAMDISK_SIZE: 0x0c4,
  EXT_CMD_LINE_PTR: 0x0c8,
  E820_ENTRIES: 0x1e8,
  SETUP_SECTS: 0x1f1,
  SYSSIZE: 0x1f4,
  VID_MODE: 0x1fa,
  BOOT_FLAG: 0x1fe,
  JUMP: 0x200,
  HEADER: 0x202,
  VERSION: 0x206,
  TYPE_OF_LOADER: 0x210,
  LOADFLAGS: 0x211,
  CODE32_START: 0x214,
  RAMDISK_IMAGE: 0x218,
  RAMDISK_SIZE: 0x21c,
  HEAP_END_PTR: 0x224,
  EXT_LOADER_VER: 0x226,
  EXT_LOADER_TYPE: 0x227,
  CMD_LINE_PTR: 0x228,
  INITRD_ADDR_MAX: 0x22c,
  KERNEL_ALIGNMENT: 0x230,
  RELOCATABLE_KERNEL: 0x234,
  MIN_ALIGNMENT: 0x235,
  XLOADFLAGS: 0x236,
  CMDLINE_SIZE: 0x238,
  SETUP_DATA: 0x250,
  PREF_ADDRESS: 0x258,
  INIT_SIZE: 0x260,
  E820_TABLE: 0x2d0,
} as const;

/** loadflags bits. */
export const LOADFLAGS = { LOADED_HIGH: 0x01, KEEP_SEGMENTS: 0x40, CAN_USE_HEAP: 0x80 } as const;
/** xloadflags bits. */
export const XLF = { KERNEL_64: 0x01, CAN_BE_LOADED_ABOVE_4G: 0x02 } as const;

/**
 * type_of_loader: 0xff, "no assigned id", as boot.rst tells loaders without
 * one to write. QEMU writes its own id (0xb0); vmrun is not QEMU, and the
 * kernel only reports the value (/proc/sys/kernel/bootloader_type).
 */
export const VMRUN_LOADER_TYPE = 0xff;
/** heap_end_ptr: the end of the setup heap, 0x200 below the command line at 0x20000 (as QEMU). */
export const HEAP_END_PTR = 0xfe00;
/** The protected-mode kernel's load address (pref_address is not used, as in QEMU). */
export const KERNEL_LOAD_ADDR = 0x100000;
/** Offset of startup_64 from the load address (XLF_KERNEL_64 kernels). */
export const STARTUP_64_OFFSET = 0x200;

const HDRS = 0x53726448; // "HdrS"

/** What a bzImage's setup header says, checked. */
export interface BzImageHeader {
  /** Boot protocol version, e.g. 0x20f for 2.15. */
  readonly version: number;
  /** 512-byte sectors of real-mode setup after the boot sector. */
  readonly setupSects: number;
  /** Bytes of real-mode code (boot sector plus setup), where the protected-mode kernel starts. */
  readonly setupSize: number;
  /** Bytes of the protected-mode kernel in the file. */
  readonly kernelSize: number;
  readonly loadflags: number;
  readonly xloadflags: number;
  /** Highest address the initrd may end at (inclusive). */
  readonly initrdAddrMax: number;
  readonly kernelAlignment: number;
  readonly relocatable: boolean;
  /** Longest command line, NUL excluded. */
  readonly cmdlineSize: number;
  readonly prefAddress: number;
  /** Bytes the kernel needs from its load address before it has moved itself. */
  readonly initSize: number;
  readonly vidMode: number;
  /** Offset in the file where the setup header ends (0x202 + the jump's byte). */
  readonly headerEnd: number;
  /** The 64-bit entry (startup_64) may be used. */
  readonly kernel64: boolean;
}

/** True when `file` carries a bzImage setup header ("HdrS" at 0x202). */
export function isBzImage(file: Uint8Array): boolean {
  return file.length >= 0x260 && dv(file).getUint32(BP.HEADER, true) === HDRS;
}

/**
 * Reads and checks the setup header.
 * @throws {KernelError} for a file that is not a bzImage or one vmrun cannot load
 */
export function parseBzImage(file: Uint8Array, name = "kernel"): BzImageHeader {
  if (!isBzImage(file)) {
    throw new KernelError(
      `${name}: not a Linux kernel (no bzImage "HdrS" header, no PVH ELF note)`,
    );
  }
  const v = dv(file);
  const version = v.getUint16(BP.VERSION, true);
  const proto = `${version >> 8}.${(version & 0xff).toString().padStart(2, "0")}`;
  if (version < MIN_BOOT_PROTOCOL) {
    throw new KernelError(
      `${name}: boot protocol ${proto} is too old (vmrun needs 2.06 or later, Linux 2.6.22+)`,
    );
  }
  if (v.getUint16(BP.BOOT_FLAG, true) !== 0xaa55) {
    throw new KernelError(`${name}: bad setup header (boot_flag is not 0xAA55)`);
  }
  const setupSects = file[BP.SETUP_SECTS] === 0 ? 4 : file[BP.SETUP_SECTS];
  const setupSize = (setupSects + 1) * 512;
  if (file.length <= setupSize) {
    throw new KernelError(`${name}: truncated (${file.length} bytes, setup alone is ${setupSize})`);
  }
  const loadflags = file[BP.LOADFLAGS];
  if (!(loadflags & LOADFLAGS.LOADED_HIGH)) {
    throw new KernelError(
      `${name}: a zImage (not LOADED_HIGH); only bzImage kernels load at 1 MiB`,
    );
  }
  const kernelAlignment = v.getUint32(BP.KERNEL_ALIGNMENT, true);
  if (kernelAlignment === 0 || (kernelAlignment & (kernelAlignment - 1)) !== 0) {
    throw new KernelError(`${name}: bad setup header (kernel_alignment 0x${hex(kernelAlignment)})`);
  }
  const kernelSize = file.length - setupSize;
  const headerEnd = BP.JUMP + 2 + file[BP.JUMP + 1];
  const initSize = version >= 0x20a ? v.getUint32(BP.INIT_SIZE, true) : 0;
  const cmdlineSize = v.getUint32(BP.CMDLINE_SIZE, true);
  if (cmdlineSize === 0) throw new KernelError(`${name}: bad setup header (cmdline_size 0)`);
  const xloadflags = version >= 0x20c ? v.getUint16(BP.XLOADFLAGS, true) : 0;
  return {
    version,
    setupSects,
    setupSize,
    kernelSize,
    loadflags,
    xloadflags,
    initrdAddrMax: v.getUint32(BP.INITRD_ADDR_MAX, true),
    kernelAlignment,
    relocatable: file[BP.RELOCATABLE_KERNEL] !== 0,
    cmdlineSize,
    prefAddress: version >= 0x20a ? Number(v.getBigUint64(BP.PREF_ADDRESS, true)) : 0,
    // Older kernels: assume they need their file size (a decompressor needs more, but says so).
    initSize: Math.max(initSize, kernelSize),
    vidMode: v.getUint16(BP.VID_MODE, true),
    headerEnd: Math.min(headerEnd, BP.E820_TABLE),
    kernel64: (xloadflags & XLF.KERNEL_64) !== 0,
  };
}

/** Where the loader put things, for {@link buildZeroPage} and the fw_cfg setup header. */
export interface BzImagePlacement {
  readonly cmdlineAddr: number;
  readonly initrdAddr: number;
  readonly initrdSize: number;
}

/**
 * The header fields a loader writes (type_of_loader, loadflags, heap, command
 * line, initrd), into `bytes` that hold the setup header at 0x1f1: the zero
 * page, or the real-mode setup handed to an option ROM.
 */
export function patchSetupHeader(
  bytes: Uint8Array,
  header: BzImageHeader,
  place: BzImagePlacement,
): void {
  const v = dv(bytes);
  bytes[BP.TYPE_OF_LOADER] = VMRUN_LOADER_TYPE;
  bytes[BP.LOADFLAGS] = header.loadflags | LOADFLAGS.CAN_USE_HEAP;
  v.setUint16(BP.HEAP_END_PTR, HEAP_END_PTR, true);
  bytes[BP.EXT_LOADER_VER] = 0;
  bytes[BP.EXT_LOADER_TYPE] = 0;
  v.setUint32(BP.CMD_LINE_PTR, place.cmdlineAddr, true);
  v.setUint32(BP.RAMDISK_IMAGE, place.initrdAddr, true);
  v.setUint32(BP.RAMDISK_SIZE, place.initrdSize, true);
}

/**
 * The zero page for a 32- or 64-bit entry: the kernel's own setup header
 * (vid_mode and the rest kept), the loader's fields, the e820 map and, for
 * protocol 2.14+, the RSDP's address.
 */
export function buildZeroPage(
  file: Uint8Array,
  header: BzImageHeader,
  place: BzImagePlacement,
  e820: readonly E820Entry[],
  rsdpAddr: number,
): Uint8Array {
  const zp = new Uint8Array(ZERO_PAGE_SIZE);
  zp.set(file.subarray(SETUP_HEADER_OFFSET, header.headerEnd), SETUP_HEADER_OFFSET);
  patchSetupHeader(zp, header, place);
  const v = dv(zp);
  if (e820.length > E820_MAX_ENTRIES) throw new RangeError(`${e820.length} e820 entries`);
  zp[BP.E820_ENTRIES] = e820.length;
  e820.forEach((e, i) => {
    const at = BP.E820_TABLE + i * 20;
    v.setBigUint64(at, BigInt(e.address), true);
    v.setBigUint64(at + 8, BigInt(e.length), true);
    v.setUint32(at + 16, e.type, true);
  });
  if (header.version >= 0x20e) v.setBigUint64(BP.ACPI_RSDP_ADDR, BigInt(rsdpAddr), true);
  return zp;
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function hex(n: number): string {
  return n.toString(16);
}
