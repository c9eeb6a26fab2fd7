import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { buildSmbios, SMBIOS_BIOS_DATE, SMBIOS_PRODUCT } from "./smbios.ts";
import { VMRUN_VERSION } from "./version.ts";

const OPTIONS = {
  cpus: 2,
  cpuSignature: 0x00a00f11,
  cpuFeatures: 0x178bfbff,
  lowRamBytes: 256 * 2 ** 20,
  highRamBytes: 0,
};
const TABLE_AT = 0xf8100;

function sum(b: Uint8Array): number {
  return b.reduce((s, x) => s + x, 0) & 0xff;
}

/** Walks the table: [type, handle, formatted area, strings] per structure. */
function walk(table: Uint8Array): [number, number, Uint8Array, string[]][] {
  const out: [number, number, Uint8Array, string[]][] = [];
  let at = 0;
  while (at < table.length) {
    const len = table[at + 1];
    const area = table.subarray(at, at + len);
    let end = at + len;
    const strings: string[] = [];
    if (table[end] === 0 && table[end + 1] === 0) {
      end += 2;
    } else {
      while (table[end] !== 0) {
        const s = end;
        while (table[end] !== 0) end++;
        strings.push(new TextDecoder().decode(table.subarray(s, end)));
        end++;
      }
      end++;
    }
    out.push([area[0], area[2] | area[3] << 8, area, strings]);
    at = end;
  }
  return out;
}

Deno.test("smbios: a 2.8 entry point with valid checksums pointing at the whole table", () => {
  const { entry, table } = buildSmbios(OPTIONS, TABLE_AT);
  const v = new DataView(entry.buffer);
  strictEqual(new TextDecoder().decode(entry.subarray(0, 4)), "_SM_");
  strictEqual(new TextDecoder().decode(entry.subarray(16, 21)), "_DMI_");
  deepStrictEqual([entry.length, entry[5], entry[6], entry[7], entry[30]], [31, 31, 2, 8, 0x28]);
  strictEqual(sum(entry), 0);
  strictEqual(sum(entry.subarray(16)), 0);
  deepStrictEqual([v.getUint16(22, true), v.getUint32(24, true)], [table.length, TABLE_AT]);
  const structs = walk(table);
  strictEqual(v.getUint16(28, true), structs.length);
  const longest = Math.max(
    ...structs.map(([, , a, s]) =>
      a.length + (s.length ? s.reduce((n, x) => n + x.length + 1, 1) : 2)
    ),
  );
  strictEqual(v.getUint16(8, true), longest);
});

Deno.test("smbios: types 0, 1, 3, 4, 16, 17, 19, 32, 127 with QEMU's handles", () => {
  const structs = walk(buildSmbios(OPTIONS, TABLE_AT).table);
  deepStrictEqual(structs.map(([t, h]) => [t, h]), [
    [0, 0x0000],
    [1, 0x0100],
    [3, 0x0300],
    [4, 0x0400],
    [16, 0x1000],
    [17, 0x1100],
    [19, 0x1300],
    [32, 0x2000],
    [127, 0x7f00],
  ]);
  const byType = new Map(structs.map((s) => [s[0], s]));
  deepStrictEqual(byType.get(0)![3], ["vmrun", VMRUN_VERSION, SMBIOS_BIOS_DATE]);
  deepStrictEqual(byType.get(1)![3], ["vmrun", SMBIOS_PRODUCT, VMRUN_VERSION]);
  const cpu = byType.get(4)![2];
  const cv = new DataView(cpu.buffer, cpu.byteOffset);
  deepStrictEqual([cv.getUint32(8, true), cv.getUint32(12, true)], [0x00a00f11, 0x178bfbff]);
  deepStrictEqual([cpu[35], cpu[36], cpu[37]], [2, 2, 2]);
  const dimm = byType.get(17)![2];
  strictEqual(new DataView(dimm.buffer, dimm.byteOffset).getUint16(12, true), 256);
  const map = byType.get(19)![2];
  const mv = new DataView(map.buffer, map.byteOffset);
  deepStrictEqual([mv.getUint32(4, true), mv.getUint32(8, true)], [0, 256 * 1024 - 1]);
});

Deno.test("smbios: RAM above 4 GiB gets its own region; a 16 GiB DIMM each, as QEMU", () => {
  const structs = walk(
    buildSmbios({ ...OPTIONS, lowRamBytes: 0xe0000000, highRamBytes: 30 * 2 ** 30 }, TABLE_AT)
      .table,
  );
  const dimms = structs.filter(([t]) => t === 17).map(([, , a, s]) => [
    new DataView(a.buffer, a.byteOffset).getUint16(12, true),
    s[0],
  ]);
  deepStrictEqual(dimms, [[16384, "DIMM 0"], [16384, "DIMM 1"], [1536, "DIMM 2"]]);
  const regions = structs.filter(([t]) => t === 19).map(([, , a]) => {
    const v = new DataView(a.buffer, a.byteOffset);
    return [v.getUint32(4, true), v.getUint32(8, true)];
  });
  deepStrictEqual(regions, [[0, 0xe0000000 / 1024 - 1], [4 * 2 ** 20, (4 + 30) * 2 ** 20 - 1]]);
});

/** dmidecode reads a dump: the entry point at 0, the table at 32 (the entry's address patched). */
async function dmidecode(options: typeof OPTIONS): Promise<string | null> {
  const { entry, table } = buildSmbios(options, 32);
  const dump = new Uint8Array(32 + table.length);
  dump.set(entry);
  dump.set(table, 32);
  const file = Deno.makeTempFileSync({ prefix: "vmrun-smbios-" });
  try {
    Deno.writeFileSync(file, dump);
    const r = await new Deno.Command("dmidecode", {
      args: ["--from-dump", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    strictEqual(r.code, 0, dec.decode(r.stderr));
    return dec.decode(r.stdout) + dec.decode(r.stderr);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  } finally {
    Deno.removeSync(file);
  }
}

Deno.test("smbios: dmidecode decodes every structure without complaint", async () => {
  const out = await dmidecode(OPTIONS);
  ok(out !== null, "dmidecode not installed (deno run -A tests/setup.ts --test)");
  match(out, /SMBIOS 2\.8 present\./);
  match(out, /9 structures occupying \d+ bytes\./);
  ok(!/invalid|wrong|truncated|unknown type|checksum/i.test(out), out);
  match(out, /BIOS Information\n\tVendor: vmrun\n\tVersion: [\d.]+\n\tRelease Date: 12\/06\/2026/);
  match(
    out,
    /System Information\n\tManufacturer: vmrun\n\tProduct Name: Standard PC \(i440FX \+ PIIX, 1996\)/,
  );
  match(out, /System is a virtual machine/);
  match(out, /Core Count: 2/);
  match(out, /Memory Device\n(?:\t.*\n)*\tSize: 256 MB/);
  match(out, /Range Size: 256 MB/);
  match(out, /End Of Table/);
});
