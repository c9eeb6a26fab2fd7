/**
 * Pictures for tests: QEMU's screendump files (binary PPM) and PNG files
 * decoded to RGBA, to compare with what vmrun shows.
 *
 * @module
 */

import { strictEqual } from "node:assert";
import type { RgbaImage } from "../machine/png.ts";
import { loadSharp } from "../deps/sharp.ts";

/** Decodes a binary PPM (P6, maxval 255, comments allowed) to RGBA. */
export function decodePpm(bytes: Uint8Array): RgbaImage {
  let at = 0;
  const token = (): string => {
    for (;;) {
      while (/\s/.test(String.fromCharCode(bytes[at]))) at++;
      if (bytes[at] !== 0x23) break; // '#' comment to end of line
      while (bytes[at] !== 0x0a) at++;
    }
    let s = "";
    while (!/\s/.test(String.fromCharCode(bytes[at]))) s += String.fromCharCode(bytes[at++]);
    return s;
  };
  strictEqual(token(), "P6");
  const width = Number(token()), height = Number(token());
  strictEqual(token(), "255");
  at++; // the single whitespace byte before the raster
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(bytes.subarray(at + i * 3, at + i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/** Decodes PNG bytes to RGBA with sharp. */
export async function decodePng(png: Uint8Array): Promise<RgbaImage> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgba: new Uint8Array(data) };
}

/** Something that answers HMP commands, such as tests/qemu.ts's QemuProcess. */
export interface HmpTarget {
  hmp(command: string): Promise<string>;
}

/** QEMU's picture right now, through HMP `screendump`. */
export async function screendump(qemu: HmpTarget): Promise<RgbaImage> {
  const path = Deno.makeTempFileSync({ suffix: ".ppm" });
  try {
    const out = await qemu.hmp(`screendump ${path}`);
    strictEqual(out.trim(), "", `screendump: ${out}`);
    return decodePpm(Deno.readFileSync(path));
  } finally {
    Deno.removeSync(path);
  }
}
