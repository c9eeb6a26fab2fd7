/**
 * Screenshots as PNG: the machine renders the screen (text or graphics) to
 * RGBA, sharp encodes it.
 *
 * @module
 */

import type { Machine } from "../machine/machine.ts";
import { encodePng } from "../machine/png.ts";

/**
 * The screen now as PNG bytes, also written to `path` when given.
 * @throws {Error} when the machine has stopped or the file cannot be written
 */
export async function screenshotPng(machine: Machine, path?: string): Promise<Uint8Array> {
  const png = await encodePng(await machine.screenshot());
  if (path !== undefined) await Deno.writeFile(path, png);
  return png;
}
