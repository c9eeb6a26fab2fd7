/**
 * ACPI tables for a firmware-less boot: the board's tables and RSDP placed
 * at fixed guest addresses by running their BIOS linker/loader script here,
 * as SeaBIOS would (allocate, patch pointers, compute checksums).
 *
 * An adapter over today's `buildAcpiTables`; once acpi.ts lays tables out at
 * given addresses itself, this file shrinks to a call of that.
 *
 * @module
 */

import { ACPI_FILES, type AcpiOptions, buildAcpiTables, LOADER_COMMAND } from "./acpi.ts";

/** The RSDP and the tables, as bytes to write at their addresses. */
export interface PlacedAcpi {
  readonly rsdpAddress: number;
  readonly rsdp: Uint8Array;
  readonly tablesAddress: number;
  readonly tables: Uint8Array;
}

/**
 * Builds the tables for `options` with the RSDP at `rsdpAddress` (16-byte
 * aligned, in 0xE0000-0xFFFFF) and the rest at `tablesAddress` (64-byte aligned).
 * @throws {Error} when the loader script names a file or command it does not know
 */
export function placeAcpiTables(
  options: AcpiOptions,
  at: { rsdpAddress: number; tablesAddress: number },
): PlacedAcpi {
  const blobs = buildAcpiTables(options);
  const files = new Map<string, { bytes: Uint8Array; address: number }>([
    [ACPI_FILES.RSDP, { bytes: blobs.rsdp.slice(), address: at.rsdpAddress }],
    [ACPI_FILES.TABLES, { bytes: blobs.tables.slice(), address: at.tablesAddress }],
  ]);
  const loader = blobs.loader;
  const v = new DataView(loader.buffer, loader.byteOffset, loader.byteLength);
  const name = (offset: number) => {
    const raw = loader.subarray(offset, offset + 56);
    const end = raw.indexOf(0);
    const n = new TextDecoder().decode(raw.subarray(0, end < 0 ? 56 : end));
    const f = files.get(n);
    if (!f) throw new Error(`ACPI loader script names unknown file '${n}'`);
    return f;
  };
  for (let e = 0; e < loader.length; e += 128) {
    const command = v.getUint32(e, true);
    if (command === LOADER_COMMAND.ALLOCATE) {
      const f = name(e + 4);
      const align = v.getUint32(e + 60, true);
      if (align > 0 && f.address % align !== 0) {
        throw new Error(
          `ACPI file placed at 0x${f.address.toString(16)}, needs ${align}-alignment`,
        );
      }
    } else if (command === LOADER_COMMAND.ADD_POINTER) {
      const dest = name(e + 4);
      const src = name(e + 60);
      const offset = v.getUint32(e + 116, true);
      const size = loader[e + 120];
      const dv = new DataView(dest.bytes.buffer);
      let value = 0n;
      for (let i = 0; i < size; i++) value |= BigInt(dest.bytes[offset + i]) << BigInt(8 * i);
      value += BigInt(src.address);
      for (let i = 0; i < size; i++) {
        dv.setUint8(offset + i, Number((value >> BigInt(8 * i)) & 0xffn));
      }
    } else if (command === LOADER_COMMAND.ADD_CHECKSUM) {
      const f = name(e + 4);
      const offset = v.getUint32(e + 60, true);
      const start = v.getUint32(e + 64, true);
      const length = v.getUint32(e + 68, true);
      let sum = 0;
      for (let i = start; i < start + length; i++) sum += f.bytes[i];
      f.bytes[offset] = (f.bytes[offset] - sum) & 0xff;
    } else if (command !== 0) {
      throw new Error(`ACPI loader script command ${command} is not known`);
    }
  }
  return {
    rsdpAddress: at.rsdpAddress,
    rsdp: files.get(ACPI_FILES.RSDP)!.bytes,
    tablesAddress: at.tablesAddress,
    tables: files.get(ACPI_FILES.TABLES)!.bytes,
  };
}
