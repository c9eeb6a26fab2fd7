import { deepStrictEqual, strictEqual } from "node:assert";
import { buildDsdtAml, LINK_NAMES, PCI_WINDOW64_SIZE, SCI_LINK } from "./acpi_dsdt.ts";

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

function indexOf(haystack: Uint8Array, needle: readonly number[], from = 0): number {
  for (let i = from; i + needle.length <= haystack.length; i++) {
    if (needle.every((b, j) => haystack[i + j] === b)) return i;
  }
  return -1;
}

function count(haystack: Uint8Array, needle: readonly number[]): number {
  let n = 0;
  for (let at = indexOf(haystack, needle); at >= 0; at = indexOf(haystack, needle, at + 1)) n++;
  return n;
}

/** Where each Device (seg) starts (its ExtOpPrefix): 5B 82, a 1-4 byte PkgLength, the name. */
function deviceAt(aml: Uint8Array, seg: string): number[] {
  const out: number[] = [];
  const name = ascii(seg.padEnd(4, "_"));
  for (let at = indexOf(aml, name); at >= 0; at = indexOf(aml, name, at + 1)) {
    for (let size = 1; size <= 4; size++) {
      const lead = at - size;
      if (aml[lead] >> 6 === size - 1 && aml[lead - 1] === 0x82 && aml[lead - 2] === 0x5b) {
        out.push(lead - 2);
      }
    }
  }
  return out;
}

/** The [min, max] of the address descriptors with `tag` and `length` in order of appearance. */
function ranges(aml: Uint8Array, tag: number, width: number): [bigint, bigint][] {
  const length = 3 + 5 * width;
  const out: [bigint, bigint][] = [];
  const view = new DataView(aml.buffer, aml.byteOffset);
  const read = (at: number) =>
    width === 8
      ? view.getBigUint64(at, true)
      : BigInt(width === 4 ? view.getUint32(at, true) : view.getUint16(at, true));
  for (
    let at = indexOf(aml, [tag, length, 0]);
    at >= 0;
    at = indexOf(aml, [tag, length, 0], at + 1)
  ) {
    // Tag, length (2), type, general flags, type flags, granularity, then min and max.
    out.push([read(at + 6 + width), read(at + 6 + 2 * width)]);
  }
  return out;
}

Deno.test("acpi_dsdt: the 32-bit hole starts at the end of low RAM, never below 1 MiB", () => {
  const dword = (lowRamBytes: number) => ranges(buildDsdtAml({ cpus: 1, lowRamBytes }), 0x87, 4);
  deepStrictEqual(dword(128 << 20), [[0xa0000n, 0xbffffn], [0x08000000n, 0xfebfffffn]]);
  deepStrictEqual(dword(0xe0000000), [[0xa0000n, 0xbffffn], [0xe0000000n, 0xfebfffffn]]);
  deepStrictEqual(dword(512 << 10)[1], [0x100000n, 0xfebfffffn]);
  deepStrictEqual(ranges(buildDsdtAml({ cpus: 1 }), 0x87, 4)[1], [0xe0000000n, 0xfebfffffn]);
});

Deno.test("acpi_dsdt: the 64-bit window starts above high RAM on a 1 GiB boundary", () => {
  const qword = (highRamBytes: number) => ranges(buildDsdtAml({ cpus: 1, highRamBytes }), 0x8a, 8);
  const size = BigInt(PCI_WINDOW64_SIZE);
  deepStrictEqual(qword(0), [[1n << 32n, (1n << 32n) + size - 1n]]);
  deepStrictEqual(qword(0x60000000), [[6n << 30n, (6n << 30n) + size - 1n]]); // 4 + 1.5 -> 6 GiB
  deepStrictEqual(qword(2 ** 32), [[8n << 30n, (8n << 30n) + size - 1n]]);
});

Deno.test("acpi_dsdt: one processor device per CPU, links, ISA devices and \\_S5_ last", () => {
  for (const cpus of [1, 2, 16]) {
    const aml = buildDsdtAml({ cpus });
    strictEqual(count(aml, [0x0d, ...ascii("ACPI0007"), 0]), cpus);
    for (let i = 0; i < cpus; i++) {
      strictEqual(deviceAt(aml, `C${i.toString(16).toUpperCase().padStart(3, "0")}`).length, 1);
    }
    // Device (PCI0), Device (ISA), the ISA devices and the links, once each.
    for (const seg of ["PCI0", "ISA", "RTC", "KBD", "MOU", "COM1", ...LINK_NAMES, SCI_LINK]) {
      strictEqual(deviceAt(aml, seg).length, 1, seg);
    }
    strictEqual(count(aml, [0x0c, 0x41, 0xd0, 0x0c, 0x0f]), 5); // PNP0C0F
    // Name (\_S5_, Package (4) { 0, 0, 0, 0 }) ends the block.
    deepStrictEqual([...aml.subarray(-13)], [
      0x08,
      0x5c,
      ...ascii("_S5_"),
      0x12,
      0x06,
      0x04,
      0,
      0,
      0,
      0,
    ]);
  }
});

Deno.test("acpi_dsdt: the SCI link offers only the SCI's IRQ", () => {
  const aml = buildDsdtAml({ cpus: 1, sciIrq: 11 });
  const [at] = deviceAt(aml, SCI_LINK);
  // Its _PRS and _CRS: an extended interrupt descriptor (level, active high, shared) for IRQ 11.
  strictEqual(count(aml.subarray(at), [0x89, 0x06, 0x00, 0x09, 0x01, 11, 0, 0, 0]), 2);
});
