import { deepStrictEqual, strictEqual } from "node:assert";
import { MSR } from "../kvm/msrs.ts";
import { isAmd, physBitsOf, seabiosMtrrs } from "./firmware_msrs.ts";

Deno.test("mtrrs: SeaBIOS's layout: WB default, fixed WB/UC/WP, the PCI hole UC", () => {
  const m = new Map(
    seabiosMtrrs({ variableRanges: 8, physBits: 40, lowRamBytes: 256 << 20 })
      .map((e) => [e.index, e.value]),
  );
  strictEqual(m.get(MSR.IA32_MTRR_FIX64K_00000), 0x0606060606060606n);
  strictEqual(m.get(MSR.IA32_MTRR_FIX16K_80000), 0x0606060606060606n);
  strictEqual(m.get(MSR.IA32_MTRR_FIX16K_A0000), 0n);
  for (let j = 0; j < 8; j++) {
    strictEqual(m.get(MSR.IA32_MTRR_FIX4K_C0000 + j), 0x0505050505050505n);
  }
  strictEqual(m.get(MSR.IA32_MTRR_PHYSBASE0), 0xe0000000n);
  strictEqual(m.get(MSR.IA32_MTRR_PHYSBASE0 + 1), 0xffe0000800n);
  for (let i = 2; i < 16; i++) strictEqual(m.get(MSR.IA32_MTRR_PHYSBASE0 + i), 0n);
  strictEqual(m.get(MSR.IA32_MTRR_DEF_TYPE), 0xc06n);
});

Deno.test("mtrrs: MTRRs are off while being written and enabled last", () => {
  const list = seabiosMtrrs({ variableRanges: 8, physBits: 36, lowRamBytes: 128 << 20 });
  deepStrictEqual(list[0], { index: MSR.IA32_MTRR_DEF_TYPE, value: 0n });
  deepStrictEqual(list.at(-1), { index: MSR.IA32_MTRR_DEF_TYPE, value: 0xc06n });
  strictEqual(list.at(-2)!.value, 0xfe0000800n);
  deepStrictEqual(seabiosMtrrs({ variableRanges: 0, physBits: 36, lowRamBytes: 1 << 20 }), []);
});

Deno.test("mtrrs: physical bits from leaf 0x80000008, 36 without it; AMD by vendor", () => {
  const e = (fn: number, eax = 0, ebx = 0, ecx = 0, edx = 0) => ({
    function: fn,
    index: 0,
    flags: 0,
    eax,
    ebx,
    ecx,
    edx,
  });
  strictEqual(physBitsOf([e(0x80000000, 0x80000008), e(0x80000008, 0x3030)]), 48);
  strictEqual(physBitsOf([e(0x80000000, 0x80000004)]), 36);
  strictEqual(isAmd([e(0, 0xd, 0x68747541, 0x444d4163, 0x69746e65)]), true);
  strictEqual(isAmd([e(0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69)]), false);
});
