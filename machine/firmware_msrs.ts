/**
 * MSRs that firmware leaves set up before an OS starts, for boots without
 * firmware (`--firmware none --kernel`) and for every vCPU:
 * - the MTRRs as SeaBIOS's mtrr_setup programs them (default type
 *   write-back, fixed ranges WB below 640 KiB, UC for the VGA window, WP for
 *   the option ROM and BIOS area 0xC0000-0xFFFFF, one variable range making
 *   the PCI hole 0xE0000000-0xFFFFFFFF uncacheable), so Linux finds MTRRs
 *   enabled and sets up PAT as under QEMU;
 * - on AMD, HWCR's TscFreqSel (bit 24), read-only 1 on family 10h and
 *   later, which KVM leaves 0 unless told and Linux reports as a firmware bug
 *   ("TSC doesn't count with P0 frequency").
 *
 * @module
 */

import { KvmError } from "../kvm/errors.ts";
import type { MsrEntry } from "../kvm/state_structs.ts";
import { MSR } from "../kvm/msrs.ts";
import type { CpuidEntry } from "../kvm/structs.ts";

/** Memory types of the MTRRs (Intel SDM vol. 3, 12.11.2). */
export const MTRR_TYPE = { UC: 0, WP: 5, WB: 6 } as const;
/** MTRRdefType: fixed-range enable (bit 10), MTRR enable (bit 11). */
const DEF_TYPE_ENABLE = 0xc00n;
/** A variable range's mask valid bit. */
const MASK_VALID = 0x800n;
/** Where SeaBIOS starts its uncacheable range for the PCI hole (BUILD_MAX_HIGHMEM). */
export const MTRR_PCI_HOLE_BASE = 0xe0000000;
/** AMD's hardware configuration register and its TscFreqSel bit. */
export const MSR_AMD_HWCR = 0xc0010015;
export const HWCR_TSC_FREQ_SEL = 1n << 24n;

/** What the MTRR layout depends on. */
export interface MtrrOptions {
  /** Variable ranges the vCPU has (MTRRcap bits 7:0). */
  readonly variableRanges: number;
  /** Physical address bits (CPUID 0x80000008 EAX bits 7:0; 36 without the leaf). */
  readonly physBits: number;
  /** RAM below 4 GiB. */
  readonly lowRamBytes: number;
}

/** Eight memory types, one per byte, low byte first. */
function fixed(types: (i: number) => number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = v << 8n | BigInt(types(i));
  return v;
}

/**
 * The MTRR writes SeaBIOS makes, in its order: default type off, every
 * variable range cleared, the fixed ranges, the PCI hole UC, then MTRRs
 * enabled with default type WB. Empty when there are no variable ranges.
 */
export function seabiosMtrrs(o: MtrrOptions): MsrEntry[] {
  if (o.variableRanges < 1) return [];
  const ram = o.lowRamBytes;
  const out: MsrEntry[] = [{ index: MSR.IA32_MTRR_DEF_TYPE, value: 0n }];
  for (let i = 0; i < 2 * o.variableRanges; i++) {
    out.push({ index: MSR.IA32_MTRR_PHYSBASE0 + i, value: 0n });
  }
  const { UC, WP, WB } = MTRR_TYPE;
  out.push(
    {
      index: MSR.IA32_MTRR_FIX64K_00000,
      value: fixed((i) => ram >= 0x10000 * (i + 1) ? WB : UC),
    },
    {
      index: MSR.IA32_MTRR_FIX16K_80000,
      value: fixed((i) => ram >= 0x80000 + 0x4000 * (i + 1) ? WB : UC),
    },
    // 0xA0000-0xBFFFF, the VGA window: uncacheable.
    { index: MSR.IA32_MTRR_FIX16K_A0000, value: 0n },
  );
  for (let j = 0; j < 8; j++) {
    out.push({
      index: MSR.IA32_MTRR_FIX4K_C0000 + j,
      value: fixed((i) => ram >= 0xc0000 + j * 0x8000 + 0x8000 * (i + 1) ? WP : UC),
    });
  }
  const physMask = (1n << BigInt(o.physBits)) - 1n;
  const holeSize = (1n << 32n) - BigInt(MTRR_PCI_HOLE_BASE);
  out.push(
    { index: MSR.IA32_MTRR_PHYSBASE0, value: BigInt(MTRR_PCI_HOLE_BASE) | BigInt(UC) },
    { index: MSR.IA32_MTRR_PHYSBASE0 + 1, value: (-holeSize & physMask) | MASK_VALID },
    { index: MSR.IA32_MTRR_DEF_TYPE, value: DEF_TYPE_ENABLE | BigInt(WB) },
  );
  return out;
}

/** Physical address bits from CPUID, as SeaBIOS reads them (36 without leaf 0x80000008). */
export function physBitsOf(cpuid: readonly CpuidEntry[]): number {
  const max = cpuid.find((e) => e.function === 0x80000000)?.eax ?? 0;
  const leaf = cpuid.find((e) => e.function === 0x80000008);
  return max >= 0x80000008 && leaf ? leaf.eax & 0xff : 36;
}

/** True for an AMD CPU (vendor "AuthenticAMD" in leaf 0). */
export function isAmd(cpuid: readonly CpuidEntry[]): boolean {
  const l0 = cpuid.find((e) => e.function === 0);
  return l0 !== undefined && l0.ebx === 0x68747541 && l0.edx === 0x69746e65 &&
    l0.ecx === 0x444d4163;
}

/** What {@link applyFirmwareMsrs} needs of a vCPU. */
export interface MsrVcpu {
  getMsrs(indices: readonly number[]): MsrEntry[];
  readableMsrCount(indices: readonly number[]): number;
  setMsrs(entries: readonly MsrEntry[]): void;
}

/** Programs the MTRRs SeaBIOS would on each vCPU (none when the vCPU has no MTRRs). */
export function applySeabiosMtrrs(
  vcpus: readonly MsrVcpu[],
  cpuid: readonly CpuidEntry[],
  lowRamBytes: number,
): void {
  for (const vcpu of vcpus) {
    if (vcpu.readableMsrCount([MSR.IA32_MTRRCAP]) !== 1) continue;
    const cap = vcpu.getMsrs([MSR.IA32_MTRRCAP])[0].value;
    // SeaBIOS needs fixed ranges (bit 8) as well as variable ones.
    if ((cap & 0x100n) === 0n) continue;
    vcpu.setMsrs(seabiosMtrrs({
      variableRanges: Number(cap & 0xffn),
      physBits: physBitsOf(cpuid),
      lowRamBytes,
    }));
  }
}

/**
 * Sets HWCR.TscFreqSel on an AMD vCPU, as the hardware has it. A KVM that
 * refuses the write leaves the vCPU as it was (Linux then only warns).
 */
export function setTscFreqSel(vcpu: MsrVcpu, cpuid: readonly CpuidEntry[]): void {
  if (!isAmd(cpuid) || vcpu.readableMsrCount([MSR_AMD_HWCR]) !== 1) return;
  const hwcr = vcpu.getMsrs([MSR_AMD_HWCR])[0].value;
  if (hwcr & HWCR_TSC_FREQ_SEL) return;
  try {
    vcpu.setMsrs([{ index: MSR_AMD_HWCR, value: hwcr | HWCR_TSC_FREQ_SEL }]);
  } catch (e) {
    // Older KVM: only McStatusWrEn is writable.
    if (!(e instanceof KvmError)) throw e;
  }
}
