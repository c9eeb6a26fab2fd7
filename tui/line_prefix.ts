/**
 * Marks the lines of a second console merged into the serial pane: the
 * virtio console's hvc0 output gets a prefix at the start of each of its
 * lines, so it reads apart from COM1's in the same pane.
 *
 * @module
 */

/** The prefix of hvc0's lines in the serial pane (dim, then the default style). */
export const HVC0_PREFIX = "\x1b[2mhvc0|\x1b[22m ";

/** Inserts a prefix at the start of every line of a byte stream, across chunks. */
export class LinePrefixer {
  readonly #prefix: Uint8Array;
  #atLineStart = true;

  /** @param prefix what each line starts with */
  constructor(prefix: string) {
    this.#prefix = new TextEncoder().encode(prefix);
  }

  /** `bytes` with the prefix before each line that starts in them. */
  feed(bytes: Uint8Array): Uint8Array {
    const out: number[] = [];
    for (const b of bytes) {
      if (this.#atLineStart) out.push(...this.#prefix);
      out.push(b);
      this.#atLineStart = b === 0x0a;
    }
    return Uint8Array.from(out);
  }
}
