/**
 * Every place a guest learns the CPU count agrees, for 1 to MAX_CPUS vCPUs:
 * the MADT's local APICs, the MP table's processors, CMOS 0x5f (SeaBIOS),
 * and each vCPU's CPUID.01H:EBX APIC ID.
 */

import { deepStrictEqual, strictEqual } from "node:assert";
import { pcCmosBytes } from "../devices/cmos_rtc.ts";
import type { CpuidEntry } from "../kvm/structs.ts";
import { buildAcpiTables } from "./acpi.ts";
import { MAX_CPUS } from "./config.ts";
import { vcpuCpuid } from "./cpuid.ts";
import { buildMpTable } from "./mptable.ts";

const SUPPORTED: CpuidEntry[] = [
  { function: 0, index: 0, flags: 0, eax: 0xd, ebx: 0, ecx: 0, edx: 0 },
  { function: 1, index: 0, flags: 0, eax: 0x906ed, ebx: 0x07100800, ecx: 0, edx: 0x178bfbff },
];

/** APIC IDs of the enabled Processor Local APIC entries of the MADT in `tables`. */
function madtApicIds(tables: Uint8Array): number[] {
  const view = new DataView(tables.buffer, tables.byteOffset, tables.byteLength);
  for (let at = 0; at + 8 <= tables.length; at++) {
    if (String.fromCharCode(...tables.subarray(at, at + 4)) !== "APIC") continue;
    const end = at + view.getUint32(at + 4, true);
    const ids: number[] = [];
    for (let e = at + 44; e < end; e += tables[e + 1]) {
      if (tables[e] === 0 && (view.getUint32(e + 4, true) & 1)) ids.push(tables[e + 3]);
      if (tables[e + 1] === 0) break;
    }
    return ids;
  }
  throw new Error("no MADT");
}

/** APIC IDs of the enabled processor entries of an MP configuration table. */
function mpApicIds(table: Uint8Array): number[] {
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const count = view.getUint16(34, true);
  const ids: number[] = [];
  let e = 44;
  for (let i = 0; i < count; i++) {
    if (table[e] === 0) {
      if (table[e + 3] & 1) ids.push(table[e + 1]);
      e += 20;
    } else e += 8;
  }
  return ids;
}

Deno.test("MADT, MP table, CMOS and CPUID agree on the CPUs for 1 to 16", () => {
  for (let cpus = 1; cpus <= MAX_CPUS; cpus++) {
    const ids = Array.from({ length: cpus }, (_, i) => i);
    deepStrictEqual(madtApicIds(buildAcpiTables({ cpus }).tables), ids, `MADT, ${cpus}`);
    const mp = buildMpTable({
      cpus,
      cpuSignature: 0x906ed,
      featureFlags: 0x178bfbff,
      pirqIrqs: [10, 10, 11, 11],
      levelHighIrqs: [5, 9, 10, 11],
    }, 0xf0000);
    deepStrictEqual(mpApicIds(mp.table), ids, `MP table, ${cpus}`);
    const cmos = pcCmosBytes({ ramBytes: 128 << 20, lowRamBytes: 128 << 20, cpus });
    strictEqual(new Map(cmos).get(0x5f), cpus - 1, `CMOS 0x5f, ${cpus}`);
    for (const id of ids) {
      const leaf1 = vcpuCpuid(SUPPORTED, id, cpus).find((e) => e.function === 1)!;
      strictEqual(leaf1.ebx >>> 24, id, `CPUID APIC ID, vCPU ${id} of ${cpus}`);
    }
  }
});
