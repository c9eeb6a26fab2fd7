/**
 * A real Debian kernel (the current linux-image-cloud-amd64, fetched with
 * apt into /tmp by tests/debian_kernel.ts) boots under vmrun and under QEMU
 * with KVM, side by side, with the same memory, CPUs, initrd and command
 * line, and the two early boot logs agree in substance: the "Linux
 * version" and "Command line:" lines, the usable RAM of the e820 map
 * (within 2 MiB: firmware reserves some), the RAMDISK's size, the SMBIOS
 * version and the board's product name in the DMI line, the PAT layout
 * (MTRRs set up as SeaBIOS does), no firmware-bug or MTRR complaint, the
 * ACPI tables (HPET included) and the HPET Linux found, and "smpboot:
 * Allowing N CPUs". Each run stops at that line.
 *
 * The kernel starts at its PVH entry (the ELF vmlinux inside the bzImage):
 * its decompressor alone needs minutes on this host, whose KVM emulates
 * guest ring-0 code, under QEMU as under vmrun. `clearcpuid=` keeps it off
 * the instructions this KVM cannot run (see the README's CPU features).
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import {
  debianCloudKernel,
  EARLY_LOG,
  earlyLogInitrd,
  qemuEarlyLogArgs,
  vmrunEarlyLogArgs,
} from "./debian_kernel.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";

const CMDLINE = EARLY_LOG.cmdline;
const MEMORY_MIB = EARLY_LOG.memoryMiB;
const CPUS = EARLY_LOG.cpus;
/** Both runs stop here (a few lines after the ACPI tables and the e820 map). */
const LAST_LINE = /smpboot: Allowing \d+ CPUs/;
/** A hang guard per run: the host is shared and the early log takes a minute or two. */
const GUARD_MS = 240_000;

/** The log's lines without their timestamps. */
function lines(log: string): string[] {
  return log.split(/\r?\n/).map((l) => l.replace(/^\[\s*\d+\.\d+\]\s/, ""));
}

/** The facts compared: each from the first line that gives it. */
function facts(log: string) {
  const ls = lines(log);
  const line = (re: RegExp) => ls.find((l) => re.test(l)) ?? null;
  let usable = 0;
  for (const l of ls) {
    const m = /^BIOS-e820: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] usable/.exec(l);
    if (m) usable += parseInt(m[2], 16) - parseInt(m[1], 16) + 1;
  }
  const ramdisk = /RAMDISK: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\]/.exec(log);
  const tables = new Set(
    ls.map((l) => /^ACPI: ([A-Z0-9]{4}) 0x/.exec(l)?.[1]).filter((t): t is string =>
      t !== undefined && !["RSDP", "RSDT", "XSDT"].includes(t)
    ),
  );
  const dmi = /^DMI: (.*?) (Standard PC .*), BIOS (\S+) (\S+)$/.exec(line(/^DMI: /) ?? "");
  return {
    version: line(/^Linux version /),
    smbios: line(/^SMBIOS \d/),
    /** The DMI line's product (the system vendor and BIOS are each VMM's own). */
    dmiProduct: dmi?.[2] ?? null,
    dmiBiosDate: dmi?.[4] ?? null,
    pat: line(/^x86\/PAT: Configuration/),
    complaints: ls.filter((l) =>
      /Firmware Bug|MTRRs disabled|MTRRs all blank|MTRR.*(?:inconsistent|bogus)/.test(l)
    ),
    hpet: line(/^ACPI: HPET id: /),
    cmdline: line(/^Command line: /),
    usable,
    ramdiskBytes: ramdisk ? parseInt(ramdisk[2], 16) - parseInt(ramdisk[1], 16) + 1 : null,
    tables,
    cpus: line(/^smpboot: Allowing /)?.match(/Allowing (\d+) CPUs/)?.[1] ?? null,
  };
}

kvmTest("a Debian kernel's early boot log under vmrun matches QEMU's in substance", async () => {
  const kernel = await debianCloudKernel();
  const initrd = await earlyLogInitrd("vmrun-initrd-");
  const qemu = new QemuProcess(fixture("halt"), {
    memoryMiB: MEMORY_MIB,
    killAfterMs: GUARD_MS,
    extraArgs: qemuEarlyLogArgs(kernel.vmlinux, initrd),
  });
  try {
    const [v] = await Promise.all([
      runVmrun(vmrunEarlyLogArgs(kernel.vmlinux, initrd, LAST_LINE.source, GUARD_MS), {
        killAfterMs: GUARD_MS + 20_000,
      }),
      qemu.waitForStdout(" hotplug CPUs", GUARD_MS).finally(() => qemu.kill()),
    ]);
    strictEqual(v.code, 0, `vmrun: ${v.stderr}\n${v.stdout.slice(-2000)}`);
    const mine = facts(v.stdout);
    const theirs = facts(qemu.stdout);
    const both = `\nvmrun:\n${v.stdout}\nQEMU:\n${qemu.stdout}`;
    ok(mine.version?.includes(kernel.pkg.replace(/^linux-image-/, "")), both);
    strictEqual(mine.version, theirs.version, both);
    strictEqual(mine.cmdline, `Command line: ${CMDLINE}`, both);
    strictEqual(theirs.cmdline, mine.cmdline, both);
    ok(Math.abs(mine.usable - theirs.usable) <= 2 << 20, `usable RAM ${mine.usable}: ${both}`);
    ok(mine.usable > (MEMORY_MIB - 2) << 20, both);
    ok(mine.ramdiskBytes !== null, both);
    strictEqual(mine.ramdiskBytes, theirs.ramdiskBytes, both);
    // The tables Linux needs are there; each is one QEMU has too.
    for (const t of ["FACP", "DSDT", "FACS", "APIC"]) ok(mine.tables.has(t), `${t}: ${both}`);
    deepStrictEqual([...mine.tables].filter((t) => !theirs.tables.has(t)), [], both);
    // SMBIOS and DMI: the entry point version and the board's name as QEMU's.
    strictEqual(mine.smbios, "SMBIOS 2.8 present.", both);
    strictEqual(theirs.smbios, mine.smbios, both);
    strictEqual(mine.dmiProduct, "Standard PC (i440FX + PIIX, 1996)", both);
    strictEqual(theirs.dmiProduct, mine.dmiProduct, both);
    ok(/^\d\d\/\d\d\/\d{4}$/.test(mine.dmiBiosDate ?? ""), both);
    // MTRRs as SeaBIOS sets them: PAT is set up alike, and nothing is reported as broken.
    ok(mine.pat !== null, both);
    strictEqual(mine.pat, theirs.pat, both);
    deepStrictEqual(mine.complaints, [], both);
    deepStrictEqual(theirs.complaints, [], both);
    // The HPET: its table, and the block Linux found through it.
    ok(mine.tables.has("HPET") && theirs.tables.has("HPET"), both);
    strictEqual(mine.hpet, "ACPI: HPET id: 0x8086a201 base: 0xfed00000", both);
    strictEqual(theirs.hpet, mine.hpet, both);
    strictEqual(mine.cpus, String(CPUS), both);
    strictEqual(theirs.cpus, mine.cpus, both);
  } finally {
    qemu.kill();
    await qemu.finished();
    Deno.removeSync(initrd);
  }
});
