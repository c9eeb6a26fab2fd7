import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { BP, buildZeroPage, LOADFLAGS, parseBzImage, XLF } from "./bzimage.ts";
import { directE820, E820_RAM, E820_RESERVED, usableBytes } from "./e820.ts";
import { KernelError } from "./kernel_error.ts";
import { placeInitrd, planKernelBoot } from "./kernel_plan.ts";
import { ramLayout } from "./memory_map.ts";
import { buildMpTable, checksum } from "./mptable.ts";
import { buildStartInfo, HVM_START_MAGIC, parsePvhElf } from "./pvh.ts";

const MIB = 2 ** 20;

/** A minimal bzImage: boot sector + 4 setup sectors + `pmSize` bytes of kernel. */
function bzImage(
  opts: { version?: number; xlf?: number; pmSize?: number; initSize?: number } = {},
) {
  const setupSize = 5 * 512;
  const file = new Uint8Array(setupSize + (opts.pmSize ?? 4096));
  const v = new DataView(file.buffer);
  file[BP.SETUP_SECTS] = 4;
  v.setUint16(BP.BOOT_FLAG, 0xaa55, true);
  file[BP.JUMP] = 0xeb;
  file[BP.JUMP + 1] = 0x6a;
  v.setUint32(BP.HEADER, 0x53726448, true);
  v.setUint16(BP.VERSION, opts.version ?? 0x20f, true);
  v.setUint16(BP.VID_MODE, 0xfffd, true);
  file[BP.LOADFLAGS] = LOADFLAGS.LOADED_HIGH;
  v.setUint32(BP.INITRD_ADDR_MAX, 0x7fffffff, true);
  v.setUint32(BP.KERNEL_ALIGNMENT, 0x200000, true);
  file[BP.RELOCATABLE_KERNEL] = 1;
  v.setUint16(BP.XLOADFLAGS, opts.xlf ?? XLF.KERNEL_64, true);
  v.setUint32(BP.CMDLINE_SIZE, 255, true);
  v.setUint32(BP.INIT_SIZE, opts.initSize ?? 0x20000, true);
  return file;
}

/** A minimal ELF64 with one PT_LOAD at `paddr` and, unless `noNote`, the PVH note. */
function pvhElf(paddr = 0x100000, noNote = false): Uint8Array {
  const file = new Uint8Array(0x200);
  const v = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 2, true);
  v.setUint16(18, 62, true);
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(54, 56, true);
  v.setUint16(56, 2, true);
  const ph = (i: number, type: number, off: number, addr: number, size: number) => {
    const at = 64 + i * 56;
    v.setUint32(at, type, true);
    v.setBigUint64(at + 8, BigInt(off), true);
    v.setBigUint64(at + 16, BigInt(addr), true);
    v.setBigUint64(at + 24, BigInt(addr), true);
    v.setBigUint64(at + 32, BigInt(size), true);
    v.setBigUint64(at + 40, BigInt(size + 0x1000), true);
  };
  ph(0, 1, 0, paddr, 0x200);
  ph(1, 4, 0x100, paddr + 0x100, 20);
  v.setUint32(0x100, 4, true);
  v.setUint32(0x104, 4, true);
  v.setUint32(0x108, noNote ? 17 : 18, true);
  file.set([0x58, 0x65, 0x6e, 0], 0x10c);
  v.setUint32(0x110, paddr + 0x180, true);
  return file;
}

const layout128 = ramLayout(128 * MIB);

Deno.test("the setup header is read and checked", () => {
  const h = parseBzImage(bzImage());
  strictEqual(h.version, 0x20f);
  strictEqual(h.setupSize, 2560);
  strictEqual(h.kernelSize, 4096);
  strictEqual(h.kernel64, true);
  strictEqual(h.cmdlineSize, 255);
  strictEqual(h.initSize, 0x20000);
  strictEqual(h.headerEnd, 0x26c);
  strictEqual(parseBzImage(bzImage({ xlf: 0 })).kernel64, false);
});

Deno.test("bad kernels: not a kernel, protocol too old, zImage, bad header", () => {
  const bad = (file: Uint8Array, pattern: RegExp) =>
    throws(
      () => parseBzImage(file, "kernel 'k'"),
      (e) => e instanceof KernelError && pattern.test(e.message),
    );
  bad(new Uint8Array(4096), /^kernel 'k': not a Linux kernel/);
  bad(bzImage({ version: 0x205 }), /boot protocol 2\.05 is too old \(vmrun needs 2\.06/);
  const zimage = bzImage();
  zimage[BP.LOADFLAGS] = 0;
  bad(zimage, /zImage/);
  const noFlag = bzImage();
  noFlag[BP.BOOT_FLAG] = 0;
  bad(noFlag, /boot_flag/);
  bad(bzImage().subarray(0, 2560), /truncated/);
  // A file neither bzImage nor ELF reads as "not a kernel" through the planner too.
  throws(
    () => planKernelBoot({ kernel: new Uint8Array(100), initrd: null, cmdline: "" }, layout128),
    /not a Linux kernel/,
  );
});

Deno.test("the initrd goes where QEMU puts it, and errors when it does not fit", () => {
  // (min(initrd_addr_max, RAM below 4 GiB - 128 KiB - 1) - size) & ~0xfff
  strictEqual(placeInitrd(20000, 0x37ffffff, 128 * MIB, 0x120000), 0x7fdb000);
  strictEqual(placeInitrd(20000, 0x1fffffff, 1024 * MIB, 0x120000), (0x1fffffff - 20000) & ~0xfff);
  strictEqual(placeInitrd(0, 0x37ffffff, 128 * MIB, 0x120000), 0);
  const plan = planKernelBoot(
    { kernel: bzImage(), initrd: new Uint8Array(20000), cmdline: "console=ttyS0" },
    layout128,
  );
  strictEqual(plan.initrdAddr, 0x7fdb000);
  throws(
    () =>
      planKernelBoot(
        { kernel: bzImage(), initrd: new Uint8Array(127 * MIB), cmdline: "" },
        layout128,
      ),
    (e) => e instanceof KernelError && /^initrd: 127\.0 MiB does not fit/.test(e.message),
  );
});

Deno.test("a command line longer than cmdline_size, or a kernel larger than RAM, is refused", () => {
  const files = { kernel: bzImage(), initrd: null, cmdline: "x".repeat(256) };
  throws(
    () => planKernelBoot(files, layout128),
    /command line of 256 bytes; this kernel takes at most 255/,
  );
  ok(planKernelBoot({ ...files, cmdline: "x".repeat(255) }, layout128));
  throws(
    () =>
      planKernelBoot(
        { ...files, cmdline: "", kernel: bzImage({ initSize: 200 * MIB }) },
        layout128,
      ),
    /needs 200\.0 MiB from 1 MiB; give more memory/,
  );
});

Deno.test("the zero page keeps the kernel's header and adds the loader's fields", () => {
  const file = bzImage();
  const h = parseBzImage(file);
  const e820 = directE820(layout128);
  const zp = buildZeroPage(
    file,
    h,
    { cmdlineAddr: 0x20000, initrdAddr: 0x7fdb000, initrdSize: 20000 },
    e820,
    0xf0000,
  );
  const v = new DataView(zp.buffer);
  strictEqual(zp[BP.TYPE_OF_LOADER], 0xff);
  strictEqual(zp[BP.LOADFLAGS], 0x81);
  strictEqual(v.getUint16(BP.HEAP_END_PTR, true), 0xfe00);
  strictEqual(v.getUint16(BP.VID_MODE, true), 0xfffd);
  strictEqual(v.getUint32(BP.CMD_LINE_PTR, true), 0x20000);
  strictEqual(v.getUint32(BP.RAMDISK_IMAGE, true), 0x7fdb000);
  strictEqual(v.getUint32(BP.RAMDISK_SIZE, true), 20000);
  strictEqual(v.getUint32(BP.HEADER, true), 0x53726448);
  strictEqual(Number(v.getBigUint64(BP.ACPI_RSDP_ADDR, true)), 0xf0000);
  strictEqual(zp[BP.E820_ENTRIES], e820.length);
  strictEqual(Number(v.getBigUint64(BP.E820_TABLE + 20 * 2 + 8, true)), 127 * MIB);
});

Deno.test("the e820 map has no usable RAM between 640 KiB and 1 MiB", () => {
  const map = directE820(ramLayout(5 * 1024 * MIB));
  deepStrictEqual(map, [
    { address: 0, length: 0x9fc00, type: E820_RAM },
    { address: 0x9fc00, length: 0x60400, type: E820_RESERVED },
    { address: MIB, length: 0xe0000000 - MIB, type: E820_RAM },
    { address: 2 ** 32, length: 5 * 1024 * MIB - 0xe0000000, type: E820_RAM },
  ]);
  strictEqual(usableBytes(map), 5 * 1024 * MIB - MIB + 0x9fc00);
});

Deno.test("PVH: the entry note is found; ELF files without it are refused", () => {
  const k = parsePvhElf(pvhElf());
  strictEqual(k.entry, 0x100180);
  strictEqual(k.low, 0x100000);
  strictEqual(k.high, 0x101200);
  throws(
    () => parsePvhElf(pvhElf(0x100000, true), "kernel 'v'"),
    /KernelError: kernel 'v': an ELF without the PVH entry note/,
  );
  throws(
    () => planKernelBoot({ kernel: pvhElf(0x100000), initrd: null, cmdline: "" }, layout128, true),
    /PVH ELF kernel boots with --firmware none only/,
  );
  throws(
    () => planKernelBoot({ kernel: pvhElf(0x10000000), initrd: null, cmdline: "" }, layout128),
    /ELF segment at 0x10000000-0x10001200 lies outside RAM/,
  );
});

Deno.test("PVH: hvm_start_info version 1 with the module and the memory map", () => {
  const memmap = directE820(layout128);
  const info = buildStartInfo({
    address: 0x6000,
    cmdlineAddr: 0x20000,
    initrd: { addr: 0x7fdb000, size: 1234 },
    rsdpAddr: 0xf0000,
    memmap,
  });
  const v = new DataView(info.buffer);
  strictEqual(v.getUint32(0, true), HVM_START_MAGIC);
  strictEqual(v.getUint32(4, true), 1);
  strictEqual(v.getUint32(12, true), 1);
  const modlist = Number(v.getBigUint64(16, true)) - 0x6000;
  strictEqual(Number(v.getBigUint64(modlist, true)), 0x7fdb000);
  strictEqual(Number(v.getBigUint64(modlist + 8, true)), 1234);
  strictEqual(Number(v.getBigUint64(24, true)), 0x20000);
  strictEqual(Number(v.getBigUint64(32, true)), 0xf0000);
  const mm = Number(v.getBigUint64(40, true)) - 0x6000;
  strictEqual(v.getUint32(48, true), memmap.length);
  strictEqual(Number(v.getBigUint64(mm + 24 * 2 + 8, true)), 127 * MIB);
  strictEqual(v.getUint32(mm + 24 + 16, true), E820_RESERVED);
});

Deno.test("the MP table: checksums, processors, the I/O APIC and interrupt entries", () => {
  const mp = buildMpTable({
    cpus: 4,
    cpuSignature: 0x806f8,
    featureFlags: 0x178bfbff,
    pirqIrqs: [10, 10, 11, 11],
    levelHighIrqs: [5, 9, 10, 11],
  }, 0xf0100);
  strictEqual(checksum(mp.floating), 0);
  strictEqual(checksum(mp.table), 0);
  strictEqual(new TextDecoder().decode(mp.floating.subarray(0, 4)), "_MP_");
  strictEqual(new DataView(mp.floating.buffer).getUint32(4, true), 0xf0100);
  const t = new DataView(mp.table.buffer);
  strictEqual(t.getUint16(4, true), mp.table.length);
  let at = 44;
  const types: number[] = [];
  for (let i = 0; i < t.getUint16(34, true); i++) {
    types.push(mp.table[at]);
    at += mp.table[at] === 0 ? 20 : 8;
  }
  strictEqual(at, mp.table.length);
  strictEqual(types.filter((x) => x === 0).length, 4);
  strictEqual(mp.table[44 + 3], 0x03, "vCPU 0 is the bootstrap processor");
  strictEqual(types.filter((x) => x === 2).length, 1);
  // 31 slots x 4 pins of PCI, 15 ISA IRQs; two local interrupt entries.
  strictEqual(types.filter((x) => x === 3).length, 31 * 4 + 15);
  strictEqual(types.filter((x) => x === 4).length, 2);
});
