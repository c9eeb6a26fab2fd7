/**
 * Random guest configuration cycles for the PCI functions' property tests:
 * reads and writes of every width, biased towards the command register, the
 * BARs (sizing with all ones, then an address) and the device-specific
 * registers a test names.
 *
 * @module
 */

import type { AccessSize } from "../types.ts";
import type { PciConfigSpace } from "../pci/config_space.ts";
import type { SeededRandom } from "./seeded_random.ts";

/** Addresses firmware would give BARs: a few I/O ports and MMIO bases. */
const BAR_VALUES = [0xffffffff, 0xc001, 0xc041, 0xfebf0000, 0xfe000000, 0xfd000008, 0, 0x1];

/**
 * One random configuration cycle on `config`; returns what a read returned.
 * `hot` lists device-specific offsets to favour, with values worth writing.
 */
export function pciConfigStep(
  rng: SeededRandom,
  config: PciConfigSpace,
  hot: readonly { offset: number; values: readonly number[] }[] = [],
): string {
  const size = rng.pick([1, 2, 4] as const);
  switch (rng.below(6)) {
    case 0: {
      const offset = rng.below(256 / size) * size;
      return `r${offset}/${size}=${config.read(offset, size)}`;
    }
    case 1:
      config.write(
        0x04,
        2,
        rng.pick([0x0000, 0x0001, 0x0003, 0x0007, 0x0103, rng.next() & 0xffff]),
      );
      return "command";
    case 2:
      config.write(0x10 + 4 * rng.below(7), 4, rng.pick(BAR_VALUES));
      return "bar";
    case 3:
      config.write(0x30, 4, rng.pick([0xffffffff, 0xfeb80001, 0xfeb80000, 0]));
      return "rom";
    case 4: {
      if (hot.length === 0) break;
      const h = rng.pick(hot);
      config.write(h.offset, 1, rng.pick(h.values));
      return `hot ${h.offset}`;
    }
    default:
      break;
  }
  const offset = rng.below(256 / size) * size;
  config.write(offset, size as AccessSize, rng.next() >>> (32 - 8 * size));
  return `w${offset}/${size}`;
}
