import assert from "node:assert/strict";
import type { CpuidEntry } from "../kvm/structs.ts";
import { vcpuCpuid } from "./cpuid.ts";
import { cpuidEntry as entry, findLeaf as find } from "./cpuid_test_support.ts";

/** What a host KVM might report: host CPU 5's APIC ID, 8 threads, host topology leaves. */
const HOST: CpuidEntry[] = [
  entry(0, 0, { eax: 0x1f }),
  entry(1, 0, { ebx: 0x05100800 | 0x42, edx: 0x178bfbff }),
  entry(4, 0, { eax: 0x1c004121, flags: 1 }), // L1d, shared by 2 threads, 8 cores
  entry(4, 3, { eax: 0x1c03c163, flags: 1 }), // L3, shared by 16
  entry(4, 4, { eax: 0, flags: 1 }), // end of caches
  entry(0xb, 0, { edx: 5, ebx: 2, ecx: 0x100, flags: 1 }),
  entry(0xb, 1, { edx: 5, ebx: 8, ecx: 0x201, flags: 1 }),
  entry(0x80000008, 0, { eax: 0x3030, ecx: 0x7007 }),
];

Deno.test("each vCPU's leaf 1 carries its own APIC ID, not the host CPU's", () => {
  for (const [id, cpus] of [[0, 1], [0, 4], [3, 4], [15, 16]]) {
    const l1 = find(vcpuCpuid(HOST, id, cpus), 1);
    assert.equal(l1.ebx >>> 24, id);
    assert.equal(l1.ebx & 0xffff, 0x0842, "brand index, CLFLUSH size kept");
    assert.equal((l1.ebx >>> 16) & 0xff, cpus === 1 ? 1 : cpus);
    assert.equal((l1.edx & (1 << 28)) !== 0, cpus > 1, "HTT only with more than one CPU");
  }
});

Deno.test("leaves 0xB and 0x1F describe one package of `cpus` cores", () => {
  const list = vcpuCpuid(HOST, 2, 3);
  for (const fn of [0xb, 0x1f]) {
    const [smt, core, end] = [0, 1, 2].map((i) => find(list, fn, i));
    assert.deepEqual([smt.eax, smt.ebx, smt.ecx, smt.edx], [0, 1, 0x100, 2]);
    assert.deepEqual([core.eax, core.ebx, core.ecx, core.edx], [2, 3, 0x201, 2]);
    assert.deepEqual([end.eax, end.ebx, end.ecx & 0xff00], [0, 0, 0]);
    assert.equal(list.filter((e) => e.function === fn).length, 3, "host subleaves dropped");
  }
});

Deno.test("cache and extended leaves count this machine's cores", () => {
  const list = vcpuCpuid(HOST, 0, 4);
  assert.equal(find(list, 4, 0).eax >>> 26, 3);
  assert.equal((find(list, 4, 3).eax >>> 14) & 0xfff, 3, "L3 shared by the package");
  assert.equal((find(list, 4, 0).eax >>> 14) & 0xfff, 0, "L1 private to a core");
  assert.equal(find(list, 4, 4).eax, 0, "the end of the cache list stays");
  assert.equal(find(list, 0x80000008).ecx & 0xff, 3);
  assert.equal(find(HOST, 1).ebx >>> 24, 5, "the input is not changed");
});

Deno.test("a CPU without leaf 0xB gets none", () => {
  const old = [entry(0, 0, { eax: 4 }), entry(1, 0, {})];
  assert.equal(vcpuCpuid(old, 0, 2).some((e) => e.function === 0xb), false);
});
