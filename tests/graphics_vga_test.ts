/**
 * The VGA's own graphics modes end to end: fixtures mode13.asm (320×200,
 * 256 colours, chain-4) and mode12.asm (640×480, 16 colours, planar) set
 * their mode through SeaVGABIOS's int 10h, draw a known pattern through the
 * 0xA0000 window, change a small square, and go back to text mode. Under
 * vmrun and QEMU/KVM alike: vmrun's frame matches the pattern exactly, and
 * QEMU's `screendump` shows the same pixels (QEMU draws mode 13h at
 * 640×400, every pixel doubled both ways, which is compared as such); the
 * square arrives as a small update; after the switch back the text screen
 * shows the fixture's words and the frame reports text mode.
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { encodePng } from "../machine/png.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { decodePng, screendump } from "./images.ts";

interface Image {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** QEMU's 6-to-8-bit DAC widening (the low bit fills the two new ones). */
const dac8 = (v: number) => (v << 2) | ((v & 1) * 3);
/** The BIOS's 16 colours: EGA rgbRGB DAC values 0, 21, 42, 63 widened. */
const EGA = [
  [0, 0, 0],
  [0, 0, 42],
  [0, 42, 0],
  [0, 42, 42],
  [42, 0, 0],
  [42, 0, 42],
  [42, 21, 0],
  [42, 42, 42],
  [21, 21, 21],
  [21, 21, 63],
  [21, 63, 21],
  [21, 63, 63],
  [63, 21, 21],
  [63, 21, 63],
  [63, 63, 21],
  [63, 63, 63],
].map((c) => c.map(dac8));

/** mode13.asm's picture. */
function mode13(x: number, y: number, square: boolean): number[] {
  const inSquare = square && x >= 50 && x < 58 && y >= 50 && y < 58;
  const i = inSquare ? 15 : (x + 64 * ((y >> 2) & 3)) & 255;
  return [dac8(i >> 2), dac8((255 - i) >> 2), dac8((i & 15) << 2)];
}

/** mode12.asm's picture. */
function mode12(x: number, y: number, square: boolean): number[] {
  const inSquare = square && x >= 80 && x < 88 && y >= 100 && y < 108;
  const k = (y >> 2) & 3;
  return EGA[inSquare ? 15 : (x + 3 * k + (x >> 5)) & 15];
}

function picture(
  width: number,
  height: number,
  scale: number,
  pixel: (x: number, y: number) => number[],
): Image {
  const [w, h] = [width * scale, height * scale];
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0, at = 0; y < h; y++) {
    for (let x = 0; x < w; x++, at += 4) {
      rgba.set(pixel(Math.floor(x / scale), Math.floor(y / scale)), at);
      rgba[at + 3] = 255;
    }
  }
  return { width: w, height: h, rgba };
}

function firstDifference(a: Image, b: Image): string | null {
  if (a.width !== b.width || a.height !== b.height) {
    return `size ${a.width}x${a.height} vs ${b.width}x${b.height}`;
  }
  for (let i = 0; i < a.rgba.length; i++) {
    if (a.rgba[i] !== b.rgba[i]) {
      const p = Math.floor(i / 4);
      const px = (img: Image) => [...img.rgba.subarray(p * 4, p * 4 + 3)];
      return `pixel (${p % a.width}, ${Math.floor(p / a.width)}): ${px(a)} vs ${px(b)}`;
    }
  }
  return null;
}

const CASES = [
  { name: "mode13", width: 320, height: 200, qemuScale: 2, pixel: mode13, square: [50, 50, 8, 8] },
  { name: "mode12", width: 640, height: 480, qemuScale: 1, pixel: mode12, square: [80, 100, 8, 8] },
] as const;

for (const c of CASES) {
  kvmTest(`${c.name}: picture, changed square, back to text, as QEMU shows them`, async () => {
    const image = Deno.makeTempFileSync({ suffix: ".img" });
    Deno.copyFileSync(fixture(c.name), image);
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
    const waitSerial = async (text: string) => {
      const end = Date.now() + 60_000;
      while (!serial.includes(text)) {
        if (Date.now() > end) throw new Error(`vmrun: '${text}' never came: ${serial}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const qemu = new QemuProcess(fixture(c.name), { monitor: true, killAfterMs: 120_000 });
    const step = async (text: string) => {
      await Promise.all([waitSerial(text), qemu.waitForStdout(text, 60_000)]);
    };
    const press = async () => {
      machine.pressKeys("Enter");
      await qemu.hmp("sendkey ret");
    };
    try {
      await step(`${c.name} ready`);
      const first = await machine.frame(true);
      ok(first?.full && first.rects.length === 1 && first.format.source === "vga");
      const frame = first.rects[0];
      const expected = picture(c.width, c.height, 1, (x, y) => c.pixel(x, y, false));
      strictEqual(firstDifference(frame, expected), null, "vmrun vs the pattern");
      const shot = await decodePng(await encodePng(await machine.screenshot()));
      strictEqual(firstDifference(shot, frame), null, "PNG screenshot vs the frame");
      const qemuExpected = picture(c.width, c.height, c.qemuScale, (x, y) => c.pixel(x, y, false));
      strictEqual(firstDifference(await screendump(qemu), qemuExpected), null, "QEMU's picture");

      await press();
      await step(`${c.name} changed`);
      const change = await machine.frame();
      ok(change && !change.full, "a small update, not a full frame");
      deepStrictEqual(change.rects.map((r) => [r.x, r.y, r.width, r.height]), [c.square]);
      const changed = picture(c.width, c.height, c.qemuScale, (x, y) => c.pixel(x, y, true));
      strictEqual(firstDifference(await screendump(qemu), changed), null, "QEMU after the change");

      await press();
      await step("back to text");
      const text = await machine.frame();
      deepStrictEqual([text?.format.mode, text?.full, text?.rects.length], ["text", true, 0]);
      match((await machine.snapshot()).devices?.screen.text ?? "", /back to text/);
      const textShot = await machine.screenshot();
      deepStrictEqual([textShot.width, textShot.height], [720, 400], "the text screen again");
      await press();
      const code = c.name === "mode13" ? 0x13 : 0x12;
      deepStrictEqual(await machine.exited, { reason: "debug-exit", code });
      strictEqual((await qemu.finished()).debugExit, code);
    } finally {
      qemu.kill();
      await machine.stop();
      Deno.removeSync(image);
    }
  });
}
