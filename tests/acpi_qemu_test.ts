/**
 * vmrun's ACPI tables against QEMU's, as a guest sees them: the acpi_tables
 * fixture, booted by the same SeaBIOS under vmrun and under QEMU with KVM
 * (both with 128 MiB and one CPU), walks RSDP -> RSDT and prints the table
 * list, the FADT and MADT bodies and the DSDT's _HIDs (see
 * fixtures/src/acpi_tables.asm). Where vmrun differs on purpose the
 * difference is masked here, each with its reason.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { kvmTest } from "./kvm_available.ts";
import { bootBoth } from "./side_by_side.ts";

/** The fixture's isa-debug-exit value after "end". */
const TABLES_EXIT = 0x23;
// A hang guard, not a performance check: either run takes a few seconds on a quiet host.
const RUN_LIMIT_MS = 90_000;

/** The fixture's report: line name -> the rest of the line. */
type Report = Map<string, string>;

function parse(stdout: string): Report {
  const report: Report = new Map();
  for (const line of stdout.split("\r\n")) {
    const m = /^(\w+):(.*)$/.exec(line);
    if (m) report.set(m[1], m[2].trim());
  }
  ok(stdout.endsWith("end\r\n"), `the fixture did not finish: ${JSON.stringify(stdout)}`);
  return report;
}

function get(report: Report, name: string): string {
  const v = report.get(name);
  ok(v !== undefined, `no '${name}:' line`);
  return v;
}

function bytes(report: Report, name: string): number[] {
  return get(report, name).split(" ").map((h) => parseInt(h, 16));
}

let reports: Promise<{ vmrun: Report; qemu: Report }> | undefined;

/** Boots the fixture once in each VM, both at once. */
function bothReports(): Promise<{ vmrun: Report; qemu: Report }> {
  reports ??= (async () => {
    const both = await bootBoth("acpi_tables", TABLES_EXIT, RUN_LIMIT_MS);
    return { vmrun: parse(both.vmrun), qemu: parse(both.qemu) };
  })();
  return reports;
}

/** Tables QEMU lists that vmrun leaves out, with the reason. */
const QEMU_ONLY_TABLES: Record<string, string> = {
  WAET: "a hint for Windows (RTC and PM timer need no workarounds), not read by Linux",
};

kvmTest("acpi vs QEMU: the RSDP and the RSDT's tables, checksums valid", async () => {
  const { vmrun, qemu } = await bothReports();
  // Revision 0 in both: ACPI 1.0 RSDP and RSDT, as QEMU's PC machine gives SeaBIOS.
  deepStrictEqual([get(vmrun, "rsdp"), get(qemu, "rsdp")], ["00", "00"]);
  const qemuTables = get(qemu, "tables").split(" ");
  const vmrunTables = get(vmrun, "tables").split(" ");
  // "!" after a signature marks a bad checksum.
  ok(
    ![...qemuTables, ...vmrunTables].some((t) => t.endsWith("!")),
    `${qemuTables} / ${vmrunTables}`,
  );
  deepStrictEqual(vmrunTables, qemuTables.filter((t) => !(t in QEMU_ONLY_TABLES)));
  deepStrictEqual(vmrunTables, ["FACP", "APIC", "HPET"]);
  deepStrictEqual([get(vmrun, "facs"), get(vmrun, "dsdt")], [get(qemu, "facs"), get(qemu, "dsdt")]);
  deepStrictEqual([get(vmrun, "facs"), get(vmrun, "dsdt")], ["FACS", "DSDT"]);
});

kvmTest("acpi vs QEMU: the MADT is byte for byte QEMU's", async () => {
  const { vmrun, qemu } = await bothReports();
  // Local APIC address, PCAT_COMPAT; LAPIC 0; I/O APIC 0 at 0xFEC00000; IRQ 0 -> GSI 2;
  // IRQs 5, 9, 10, 11 level, active high; LAPIC NMI on LINT1 for all processors.
  deepStrictEqual(bytes(vmrun, "madt"), bytes(qemu, "madt"));
});

kvmTest("acpi vs QEMU: the HPET table is byte for byte QEMU's", async () => {
  const { vmrun, qemu } = await bothReports();
  // Block ID 0x8086A201, base 0xFED00000 in system memory, HPET 0, minimum tick, no protection.
  deepStrictEqual(bytes(vmrun, "hpet"), bytes(qemu, "hpet"));
  deepStrictEqual(bytes(vmrun, "hpet").slice(0, 4), [0x01, 0xa2, 0x86, 0x80]);
});

/** FADT fields (offset in the table, bytes) both must agree on. */
const FADT_COMMON: Record<string, [number, number]> = {
  SCI_INT: [46, 2],
  PM1A_EVT_BLK: [56, 4],
  PM1B_EVT_BLK: [60, 4],
  PM1A_CNT_BLK: [64, 4],
  PM1B_CNT_BLK: [68, 4],
  PM2_CNT_BLK: [72, 4],
  PM_TMR_BLK: [76, 4],
  PM1_EVT_LEN: [88, 1],
  PM1_CNT_LEN: [89, 1],
  PM2_CNT_LEN: [90, 1],
  PM_TMR_LEN: [91, 1],
  GPE0_BLK_LEN: [92, 1],
  P_LVL2_LAT: [96, 2],
  P_LVL3_LAT: [98, 2],
  CENTURY: [108, 1],
};

/**
 * FADT flags both must agree on: WBINVD (0), PROC_C1 (2), PWR_BUTTON (4: clear, the
 * fixed-feature power button), SLP_BUTTON (5), TMR_VAL_EXT (8: clear, 24-bit PM timer),
 * HW_REDUCED_ACPI (20: clear). The others differ on purpose:
 * - FIX_RTC (6): vmrun's PIIX4 never raises RTC_STS, so it says the RTC wake status is not
 *   in the fixed registers; QEMU's leaves it 0;
 * - RTC_S4 (7): QEMU can wake from S4 by the RTC; vmrun has no S4;
 * - RESET_REG_SUP (10): vmrun's revision 3 FADT has the reset register (0xCF9 = 6); QEMU's
 *   revision 1 FADT has no field for it;
 * - USE_PLATFORM_CLOCK (15): a hint for Windows' time keeping, not read by Linux.
 */
const FADT_COMMON_FLAGS = 1 << 0 | 1 << 2 | 1 << 4 | 1 << 5 | 1 << 8 | 1 << 20;

function field(body: number[], [offset, size]: [number, number]): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + body[offset - 36 + i];
  return v;
}

kvmTest("acpi vs QEMU: the FADT's PM blocks, SCI, latencies, century and flags agree", async () => {
  const { vmrun, qemu } = await bothReports();
  const v = bytes(vmrun, "fadt");
  const q = bytes(qemu, "fadt");
  const pick = (body: number[]) =>
    Object.fromEntries(Object.entries(FADT_COMMON).map(([k, at]) => [k, field(body, at)]));
  deepStrictEqual(pick(v), pick(q));
  strictEqual(field(v, [112, 4]) & FADT_COMMON_FLAGS, field(q, [112, 4]) & FADT_COMMON_FLAGS);
  // Facts about this host's QEMU that the comparison relies on: SeaBIOS put the PM block
  // at 0x600 in both, and the PM timer is 24-bit at PM base + 8.
  deepStrictEqual([field(q, [76, 4]), field(q, [91, 1]), field(q, [112, 4]) & 1 << 8], [
    0x608,
    4,
    0,
  ]);

  // Deliberate differences:
  // - revision 3 (244 bytes) against QEMU's revision 1 (116): the IA-PC boot flags, the
  //   reset register and the 64-bit X_ blocks Linux prefers;
  deepStrictEqual([v.length + 36, q.length + 36], [244, 116]);
  deepStrictEqual(field(v, [109, 2]), 0x0003); // legacy devices, 8042
  deepStrictEqual([v[116 - 36], field(v, [120, 4]), v[128 - 36]], [1, 0xcf9, 6]);
  // - SMI_CMD: QEMU lists none (its PM block is taken as already in ACPI mode); vmrun's
  //   PIIX4 starts with SCI_EN clear, and the OS switches it on by writing ACPI_ENABLE
  //   (0xF1) to APMC at 0xB2, as the PIIX4 on real boards asks;
  deepStrictEqual([field(q, [48, 4]), field(v, [48, 4]), v[52 - 36], v[53 - 36]], [
    0,
    0xb2,
    0xf1,
    0xf0,
  ]);
  // - GPE0_BLK: QEMU's GPE block is its own at 0xAFE0 (for its hotplug events); vmrun's is the
  //   PIIX4's general-purpose status/enable at PM base + 0x0C.
  deepStrictEqual([field(q, [80, 4]), field(v, [80, 4])], [0xafe0, 0x60c]);
});

/** Devices in QEMU's DSDT that vmrun's has not, by _HID, with the reason. */
const QEMU_ONLY_HIDS: Record<string, string> = {
  PNP0700: "the floppy controller: vmrun has none",
  ACPI0006: "QEMU's GPE block device for its hotplug events",
  ACPI0010: "QEMU's processor container for CPU hotplug",
  PNP0A06: "QEMU's hotplug resource containers (PCI, CPU and memory hotplug ports)",
  QEMU0002: "QEMU's fw_cfg device (vmrun's fw_cfg serves SeaBIOS only)",
};
/** Devices in vmrun's DSDT that QEMU's has not, by _HID, with the reason. */
const VMRUN_ONLY_HIDS: Record<string, string> = {
  ACPI0007: "vmrun's processor devices; QEMU declares its CPUs with Processor() objects, " +
    "which have no _HID",
};

kvmTest(
  "acpi vs QEMU: the DSDT has QEMU's PC devices: PCI0, the links, RTC, PS/2 keyboard and mouse, COM1, HPET",
  async () => {
    const { vmrun, qemu } = await bothReports();
    const hids = (r: Report) => get(r, "hid").split(" ").map((h) => h.toUpperCase()).sort();
    const v = hids(vmrun);
    const q = hids(qemu);
    deepStrictEqual(
      v.filter((h) => !(h in VMRUN_ONLY_HIDS)),
      q.filter((h) => !(h in QEMU_ONLY_HIDS)),
    );
    deepStrictEqual(v.filter((h) => h === "PNP0C0F").length, 5); // LNKA-LNKD, LNKS
    for (const h of ["PNP0A03", "PNP0B00", "PNP0303", "PNP0F13", "PNP0501", "PNP0103"]) {
      ok(v.includes(h), h);
    }
    strictEqual(v.filter((h) => h === "ACPI0007").length, 1); // one CPU
  },
);
