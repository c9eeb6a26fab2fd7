/**
 * A generic address bus for port I/O or MMIO: sorted, non-overlapping ranges,
 * each routed to a {@link BusDevice} with offsets relative to the range base.
 *
 * @module
 */

import { allOnes } from "./byte_lanes.ts";
import type { AccessSize, BusDevice } from "./types.ts";

/** Thrown when a registration overlaps an existing range or is malformed. */
export class BusError extends Error {
  /** @param message what was refused and why */
  constructor(message: string) {
    super(message);
    this.name = "BusError";
  }
}

/** One registered range, as listed by {@link Bus.ranges}. */
export interface BusRange {
  readonly name: string;
  readonly base: number;
  readonly length: number;
  readonly device: BusDevice;
}

/** Counts of accesses that hit no device, kept for the stats pane. */
export interface BusMisses {
  reads: number;
  writes: number;
}

/** A bus of sorted, non-overlapping ranges. */
export class Bus {
  #ranges: BusRange[] = [];
  #last: BusRange | undefined;
  /** Accesses that hit no device. */
  readonly misses: BusMisses = { reads: 0, writes: 0 };

  /** @param name shown in errors ("pio", "mmio") */
  constructor(readonly name: string) {}

  /**
   * Routes `[base, base + length)` to `device`.
   * @throws {BusError} when the range is empty or overlaps another one
   */
  register(name: string, base: number, length: number, device: BusDevice): BusRange {
    if (!(length > 0) || base < 0 || !Number.isInteger(base) || !Number.isInteger(length)) {
      throw new BusError(`${this.name}: bad range for ${name}: 0x${base.toString(16)}+${length}`);
    }
    const end = base + length;
    const clash = this.#ranges.find((r) => base < r.base + r.length && r.base < end);
    if (clash) {
      throw new BusError(
        `${this.name}: ${name} at ${hexRange(base, length)} overlaps ${clash.name} at ${
          hexRange(clash.base, clash.length)
        }`,
      );
    }
    const range: BusRange = { name, base, length, device };
    this.#ranges.push(range);
    this.#ranges.sort((a, b) => a.base - b.base);
    return range;
  }

  /** Removes a range returned by {@link register}; unknown ranges are ignored. */
  unregister(range: BusRange): void {
    this.#ranges = this.#ranges.filter((r) => r !== range);
    if (this.#last === range) this.#last = undefined;
  }

  /** The registered ranges, sorted by base. */
  ranges(): readonly BusRange[] {
    return this.#ranges;
  }

  /** The range containing `addr`, if any. */
  find(addr: number): BusRange | undefined {
    const last = this.#last;
    if (last && addr >= last.base && addr < last.base + last.length) return last;
    const ranges = this.#ranges;
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = ranges[mid];
      if (addr < r.base) hi = mid - 1;
      else if (addr >= r.base + r.length) lo = mid + 1;
      else {
        this.#last = r;
        return r;
      }
    }
    return undefined;
  }

  /** Reads from the device at `addr`; all ones when nothing is there. */
  read(addr: number, size: AccessSize): number {
    const r = this.find(addr);
    if (!r) {
      this.misses.reads++;
      return allOnes(size);
    }
    return r.device.read(addr - r.base, size);
  }

  /** Writes to the device at `addr`; dropped when nothing is there. */
  write(addr: number, size: AccessSize, value: number): void {
    const r = this.find(addr);
    if (!r) {
      this.misses.writes++;
      return;
    }
    r.device.write(addr - r.base, size, value);
  }
}

function hexRange(base: number, length: number): string {
  return `0x${base.toString(16)}-0x${(base + length - 1).toString(16)}`;
}
