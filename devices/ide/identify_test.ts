import { deepStrictEqual, strictEqual } from "node:assert";
import {
  currentCylinders,
  defaultGeometry,
  getAtaString,
  identifyDevice,
  identifyPacketDevice,
  putAtaString,
  resetResult,
  sealIdentify,
} from "./identify.ts";

const common = {
  model: "QEMU HARDDISK",
  serial: "QM00001",
  firmware: "2.5+",
  mode: { pio: 4, mwdma: 2, udma: null },
  unit: 0 as const,
  peerPresent: false,
};

function words(bytes: Uint8Array): Uint16Array {
  return new Uint16Array(256).map((_, i) => bytes[2 * i] | bytes[2 * i + 1] << 8);
}

Deno.test("identify: strings put the first character in the high byte", () => {
  const w = new Uint16Array(4);
  putAtaString(w, 0, 3, "ABCDE");
  deepStrictEqual([...w], [0x4142, 0x4344, 0x4520, 0]);
  strictEqual(getAtaString(w, 0, 3), "ABCDE");
  putAtaString(w, 0, 1, "\u00e9x"); // non-ASCII becomes a space
  strictEqual(w[0], 0x2078);
});

Deno.test("identify: checksum makes the 512 bytes sum to zero", () => {
  const w = new Uint16Array(256).fill(0x1234);
  const bytes = sealIdentify(w);
  strictEqual(bytes[510], 0xa5);
  strictEqual(bytes.reduce((a, b) => a + b, 0) % 256, 0);
});

Deno.test("identify: default geometry 16 heads / 63 sectors, capped at 16383 cylinders", () => {
  deepStrictEqual(defaultGeometry(1_000_000), { cylinders: 992, heads: 16, sectors: 63 });
  deepStrictEqual(defaultGeometry(2 ** 31), { cylinders: 16383, heads: 16, sectors: 63 });
  deepStrictEqual(defaultGeometry(200), { cylinders: 1, heads: 3, sectors: 63 });
  strictEqual(currentCylinders(2 ** 31, 16, 63), 16383);
  strictEqual(currentCylinders(2 ** 31, 4, 32), 65535);
});

Deno.test("identify: capacities of a disk beyond LBA28", () => {
  const sectors = 2 ** 33 + 7; // 4 TiB
  const w = words(identifyDevice({
    ...common,
    sectors,
    geometry: defaultGeometry(sectors),
    currentHeads: 16,
    currentSectors: 63,
    multiple: 8,
    writeCache: true,
  }));
  strictEqual(w[60] | w[61] << 16, 0x0fffffff);
  deepStrictEqual([w[100], w[101], w[102], w[103]], [7, 0, 2, 0]);
  deepStrictEqual([w[1], w[3], w[6]], [16383, 16, 63]);
  strictEqual(w[57] | w[58] << 16, 16383 * 16 * 63);
  strictEqual(w[59], 0x0108);
  strictEqual(w[63], 0x0407); // MWDMA 2 selected
  strictEqual(w[85] & 0x20, 0x20); // write cache enabled
  strictEqual(getAtaString(w, 27, 20), "QEMU HARDDISK");
  strictEqual(getAtaString(w, 23, 4), "2.5+");
});

Deno.test("identify: packet device word 0 and reset results", () => {
  const w = words(identifyPacketDevice({ ...common, unit: 1, peerPresent: true }));
  strictEqual(w[0], 0x85c0);
  strictEqual(w[93] & 0x4100, 0x4100); // valid, device 1 bit
  strictEqual(resetResult(0, true) & 0x0040, 0); // device 1 answers for itself
  strictEqual(resetResult(0, false) & 0xdf61, 0x4041);
});
