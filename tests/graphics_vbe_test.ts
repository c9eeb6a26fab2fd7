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

import { deepStrictEqual, match, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { encodePng } from "../machine/png.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { decodePng, screendump } from "./images.ts";
import {
  expectedImage,
  expectedPixel,
  firstDifference,
  fullFrame,
  onlySquare,
  startGraphicsVm,
} from "./graphics_fixture.ts";

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

kvmTest(
  "VBE 8-32 bpp up to 1920x1080: framebuffer, PNG screenshot, pattern and QEMU agree",
  async () => {
    const vm = startGraphicsVm("vbe_modes", { vgaBiosPath: DEFAULT_VGA_BIOS });
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
        const square = onlySquare(await vm.machine.frame(), what);
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
