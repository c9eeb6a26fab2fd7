import { deepStrictEqual, strictEqual } from "node:assert";
import {
  be32,
  getConfiguration,
  inquiryData,
  lbaToMsf,
  modeSense10,
  readCapacityData,
  readToc,
  senseData,
  SENSES,
} from "./mmc_responses.ts";

const loaded = { present: true, locked: false };

Deno.test("mmc: MSF addresses count the 150-frame pregap", () => {
  deepStrictEqual(lbaToMsf(0), [0, 2, 0]);
  deepStrictEqual(lbaToMsf(4350), [1, 0, 0]);
  deepStrictEqual(lbaToMsf(74), [0, 2, 74]);
});

Deno.test("mmc: fixed-format sense data", () => {
  const s = senseData(SENSES.LBA_OUT_OF_RANGE);
  strictEqual(s.length, 18);
  deepStrictEqual([s[0], s[2], s[7], s[12], s[13]], [0x70, 0x05, 10, 0x21, 0x00]);
});

Deno.test("mmc: INQUIRY pads vendor, product and revision", () => {
  const d = inquiryData("VMRUN", "A VERY LONG PRODUCT NAME", "1.0");
  strictEqual(new TextDecoder().decode(d.subarray(8, 36)), "VMRUN   A VERY LONG PROD1.0 ");
});

Deno.test("mmc: READ CAPACITY is big-endian", () => {
  deepStrictEqual([...readCapacityData(0x10000)], [0, 0, 0xff, 0xff, 0, 0, 0x08, 0]);
});

Deno.test("mmc: MODE SENSE changeable values are all zero", () => {
  const d = modeSense10(0x2a, 1, loaded)!;
  deepStrictEqual([d[8], d[9]], [0x2a, 0x14]);
  strictEqual(d.subarray(10).every((b) => b === 0), true);
  strictEqual(modeSense10(0x1a, 0, loaded), null);
  strictEqual(modeSense10(0x2a, 0, { present: false, locked: false })![2], 0x70);
});

Deno.test("mmc: full TOC lists points A0, A1, A2 and track 1", () => {
  const d = readToc(2, true, 0, 450)!;
  strictEqual(d.length, 4 + 44);
  deepStrictEqual([d[7], d[18], d[29], d[40]], [0xa0, 0xa1, 0xa2, 0x01]);
  deepStrictEqual([...d.subarray(4 + 22 + 8, 4 + 22 + 11)], [0, 8, 0]); // lead-out at 600 frames
  strictEqual(readToc(0, false, 0xaa, 450)!.length, 12);
  strictEqual(readToc(3, false, 0, 450), null);
  strictEqual(readToc(0, false, 0xab, 450), null);
});

Deno.test("mmc: GET CONFIGURATION without a disc has no current profile", () => {
  const d = getConfiguration(1, 0, { present: false, locked: false })!;
  strictEqual(be32(d, 0), d.length - 4);
  strictEqual(d[6] << 8 | d[7], 0);
  // Only current features: profile list, core, removable medium.
  strictEqual(d.length, 8 + 8 + 12 + 8);
  strictEqual(getConfiguration(3, 0, loaded), null);
});
