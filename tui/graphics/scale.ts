/**
 * Scaling RGBA images for the terminal: any region of the scaled image can
 * be produced on its own, so a small change in the guest costs a small
 * amount of work. Enlarging picks the nearest source pixel (text stays
 * crisp, colours stay those of the guest's palette); shrinking averages the
 * source pixels each destination pixel covers (up to 4 × 4 of them, evenly
 * spaced, when it covers more).
 *
 * {@link scaleWithSharp} does whole images through sharp (libvips), for
 * callers that prefer its filters; the renderers use {@link scaleRegion},
 * which needs no copy of the whole scaled image and is synchronous.
 *
 * @module
 */

import type { Rect } from "./geometry.ts";
import { loadSharp } from "../../deps/sharp.ts";

/** An RGBA picture, 4 bytes a pixel, rows top to bottom. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** Source pixels averaged per destination pixel and axis, at most (evenly spaced beyond). */
const MAX_SAMPLES = 4;

/** For each destination index, the source range `[from[i], to[i])` it covers. */
function spans(src: number, dst: number, start: number, count: number) {
  const from = new Int32Array(count);
  const to = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const d = start + i;
    if (dst >= src) {
      const s = Math.min(src - 1, Math.floor(((d + 0.5) * src) / dst));
      from[i] = s;
      to[i] = s + 1;
    } else {
      from[i] = Math.floor((d * src) / dst);
      to[i] = Math.max(from[i] + 1, Math.min(src, Math.floor(((d + 1) * src) / dst)));
    }
  }
  return { from, to };
}

/**
 * Region `r` of `src` scaled to `width × height`, as RGBA bytes
 * (`r.width × r.height × 4`).
 */
export function scaleRegion(src: RgbaImage, width: number, height: number, r: Rect): Uint8Array {
  const out = new Uint8Array(r.width * r.height * 4);
  if (r.width <= 0 || r.height <= 0) return out;
  const xs = spans(src.width, width, r.x, r.width);
  const ys = spans(src.height, height, r.y, r.height);
  if (width >= src.width && height >= src.height) {
    const s32 = new Uint32Array(src.rgba.buffer, src.rgba.byteOffset, src.width * src.height);
    const o32 = new Uint32Array(out.buffer);
    for (let y = 0; y < r.height; y++) {
      const row = ys.from[y] * src.width;
      const at = y * r.width;
      for (let x = 0; x < r.width; x++) o32[at + x] = s32[row + xs.from[x]];
    }
    return out;
  }
  const s = src.rgba;
  for (let y = 0, o = 0; y < r.height; y++) {
    const y0 = ys.from[y];
    const y1 = ys.to[y];
    const yStep = Math.ceil((y1 - y0) / MAX_SAMPLES);
    for (let x = 0; x < r.width; x++, o += 4) {
      const x0 = xs.from[x];
      const x1 = xs.to[x];
      const xStep = Math.ceil((x1 - x0) / MAX_SAMPLES) * 4;
      let red = 0;
      let green = 0;
      let blue = 0;
      let n = 0;
      for (let sy = y0; sy < y1; sy += yStep) {
        for (
          let i = (sy * src.width + x0) * 4, end = (sy * src.width + x1) * 4;
          i < end;
          i += xStep
        ) {
          red += s[i];
          green += s[i + 1];
          blue += s[i + 2];
          n++;
        }
      }
      out[o] = Math.round(red / n);
      out[o + 1] = Math.round(green / n);
      out[o + 2] = Math.round(blue / n);
      out[o + 3] = 255;
    }
  }
  return out;
}

/** The whole of `src` scaled to `width × height` (see {@link scaleRegion}). */
export function scaleImage(src: RgbaImage, width: number, height: number): RgbaImage {
  const rgba = scaleRegion(src, width, height, { x: 0, y: 0, width, height });
  return { width, height, rgba };
}

/**
 * The whole of `src` scaled through sharp: nearest-neighbour when
 * enlarging, sharp's default (Lanczos) filter when shrinking.
 */
export async function scaleWithSharp(
  src: RgbaImage,
  width: number,
  height: number,
): Promise<RgbaImage> {
  const enlarging = width >= src.width && height >= src.height;
  const sharp = await loadSharp();
  const data = await sharp(src.rgba, {
    raw: { width: src.width, height: src.height, channels: 4 },
  }).resize(width, height, { fit: "fill", kernel: enlarging ? "nearest" : "lanczos3" })
    .raw().toBuffer();
  return { width, height, rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
