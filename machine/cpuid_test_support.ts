/**
 * CPUID entries for the CPUID tests: building a table the way KVM reports
 * one, and finding a leaf in it.
 *
 * @module
 */

import type { CpuidEntry } from "../kvm/structs.ts";

/** Leaf `fn`, subleaf `index`, with `regs` set and the rest zero. */
export function cpuidEntry(fn: number, index: number, regs: Partial<CpuidEntry>): CpuidEntry {
  return { function: fn, index, flags: 0, eax: 0, ebx: 0, ecx: 0, edx: 0, ...regs };
}

/** Leaf `fn`, subleaf `index` of `list`; throws when there is none. */
export function findLeaf(list: readonly CpuidEntry[], fn: number, index = 0): CpuidEntry {
  const e = list.find((e) => e.function === fn && e.index === index);
  if (!e) throw new Error(`no CPUID leaf 0x${fn.toString(16)}.${index}`);
  return e;
}
