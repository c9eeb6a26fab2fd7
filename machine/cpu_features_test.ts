import assert from "node:assert/strict";
import type { CpuidEntry } from "../kvm/structs.ts";
import {
  applyCpuFeatures,
  canonicalFeature,
  CPU_FEATURES,
  CpuSpecError,
  formatCpuSpec,
  parseCpuSpec,
  unsupportedFeatures,
} from "./cpu_features.ts";
import { vcpuCpuid } from "./cpuid.ts";
import { cpuidEntry as entry, findLeaf as find } from "./cpuid_test_support.ts";

/** What this host's PVM-backed KVM reports (KVM_GET_SUPPORTED_CPUID, abridged). */
const SUPPORTED: CpuidEntry[] = [
  entry(0, 0, { eax: 0x10 }),
  entry(1, 0, { ebx: 0x01020800, ecx: 0x81202000, edx: 0x078bfbff }),
  entry(7, 0, { flags: 1, ebx: 0x01800002, ecx: 0x104, edx: 0x20000000 }),
  entry(0xd, 1, { flags: 1 }),
  entry(0x80000001, 0, { ecx: 0x400393, edx: 0x23d3fbff }),
];

Deno.test("--cpu parses QEMU's -cpu words: +f, -f, f=on|off, a bare f, the last one winning", () => {
  assert.deepEqual(parseCpuSpec("host"), []);
  assert.deepEqual(parseCpuSpec("max,-xsave"), [{ name: "xsave", on: false }]);
  assert.deepEqual(
    parseCpuSpec("host,-xsave,popcnt=off,+x2apic,cx16,sse4_1=off,tsc_deadline=on"),
    [
      { name: "xsave", on: false },
      { name: "popcnt", on: false },
      { name: "x2apic", on: true },
      { name: "cx16", on: true },
      { name: "sse4.1", on: false },
      { name: "tsc-deadline", on: true },
    ],
  );
  assert.deepEqual(parseCpuSpec("host,+avx,-avx"), [{ name: "avx", on: false }]);
  assert.deepEqual(parseCpuSpec("host,-avx,avx=on,-smap"), [
    { name: "avx", on: true },
    { name: "smap", on: false },
  ]);
  assert.equal(formatCpuSpec(parseCpuSpec("host,-xsave,+cx16")), "host,-xsave,+cx16");
});

Deno.test("--cpu: QEMU's other spellings name the same bit", () => {
  for (const [word, name] of [["sse4-2", "sse4.2"], ["SSE4_1", "sse4.1"], ["sse3", "pni"]]) {
    assert.equal(canonicalFeature(word), name);
  }
  assert.equal(canonicalFeature("arch_capabilities"), "arch-capabilities");
  assert.equal(canonicalFeature("nonsense"), null);
});

Deno.test("--cpu refuses other models, empty words, bad values and unknown features", () => {
  const bad: [string, RegExp][] = [
    ["qemu64,-xsave", /'qemu64'.*'host' or 'max'/],
    ["", /''.*'host'/],
    ["host,,-xsave", /empty feature/],
    ["host,xsave=maybe", /on or off/],
    ["host,-xsav", /unknown CPU feature 'xsav' \(did you mean xsave/],
    ["host,+popcount", /unknown CPU feature 'popcount' \(did you mean popcnt/],
    ["host,-zzzzzzzzzz", /unknown CPU feature 'zzzzzzzzzz' \(see/],
  ];
  for (const [spec] of bad) assert.throws(() => parseCpuSpec(spec), CpuSpecError, spec);
  for (const [spec, re] of bad) assert.throws(() => parseCpuSpec(spec), re, spec);
});

Deno.test("the feature table puts the common bits where the SDM says", () => {
  const at = (n: string) => {
    const b = CPU_FEATURES.get(n)!;
    return [b.leaf, b.subleaf, b.register, b.bit];
  };
  assert.deepEqual(at("cx16"), [1, 0, "ecx", 13]);
  assert.deepEqual(at("xsave"), [1, 0, "ecx", 26]);
  assert.deepEqual(at("popcnt"), [1, 0, "ecx", 23]);
  assert.deepEqual(at("x2apic"), [1, 0, "ecx", 21]);
  assert.deepEqual(at("hypervisor"), [1, 0, "ecx", 31]);
  assert.deepEqual(at("smap"), [7, 0, "ebx", 20]);
  assert.deepEqual(at("smep"), [7, 0, "ebx", 7]);
  assert.deepEqual(at("arch-capabilities"), [7, 0, "edx", 29]);
  assert.deepEqual(at("xsaves"), [0xd, 1, "eax", 3]);
  assert.deepEqual(at("lm"), [0x80000001, 0, "edx", 29]);
  assert.deepEqual(at("nx"), [0x80000001, 0, "edx", 20]);
  assert.deepEqual(at("pdpe1gb"), [0x80000001, 0, "edx", 26]);
  const seen = new Set<string>();
  for (const b of CPU_FEATURES.values()) {
    const key = `${b.leaf}.${b.subleaf}.${b.register}.${b.bit}`;
    assert.ok(!seen.has(key), `two names for ${key}`);
    seen.add(key);
  }
});

Deno.test("features turned off are cleared in every vCPU's CPUID, the rest kept", () => {
  const off = parseCpuSpec("host,-x2apic,-cx16,-arch-capabilities,-lm,-fpu");
  const list = vcpuCpuid(SUPPORTED, 0, 1, off);
  assert.equal(find(list, 1).ecx, 0x81000000, "x2apic and cx16 cleared");
  assert.equal(find(list, 7).edx, 0);
  assert.equal(find(list, 7).ebx, 0x01800002, "other leaf 7 bits kept");
  assert.equal(find(list, 0x80000001).edx, 0x03d3fbfe, "lm, and AMD's copy of fpu");
  assert.equal(find(list, 1).edx, 0x078bfbfe);
  assert.equal(find(list, 1).ebx >>> 24, 0, "the APIC ID is still written");
  assert.equal(find(SUPPORTED, 1).ecx, 0x81202000, "the input is not changed");
  assert.deepEqual(applyCpuFeatures(SUPPORTED, parseCpuSpec("host,+x2apic")), SUPPORTED);
  const ht = vcpuCpuid(SUPPORTED, 1, 2, parseCpuSpec("host,-ht"));
  assert.equal(find(ht, 1).edx & (1 << 28), 0, "-ht wins over the SMP HTT bit");
});

Deno.test("+feat must be a bit KVM offers; -feat may name any", () => {
  assert.deepEqual(unsupportedFeatures(SUPPORTED, parseCpuSpec("host,+x2apic,+cx16,-avx")), []);
  assert.deepEqual(
    unsupportedFeatures(SUPPORTED, parseCpuSpec("host,+avx,+x2apic,xsave=on")),
    ["avx", "xsave"],
  );
  assert.deepEqual(unsupportedFeatures([], parseCpuSpec("host,+x2apic")), ["x2apic"]);
});
