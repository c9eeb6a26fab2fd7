/**
 * Shared pieces of the graphics fixtures' end-to-end tests (VBE, Cirrus,
 * virtio-vga): a vmrun machine booting a fixture with its COM1 collected,
 * the pattern vbe_modes.asm and virtio_gpu.asm draw, and picture
 * comparison.
 *
 * @module
 */

import { deepStrictEqual, ok } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import type { FrameUpdate } from "../devices/vga/frame_tracker.ts";
import { DEFAULT_BIOS } from "../machine/firmware.ts";
import type { MachineConfig } from "../machine/config.ts";
import { Machine } from "../machine/machine.ts";
import type { RgbaImage } from "../machine/png.ts";

/** The white square the fixtures draw on a key. */
export const SQUARE = { x: 100, y: 100, size: 16 } as const;

/** QEMU's DAC widening: the low bit fills the two new ones. */
const dac8 = (v: number) => (v << 2) | ((v & 1) * 3);
const widen5 = (v: number) => ((v >> 3) << 3) | (v >> 5);
const widen6 = (v: number) => ((v >> 2) << 2) | (v >> 6);

/**
 * The fixtures' pattern at (x, y) in RGB as shown for `bpp` (see
 * vbe_modes.asm's header), with the square when `square`.
 */
export function expectedPixel(bpp: number, x: number, y: number, square: boolean): number[] {
  const inSquare = square && x >= SQUARE.x && x < SQUARE.x + SQUARE.size && y >= SQUARE.y &&
    y < SQUARE.y + SQUARE.size;
  const k = (y >> 2) & 3;
  if (bpp === 8) {
    const i = inSquare ? 255 : (x + 64 * k) & 255;
    return [dac8(i >> 2), dac8((255 - i) >> 2), dac8((i & 15) << 2)];
  }
  const [r, g, b] = inSquare
    ? [255, 255, 255]
    : [(x + 64 * k) & 255, (3 * x + 32 * k) & 255, (7 * x + 96 * k) & 255];
  if (bpp === 15) return [widen5(r), widen5(g), widen5(b)];
  if (bpp === 16) return [widen5(r), widen6(g), widen5(b)];
  return [r, g, b];
}

/** The whole pattern as RGBA (see expectedPixel). */
export function expectedImage(
  width: number,
  height: number,
  bpp: number,
  square: boolean,
): RgbaImage {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0, at = 0; y < height; y++) {
    for (let x = 0; x < width; x++, at += 4) {
      rgba.set([...expectedPixel(bpp, x, y, square), 255], at);
    }
  }
  return { width, height, rgba };
}

/**
 * The first pixel where two images differ by more than `tolerance` in a
 * channel (alpha aside) and how many channels differ, or null.
 */
export function firstDifference(a: RgbaImage, b: RgbaImage, tolerance = 0): string | null {
  if (a.width !== b.width || a.height !== b.height) {
    return `size ${a.width}x${a.height} vs ${b.width}x${b.height}`;
  }
  let count = 0;
  let first = "";
  for (let i = 0; i < a.rgba.length; i++) {
    if (i % 4 === 3 || Math.abs(a.rgba[i] - b.rgba[i]) <= tolerance) continue;
    if (count++ === 0) {
      const p = Math.floor(i / 4);
      const px = (img: RgbaImage) => [...img.rgba.subarray(p * 4, p * 4 + 3)];
      first = `pixel (${p % a.width}, ${Math.floor(p / a.width)}): ${px(a)} vs ${px(b)}`;
    }
  }
  return count ? `${first} (${count} channels differ)` : null;
}

/** The one picture of a full frame (asserted to be one). */
export function fullFrame(update: FrameUpdate | null): RgbaImage {
  ok(update && update.full && update.rects.length === 1, "a full frame");
  return update.rects[0];
}

/**
 * Asserts that `update` is a partial one of the square alone; returns the
 * square's picture.
 */
export function onlySquare(update: FrameUpdate | null, what: string): RgbaImage {
  ok(update && !update.full, `${what}: the square is an update, not a full frame`);
  deepStrictEqual(
    update.rects.map((r) => [r.x, r.y, r.width, r.height]),
    [[SQUARE.x, SQUARE.y, SQUARE.size, SQUARE.size]],
    `${what}: only the square`,
  );
  return update.rects[0];
}

/** Collects COM1 and waits for text on it. */
export function serialWatch(defaultMs = 60_000) {
  let text = "";
  return {
    listener: (b: Uint8Array) => text += new TextDecoder().decode(b),
    text: () => text,
    async wait(what: string, ms = defaultMs): Promise<void> {
      const end = Date.now() + ms;
      while (!text.includes(what)) {
        if (Date.now() > end) throw new Error(`vmrun: '${what}' never came: ${text}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Which adapter a graphics fixture runs on, and how long a COM1 line may take. */
export interface GraphicsVmOptions {
  readonly vgaBiosPath: string | null;
  readonly vga?: MachineConfig["vga"];
  readonly serialMs?: number;
}

/** A vmrun machine (SeaBIOS, 128 MiB) on a copy of fixture `name`, its COM1 collected. */
export function startGraphicsVm(name: string, options: GraphicsVmOptions) {
  const image = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.copyFileSync(fixture(name), image);
  const serial = serialWatch(options.serialMs);
  const machine = new Machine({
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: options.vgaBiosPath },
    disks: [{ path: image, interface: "ide", media: "disk", readonly: false }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 10, 25, 12),
    ...(options.vga ? { vga: options.vga } : {}),
  }, { serial: serial.listener });
  return {
    machine,
    /** COM1 so far. */
    get serial(): string {
      return serial.text();
    },
    waitSerial: serial.wait,
    cleanup: () => Deno.removeSync(image),
  };
}
