/**
 * Fixture images for the API, script and control tests: private copies, so
 * no other test's image lock gets in the way.
 *
 * @module
 */

import { fixture } from "../fixtures/build.ts";

/** A temporary copy of a fixture image. */
export function imageCopy(name: string): string {
  const path = Deno.makeTempFileSync({ prefix: `vmrun-${name}-`, suffix: ".img" });
  Deno.copyFileSync(fixture(name), path);
  return path;
}

/** Polls `cond` until it holds; throws with `what` after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The width and height in a PNG's IHDR, after checking its signature. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => png[i] === b)) throw new Error("not a PNG");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
