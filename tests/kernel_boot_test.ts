/**
 * Direct kernel boot, checked three ways on the fixture kernels (bzImage
 * with the 64-bit entry, bzImage with the 32-bit entry, PVH ELF): vmrun
 * without firmware (its own loader and tables), vmrun through SeaBIOS (fw_cfg
 * and QEMU's linuxboot_dma.bin, bzImage only), and QEMU's `-kernel` as the
 * oracle. All must agree on what QEMU fixes: the command line, the initrd's
 * bytes, usable RAM (within 2 MiB), no usable RAM in 0xA0000-0xFFFFF, an RSDP
 * and an MP table.
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";
import {
  fnv1a32,
  KERNEL_EXIT,
  type KernelReport,
  parseKernelReport,
  testInitrd,
  usableRam,
} from "./kernel_report.ts";

const MEMORY_MIB = 128;
const CMDLINE = 'console=ttyS0 root=/dev/vda ro vmrun.test="a b" quiet';
const INITRD = testInitrd(20000);
const TWO_MIB = 2 * 2 ** 20;

function tempInitrd(): string {
  const path = Deno.makeTempFileSync({ suffix: ".initrd" });
  Deno.writeFileSync(path, INITRD);
  return path;
}

async function vmrun(kernel: string, initrd: string, firmware: boolean): Promise<KernelReport> {
  const r = await runVmrun([
    "--headless",
    ...(firmware ? [] : ["--firmware", "none"]),
    "-m",
    `${MEMORY_MIB}M`,
    "--kernel",
    kernel,
    "--initrd",
    initrd,
    "--append",
    CMDLINE,
    "--timeout",
    "90",
  ], { killAfterMs: 120_000 });
  strictEqual(r.code, KERNEL_EXIT, `vmrun exit status; stdout ${r.stdout} stderr ${r.stderr}`);
  return parseKernelReport(r.stdout);
}

async function qemu(kernel: string, initrd: string): Promise<KernelReport> {
  const disk = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.writeFileSync(disk, new Uint8Array(512));
  try {
    const q = new QemuProcess(disk, {
      memoryMiB: MEMORY_MIB,
      killAfterMs: 90_000,
      extraArgs: ["-kernel", kernel, "-initrd", initrd, "-append", CMDLINE],
    });
    const r = await q.finished();
    strictEqual(r.debugExit, KERNEL_EXIT, `QEMU exit; stdout ${r.stdout} stderr ${r.stderr}`);
    return parseKernelReport(r.stdout);
  } finally {
    Deno.removeSync(disk);
  }
}

/** What every side must agree on. */
function checkCommon(side: string, r: KernelReport, reference: KernelReport): void {
  strictEqual(r.cmdline, CMDLINE, `${side}: command line`);
  strictEqual(r.initrd.size, INITRD.length, `${side}: initrd size`);
  strictEqual(r.initrd.fnv, fnv1a32(INITRD), `${side}: initrd bytes (FNV-1a)`);
  strictEqual(r.initrd.addr % 4096, 0, `${side}: initrd page-aligned`);
  ok(r.initrd.addr + r.initrd.size <= MEMORY_MIB * 2 ** 20, `${side}: initrd inside RAM`);
  ok(r.e820.length > 0, `${side}: a memory map`);
  const usable = usableRam(r.e820);
  const expected = usableRam(reference.e820);
  ok(
    Math.abs(usable - expected) <= TWO_MIB,
    `${side}: usable RAM ${usable} vs QEMU's ${expected}`,
  );
  for (const e of r.e820.filter((e) => e.type === 1)) {
    ok(
      e.address + e.length <= 0xa0000 || e.address >= 0x100000,
      `${side}: usable RAM in 0xA0000-0xFFFFF: ${JSON.stringify(e)}`,
    );
  }
  ok(r.rsdp.ok && r.rsdp.addr >= 0xe0000 && r.rsdp.addr < 0x100000, `${side}: RSDP`);
  ok(r.mp.addr >= 0xf0000, `${side}: MP floating pointer in the F segment`);
  strictEqual(r.mp.cpus, 1, `${side}: MP table processors`);
}

kvmTest(
  "bzImage 64-bit entry: vmrun direct and through SeaBIOS agree with QEMU -kernel",
  async () => {
    const initrd = tempInitrd();
    try {
      const kernel = fixture("kernel_bz64");
      const [direct, bios, reference] = await Promise.all([
        vmrun(kernel, initrd, false),
        vmrun(kernel, initrd, true),
        qemu(kernel, initrd),
      ]);
      // QEMU: SeaBIOS and linuxboot run the real-mode setup, which goes on to 32 then 64 bits.
      deepStrictEqual(reference.entries, ["setup", "startup_32", "startup_64"]);
      deepStrictEqual(bios.entries, ["setup", "startup_32", "startup_64"]);
      // Without firmware vmrun enters startup_64 in long mode directly.
      deepStrictEqual(direct.entries, ["startup_64"]);
      strictEqual(direct.lma, 1);
      for (
        const [side, r] of [["direct", direct], ["SeaBIOS", bios], ["QEMU", reference]] as const
      ) {
        checkCommon(side, r, reference);
        strictEqual(r.loader?.loadflags, 0x81, `${side}: LOADED_HIGH | CAN_USE_HEAP`);
        strictEqual(r.loader?.heapEnd, 0xfe00, `${side}: heap_end_ptr`);
      }
      strictEqual(reference.loader?.type, 0xb0);
      strictEqual(direct.loader?.type, 0xff);
      // Direct boot places the initrd by QEMU's rule, so at QEMU's address.
      strictEqual(direct.initrd.addr, reference.initrd.addr);
      // The direct map: RAM below the EBDA, reserved to 1 MiB, RAM from 1 MiB.
      deepStrictEqual(direct.e820.slice(0, 3).map((e) => [e.address, e.type]), [
        [0, 1],
        [0x9fc00, 2],
        [0x100000, 1],
      ]);
    } finally {
      Deno.removeSync(initrd);
    }
  },
);

kvmTest(
  "bzImage 32-bit entry: vmrun direct and through SeaBIOS agree with QEMU -kernel",
  async () => {
    const initrd = tempInitrd();
    try {
      const kernel = fixture("kernel_bz32");
      const [direct, bios, reference] = await Promise.all([
        vmrun(kernel, initrd, false),
        vmrun(kernel, initrd, true),
        qemu(kernel, initrd),
      ]);
      deepStrictEqual(reference.entries, ["setup", "startup_32"]);
      deepStrictEqual(bios.entries, ["setup", "startup_32"]);
      deepStrictEqual(direct.entries, ["startup_32"]);
      for (
        const [side, r] of [["direct", direct], ["SeaBIOS", bios], ["QEMU", reference]] as const
      ) {
        checkCommon(side, r, reference);
        strictEqual(r.loader?.loadflags, 0x81, `${side}: loadflags`);
      }
      strictEqual(direct.initrd.addr, reference.initrd.addr);
    } finally {
      Deno.removeSync(initrd);
    }
  },
);

kvmTest("PVH ELF: vmrun direct agrees with QEMU -kernel", async () => {
  const initrd = tempInitrd();
  try {
    const kernel = fixture("kernel_pvh");
    const [direct, reference] = await Promise.all([
      vmrun(kernel, initrd, false),
      qemu(kernel, initrd),
    ]);
    for (const [side, r] of [["direct", direct], ["QEMU", reference]] as const) {
      deepStrictEqual(r.entries, ["pvh"], side);
      deepStrictEqual(r.startInfo, { magic: 0x336ec578, version: 1 }, side);
      checkCommon(side, r, reference);
    }
  } finally {
    Deno.removeSync(initrd);
  }
});

kvmTest("bad kernels, initrds and command lines: one line, status 2", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const notKernel = `${dir}/not_a_kernel`;
    Deno.writeFileSync(notKernel, new Uint8Array(8192).fill(0x90));
    const old = `${dir}/old_bzimage`;
    const bytes = Deno.readFileSync(fixture("kernel_bz64"));
    new DataView(bytes.buffer).setUint16(0x206, 0x204, true);
    Deno.writeFileSync(old, bytes);
    const big = `${dir}/big_initrd`;
    Deno.writeFileSync(big, new Uint8Array(40 * 2 ** 20));
    const cases: [string[], RegExp][] = [
      [["--kernel", notKernel], /^vmrun: kernel '.*not_a_kernel': not a Linux kernel/],
      [["--kernel", old], /boot protocol 2\.04 is too old/],
      [
        ["-m", "32M", "--kernel", fixture("kernel_bz64"), "--initrd", big],
        /^vmrun: initrd: 40\.0 MiB does not fit/,
      ],
      [
        ["--kernel", fixture("kernel_bz64"), "--append", "x".repeat(2048)],
        /command line of 2048 bytes; this kernel takes at most 2047/,
      ],
      [["--kernel", `${dir}/missing`], /cannot open kernel/],
      [["--initrd", big, fixture("hello")], /--initrd needs --kernel/],
    ];
    await Promise.all(cases.map(async ([args, pattern]) => {
      const r = await runVmrun(["--headless", "--firmware", "none", ...args], {
        killAfterMs: 30_000,
      });
      strictEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      strictEqual(lines.length, 1, r.stderr);
      match(lines[0], pattern);
    }));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
