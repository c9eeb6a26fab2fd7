/**
 * PNG encoding of screenshots, through sharp (libvips).
 *
 * @module
 */

import { loadSharp } from "../deps/sharp.ts";

/** An RGBA picture: 4 bytes a pixel, row-major, no padding. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/**
 * Encodes `image` as PNG (8-bit RGBA).
 * @throws {RangeError} when the size is empty or does not match the pixel bytes
 */
export async function encodePng(image: RgbaImage): Promise<Uint8Array> {
  const { width, height, rgba } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`cannot encode a ${width}x${height} image`);
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(
      `${width}x${height} RGBA needs ${width * height * 4} bytes, got ${rgba.length}`,
    );
  }
  const sharp = await loadSharp();
  const png = await sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
