import { strictEqual } from "node:assert";
import { formatSize, parseSize } from "./sizes.ts";

Deno.test("parseSize reads binary units and treats a bare number as MiB", () => {
  strictEqual(parseSize("64M"), 64 * 2 ** 20);
  strictEqual(parseSize("2G"), 2 * 2 ** 30);
  strictEqual(parseSize("2g"), 2 * 2 ** 30);
  strictEqual(parseSize("512K"), 512 * 1024);
  strictEqual(parseSize("1.5G"), 1.5 * 2 ** 30);
  strictEqual(parseSize("256"), 256 * 2 ** 20);
  strictEqual(parseSize("4096B"), 4096);
  strictEqual(parseSize("1GiB"), 2 ** 30);
  strictEqual(parseSize("99T"), 99 * 2 ** 40);
  strictEqual(parseSize("0"), 0);
});

Deno.test("parseSize refuses what is not a size", () => {
  for (const bad of ["abc", "", "-1M", "12Q", "M", "1 2M", "0x10M"]) {
    strictEqual(parseSize(bad), null, bad);
  }
});

Deno.test("formatSize writes whole units where it can, else one decimal", () => {
  strictEqual(formatSize(256 * 2 ** 20), "256M");
  strictEqual(formatSize(2 ** 31), "2G");
  strictEqual(formatSize(1536 * 1024), "1.5M");
  strictEqual(formatSize(24683656 * 1024), "23.5G");
  strictEqual(formatSize(1.5 * 2 ** 30 + 1), "1.5G");
  strictEqual(formatSize(100), "100B");
});
