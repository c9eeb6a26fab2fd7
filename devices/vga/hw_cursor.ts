/**
 * A hardware cursor drawn over graphics (the Cirrus's SR10-SR13 cursor):
 * two bit planes, one bit each per pixel, where 00 leaves the screen, 01
 * inverts it, 10 paints colour 0 and 11 colour 1, as QEMU's display draws
 * the CL-GD5446's.
 *
 * @module
 */

/** A cursor to draw, with its pattern copied out of video RAM. */
export interface HwCursor {
  /** Top left, in screen pixels. */
  readonly x: number;
  readonly y: number;
  /** 32 or 64 pixels square. */
  readonly size: number;
  /** Per row: `size / 8` bytes of plane 0, then `size / 8` bytes of plane 1. */
  readonly planes: Uint8Array;
  /** Pixel words (R, G, B, A little-endian) of colours 0 and 1. */
  readonly color0: number;
  readonly color1: number;
}

/** Two cursors that draw the same. */
export function sameCursor(a: HwCursor | null, b: HwCursor | null): boolean {
  if (a === null || b === null) return a === b;
  if (
    a.x !== b.x || a.y !== b.y || a.size !== b.size || a.color0 !== b.color0 ||
    a.color1 !== b.color1 || a.planes.length !== b.planes.length
  ) return false;
  return a.planes.every((v, i) => v === b.planes[i]);
}

/** Draws the cursor's part of screen row `y` into `dst[out..out + width)`. */
export function drawCursorRow(
  c: HwCursor,
  y: number,
  dst: Uint32Array,
  out: number,
  width: number,
): void {
  const row = y - c.y;
  if (row < 0 || row >= c.size || c.x >= width) return;
  const bytes = c.size >> 3;
  const at = row * bytes * 2;
  const end = Math.min(c.size, width - c.x);
  for (let x = 0; x < end; x++) {
    const bit = 7 - (x & 7);
    const b0 = (c.planes[at + (x >> 3)] >> bit) & 1;
    const b1 = (c.planes[at + bytes + (x >> 3)] >> bit) & 1;
    const i = out + c.x + x;
    if (b1) dst[i] = b0 ? c.color1 : c.color0;
    else if (b0) dst[i] = (dst[i] ^ 0x00ffffff) >>> 0;
  }
}
