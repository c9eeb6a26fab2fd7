/**
 * `--cpu host[,+feat][,-feat][,feat=on|off]...`: QEMU's -cpu syntax over the
 * one model vmrun has, the host's CPU as KVM offers it (`max` is an alias).
 * Each named feature is one CPUID bit, cleared or kept in the CPUID every
 * vCPU gets through KVM_SET_CPUID2.
 *
 * @module
 */

import type { CpuidEntry } from "../kvm/structs.ts";

/** A CPUID register. */
export type CpuidRegister = "eax" | "ebx" | "ecx" | "edx";

/** Where a feature's bit is. */
export interface CpuFeatureBit {
  readonly leaf: number;
  readonly subleaf: number;
  readonly register: CpuidRegister;
  readonly bit: number;
}

/** A feature the user turned on or off, by its QEMU name. */
export interface CpuFeatureConfig {
  readonly name: string;
  readonly on: boolean;
}

/** The CPU models `--cpu` accepts: KVM's host CPU, under QEMU's two names for it. */
export const CPU_MODELS = ["host", "max"] as const;

const bits = (
  leaf: number,
  subleaf: number,
  register: CpuidRegister,
  names: Record<string, number>,
): [string, CpuFeatureBit][] =>
  Object.entries(names).map(([name, bit]) => [name, { leaf, subleaf, register, bit }]);

/**
 * QEMU's feature names (target/i386/cpu.c spells them so; Intel SDM vol. 2A
 * CPUID, AMD APM vol. 3 for 0x8000_0001). OSXSAVE and OSPKE are left out:
 * they follow the guest's CR4, not the CPUID it is given.
 */
export const CPU_FEATURES: ReadonlyMap<string, CpuFeatureBit> = new Map([
  ...bits(1, 0, "edx", {
    fpu: 0,
    vme: 1,
    de: 2,
    pse: 3,
    tsc: 4,
    msr: 5,
    pae: 6,
    mce: 7,
    cx8: 8,
    apic: 9,
    sep: 11,
    mtrr: 12,
    pge: 13,
    mca: 14,
    cmov: 15,
    pat: 16,
    pse36: 17,
    clflush: 19,
    ds: 21,
    acpi: 22,
    mmx: 23,
    fxsr: 24,
    sse: 25,
    sse2: 26,
    ss: 27,
    ht: 28,
    tm: 29,
    pbe: 31,
  }),
  ...bits(1, 0, "ecx", {
    pni: 0,
    pclmulqdq: 1,
    dtes64: 2,
    monitor: 3,
    "ds-cpl": 4,
    vmx: 5,
    smx: 6,
    est: 7,
    tm2: 8,
    ssse3: 9,
    fma: 12,
    cx16: 13,
    xtpr: 14,
    pdcm: 15,
    pcid: 17,
    dca: 18,
    "sse4.1": 19,
    "sse4.2": 20,
    x2apic: 21,
    movbe: 22,
    popcnt: 23,
    "tsc-deadline": 24,
    aes: 25,
    xsave: 26,
    avx: 28,
    f16c: 29,
    rdrand: 30,
    hypervisor: 31,
  }),
  ...bits(7, 0, "ebx", {
    fsgsbase: 0,
    "tsc-adjust": 1,
    bmi1: 3,
    hle: 4,
    avx2: 5,
    smep: 7,
    bmi2: 8,
    erms: 9,
    invpcid: 10,
    rtm: 11,
    mpx: 14,
    avx512f: 16,
    avx512dq: 17,
    rdseed: 18,
    adx: 19,
    smap: 20,
    avx512ifma: 21,
    clflushopt: 23,
    clwb: 24,
    avx512cd: 28,
    "sha-ni": 29,
    avx512bw: 30,
    avx512vl: 31,
  }),
  ...bits(7, 0, "ecx", {
    avx512vbmi: 1,
    umip: 2,
    pku: 3,
    waitpkg: 5,
    avx512vbmi2: 6,
    gfni: 8,
    vaes: 9,
    vpclmulqdq: 10,
    avx512vnni: 11,
    avx512bitalg: 12,
    "avx512-vpopcntdq": 14,
    la57: 16,
    rdpid: 22,
    cldemote: 25,
    movdiri: 27,
    movdir64b: 28,
  }),
  ...bits(7, 0, "edx", {
    fsrm: 4,
    "md-clear": 10,
    serialize: 14,
    "tsx-ldtrk": 16,
    "arch-lbr": 19,
    "spec-ctrl": 26,
    stibp: 27,
    "arch-capabilities": 29,
    "core-capability": 30,
    ssbd: 31,
  }),
  ...bits(0xd, 1, "eax", { xsaveopt: 0, xsavec: 1, xgetbv1: 2, xsaves: 3 }),
  ...bits(0x80000001, 0, "ecx", {
    "lahf-lm": 0,
    "cmp-legacy": 1,
    svm: 2,
    extapic: 3,
    cr8legacy: 4,
    abm: 5,
    sse4a: 6,
    misalignsse: 7,
    "3dnowprefetch": 8,
    osvw: 9,
    ibs: 10,
    xop: 11,
    skinit: 12,
    wdt: 13,
    lwp: 15,
    fma4: 16,
    tce: 17,
    "nodeid-msr": 19,
    tbm: 21,
    topoext: 22,
    "perfctr-core": 23,
    "perfctr-nb": 24,
  }),
  ...bits(0x80000001, 0, "edx", {
    syscall: 11,
    nx: 20,
    mmxext: 22,
    "fxsr-opt": 25,
    pdpe1gb: 26,
    rdtscp: 27,
    lm: 29,
    "3dnowext": 30,
    "3dnow": 31,
  }),
  ...bits(0x80000007, 0, "edx", { invtsc: 8 }),
  ...bits(0x80000008, 0, "ebx", { wbnoinvd: 9, ibpb: 12, "amd-ssbd": 24, "virt-ssbd": 25 }),
]);

/**
 * Leaf 1 EDX features that AMD CPUs repeat in CPUID 0x8000_0001 EDX (the
 * same bit numbers): QEMU clears both copies, and so does vmrun.
 */
const AMD_ALIASES = 0x0183f3ff;

/** Every bit `name` stands for: its own, and the AMD copy of a leaf 1 EDX bit. */
function featureBits(name: string): CpuFeatureBit[] {
  const bit = CPU_FEATURES.get(name);
  if (!bit) return [];
  const amd = bit.leaf === 1 && bit.register === "edx" && ((AMD_ALIASES >>> bit.bit) & 1) === 1;
  return amd ? [bit, { leaf: 0x80000001, subleaf: 0, register: "edx", bit: bit.bit }] : [bit];
}

/** Other names QEMU accepts for the same bits. */
const ALIASES: Readonly<Record<string, string>> = {
  sse3: "pni",
  "sse4-1": "sse4.1",
  "sse4-2": "sse4.2",
  xd: "nx",
  "i64": "lm",
  "ffxsr": "fxsr-opt",
  "pclmuldq": "pclmulqdq",
  "sha": "sha-ni",
};

/** A bad `--cpu` value: the one line to show. */
export class CpuSpecError extends Error {
  override name = "CpuSpecError";
}

/** The canonical name of `word` (QEMU treats '_' as '-'), or null for an unknown feature. */
export function canonicalFeature(word: string): string | null {
  const w = word.toLowerCase().replaceAll("_", "-");
  const name = ALIASES[w] ?? w;
  return CPU_FEATURES.has(name) ? name : null;
}

/**
 * Parses `host[,+feat|-feat|feat=on|feat=off|feat]...`. The last word for a
 * feature wins, as in QEMU.
 * @throws {CpuSpecError} for another model, a bad word or an unknown feature
 */
export function parseCpuSpec(spec: string): CpuFeatureConfig[] {
  const [model, ...words] = spec.split(",");
  if (!(CPU_MODELS as readonly string[]).includes(model)) {
    throw new CpuSpecError(
      `'${model}': the only CPU model is the host's as KVM offers it ('host' or 'max'), ` +
        `e.g. host,-xsave`,
    );
  }
  const chosen = new Map<string, boolean>();
  for (const word of words) {
    if (word === "") throw new CpuSpecError(`'${spec}': empty feature between commas`);
    let feature = word;
    let on = true;
    if (word[0] === "+" || word[0] === "-") {
      on = word[0] === "+";
      feature = word.slice(1);
    } else if (word.includes("=")) {
      const [f, value] = word.split("=", 2);
      if (!["on", "off", "true", "false", "yes", "no"].includes(value)) {
        throw new CpuSpecError(`'${word}': a feature is on or off`);
      }
      feature = f;
      on = ["on", "true", "yes"].includes(value);
    }
    const name = canonicalFeature(feature);
    if (name === null) throw new CpuSpecError(unknownFeature(feature));
    chosen.delete(name);
    chosen.set(name, on);
  }
  return [...chosen].map(([name, on]) => ({ name, on }));
}

/** The message for an unknown feature, naming the closest known ones. */
function unknownFeature(word: string): string {
  const w = word.toLowerCase().replaceAll("_", "-");
  const names = [...CPU_FEATURES.keys(), ...Object.keys(ALIASES)];
  const close = names
    .map((n) => ({ n, d: editDistance(w, n) }))
    .filter(({ n, d }) => d <= Math.max(1, Math.floor(n.length / 3)) || n.startsWith(w))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, 5)
    .map(({ n }) => n);
  return `unknown CPU feature '${word}'` +
    (close.length ? ` (did you mean ${close.join(", ")}?)` : " (see vmrun's README for the names)");
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The entry that holds `bit`, if the CPUID list has it. */
function entryFor(list: readonly CpuidEntry[], bit: CpuFeatureBit): CpuidEntry | undefined {
  return list.find((e) => e.function === bit.leaf && e.index === bit.subleaf);
}

/** Whether KVM's supported CPUID has the feature's bit set. */
export function kvmSupports(supported: readonly CpuidEntry[], name: string): boolean {
  const bit = CPU_FEATURES.get(name);
  if (!bit) return false;
  const e = entryFor(supported, bit);
  return e !== undefined && ((e[bit.register] >>> bit.bit) & 1) === 1;
}

/**
 * The features turned on that KVM cannot offer (none of which may be
 * given): `+feat` keeps a bit KVM supports, it never invents one.
 */
export function unsupportedFeatures(
  supported: readonly CpuidEntry[],
  features: readonly CpuFeatureConfig[],
): string[] {
  return features.filter((f) => f.on && !kvmSupports(supported, f.name)).map((f) => f.name);
}

/**
 * `entries` with each feature turned off cleared; features turned on are
 * left as they are (KVM's supported value, checked by {@link unsupportedFeatures}).
 */
export function applyCpuFeatures(
  entries: readonly CpuidEntry[],
  features: readonly CpuFeatureConfig[],
): CpuidEntry[] {
  const out = entries.map((e) => ({ ...e }));
  for (const f of features) {
    if (f.on) continue;
    for (const bit of featureBits(f.name)) {
      const e = entryFor(out, bit);
      if (e) e[bit.register] = (e[bit.register] & ~(1 << bit.bit)) >>> 0;
    }
  }
  return out;
}

/** The `--cpu` text for `features` (for messages and QEMU command lines). */
export function formatCpuSpec(features: readonly CpuFeatureConfig[]): string {
  return ["host", ...features.map((f) => `${f.on ? "+" : "-"}${f.name}`)].join(",");
}
