/**
 * A small seeded pseudo-random generator (mulberry32) for property tests:
 * the same seed gives the same sequence on every run, so a failure can be
 * replayed from the seed in its message.
 *
 * @module
 */

/** Deterministic random numbers from a 32-bit seed; test helper. */
export class SeededRandom {
  #state: number;

  /** @param seed any 32-bit integer */
  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next 32-bit unsigned integer. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  /** A byte. */
  byte(): number {
    return this.next() & 0xff;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

/**
 * The draws of a {@link SeededRandom} as a function: `prng(seed)(n)` is the
 * next integer in [0, n).
 */
export function prng(seed: number): (n: number) => number {
  const random = new SeededRandom(seed);
  return (n) => random.below(n);
}
