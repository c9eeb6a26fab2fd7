/**
 * The main thread's half of direct kernel boot: reads `--kernel` and
 * `--initrd` and checks them against the machine before anything starts
 * (linux_boot.ts, on the board's side, loads what this plans).
 *
 * @module
 */

import { type BzImageHeader, isBzImage, KERNEL_LOAD_ADDR, parseBzImage } from "./bzimage.ts";
import type { KernelConfig } from "./config.ts";
import { KernelError } from "./kernel_error.ts";
import type { RamLayout } from "./memory_map.ts";
import { isElf, parsePvhElf, type PvhKernel } from "./pvh.ts";

/** Room QEMU leaves at the top of low RAM (ACPI tables), which the initrd stays below. */
const TOP_RESERVE = 128 * 1024;
/** Longest PVH command line (Linux's x86 COMMAND_LINE_SIZE is 2048; be generous). */
const PVH_CMDLINE_MAX = 4095;

/** The kernel's files, read. */
export interface KernelFiles {
  readonly kernel: Uint8Array;
  readonly initrd: Uint8Array | null;
  readonly cmdline: string;
  /** How messages name the kernel, e.g. "kernel 'bzImage'". */
  readonly name?: string;
}

/** A checked plan: what goes where. */
export type KernelPlan =
  | {
    readonly kind: "bzimage";
    readonly header: BzImageHeader;
    readonly cmdline: Uint8Array;
    readonly initrdAddr: number;
  }
  | {
    readonly kind: "pvh";
    readonly elf: PvhKernel;
    readonly cmdline: Uint8Array;
    readonly initrdAddr: number;
  };

/**
 * Reads the kernel and initrd a config names.
 * @throws {KernelError} when a file cannot be read
 */
export function readKernelFiles(config: KernelConfig): KernelFiles {
  const read = (path: string, what: string) => {
    try {
      return Deno.readFileSync(path);
    } catch (e) {
      throw new KernelError(`${what} '${path}': ${e instanceof Error ? e.message : e}`);
    }
  };
  return {
    kernel: read(config.path, "kernel"),
    initrd: config.initrd === null ? null : read(config.initrd, "initrd"),
    cmdline: config.cmdline,
    name: `kernel '${config.path}'`,
  };
}

/**
 * Checks the files against the machine and decides where everything goes.
 * `firmware` is true when SeaBIOS will start the kernel (bzImage only).
 * @throws {KernelError} for a file that is no kernel, a protocol too old, a
 * command line too long, a kernel or initrd that does not fit in RAM
 */
export function planKernelBoot(
  files: KernelFiles,
  layout: RamLayout,
  firmware = false,
): KernelPlan {
  const cmdline = new TextEncoder().encode(files.cmdline);
  if (cmdline.includes(0)) throw new KernelError("--append: the command line contains a NUL byte");
  const initrdSize = files.initrd?.length ?? 0;
  const lowRam = layout.below4g;
  const name = files.name ?? "kernel";
  if (isElf(files.kernel) && !isBzImage(files.kernel)) {
    const elf = parsePvhElf(files.kernel, name);
    if (firmware) {
      throw new KernelError(
        `${name}: a PVH ELF kernel boots with --firmware none only (or boot its bzImage)`,
      );
    }
    if (cmdline.length > PVH_CMDLINE_MAX) {
      throw new KernelError(
        `--append: command line of ${cmdline.length} bytes; at most ${PVH_CMDLINE_MAX}`,
      );
    }
    for (const s of elf.segments) {
      if (s.paddr < KERNEL_LOAD_ADDR || s.paddr + s.memSize > lowRam) {
        throw new KernelError(
          `${name}: ELF segment at 0x${hex(s.paddr)}-0x${hex(s.paddr + s.memSize)} lies outside ` +
            `RAM from 1 MiB to 0x${hex(lowRam)}${
              s.paddr >= KERNEL_LOAD_ADDR ? " (give more -m)" : ""
            }`,
        );
      }
    }
    const initrdAddr = placeInitrd(initrdSize, 0xffffffff, lowRam, elf.high);
    return { kind: "pvh", elf, cmdline, initrdAddr };
  }
  const header = parseBzImage(files.kernel, name);
  if (cmdline.length > header.cmdlineSize) {
    throw new KernelError(
      `--append: command line of ${cmdline.length} bytes; this kernel takes at most ` +
        `${header.cmdlineSize}`,
    );
  }
  const kernelEnd = KERNEL_LOAD_ADDR + header.initSize;
  if (kernelEnd > lowRam - TOP_RESERVE) {
    throw new KernelError(
      `${name}: needs ${mib(header.initSize)} from 1 MiB; give more memory (-m)`,
    );
  }
  const initrdAddr = placeInitrd(initrdSize, header.initrdAddrMax, lowRam, kernelEnd);
  return { kind: "bzimage", header, cmdline, initrdAddr };
}

/**
 * The initrd's address as QEMU picks it: page-aligned, as high as
 * `initrd_addr_max` and RAM below 4 GiB (less 128 KiB) allow.
 * @throws {KernelError} when it would overlap the kernel
 */
export function placeInitrd(
  size: number,
  initrdAddrMax: number,
  lowRam: number,
  kernelEnd: number,
): number {
  if (size === 0) return 0;
  const max = Math.min(initrdAddrMax, lowRam - TOP_RESERVE - 1);
  const addr = Math.floor((max - size) / 4096) * 4096;
  if (addr < alignUp(kernelEnd, 4096)) {
    throw new KernelError(
      `initrd: ${mib(size)} does not fit between the kernel's end (0x${hex(kernelEnd)}) and ` +
        `0x${hex(max + 1)}; give more memory (-m) or a smaller initrd`,
    );
  }
  return addr;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function hex(n: number): string {
  return n.toString(16);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
