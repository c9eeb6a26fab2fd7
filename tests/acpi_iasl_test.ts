/**
 * vmrun's ACPI tables through ACPICA's own tools (Debian's acpica-tools,
 * installed by tests/setup.ts):
 * - `iasl -d` disassembles every table without an error or a warning, and
 *   the disassembled DSDT compiles again with none (remarks included);
 * - the disassembly says what the tables are meant to hold: the devices in
 *   the DSDT, the FADT's PM blocks and flags, one local APIC per CPU;
 * - `acpiexec` runs the DSDT's methods in ACPICA's interpreter: the PIRQ
 *   links set, report and disable their routing register, \_S5 evaluates.
 *
 * The RSDP is not given to iasl: it has no table header, and this iasl
 * reads a file's length from the header. machine/acpi_test.ts checks it.
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { pirqFor } from "../devices/pci/pci_irq.ts";
import { layoutAcpiTables, type PlacedAcpiTables } from "../machine/acpi.ts";

const CONFIGS = [
  { cpus: 1, lowRamBytes: 128 << 20 },
  { cpus: 16, lowRamBytes: 0xe0000000, highRamBytes: 2 ** 32 },
];
const PLACE = { rsdpAddress: 0xf5a40, tablesAddress: 0x07fe0000 };

interface Run {
  readonly code: number;
  readonly output: string;
}

async function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  let r;
  try {
    r = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    throw new Error(
      `${cmd} not runnable (install acpica-tools: deno run -A tests/setup.ts --test): ${e}`,
    );
  }
  const dec = new TextDecoder();
  return { code: r.code, output: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** Writes each table but the RSDP to `dir` as <signature>.dat; returns the names. */
function writeTables(placed: PlacedAcpiTables, dir: string): string[] {
  const view = new DataView(placed.tables.buffer);
  return Object.values(placed.layout).map((at) => {
    const sig = new TextDecoder().decode(placed.tables.subarray(at, at + 4)).toLowerCase();
    Deno.writeFileSync(
      `${dir}/${sig}.dat`,
      placed.tables.subarray(at, at + view.getUint32(at + 4, true)),
    );
    return sig;
  });
}

/** The tables of `config` written to a fresh directory and disassembled. */
async function disassembled(config: (typeof CONFIGS)[number]) {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-acpi-" });
  const names = writeTables(layoutAcpiTables(config, PLACE), dir);
  const runs = new Map<string, Run>();
  for (const n of names) runs.set(n, await run("iasl", ["-d", `${n}.dat`], dir));
  const dsl = (n: string) => Deno.readTextFileSync(`${dir}/${n}.dsl`);
  return { dir, names, runs, dsl };
}

for (const config of CONFIGS) {
  const label = `${config.cpus} CPU(s), ${config.lowRamBytes / 2 ** 20} MiB low RAM`;

  Deno.test(`acpi iasl: every table disassembles without errors or warnings (${label})`, async () => {
    const { dir, names, runs } = await disassembled(config);
    try {
      deepStrictEqual(names.sort(), ["apic", "dsdt", "facp", "facs", "hpet", "rsdt", "xsdt"]);
      for (const [n, r] of runs) {
        strictEqual(r.code, 0, `iasl -d ${n}.dat:\n${r.output}`);
        ok(!/error|warning/i.test(r.output), `iasl -d ${n}.dat:\n${r.output}`);
        ok(Deno.statSync(`${dir}/${n}.dsl`).size > 0);
      }
      // The DSDT's disassembly compiles again: no errors, warnings or remarks.
      const c = await run("iasl", ["-p", "recompiled", "dsdt.dsl"], dir);
      strictEqual(c.code, 0, c.output);
      match(c.output, /Compilation successful\. 0 Errors, 0 Warnings, 0 Remarks/);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });

  Deno.test(`acpi iasl: the disassembly holds the devices, PM blocks and CPUs (${label})`, async () => {
    const { dir, dsl } = await disassembled(config);
    try {
      const dsdt = dsl("dsdt");
      const device = (name: string, hid: string) =>
        match(dsdt, new RegExp(`Device \\(${name}\\)\\s*\\{\\s*Name \\(_HID, ${hid}`), name);
      device("PCI0", 'EisaId \\("PNP0A03"\\)');
      device("RTC", 'EisaId \\("PNP0B00"\\)');
      device("KBD", 'EisaId \\("PNP0303"\\)');
      device("MOU", 'EisaId \\("PNP0F13"\\)');
      device("COM1", 'EisaId \\("PNP0501"\\)');
      device("HPET", 'EisaId \\("PNP0103"\\)');
      match(dsdt, /Memory32Fixed \(ReadOnly,\s*0xFED00000,\s*\/\/ Address Base\s*0x00000400,/);
      for (const link of ["LNKA", "LNKB", "LNKC", "LNKD", "LNKS"]) {
        device(link, 'EisaId \\("PNP0C0F"\\)');
      }
      strictEqual(dsdt.match(/Name \(_HID, "ACPI0007"/g)?.length, config.cpus);
      match(
        dsdt,
        /Name \(_ADR, 0x00010000\)\s*\/\/ _ADR: Address\s*OperationRegion \(PIRQ, PCI_Config, 0x60, 0x04\)/,
      );
      match(
        dsdt,
        /Field \(PCI0\.ISA\.PIRQ, ByteAcc, NoLock, Preserve\)\s*\{\s*PRQ0,\s*8,\s*PRQ1,\s*8,\s*PRQ2,\s*8,\s*PRQ3,\s*8/,
      );
      match(dsdt, /Name \(_PRT, Package \(0x80\)/);
      // Each slot's INTA-INTD on the link of the PIIX3 PIRQ pci_irq.ts drives; 00:01 INTA# on LNKS.
      const prt = [
        ...dsdt.matchAll(
          /Package \(0x04\)\s*\{\s*(0x[0-9A-F]+),\s*(Zero|One|0x0[23]),\s*(LNK[A-DS]),\s*Zero\s*\}/g,
        ),
      ]
        .map((
          m,
        ) => [
          parseInt(m[1], 16),
          m[2] === "Zero" ? 0 : m[2] === "One" ? 1 : parseInt(m[2], 16),
          m[3],
        ]);
      const expected = [];
      for (let slot = 0; slot < 32; slot++) {
        for (let pin = 0; pin < 4; pin++) {
          const link = slot === 1 && pin === 0 ? "LNKS" : `LNK${"ABCD"[pirqFor(slot, pin + 1)]}`;
          expected.push([slot << 16 | 0xffff, pin, link]);
        }
      }
      deepStrictEqual(prt, expected);
      match(dsdt, /Name \(\\_S5, Package \(0x04\)/);
      // The host bridge's windows, the first _CRS in the table.
      const lowRam = BigInt(config.lowRamBytes);
      const base64 = 2n ** 32n + BigInt(config.highRamBytes ?? 0);
      deepStrictEqual(descriptors(dsdt).slice(0, 7), [
        ["WordBusNumber", 0n, 0xffn],
        ["IO", 0xcf8n, 0xcf8n],
        ["WordIO", 0n, 0xcf7n],
        ["WordIO", 0xd00n, 0xffffn],
        ["DWordMemory", 0xa0000n, 0xbffffn],
        ["DWordMemory", lowRam, 0xfebfffffn],
        ["QWordMemory", base64, base64 + 2n ** 31n - 1n],
      ]);

      const fadt = dsl("facp");
      for (
        const line of [
          /SCI Interrupt : 0009/,
          /PM1A Event Block Address : 00000600/,
          /PM1A Control Block Address : 00000604/,
          /PM Timer Block Address : 00000608/,
          /PM Timer Block Length : 04/,
          /RTC Century Index : 32/,
          /Legacy Devices Supported \(V2\) : 1/,
          /8042 Present on ports 60\/64 \(V2\) : 1/,
          /Control Method Power Button \(V1\) : 0/, // 0: the fixed-feature power button
          /32-bit PM Timer \(V1\) : 0/, // a 24-bit timer
          /Reset Register Supported \(V2\) : 1/,
          /Hardware Reduced \(V5\) : 0/,
        ]
      ) match(fadt, line);

      const madt = dsl("apic");
      strictEqual(madt.match(/Subtable Type : 00 \[Processor Local APIC\]/g)?.length, config.cpus);
      for (let i = 0; i < config.cpus; i++) {
        const id = i.toString(16).toUpperCase().padStart(2, "0");
        match(
          madt,
          new RegExp(
            `Processor ID : ${id}\\s*\\n[^\\n]*Local Apic ID : ${id}\\s*\\n[^\\n]*\\n\\s*Processor Enabled : 1`,
          ),
        );
      }
      strictEqual(madt.match(/Subtable Type : 01 \[I\/O APIC\]/g)?.length, 1);
      strictEqual(madt.match(/Subtable Type : 02 \[Interrupt Source Override\]/g)?.length, 5);
      match(
        madt,
        /Subtable Type : 04 \[Local APIC NMI\]\n.*\n.*Processor ID : FF\n(?:.*\n){3}.*Interrupt Input LINT : 01/,
      );
      // The HPET table: QEMU's block ID and the block in system memory at 0xFED00000.
      const hpet = dsl("hpet");
      match(hpet, /Hardware Block ID : 8086A201/);
      match(hpet, /Space ID : 00 \[SystemMemory\]/);
      match(hpet, /Address : 00000000FED00000/);
      match(dsl("rsdt"), /ACPI Table Address\s+2 : [0-9A-F]+/);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

/** Resource descriptors in a disassembly, in order: kind, range minimum and maximum. */
function descriptors(dsl: string): [string, bigint, bigint][] {
  const out: [string, bigint, bigint][] = [];
  const re = /(\w+) \([^\n]*\n((?:\s*0x[0-9A-F]+,\s*\/\/ [^\n]*\n)+)/g;
  for (const m of dsl.matchAll(re)) {
    const value = (label: string) => {
      const v = new RegExp(`(0x[0-9A-F]+),\\s*// ${label}\\n`).exec(m[2]);
      return v ? BigInt(v[1]) : null;
    };
    const [min, max] = [value("Range Minimum"), value("Range Maximum")];
    if (min !== null && max !== null) out.push([m[1], min, max]);
  }
  return out;
}

/** Results of `acpiexec -b "execute ..."` in order: integers as numbers, buffers as byte arrays. */
function results(output: string): (number | number[] | null)[] {
  const out: (number | number[] | null)[] = [];
  for (const block of output.split(/^Evaluating /m).slice(1)) {
    const int = /\[Integer\] = ([0-9A-F]+)/.exec(block);
    const buf = /\[Buffer\] Length [0-9A-F]+ =\s+0000: ((?:[0-9A-F]{2} )+)/.exec(block);
    out.push(
      int
        ? parseInt(int[1], 16)
        : buf
        ? buf[1].trim().split(" ").map((h) => parseInt(h, 16))
        : null,
    );
  }
  return out;
}

Deno.test("acpi iasl: acpiexec runs the PIRQ links' methods and \\_S5 in ACPICA's interpreter", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-acpi-" });
  try {
    writeTables(layoutAcpiTables({ cpus: 2 }, PLACE), dir);
    // An extended interrupt descriptor for IRQ 11, as the OS passes to _SRS.
    const irq11 = "(89 06 00 09 01 0b 00 00 00 79 00)";
    const commands = [
      "execute \\_SB.LNKB._SRS " + irq11,
      "execute \\_SB.LNKB._STA",
      "execute \\_SB.LNKB._CRS",
      "execute \\_SB.LNKC._CRS",
      "execute \\_SB.LNKB._DIS",
      "execute \\_SB.LNKB._STA",
      "execute \\_SB.LNKB._CRS",
      "execute \\_SB.LNKS._CRS",
      "execute \\_S5",
    ];
    const r = await run("acpiexec", ["-b", commands.join("; "), "dsdt.dat"], dir);
    strictEqual(r.code, 0, r.output);
    ok(!/ACPI (Error|Warning)|AE_[A-Z_]+ /.test(r.output), r.output);
    const got = results(r.output);
    const interrupt = (irq: number) => [0x89, 0x06, 0x00, 0x09, 0x01, irq, 0, 0, 0, 0x79];
    strictEqual(got[0], null); // _SRS returns nothing
    strictEqual(got[1], 0x0b); // present, enabled, functioning
    deepStrictEqual((got[2] as number[]).slice(0, 10), interrupt(11));
    deepStrictEqual((got[3] as number[]).slice(0, 10), interrupt(0), "LNKC has its own register");
    strictEqual(got[5], 0x09); // disabled
    deepStrictEqual((got[6] as number[]).slice(0, 10), interrupt(0));
    deepStrictEqual((got[7] as number[]).slice(0, 10), interrupt(9)); // the SCI
    match(r.output, /Evaluating \\_S5[\s\S]*\[Package\] Contains 4 Elements/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
