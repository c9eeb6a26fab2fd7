/**
 * VBE modes end to end: fixtures/src/vbe_modes.asm sets seven modes through
 * SeaVGABIOS's int 10h AX=4F00/4F01/4F02 (8, 15, 16, 24 and 32 bpp at
 * 640×480, 32 bpp at 1024×768 and 1920×1080), draws a known pattern into
 * the linear framebuffer and later a 16×16 square. The same image runs
 * under vmrun and under QEMU/KVM; for every mode, vmrun's framebuffer
 * snapshot, its PNG screenshot, the pattern as the fixture defines it and
 * QEMU's `screendump` must agree, and the square must come back as a small
 * update found through KVM's dirty log.
 *
 * Tolerance: none, except that QEMU widens 15- and 16-bit components
 * without repeating their top bits into the low ones, so those depths may
 * differ from QEMU by up to 7 per channel (vmrun repeats the bits: 31 ->
 * 255, as the pattern definition below does).
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import type { FrameUpdate } from "../devices/vga/frame_tracker.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { encodePng } from "../machine/png.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { decodePng, screendump } from "./images.ts";

/** The fixture's modes, in order: width, height, bits per pixel. */
const TARGETS = [
  [640, 480, 8],
  [640, 480, 15],
  [640, 480, 16],
  [640, 480, 24],
  [640, 480, 32],
  [1024, 768, 32],
  [1920, 1080, 32],
] as const;
const SQUARE = { x: 100, y: 100, size: 16 };

interface Image {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** QEMU's DAC widening: the low bit fills the two new ones. */
const dac8 = (v: number) => (v << 2) | ((v & 1) * 3);
const widen5 = (v: number) => ((v >> 3) << 3) | (v >> 5);
const widen6 = (v: number) => ((v >> 2) << 2) | (v >> 6);

/** The fixture's pattern, as its comment defines it, in RGB. */
function expectedPixel(bpp: number, x: number, y: number, square: boolean): number[] {
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

function expectedImage(width: number, height: number, bpp: number, square: boolean): Image {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0, at = 0; y < height; y++) {
    for (let x = 0; x < width; x++, at += 4) {
      const [r, g, b] = expectedPixel(bpp, x, y, square);
      rgba[at] = r;
      rgba[at + 1] = g;
      rgba[at + 2] = b;
      rgba[at + 3] = 255;
    }
  }
  return { width, height, rgba };
}

/** First pixel where two images differ by more than `tolerance` in a channel, or null. */
function firstDifference(a: Image, b: Image, tolerance = 0): string | null {
  if (a.width !== b.width || a.height !== b.height) {
    return `size ${a.width}x${a.height} vs ${b.width}x${b.height}`;
  }
  for (let i = 0; i < a.rgba.length; i++) {
    if (i % 4 === 3) continue;
    if (Math.abs(a.rgba[i] - b.rgba[i]) > tolerance) {
      const p = Math.floor(i / 4);
      const px = (img: Image) => [...img.rgba.subarray(p * 4, p * 4 + 3)];
      return `pixel (${p % a.width}, ${Math.floor(p / a.width)}): ${px(a)} vs ${px(b)}`;
    }
  }
  return null;
}

/** A vmrun machine on a copy of `name`, with its COM1 output collected. */
export function startVmrun(name: string) {
  const image = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.copyFileSync(fixture(name), image);
  let serial = "";
  const machine = new Machine({
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: image, interface: "ide", media: "disk", readonly: false }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 10, 25, 12),
  }, { serial: (b) => serial += new TextDecoder().decode(b) });
  return {
    machine,
    async waitSerial(text: string, ms = 60_000): Promise<void> {
      const end = Date.now() + ms;
      while (!serial.includes(text)) {
        if (Date.now() > end) throw new Error(`vmrun: '${text}' never came: ${serial}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    cleanup: () => Deno.removeSync(image),
  };
}

function fullFrame(update: FrameUpdate | null): Image {
  ok(update && update.full && update.rects.length === 1, "a full frame");
  return update.rects[0];
}

kvmTest(
  "VBE 8-32 bpp up to 1920x1080: framebuffer, PNG screenshot, pattern and QEMU agree",
  async () => {
    const vm = startVmrun("vbe_modes");
    const qemu = new QemuProcess(fixture("vbe_modes"), { monitor: true, killAfterMs: 240_000 });
    try {
      for (const [i, [width, height, bpp]] of TARGETS.entries()) {
        const what = `${width}x${height}x${bpp}`;
        await Promise.all([vm.waitSerial(`ready ${i}`), qemu.waitForStdout(`ready ${i}`, 60_000)]);
        const update = await vm.machine.frame(true);
        const frame = fullFrame(update);
        strictEqual(update!.format.source, "vbe");
        const expected = expectedImage(width, height, bpp, false);
        strictEqual(firstDifference(frame, expected), null, `${what}: vmrun vs the pattern`);
        const png = await decodePng(await encodePng(await vm.machine.screenshot()));
        strictEqual(firstDifference(png, frame), null, `${what}: PNG screenshot vs framebuffer`);
        const tolerance = bpp === 15 || bpp === 16 ? 7 : 0;
        const theirs = await screendump(qemu);
        strictEqual(firstDifference(frame, theirs, tolerance), null, `${what}: vmrun vs QEMU`);

        vm.machine.pressKeys("Enter");
        await qemu.hmp("sendkey ret");
        await Promise.all([vm.waitSerial(`changed ${i}`), qemu.waitForStdout(`changed ${i}`)]);
        const change = await vm.machine.frame();
        ok(change && !change.full, `${what}: the square is an update, not a full frame`);
        deepStrictEqual(
          change.rects.map((r) => [r.x, r.y, r.width, r.height]),
          [[SQUARE.x, SQUARE.y, SQUARE.size, SQUARE.size]],
          `${what}: only the square`,
        );
        const square = change.rects[0];
        deepStrictEqual([...square.rgba.subarray(0, 3)], expectedPixel(bpp, 100, 100, true));
        const after = await screendump(qemu);
        const ours = expectedImage(width, height, bpp, true);
        strictEqual(
          firstDifference(ours, after, tolerance),
          null,
          `${what}: QEMU after the square`,
        );
        vm.machine.pressKeys("Enter");
        await qemu.hmp("sendkey ret");
      }
      await vm.waitSerial("back to text");
      const text = await vm.machine.frame();
      deepStrictEqual([text?.format.mode, text?.full, text?.rects.length], ["text", true, 0]);
      match((await vm.machine.snapshot()).devices?.screen.text ?? "", /back to text/);
      vm.machine.pressKeys("Enter");
      await qemu.hmp("sendkey ret");
      deepStrictEqual(await vm.machine.exited, { reason: "debug-exit", code: 0x21 });
      strictEqual((await qemu.finished()).debugExit, 0x21);
    } finally {
      qemu.kill();
      await vm.machine.stop();
      vm.cleanup();
    }
  },
);
