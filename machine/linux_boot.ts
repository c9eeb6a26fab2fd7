/**
 * Direct kernel boot (`--kernel`, `--initrd`, `--append`): checks the files,
 * then either loads the kernel itself and starts vCPU 0 at its entry (no
 * firmware: bzImage 64- or 32-bit entry, or PVH for an ELF vmlinux, with
 * vmrun's own e820, ACPI and MP tables), or hands kernel, initrd and command
 * line to SeaBIOS through fw_cfg with QEMU's linuxboot_dma.bin option ROM,
 * as QEMU's `-kernel` does.
 *
 * Guest-physical layout of the firmware-less path (all below the EBDA, or in
 * the reserved range 0x9FC00-0xFFFFF):
 *
 * | address  | what                                                       |
 * |----------|------------------------------------------------------------|
 * | 0x00500  | GDT: null, null, 0x10 code, 0x18 data                      |
 * | 0x06000  | PVH hvm_start_info, its module list and memory map         |
 * | 0x07000  | zero page (boot_params)                                    |
 * | 0x09000  | PML4, PDPT, four page directories (2 MiB pages, 4 GiB)     |
 * | 0x20000  | command line (as QEMU)                                     |
 * | 0xE0000  | ACPI tables (FACS, DSDT, FADT, MADT, RSDT)                 |
 * | 0xF0000  | RSDP; 0xF0040 MP floating pointer; 0xF0100 MP table        |
 * | 0xF8000  | SMBIOS entry point; 0xF8100 its structure table            |
 * | 0x100000 | protected-mode kernel (bzImage), or the ELF's segments     |
 * | high     | initrd, page-aligned below min(initrd_addr_max, RAM - 128 KiB) |
 *
 * @module
 */

import type { FwCfg } from "../devices/fw_cfg.ts";
import { PIRQRC } from "../devices/pci/piix3.ts";
import { SEABIOS_PM_BASE } from "../devices/pci/piix4_pm.ts";
import type { Kvm, Vcpu } from "../kvm/kvm.ts";
import type { Board } from "./board.ts";
import { type CpuidEntry, LAYOUTS } from "../kvm/structs.ts";
import { buildZeroPage, KERNEL_LOAD_ADDR, patchSetupHeader, STARTUP_64_OFFSET } from "./bzimage.ts";
import { directE820 } from "./e820.ts";
import type { GuestRam } from "./guest_ram.ts";
import { layoutAcpiTables } from "./acpi.ts";
import { KernelError } from "./kernel_error.ts";
import { applySeabiosMtrrs } from "./firmware_msrs.ts";
import { buildMpTable } from "./mptable.ts";
import { buildSmbios } from "./smbios.ts";
import { buildStartInfo } from "./pvh.ts";
import { type KernelFiles, type KernelPlan, planKernelBoot } from "./kernel_plan.ts";

export { KernelError };

/** Fixed guest addresses of the firmware-less path (see the module table). */
export const DIRECT = {
  GDT: 0x500,
  START_INFO: 0x6000,
  ZERO_PAGE: 0x7000,
  PML4: 0x9000,
  CMDLINE: 0x20000,
  ACPI_TABLES: 0xe0000,
  RSDP: 0xf0000,
  MP_FLOATING: 0xf0040,
  MP_TABLE: 0xf0100,
  SMBIOS_ENTRY: 0xf8000,
  SMBIOS_TABLE: 0xf8100,
} as const;

/** Where QEMU puts the real-mode setup for an option ROM to start. */
export const SETUP_ADDR = 0x10000;
/** Where Debian's qemu-system-data installs QEMU's option ROM that boots Linux from fw_cfg. */
export const LINUXBOOT_ROM = "/usr/share/qemu/linuxboot_dma.bin";
/** The ROM's fw_cfg name, which SeaBIOS runs, and its boot order path. */
const LINUXBOOT_FILE = "genroms/linuxboot_dma.bin";
/** ISA IRQs SeaBIOS routes the PIIX3's PIRQA-D to; the firmware-less path does the same. */
export const PIRQ_IRQS = [10, 10, 11, 11] as const;
/** PIIX4 PM config registers: the PM I/O base, and its enable bit. */
const PMBA = 0x40;
const PMREGMISC = 0x80;
/** ISA IRQs the MADT declares level-triggered, active high. */
const LEVEL_HIGH_IRQS = [5, 9, 10, 11];

/** QEMU's fw_cfg keys for a kernel, initrd and command line. */
export const FW_CFG_KERNEL = {
  KERNEL_ADDR: 0x07,
  KERNEL_SIZE: 0x08,
  INITRD_ADDR: 0x0a,
  INITRD_SIZE: 0x0b,
  KERNEL_ENTRY: 0x10,
  KERNEL_DATA: 0x11,
  INITRD_DATA: 0x12,
  CMDLINE_ADDR: 0x13,
  CMDLINE_SIZE: 0x14,
  CMDLINE_DATA: 0x15,
  SETUP_ADDR: 0x16,
  SETUP_SIZE: 0x17,
  SETUP_DATA: 0x18,
} as const;

/** What the firmware-less path needs to know about the machine. */
export interface DirectBootMachine {
  readonly ram: GuestRam;
  readonly vcpu: Vcpu;
  readonly cpus: number;
  /** The CPUID entries vCPU 0 sees (leaf 1 signs the MP table's processors). */
  readonly cpuid: readonly CpuidEntry[];
}

/**
 * Firmware-less boot: writes the kernel, initrd, command line, boot
 * structures and tables into RAM and points vCPU 0 at the kernel's entry.
 */
export function loadKernelDirect(m: DirectBootMachine, files: KernelFiles, plan: KernelPlan): void {
  const { ram } = m;
  const e820 = directE820(ram.layout);
  // Tables for the guest to find: ACPI (RSDP in the F segment) and the MP table.
  const acpi = layoutAcpiTables(
    { cpus: m.cpus, lowRamBytes: ram.layout.below4g, highRamBytes: ram.layout.above4g },
    { rsdpAddress: DIRECT.RSDP, tablesAddress: DIRECT.ACPI_TABLES },
  );
  ram.view(0xe0000, 0x20000).fill(0);
  ram.write(DIRECT.ACPI_TABLES, acpi.tables);
  ram.write(DIRECT.RSDP, acpi.rsdp);
  const leaf1 = m.cpuid.find((e) => e.function === 1);
  const mp = buildMpTable({
    cpus: m.cpus,
    cpuSignature: leaf1?.eax ?? 0,
    featureFlags: leaf1?.edx ?? 0,
    pirqIrqs: PIRQ_IRQS,
    levelHighIrqs: LEVEL_HIGH_IRQS,
  }, DIRECT.MP_TABLE);
  ram.write(DIRECT.MP_FLOATING, mp.floating);
  ram.write(DIRECT.MP_TABLE, mp.table);
  // SMBIOS, as SeaBIOS would have installed it (Linux's DMI scan searches the F segment).
  const smbios = buildSmbios({
    cpus: m.cpus,
    cpuSignature: leaf1?.eax ?? 0,
    cpuFeatures: leaf1?.edx ?? 0,
    lowRamBytes: ram.layout.below4g,
    highRamBytes: ram.layout.above4g,
  }, DIRECT.SMBIOS_TABLE);
  ram.write(DIRECT.SMBIOS_ENTRY, smbios.entry);
  ram.write(DIRECT.SMBIOS_TABLE, smbios.table);

  const cmdline = new Uint8Array(plan.cmdline.length + 1);
  cmdline.set(plan.cmdline);
  ram.write(DIRECT.CMDLINE, cmdline);
  const initrd = files.initrd;
  if (initrd && initrd.length > 0) ram.write(plan.initrdAddr, initrd);
  ram.write(DIRECT.GDT, gdt(plan.kind === "bzimage" && plan.header.kernel64));

  if (plan.kind === "pvh") {
    for (const s of plan.elf.segments) {
      ram.view(s.paddr, s.memSize).fill(0);
      ram.write(s.paddr, files.kernel.subarray(s.fileOffset, s.fileOffset + s.fileSize));
    }
    const info = buildStartInfo({
      address: DIRECT.START_INFO,
      cmdlineAddr: DIRECT.CMDLINE,
      initrd: initrd ? { addr: plan.initrdAddr, size: initrd.length } : null,
      rsdpAddr: DIRECT.RSDP,
      memmap: e820,
    });
    ram.write(DIRECT.START_INFO, info);
    enterProtected32(m.vcpu, plan.elf.entry, { rbx: DIRECT.START_INFO });
    return;
  }
  const h = plan.header;
  ram.write(KERNEL_LOAD_ADDR, files.kernel.subarray(h.setupSize));
  const zeroPage = buildZeroPage(
    files.kernel,
    h,
    {
      cmdlineAddr: DIRECT.CMDLINE,
      initrdAddr: plan.initrdAddr,
      initrdSize: initrd?.length ?? 0,
    },
    e820,
    DIRECT.RSDP,
  );
  ram.write(DIRECT.ZERO_PAGE, zeroPage);
  if (h.kernel64) {
    writePageTables(ram);
    enterLong64(m.vcpu, KERNEL_LOAD_ADDR + STARTUP_64_OFFSET, DIRECT.ZERO_PAGE);
  } else {
    enterProtected32(m.vcpu, KERNEL_LOAD_ADDR, { rsi: DIRECT.ZERO_PAGE });
  }
}

/**
 * The fw_cfg items QEMU gives SeaBIOS for `-kernel` (bzImage): the real-mode
 * setup at 0x10000 with the loader's header fields filled in, the
 * protected-mode kernel for 1 MiB, the command line for 0x20000 and the
 * initrd, plus linuxboot_dma.bin as a ROM SeaBIOS runs first.
 * @throws {KernelError} when the option ROM is not installed
 */
export function addKernelFwCfg(fwCfg: FwCfg, files: KernelFiles, plan: KernelPlan): void {
  if (plan.kind !== "bzimage") throw new KernelError("kernel: fw_cfg boot needs a bzImage");
  let rom: Uint8Array;
  try {
    rom = Deno.readFileSync(LINUXBOOT_ROM);
  } catch {
    throw new KernelError(
      `--kernel with SeaBIOS needs ${LINUXBOOT_ROM} (Debian's qemu-system-data); ` +
        `or boot with --firmware none`,
    );
  }
  const h = plan.header;
  const setup = files.kernel.slice(0, h.setupSize);
  const initrd = files.initrd ?? new Uint8Array(0);
  patchSetupHeader(setup, h, {
    cmdlineAddr: DIRECT.CMDLINE,
    initrdAddr: plan.initrdAddr,
    initrdSize: initrd.length,
  });
  const cmdline = new Uint8Array(plan.cmdline.length + 1);
  cmdline.set(plan.cmdline);
  const K = FW_CFG_KERNEL;
  const items: [number, Uint8Array][] = [
    [K.SETUP_ADDR, le32(SETUP_ADDR)],
    [K.SETUP_SIZE, le32(setup.length)],
    [K.SETUP_DATA, setup],
    [K.KERNEL_ADDR, le32(KERNEL_LOAD_ADDR)],
    [K.KERNEL_SIZE, le32(h.kernelSize)],
    [K.KERNEL_DATA, files.kernel.subarray(h.setupSize)],
    [K.CMDLINE_ADDR, le32(DIRECT.CMDLINE)],
    [K.CMDLINE_SIZE, le32(cmdline.length)],
    [K.CMDLINE_DATA, cmdline],
    [K.INITRD_ADDR, le32(plan.initrdAddr)],
    [K.INITRD_SIZE, le32(initrd.length)],
    [K.INITRD_DATA, initrd],
  ];
  for (const [key, data] of items) fwCfg.addItem(key, data);
  fwCfg.addFile(LINUXBOOT_FILE, rom);
  // SeaBIOS boots the ROM before any disk, as QEMU's bootindex 0 for it.
  fwCfg.addFile("bootorder", new TextEncoder().encode(`/rom@${LINUXBOOT_FILE}\0`));
}

/** The GDT both entries expect: __BOOT_CS at 0x10, __BOOT_DS at 0x18. */
function gdt(long: boolean): Uint8Array {
  const out = new Uint8Array(32);
  const v = new DataView(out.buffer);
  v.setBigUint64(16, long ? 0x00af9b000000ffffn : 0x00cf9b000000ffffn, true);
  v.setBigUint64(24, 0x00cf93000000ffffn, true);
  return out;
}

/** Identity page tables for the first 4 GiB with 2 MiB pages. */
function writePageTables(ram: GuestRam): void {
  const pml4 = DIRECT.PML4;
  const pdpt = pml4 + 0x1000;
  const pd = pml4 + 0x2000;
  ram.view(pml4, 0x6000).fill(0);
  ram.writeU64(pml4, pdpt | 0x03); // present, writable
  for (let i = 0; i < 4; i++) {
    ram.writeU64(pdpt + i * 8, (pd + i * 0x1000) | 0x03);
    for (let j = 0; j < 512; j++) {
      // present, writable, 2 MiB page
      ram.writeU64(pd + i * 0x1000 + j * 8, (i * 512 + j) * 0x200000 + 0x83);
    }
  }
}

const CR0_PE = 0x1;
const CR0_ET = 0x10;
const CR0_PG = 0x80000000;
const CR4_PAE = 0x20;
const EFER_LME = 0x100;
const EFER_LMA = 0x400;

function flatSegments(vcpu: Vcpu, long: boolean): ReturnType<Vcpu["getSregs"]> {
  const sregs = vcpu.getSregs();
  const common = { base: 0, limit: 0xffffffff, present: 1, dpl: 0, s: 1, g: 1, avl: 0 };
  sregs.setSegment("cs", {
    ...common,
    selector: 0x10,
    type: 0xb,
    db: long ? 0 : 1,
    l: long ? 1 : 0,
    unusable: 0,
  });
  for (const seg of ["ds", "es", "fs", "gs", "ss"] as const) {
    sregs.setSegment(seg, { ...common, selector: 0x18, type: 0x3, db: 1, l: 0, unusable: 0 });
  }
  // A busy 32-bit TSS, as VMX entry requires one in protected mode.
  sregs.setSegment("tr", {
    base: 0,
    limit: 0xffff,
    selector: 0,
    type: 0xb,
    present: 1,
    dpl: 0,
    s: 0,
    db: 0,
    l: 0,
    g: 0,
    avl: 0,
    unusable: 0,
  });
  const table = new DataView(
    sregs.bytes.buffer,
    sregs.bytes.byteOffset + LAYOUTS.kvm_sregs.fields.gdt,
  );
  table.setBigUint64(0, BigInt(DIRECT.GDT), true); // struct kvm_dtable: u64 base, u16 limit
  table.setUint16(8, 31, true);
  return sregs;
}

/** 32-bit flat protected mode, paging off, interrupts off, at `entry`. */
function enterProtected32(vcpu: Vcpu, entry: number, regs: { rsi?: number; rbx?: number }): void {
  const sregs = flatSegments(vcpu, false);
  sregs.setControl("cr0", CR0_PE | CR0_ET);
  sregs.setControl("cr4", 0);
  sregs.setControl("efer", 0);
  vcpu.setSregs(sregs);
  setGeneral(vcpu, entry, regs);
}

/** 64-bit mode with the identity page tables, at `entry`, RSI = the zero page. */
function enterLong64(vcpu: Vcpu, entry: number, zeroPage: number): void {
  const sregs = flatSegments(vcpu, true);
  sregs.setControl("cr3", DIRECT.PML4);
  sregs.setControl("cr4", CR4_PAE);
  sregs.setControl("cr0", (CR0_PE | CR0_ET | CR0_PG) >>> 0); // unsigned: PG is bit 31
  sregs.setControl("efer", EFER_LME | EFER_LMA);
  vcpu.setSregs(sregs);
  setGeneral(vcpu, entry, { rsi: zeroPage });
}

/** RIP at `entry`, the given registers, every other general register 0, IF clear. */
function setGeneral(vcpu: Vcpu, entry: number, set: { rsi?: number; rbx?: number }): void {
  const regs = vcpu.getRegs();
  for (const r of ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp"] as const) {
    regs.set(r, 0);
  }
  if (set.rsi !== undefined) regs.set("rsi", set.rsi);
  if (set.rbx !== undefined) regs.set("rbx", set.rbx);
  regs.set("rip", entry);
  regs.set("rflags", 0x2);
  vcpu.setRegs(regs);
}

function le32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, true);
  return out;
}

/**
 * Starts `--kernel` on a freshly built board: loads it and points vCPU 0 at
 * it without firmware, or gives it to SeaBIOS through fw_cfg.
 * @throws {KernelError} when the files do not fit this machine
 */
export function startKernel(board: Board, ram: GuestRam, kvm: Kvm, files: KernelFiles): void {
  const bios = board.config.firmware.kind !== "none";
  const plan = planKernelBoot(files, ram.layout, bios);
  if (bios) {
    addKernelFwCfg(board.devices.fwCfg, files, plan);
    return;
  }
  // What SeaBIOS would have set up: the PM block where the FADT says, the PIRQ routes.
  const pm = board.devices.pm.config;
  pm.write(PMBA, 4, SEABIOS_PM_BASE | 1);
  pm.write(PMREGMISC, 1, 1);
  PIRQ_IRQS.forEach((irq, i) => board.devices.piix3.config.write(PIRQRC + i, 1, irq));
  const cpuid = kvm.supportedCpuid();
  // And the MTRRs, on every vCPU (Linux wants them alike).
  applySeabiosMtrrs(board.vcpus, cpuid, ram.layout.below4g);
  loadKernelDirect(
    {
      ram,
      vcpu: board.vcpus[0],
      cpus: board.config.cpus,
      cpuid,
    },
    files,
    plan,
  );
}
