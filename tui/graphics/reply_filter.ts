/**
 * Takes terminal replies out of the input stream, so that an answer to a
 * capability query that arrives late (after the probe gave up waiting)
 * never reaches the guest as typed keys. No key produces these:
 *
 * - Primary device attributes, `CSI ? Ps ; ... c`;
 * - window and cell sizes, `CSI 4 ; h ; w t`, `CSI 6 ; h ; w t`, `CSI 8 ; r ; c t`;
 * - graphics attributes (XTSMGRAPHICS), `CSI ? Pi ; Ps ; Pv S`;
 * - any APC string, `ESC _ ... ESC \` (kitty graphics replies).
 *
 * Sequences split across reads are held back until the rest arrives, or
 * until {@link TerminalReplyFilter.flush} gives up on them.
 *
 * @module
 */

const ESC = 0x1b;
/** An incomplete sequence longer than this is not a reply; it is let through. */
const MAX_HELD = 256;

/** What a reply-shaped sequence at `i` is. */
type Scan =
  | { kind: "reply"; end: number }
  | { kind: "other"; end: number }
  | { kind: "incomplete" };

/** Strips terminal replies from input bytes. */
export class TerminalReplyFilter {
  #held: number[] = [];
  /** Replies removed so far. */
  removed = 0;

  /** The input bytes with every complete reply removed; an incomplete tail is held. */
  feed(chunk: Uint8Array): Uint8Array {
    const bytes = this.#held.length ? Uint8Array.from([...this.#held, ...chunk]) : chunk;
    this.#held = [];
    const out: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      if (bytes[i] !== ESC) {
        out.push(bytes[i++]);
        continue;
      }
      const s = scan(bytes, i);
      if (s.kind === "incomplete") {
        if (bytes.length - i > MAX_HELD) {
          out.push(bytes[i++]);
          continue;
        }
        this.#held = [...bytes.subarray(i)];
        break;
      }
      if (s.kind === "reply") this.removed++;
      else for (let j = i; j < s.end; j++) out.push(bytes[j]);
      i = s.end;
    }
    return Uint8Array.from(out);
  }

  /** True when an incomplete sequence is held back. */
  get holding(): boolean {
    return this.#held.length > 0;
  }

  /** Gives up on a held incomplete sequence: returns it as input. */
  flush(): Uint8Array {
    const held = Uint8Array.from(this.#held);
    this.#held = [];
    return held;
  }
}

function scan(b: Uint8Array, i: number): Scan {
  if (i + 1 >= b.length) return { kind: "incomplete" };
  const intro = b[i + 1];
  if (intro === 0x5f) {
    // APC: until ST (ESC \) or BEL.
    for (let j = i + 2; j < b.length; j++) {
      if (b[j] === 0x07) return { kind: "reply", end: j + 1 };
      if (b[j] === ESC) {
        if (j + 1 >= b.length) return { kind: "incomplete" };
        if (b[j + 1] === 0x5c) return { kind: "reply", end: j + 2 };
      }
    }
    return { kind: "incomplete" };
  }
  if (intro !== 0x5b) return { kind: "other", end: i + 1 };
  // CSI: parameters and intermediates, then a final byte 0x40-0x7E.
  let j = i + 2;
  while (j < b.length && b[j] >= 0x20 && b[j] <= 0x3f) j++;
  if (j >= b.length) return { kind: "incomplete" };
  const final = b[j];
  const params = new TextDecoder().decode(b.subarray(i + 2, j));
  const end = j + 1;
  if (final < 0x40 || final > 0x7e) return { kind: "other", end: i + 1 };
  if (final === 0x63 && /^\?[\d;]*$/.test(params)) return { kind: "reply", end };
  if (final === 0x53 && /^\?[\d;]*$/.test(params)) return { kind: "reply", end };
  if (final === 0x74 && /^[468];\d+;\d+$/.test(params)) return { kind: "reply", end };
  return { kind: "other", end };
}
