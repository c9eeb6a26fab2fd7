/**
 * PVH direct boot of an ELF vmlinux (Xen's x86 PVH boot ABI, which Linux and
 * QEMU follow): the kernel's PT_LOAD segments go to their physical addresses,
 * the 32-bit entry comes from the XEN_ELFNOTE_PHYS32_ENTRY note, and the
 * kernel receives a `struct hvm_start_info` (xen/include/public/arch-x86/
 * hvm/start_info.h) in EBX.
 *
 * hvm_start_info, version 1 (56 bytes): u32 magic 0x336ec578, u32 version,
 * u32 flags, u32 nr_modules, u64 modlist_paddr, u64 cmdline_paddr,
 * u64 rsdp_paddr, u64 memmap_paddr, u32 memmap_entries, u32 reserved.
 * hvm_modlist_entry (32 bytes): u64 paddr, u64 size, u64 cmdline_paddr, u64 reserved.
 * hvm_memmap_table_entry (24 bytes): u64 addr, u64 size, u32 type, u32 reserved.
 *
 * @module
 */

import { KernelError } from "./kernel_error.ts";
import type { E820Entry } from "./e820.ts";

/** hvm_start_info.magic. */
export const HVM_START_MAGIC = 0x336ec578;
/** The note type of the 32-bit PVH entry point. */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
/** Bytes of hvm_start_info, version 1. */
export const START_INFO_SIZE = 56;
/** Bytes of one hvm_modlist_entry. */
export const MODLIST_ENTRY_SIZE = 32;
/** Bytes of one hvm_memmap_table_entry. */
export const MEMMAP_ENTRY_SIZE = 24;

const PT_LOAD = 1;
const PT_NOTE = 4;
const EM_386 = 3;
const EM_X86_64 = 62;

/** One PT_LOAD segment. */
export interface ElfSegment {
  readonly paddr: number;
  readonly fileOffset: number;
  readonly fileSize: number;
  readonly memSize: number;
}

/** A PVH-bootable ELF kernel. */
export interface PvhKernel {
  readonly entry: number;
  readonly segments: readonly ElfSegment[];
  /** Lowest and highest (exclusive) physical address the segments occupy. */
  readonly low: number;
  readonly high: number;
}

/** True when `file` starts with the ELF magic. */
export function isElf(file: Uint8Array): boolean {
  return file.length >= 52 && file[0] === 0x7f && file[1] === 0x45 && file[2] === 0x4c &&
    file[3] === 0x46;
}

/**
 * Reads an ELF kernel's segments and PVH entry.
 * @throws {KernelError} for a malformed ELF, one for another machine, or one without the note
 */
export function parsePvhElf(file: Uint8Array, name = "kernel"): PvhKernel {
  if (!isElf(file)) throw new KernelError(`${name}: not an ELF file`);
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const is64 = file[4] === 2;
  if (file[4] !== 1 && !is64) throw new KernelError(`${name}: bad ELF class ${file[4]}`);
  if (file[5] !== 1) throw new KernelError(`${name}: not a little-endian ELF`);
  const machine = v.getUint16(18, true);
  if (machine !== EM_X86_64 && machine !== EM_386) {
    throw new KernelError(`${name}: an ELF for machine ${machine}, not x86`);
  }
  const u = (at: number, wide: boolean): number => {
    if (at < 0 || at + (wide ? 8 : 4) > file.length) {
      throw new KernelError(`${name}: truncated ELF (a header points past the end)`);
    }
    return wide ? Number(v.getBigUint64(at, true)) : v.getUint32(at, true);
  };
  const phoff = u(is64 ? 32 : 28, is64);
  const phentsize = v.getUint16(is64 ? 54 : 42, true);
  const phnum = v.getUint16(is64 ? 56 : 44, true);
  const segments: ElfSegment[] = [];
  let entry: number | null = null;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const type = u(ph, false);
    const offset = is64 ? u(ph + 8, true) : u(ph + 4, false);
    const paddr = is64 ? u(ph + 24, true) : u(ph + 12, false);
    const filesz = is64 ? u(ph + 32, true) : u(ph + 16, false);
    const memsz = is64 ? u(ph + 40, true) : u(ph + 20, false);
    if (offset + filesz > file.length || filesz > memsz) {
      throw new KernelError(`${name}: truncated ELF (segment ${i} lies past the end)`);
    }
    if (type === PT_LOAD && memsz > 0) {
      segments.push({ paddr, fileOffset: offset, fileSize: filesz, memSize: memsz });
    }
    if (type === PT_NOTE) entry ??= findEntryNote(v, offset, filesz);
  }
  if (entry === null) {
    throw new KernelError(
      `${name}: an ELF without the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); ` +
        `boot its bzImage instead`,
    );
  }
  if (segments.length === 0) throw new KernelError(`${name}: an ELF with nothing to load`);
  const low = Math.min(...segments.map((s) => s.paddr));
  const high = Math.max(...segments.map((s) => s.paddr + s.memSize));
  return { entry, segments, low, high };
}

/** The PHYS32_ENTRY note's value in a PT_NOTE segment, or null. */
function findEntryNote(v: DataView, offset: number, size: number): number | null {
  const align4 = (n: number) => (n + 3) & ~3;
  for (let at = offset; at + 12 <= offset + size;) {
    const namesz = v.getUint32(at, true);
    const descsz = v.getUint32(at + 4, true);
    const type = v.getUint32(at + 8, true);
    const nameAt = at + 12;
    const descAt = nameAt + align4(namesz);
    if (descAt + descsz > offset + size) return null;
    const noteName = String.fromCharCode(
      ...new Uint8Array(v.buffer, v.byteOffset + nameAt, Math.max(0, namesz - 1)),
    );
    if (noteName === "Xen" && type === XEN_ELFNOTE_PHYS32_ENTRY && descsz >= 4) {
      return descsz >= 8 ? Number(v.getBigUint64(descAt, true)) : v.getUint32(descAt, true);
    }
    at = descAt + align4(descsz);
  }
  return null;
}

/** What goes into hvm_start_info. */
export interface StartInfoPlacement {
  /** Where the start_info itself sits (modlist and memmap follow it). */
  readonly address: number;
  readonly cmdlineAddr: number;
  /** The initrd, or null for none. */
  readonly initrd: { readonly addr: number; readonly size: number } | null;
  readonly rsdpAddr: number;
  readonly memmap: readonly E820Entry[];
}

/**
 * hvm_start_info followed by its module list and memory map, as bytes to
 * place at `place.address`.
 */
export function buildStartInfo(place: StartInfoPlacement): Uint8Array {
  const modlistAt = START_INFO_SIZE + 8; // 8-byte aligned after the 56-byte struct
  const memmapAt = modlistAt + MODLIST_ENTRY_SIZE;
  const out = new Uint8Array(memmapAt + place.memmap.length * MEMMAP_ENTRY_SIZE);
  const v = new DataView(out.buffer);
  const u64 = (at: number, n: number) => v.setBigUint64(at, BigInt(n), true);
  v.setUint32(0, HVM_START_MAGIC, true);
  v.setUint32(4, 1, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, place.initrd ? 1 : 0, true);
  u64(16, place.initrd ? place.address + modlistAt : 0);
  u64(24, place.cmdlineAddr);
  u64(32, place.rsdpAddr);
  u64(40, place.address + memmapAt);
  v.setUint32(48, place.memmap.length, true);
  if (place.initrd) {
    u64(modlistAt, place.initrd.addr);
    u64(modlistAt + 8, place.initrd.size);
  }
  place.memmap.forEach((e, i) => {
    const at = memmapAt + i * MEMMAP_ENTRY_SIZE;
    u64(at, e.address);
    u64(at + 8, e.length);
    v.setUint32(at + 16, e.type, true);
  });
  return out;
}
