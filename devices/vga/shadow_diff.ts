/**
 * Finds what changed in a frame by comparing freshly rendered rows with a
 * shadow copy of what was last reported, shared by the VGA's and
 * virtio-gpu's frame trackers.
 *
 * @module
 */

import type { FrameRect } from "./frame_tracker.ts";

/** Rows closer than this are reported as one rect. */
const MERGE_GAP_ROWS = 4;

interface Band {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/**
 * One pass over a frame: rows fed top to bottom update the shadow (RGBA
 * words, `stride` per row) and grow bands of changed rows.
 */
export class ShadowDiff {
  readonly #shadow: Uint32Array;
  readonly #stride: number;
  readonly #bands: Band[] = [];
  #band: Band | null = null;

  constructor(shadow: Uint32Array, stride: number) {
    this.#shadow = shadow;
    this.#stride = stride;
  }

  /** Row `y`'s pixels `left` to `right` (exclusive) in `row`, indexed by x. */
  row(row: Uint32Array, y: number, left: number, right: number): void {
    const shadow = this.#shadow;
    const at = y * this.#stride;
    let x0 = left;
    while (x0 < right && row[x0] === shadow[at + x0]) x0++;
    if (x0 === right) return;
    let x1 = right - 1;
    while (row[x1] === shadow[at + x1]) x1--;
    shadow.set(row.subarray(x0, x1 + 1), at + x0);
    const band = this.#band;
    if (band && y - band.y1 <= MERGE_GAP_ROWS) {
      band.y1 = y + 1;
      band.x0 = Math.min(band.x0, x0);
      band.x1 = Math.max(band.x1, x1 + 1);
    } else {
      this.#band = { y0: y, y1: y + 1, x0, x1: x1 + 1 };
      this.#bands.push(this.#band);
    }
  }

  /** The changed bands, top to bottom, their pixels copied from the shadow. */
  rects(): FrameRect[] {
    return this.#bands.map((b) =>
      shadowRect(this.#shadow, this.#stride, b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0)
    );
  }
}

/** A copy of the shadow's `w × h` pixels at (x, y). */
function shadowRect(
  shadow: Uint32Array,
  stride: number,
  x: number,
  y: number,
  w: number,
  h: number,
): FrameRect {
  const words = new Uint32Array(w * h);
  for (let r = 0; r < h; r++) {
    const from = (y + r) * stride + x;
    words.set(shadow.subarray(from, from + w), r * w);
  }
  return { x, y, width: w, height: h, rgba: new Uint8Array(words.buffer) };
}
