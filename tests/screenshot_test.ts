/**
 * Screenshots against QEMU's: the same fixture (bios_banner: mode 3 text in
 * several colours, bright backgrounds, line-drawing characters, the cursor
 * in the middle of the screen) booted by SeaBIOS and SeaVGABIOS under vmrun
 * and under QEMU with KVM, then `Machine.screenshot()` compared pixel for
 * pixel with HMP `screendump`.
 *
 * Tolerance: every pixel position must match; colour channels may differ by
 * at most 2, because QEMU widens the DAC's 6-bit components as
 * `v << 2 | (v & 1) * 3` and vmrun as `round(v * 255 / 63)` (42 gives 168
 * and 170). QEMU blinks the cursor, so the cursor cell is left out of the
 * frame comparison; it must then match in at least one of several dumps.
 */

import { deepStrictEqual, ok } from "node:assert";
import { join } from "node:path";
import { fixture } from "../fixtures/build.ts";
import type { MachineConfig } from "../machine/config.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { encodePng, type RgbaImage } from "../machine/png.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { decodePng, decodePpm } from "./images.ts";

/** Largest per-channel difference accepted (see the module comment). */
const CHANNEL_TOLERANCE = 2;
/** Where bios_banner leaves the cursor: row 14, column 40 of 9×16 cells. */
const CURSOR_CELL = { x: 40 * 9, y: 14 * 16, width: 9, height: 16 };
const READY = "banner ready";

function inCursorCell(x: number, y: number): boolean {
  const c = CURSOR_CELL;
  return x >= c.x && x < c.x + c.width && y >= c.y && y < c.y + c.height;
}

/** Pixels whose colours differ by more than the tolerance, optionally skipping the cursor cell. */
function differences(a: RgbaImage, b: RgbaImage, skipCursor: boolean): string[] {
  const out: string[] = [];
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (skipCursor && inCursorCell(x, y)) continue;
      const i = (y * a.width + x) * 4;
      for (let ch = 0; ch < 3; ch++) {
        if (Math.abs(a.rgba[i + ch] - b.rgba[i + ch]) > CHANNEL_TOLERANCE) {
          const hex = (img: RgbaImage) =>
            [...img.rgba.subarray(i, i + 3)].map((v) => v.toString(16).padStart(2, "0")).join("");
          out.push(`(${x},${y}) vmrun ${hex(a)} qemu ${hex(b)}`);
          break;
        }
      }
    }
  }
  return out;
}

/** Boots bios_banner under QEMU and takes `count` screendumps once it is ready. */
async function qemuScreens(count: number): Promise<RgbaImage[]> {
  const qemu = new QemuProcess(fixture("bios_banner"), { monitor: true, killAfterMs: 60_000 });
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-screendump-" });
  try {
    await qemu.waitForStdout(READY);
    const screens: RgbaImage[] = [];
    for (let i = 0; i < count; i++) {
      const file = join(dir, `screen${i}.ppm`);
      await qemu.hmp(`screendump ${file}`);
      screens.push(decodePpm(Deno.readFileSync(file)));
      await new Promise((r) => setTimeout(r, 60));
    }
    return screens;
  } finally {
    qemu.kill();
    await qemu.finished();
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Boots bios_banner under vmrun and takes a screenshot once it is ready. */
async function vmrunScreen(): Promise<RgbaImage> {
  const disk = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.copyFileSync(fixture("bios_banner"), disk);
  let serial = "";
  const config: MachineConfig = {
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: disk, interface: "ide", media: "disk", readonly: false }],
    snapshot: false,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 10, 25, 12),
  };
  const machine = new Machine(config, { serial: (b) => serial += new TextDecoder().decode(b) });
  try {
    const end = Date.now() + 30_000;
    while (!serial.includes(READY)) {
      if (Date.now() > end) throw new Error(`no "${READY}" on COM1; got ${JSON.stringify(serial)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return await machine.screenshot();
  } finally {
    await machine.stop();
    Deno.removeSync(disk);
  }
}

/** Keeps both pictures as PNGs for a failure message. */
async function keep(vmrun: RgbaImage, qemu: RgbaImage): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-screenshot-diff-" });
  Deno.writeFileSync(join(dir, "vmrun.png"), await encodePng(vmrun));
  Deno.writeFileSync(join(dir, "qemu.png"), await encodePng(qemu));
  return dir;
}

kvmTest(
  "screenshot: bios_banner under vmrun matches QEMU's screendump pixel for pixel",
  async () => {
    const [ours, theirs] = await Promise.all([vmrunScreen(), qemuScreens(8)]);
    deepStrictEqual([ours.width, ours.height], [720, 400]);
    for (const q of theirs) deepStrictEqual([q.width, q.height], [720, 400]);

    const masked = differences(ours, theirs[0], true);
    if (masked.length) {
      const dir = await keep(ours, theirs[0]);
      throw new Error(
        `${masked.length} pixels differ (pictures in ${dir}); first: ${
          masked.slice(0, 8).join("; ")
        }`,
      );
    }
    // vmrun draws the cursor ("on" phase); QEMU shows it in some of the dumps.
    const withCursor = theirs.filter((q) => differences(ours, q, false).length === 0);
    if (withCursor.length === 0) {
      const dir = await keep(ours, theirs[0]);
      throw new Error(`the cursor cell never matched QEMU's in ${theirs.length} dumps (${dir})`);
    }

    // The picture is what the fixture wrote: the cursor lines are lit in vmrun's.
    const cursorLine = CURSOR_CELL.y + 14;
    const at = (cursorLine * ours.width + CURSOR_CELL.x) * 4;
    const above = ((cursorLine - 4) * ours.width + CURSOR_CELL.x) * 4;
    ok(ours.rgba[at] > 0x80 && ours.rgba[above] === 0, "cursor lines grey on black");

    // And it survives PNG encoding.
    const png = await encodePng(ours);
    deepStrictEqual((await decodePng(png)).rgba, ours.rgba);
  },
);
