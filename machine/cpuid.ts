/**
 * Each vCPU's CPUID: what KVM supports, with the topology of this machine
 * written in. KVM_GET_SUPPORTED_CPUID reports the host CPU's APIC ID and
 * topology (of whichever host CPU ran the ioctl); a guest compares CPUID's
 * APIC ID with its LAPIC's and counts CPUs from these leaves, so every vCPU
 * gets its own ID and all agree on one package of `cpus` cores with one
 * thread each.
 *
 * @module
 */

import type { CpuidEntry } from "../kvm/structs.ts";
import { applyCpuFeatures, type CpuFeatureConfig } from "./cpu_features.ts";

/** KVM_CPUID_FLAG_SIGNIFCANT_INDEX: the entry applies to one subleaf. */
const SIGNIFICANT_INDEX = 1;
const LEAF_FEATURES = 1;
const LEAF_CACHE = 4;
const LEAF_TOPOLOGY = 0xb;
const LEAF_TOPOLOGY_V2 = 0x1f;
const LEAF_EXT_SIZES = 0x80000008;
/** CPUID.1:EDX.HTT: the package has more than one logical processor. */
const EDX_HTT = 1 << 28;
/** Topology level types in leaf 0xB/0x1F ECX[15:8]. */
const LEVEL_SMT = 1;
const LEVEL_CORE = 2;

/** Bits needed to number `n` things (0 for one). */
function idBits(n: number): number {
  return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
}

/** The topology subleaves (0xB and 0x1F share them): SMT, core, then the end mark. */
function topologyLeaves(fn: number, apicId: number, cpus: number): CpuidEntry[] {
  const shift = idBits(cpus);
  const leaf = (index: number, eax: number, ebx: number, ecx: number): CpuidEntry => ({
    function: fn,
    index,
    flags: SIGNIFICANT_INDEX,
    eax,
    ebx,
    ecx: (ecx | index) >>> 0,
    edx: apicId,
  });
  return [
    leaf(0, 0, 1, LEVEL_SMT << 8),
    leaf(1, shift, cpus, LEVEL_CORE << 8),
    leaf(2, 0, 0, 0),
  ];
}

/**
 * CPUID for vCPU `apicId` of a machine with `cpus` vCPUs (APIC IDs 0 to
 * cpus-1), from KVM's supported entries, with the `--cpu` features turned
 * off cleared.
 */
export function vcpuCpuid(
  supported: readonly CpuidEntry[],
  apicId: number,
  cpus: number,
  features: readonly CpuFeatureConfig[] = [],
): CpuidEntry[] {
  const maxBasic = supported.find((e) => e.function === 0)?.eax ?? 0;
  const addressable = 1 << idBits(cpus);
  const out: CpuidEntry[] = [];
  for (const e of supported) {
    if (e.function === LEAF_TOPOLOGY || e.function === LEAF_TOPOLOGY_V2) continue;
    const c = { ...e };
    if (c.function === LEAF_FEATURES) {
      c.ebx = ((c.ebx & 0x0000ffff) | ((addressable & 0xff) << 16) | ((apicId & 0xff) << 24)) >>>
        0;
      c.edx = (cpus > 1 ? c.edx | EDX_HTT : c.edx & ~EDX_HTT) >>> 0;
    } else if (c.function === LEAF_CACHE && (c.eax & 0x1f) !== 0) {
      // EAX[31:26]: addressable core IDs in the package - 1; EAX[25:14]: sharing threads - 1.
      const shared = (c.eax >>> 5 & 7) === 3 ? addressable : 1;
      c.eax = ((c.eax & 0x3fff) | ((shared - 1) << 14) | ((addressable - 1) << 26)) >>> 0;
    } else if (c.function === LEAF_EXT_SIZES) {
      // ECX[7:0]: cores in the package - 1; ECX[15:12]: APIC ID bits for them.
      c.ecx = ((c.ecx & ~0xf0ff) | (cpus - 1) | (idBits(cpus) << 12)) >>> 0;
    }
    out.push(c);
  }
  if (maxBasic >= LEAF_TOPOLOGY) out.push(...topologyLeaves(LEAF_TOPOLOGY, apicId, cpus));
  if (maxBasic >= LEAF_TOPOLOGY_V2) out.push(...topologyLeaves(LEAF_TOPOLOGY_V2, apicId, cpus));
  return applyCpuFeatures(out, features);
}
