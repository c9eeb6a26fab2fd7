import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import {
  ACPI_FILES,
  acpiFwCfgFiles,
  buildAcpiTables,
  IOAPIC_ADDRESS,
  layoutAcpiTables,
  LOADER_COMMAND,
  LOADER_ENTRY_SIZE,
  LOADER_FILE_SIZE,
  LOADER_ZONE,
  TableLoader,
} from "./acpi.ts";
import { buildDsdtAml } from "./acpi_dsdt.ts";

const dec = new TextDecoder();

/** Guest memory of a loader run: each allocated file at its address. */
interface Loaded {
  readonly files: Map<string, { address: number; data: Uint8Array; zone: number; align: number }>;
}

function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(at, true);
}

function u16(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset).getUint16(at, true);
}

function cstr(b: Uint8Array, at: number): string {
  const field = b.subarray(at, at + LOADER_FILE_SIZE);
  const nul = field.indexOf(0);
  ok(nul >= 0, "file name NUL-terminated within its field");
  return dec.decode(field.subarray(0, nul));
}

function sum(b: Uint8Array): number {
  return b.reduce((s, v) => (s + v) & 0xff, 0);
}

/**
 * Runs a loader script as SeaBIOS's romfile loader does, placing files at
 * the addresses `place` picks for each (name, zone, align).
 */
function runLoader(
  script: Uint8Array,
  content: Record<string, Uint8Array>,
  place: (name: string, zone: number, align: number) => number,
): Loaded {
  strictEqual(script.length % LOADER_ENTRY_SIZE, 0);
  const files: Loaded["files"] = new Map();
  for (let at = 0; at < script.length; at += LOADER_ENTRY_SIZE) {
    const e = script.subarray(at, at + LOADER_ENTRY_SIZE);
    switch (u32(e, 0)) {
      case LOADER_COMMAND.ALLOCATE: {
        const name = cstr(e, 4);
        const align = u32(e, 4 + LOADER_FILE_SIZE);
        const zone = e[8 + LOADER_FILE_SIZE];
        strictEqual(align & (align - 1), 0, "alignment is a power of two");
        ok(content[name], `allocated file ${name} exists`);
        ok(!files.has(name), `${name} allocated once`);
        const address = place(name, zone, align);
        strictEqual(address % align, 0);
        files.set(name, { address, data: content[name].slice(), zone, align });
        break;
      }
      case LOADER_COMMAND.ADD_POINTER: {
        const dest = files.get(cstr(e, 4))!;
        const src = files.get(cstr(e, 4 + LOADER_FILE_SIZE))!;
        ok(dest && src, "pointer files allocated first");
        const offset = u32(e, 4 + 2 * LOADER_FILE_SIZE);
        const size = e[8 + 2 * LOADER_FILE_SIZE];
        ok([1, 2, 4, 8].includes(size) && offset + size <= dest.data.length);
        let v = 0n;
        for (let i = size - 1; i >= 0; i--) v = v << 8n | BigInt(dest.data[offset + i]);
        v += BigInt(src.address);
        for (let i = 0; i < size; i++) dest.data[offset + i] = Number((v >> BigInt(8 * i)) & 0xffn);
        break;
      }
      case LOADER_COMMAND.ADD_CHECKSUM: {
        const file = files.get(cstr(e, 4))!;
        const offset = u32(e, 4 + LOADER_FILE_SIZE);
        const start = u32(e, 8 + LOADER_FILE_SIZE);
        const length = u32(e, 12 + LOADER_FILE_SIZE);
        ok(offset >= start && offset < start + length && start + length <= file.data.length);
        strictEqual(file.data[offset], 0, "checksum field starts at 0");
        file.data[offset] = (file.data[offset] - sum(file.data.subarray(start, start + length))) &
          0xff;
        break;
      }
      default:
        throw new Error(`unknown loader command ${u32(e, 0)}`);
    }
  }
  return { files };
}

/** Reads guest memory of a loader run. */
function reader(loaded: Loaded) {
  return (address: number, length: number): Uint8Array => {
    for (const f of loaded.files.values()) {
      if (address >= f.address && address + length <= f.address + f.data.length) {
        return f.data.subarray(address - f.address, address - f.address + length);
      }
    }
    throw new Error(`nothing loaded at 0x${address.toString(16)}`);
  };
}

/** A table at `address`, checked: signature, length and checksum. */
function tableAt(read: (a: number, n: number) => Uint8Array, address: number, sig: string) {
  const header = read(address, 36);
  strictEqual(dec.decode(header.subarray(0, 4)), sig);
  const t = read(address, u32(header, 4));
  strictEqual(sum(t), 0, `${sig} checksum`);
  return t;
}

const PLACES = [
  { tables: 0x07fe0000, rsdp: 0x000f5a30 },
  { tables: 0x3ffd0040, rsdp: 0x000e0010 },
];

function load(cpus: number, place: { tables: number; rsdp: number }) {
  const blobs = buildAcpiTables({ cpus });
  const loaded = runLoader(
    blobs.loader,
    { [ACPI_FILES.TABLES]: blobs.tables, [ACPI_FILES.RSDP]: blobs.rsdp },
    (name) => name === ACPI_FILES.TABLES ? place.tables : place.rsdp,
  );
  return { blobs, loaded, read: reader(loaded) };
}

Deno.test("acpi: loader commands are 128 bytes with QEMU's field layout", () => {
  const l = new TableLoader();
  l.allocate("etc/acpi/tables", 64, LOADER_ZONE.HIGH);
  l.addPointer("a", "b", 0x1234, 8);
  l.addChecksum("c", 9, 0x40, 0x24);
  const b = l.bytes();
  strictEqual(b.length, 3 * 128);
  deepStrictEqual([u32(b, 0), cstr(b, 4), u32(b, 60), b[64]], [1, "etc/acpi/tables", 64, 1]);
  deepStrictEqual(
    [u32(b, 128), cstr(b, 132), cstr(b, 188), u32(b, 244), b[248]],
    [2, "a", "b", 0x1234, 8],
  );
  deepStrictEqual(
    [u32(b, 256), cstr(b, 260), u32(b, 316), u32(b, 320), u32(b, 324)],
    [3, "c", 9, 0x40, 0x24],
  );
  throws(() => l.allocate("x".repeat(56), 1, 1), RangeError);
});

Deno.test("acpi: the loader places the tables high and the RSDP in the F segment", () => {
  const { loaded } = load(1, PLACES[0]);
  const t = loaded.files.get(ACPI_FILES.TABLES)!;
  const r = loaded.files.get(ACPI_FILES.RSDP)!;
  deepStrictEqual([t.zone, t.align, r.zone, r.align], [LOADER_ZONE.HIGH, 64, LOADER_ZONE.FSEG, 16]);
  deepStrictEqual(acpiFwCfgFiles(buildAcpiTables({ cpus: 1 })).map((f) => f.name), [
    "etc/acpi/rsdp",
    "etc/acpi/tables",
    "etc/table-loader",
  ]);
});

for (const place of PLACES) {
  Deno.test(`acpi: RSDP -> RSDT -> FADT/MADT, FACS and DSDT, patched for tables at 0x${place.tables.toString(16)}`, () => {
    const { read, blobs } = load(2, place);
    const rsdp = read(place.rsdp, 20);
    strictEqual(dec.decode(rsdp.subarray(0, 8)), "RSD PTR ");
    strictEqual(sum(rsdp), 0);
    strictEqual(rsdp[15], 0);
    const rsdtAddress = u32(rsdp, 16);
    strictEqual(rsdtAddress, place.tables + blobs.layout.rsdt);

    const rsdt = tableAt(read, rsdtAddress, "RSDT");
    strictEqual(rsdt.length, 48);
    const [fadtAddress, madtAddress] = [u32(rsdt, 36), u32(rsdt, 40)];
    strictEqual(fadtAddress, place.tables + blobs.layout.fadt);
    // The HPET table, as QEMU's: block ID, base address GAS (system memory), number, min tick.
    const hpet = tableAt(read, u32(rsdt, 44), "HPET");
    deepStrictEqual([hpet.length, hpet[8]], [56, 1]);
    deepStrictEqual([...hpet.subarray(36)], [
      ...[0x01, 0xa2, 0x86, 0x80],
      ...[0, 0, 0, 0, 0x00, 0x00, 0xd0, 0xfe, 0, 0, 0, 0],
      ...[0, 0, 0, 0],
    ]);

    const fadt = tableAt(read, fadtAddress, "FACP");
    deepStrictEqual([fadt.length, fadt[8]], [244, 3]);
    const facsAddress = u32(fadt, 36);
    strictEqual(facsAddress % 64, 0);
    const facs = read(facsAddress, 64);
    deepStrictEqual([dec.decode(facs.subarray(0, 4)), u32(facs, 4)], ["FACS", 64]);
    const dsdtAddress = u32(fadt, 40);
    strictEqual(
      Number(new DataView(fadt.buffer, fadt.byteOffset).getBigUint64(140, true)),
      dsdtAddress,
    );
    const dsdt = tableAt(read, dsdtAddress, "DSDT");
    deepStrictEqual(dsdt.subarray(36), buildDsdtAml({ cpus: 2 }));
    strictEqual(dsdt[8], 2); // revision 2: 64-bit integers

    // The PIIX4 PM block at SeaBIOS's 0x600, SCI 9, APM mode switch on 0xB2.
    deepStrictEqual(
      [u16(fadt, 46), u32(fadt, 48), fadt[52], fadt[53]],
      [9, 0xb2, 0xf1, 0xf0],
    );
    deepStrictEqual(
      [u32(fadt, 56), u32(fadt, 60), u32(fadt, 64), u32(fadt, 68), u32(fadt, 76), u32(fadt, 80)],
      [0x600, 0, 0x604, 0, 0x608, 0x60c],
    );
    deepStrictEqual([fadt[88], fadt[89], fadt[90], fadt[91], fadt[92]], [4, 2, 0, 4, 4]);
    // The 64-bit blocks say the same: system I/O, width, address.
    for (
      const [x, width, address] of [[148, 32, 0x600], [172, 16, 0x604], [208, 32, 0x608], [
        220,
        32,
        0x60c,
      ]]
    ) {
      deepStrictEqual([fadt[x], fadt[x + 1], u32(fadt, x + 4), u32(fadt, x + 8)], [
        1,
        width,
        address,
        0,
      ]);
    }
    deepStrictEqual([fadt[108], u16(fadt, 109)], [0x32, 0x0003]); // century, legacy + 8042
    const flags = u32(fadt, 112);
    deepStrictEqual([flags & 1 << 4, flags & 1 << 8, flags & 1 << 10], [0, 0, 1 << 10]);
    deepStrictEqual([fadt[116], fadt[117], u32(fadt, 120), fadt[128]], [1, 8, 0xcf9, 0x06]);

    const madt = tableAt(read, madtAddress, "APIC");
    deepStrictEqual([u32(madt, 36), u32(madt, 40)], [0xfee00000, 1]);
    const entries: number[][] = [];
    for (let at = 44; at < madt.length; at += madt[at + 1]) {
      entries.push([...madt.subarray(at, at + madt[at + 1])]);
    }
    strictEqual(entries.reduce((n, e) => n + e.length, 44), madt.length);
    deepStrictEqual(entries.filter((e) => e[0] === 0), [
      [0, 8, 0, 0, 1, 0, 0, 0],
      [0, 8, 1, 1, 1, 0, 0, 0],
    ]);
    const ioapic = entries.filter((e) => e[0] === 1);
    strictEqual(ioapic.length, 1);
    strictEqual(u32(Uint8Array.from(ioapic[0]), 4), IOAPIC_ADDRESS);
    const overrides = entries.filter((e) => e[0] === 2).map((e) => {
      const b = Uint8Array.from(e);
      return [b[3], u32(b, 4), u16(b, 8)];
    });
    deepStrictEqual(overrides, [[0, 2, 0], [5, 5, 0xd], [9, 9, 0xd], [10, 10, 0xd], [11, 11, 0xd]]);
    deepStrictEqual(entries.filter((e) => e[0] === 4), [[4, 6, 0xff, 0, 0, 1]]);
  });
}

Deno.test("acpi: the unpatched blobs hold offsets and zero checksums for the loader", () => {
  const { tables, rsdp, layout } = buildAcpiTables({ cpus: 1 });
  strictEqual(u32(rsdp, 16), layout.rsdt);
  strictEqual(rsdp[8], 0);
  for (const at of [layout.dsdt, layout.fadt, layout.madt, layout.rsdt]) {
    strictEqual(tables[at + 9], 0);
  }
  strictEqual(u32(tables, layout.fadt + 40), layout.dsdt);
  strictEqual(u32(tables, layout.rsdt + 36), layout.fadt);
});

Deno.test("acpi: \\_S5_ in the DSDT is found the way a simple guest scans for it", () => {
  const { tables, layout } = buildAcpiTables({ cpus: 1 });
  const dsdt = tables.subarray(layout.dsdt, layout.dsdt + u32(tables, layout.dsdt + 4));
  // Byte by byte, as the fixture does (AML is not text).
  const at = dsdt.findIndex((_, i) => dec.decode(dsdt.subarray(i, i + 4)) === "_S5_");
  ok(at > 36);
  strictEqual(dsdt[at - 1], 0x5c); // "\"
  strictEqual(dsdt[at - 2], 0x08); // NameOp
  strictEqual(dsdt[at + 4], 0x12); // PackageOp
  const pkgLength = dsdt[at + 5];
  strictEqual(at + 5 + pkgLength, dsdt.length); // the package ends the table
  deepStrictEqual([...dsdt.subarray(at + 6, at + 5 + pkgLength)], [4, 0, 0, 0, 0]);
});

Deno.test("acpi: CPU counts the MADT cannot hold are refused", () => {
  throws(() => buildAcpiTables({ cpus: 0 }), RangeError);
  throws(() => buildAcpiTables({ cpus: 256 }), RangeError);
  strictEqual(buildAcpiTables({ cpus: 255 }).tables.length > 255 * 8, true);
});

const PLACED = { rsdpAddress: 0xf5a40, tablesAddress: 0x07fe0000 };

/** Reads guest memory holding a firmware-less layout. */
function placedReader(placed: ReturnType<typeof layoutAcpiTables>, place: typeof PLACED) {
  return (address: number, length: number): Uint8Array => {
    for (
      const [at, data] of [[place.rsdpAddress, placed.rsdp], [
        place.tablesAddress,
        placed.tables,
      ]] as const
    ) {
      if (address >= at && address + length <= at + data.length) {
        return data.subarray(address - at, address - at + length);
      }
    }
    throw new Error(`nothing placed at 0x${address.toString(16)}`);
  };
}

function u64(b: Uint8Array, at: number): number {
  return Number(new DataView(b.buffer, b.byteOffset).getBigUint64(at, true));
}

Deno.test("acpi: the firmware-less layout: RSDP 2.0 -> RSDT and XSDT -> FADT/MADT, FACS and DSDT at their addresses", () => {
  const placed = layoutAcpiTables({ cpus: 4 }, PLACED);
  const read = placedReader(placed, PLACED);
  const { rsdp, layout } = placed;
  strictEqual(rsdp.length, 36);
  strictEqual(dec.decode(rsdp.subarray(0, 8)), "RSD PTR ");
  strictEqual(rsdp[15], 2);
  strictEqual(sum(rsdp.subarray(0, 20)), 0, "ACPI 1.0 checksum");
  strictEqual(sum(rsdp), 0, "extended checksum");
  strictEqual(u32(rsdp, 20), 36);
  const at = (offset: number) => PLACED.tablesAddress + offset;
  strictEqual(u32(rsdp, 16), at(layout.rsdt));
  strictEqual(u64(rsdp, 24), at(layout.xsdt!));

  const rsdt = tableAt(read, u32(rsdp, 16), "RSDT");
  const xsdt = tableAt(read, u64(rsdp, 24), "XSDT");
  const tables = [at(layout.fadt), at(layout.madt), at(layout.hpet)];
  deepStrictEqual([u32(rsdt, 36), u32(rsdt, 40), u32(rsdt, 44)], tables);
  deepStrictEqual([u64(xsdt, 36), u64(xsdt, 44), u64(xsdt, 52)], tables);
  deepStrictEqual([rsdt.length, xsdt.length], [48, 60]);
  tableAt(read, at(layout.hpet), "HPET");

  const fadt = tableAt(read, at(layout.fadt), "FACP");
  strictEqual(u32(fadt, 36), at(layout.facs));
  strictEqual(u32(fadt, 36) % 64, 0);
  strictEqual(dec.decode(read(u32(fadt, 36), 4)), "FACS");
  strictEqual(u32(fadt, 40), at(layout.dsdt));
  strictEqual(u64(fadt, 140), at(layout.dsdt));
  const dsdt = tableAt(read, u32(fadt, 40), "DSDT");
  deepStrictEqual(dsdt.subarray(36), buildDsdtAml({ cpus: 4 }));
  const madt = tableAt(read, at(layout.madt), "APIC");
  const lapics: number[][] = [];
  for (let i = 44; i < madt.length; i += madt[i + 1]) {
    if (madt[i] === 0) lapics.push([madt[i + 2], madt[i + 3], madt[i + 4]]);
  }
  deepStrictEqual(lapics, [[0, 0, 1], [1, 1, 1], [2, 2, 1], [3, 3, 1]]); // UID, APIC ID, enabled
  // The tables follow each other without gaps: FACS first, the root tables last.
  strictEqual(layout.facs, 0);
  strictEqual(layout.rsdt + rsdt.length, placed.tables.length);
});

Deno.test("acpi: the firmware-less layout and the loader's agree on every table but the root ones", () => {
  const tablesAddress = 0x3ffd0040;
  const placed = layoutAcpiTables({ cpus: 2 }, { rsdpAddress: 0xe0010, tablesAddress });
  const { read, blobs } = load(2, { tables: tablesAddress, rsdp: 0xe0010 });
  for (const key of ["facs", "dsdt", "fadt", "madt"] as const) {
    strictEqual(placed.layout[key], blobs.layout[key], key);
    const length = u32(placed.tables, placed.layout[key] + 4);
    deepStrictEqual(
      placed.tables.subarray(placed.layout[key], placed.layout[key] + length),
      read(tablesAddress + blobs.layout[key], length),
      key,
    );
  }
});

Deno.test("acpi: the firmware-less layout refuses misplaced tables", () => {
  const good = { rsdpAddress: 0xf0000, tablesAddress: 0x100000 };
  layoutAcpiTables({ cpus: 1 }, good);
  for (
    const bad of [
      { rsdpAddress: 0xf0008 }, // not 16-byte aligned
      { rsdpAddress: 0xdfff0 }, // below the search area
      { rsdpAddress: 0xffff0 }, // runs past 1 MiB
      { tablesAddress: 0x100020 }, // not 64-byte aligned for the FACS
      { tablesAddress: 0xffffffc0 }, // runs past 4 GiB
      { rsdpAddress: 0xf0000, tablesAddress: 0xeffc0 }, // overlaps the RSDP
    ]
  ) {
    throws(
      () => layoutAcpiTables({ cpus: 1 }, { ...good, ...bad }),
      RangeError,
      JSON.stringify(bad),
    );
  }
  throws(() => layoutAcpiTables({ cpus: 0 }, good), RangeError);
});
