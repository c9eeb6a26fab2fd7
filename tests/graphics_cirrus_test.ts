/**
 * The Cirrus CL-GD5446 (`--vga cirrus`) against QEMU's `-vga cirrus` with
 * KVM, both booting SeaBIOS with SeaVGABIOS's vgabios-cirrus.bin:
 *
 * - cirrus_regs: the PCI identity, the chip ID and the extended registers
 *   as the BIOS leaves them and as they read back after writes, printed on
 *   COM1: the two transcripts must be equal.
 * - cirrus_vbe: vbe_modes.asm's pattern in VBE modes the Cirrus BIOS
 *   offers (8, 16 and 24 bpp): vmrun's frame, its PNG screenshot, the
 *   pattern and QEMU's screendump agree; the square afterwards is a small
 *   update found through KVM's dirty log.
 * - cirrus_blt: pictures drawn by the BitBLT engine alone at 8, 16 and 24
 *   bpp, with the hardware cursor over them; vmrun's screenshot equals
 *   QEMU's screendump.
 * - a VM saved over a BitBLT picture restores picture and cursor and goes on;
 * - `--vga none`: cirrus_regs sees nothing at 00:02.0 and floating VGA ports,
 *   the same transcript as QEMU's `-vga none`.
 *
 * Tolerance: none, except that QEMU widens 16-bit components without
 * repeating their top bits (up to 7 per channel, as in graphics_vbe_test).
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { openSaveFile } from "../machine/restore.ts";
import { encodePng } from "../machine/png.ts";
import { VGA_MODEL_INFO } from "../machine/vga_models.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { decodePng, screendump } from "./images.ts";
import {
  expectedImage,
  firstDifference,
  fullFrame,
  onlySquare,
  startGraphicsVm,
} from "./graphics_fixture.ts";

const CIRRUS = ["-vga", "cirrus"];

/** A vmrun machine with the Cirrus on a copy of fixture `name`, its COM1 collected. */
const startCirrus = (name: string) =>
  startGraphicsVm(name, { vgaBiosPath: VGA_MODEL_INFO.cirrus.bios, vga: "cirrus" });

kvmTest("cirrus: chip ID and register read-back on COM1 equal QEMU's", async () => {
  const vm = startCirrus("cirrus_regs");
  const qemu = new QemuProcess(fixture("cirrus_regs"), { extraArgs: CIRRUS });
  try {
    const [exit, theirs] = await Promise.all([vm.machine.exited, qemu.finished()]);
    deepStrictEqual(exit, { reason: "debug-exit", code: 0x22 });
    strictEqual(theirs.debugExit, 0x22, theirs.stderr);
    ok(/^pci 00b81013/m.test(vm.serial), vm.serial);
    ok(/^cr27 b8/m.test(vm.serial), vm.serial);
    strictEqual(vm.serial, theirs.stdout);
  } finally {
    qemu.kill();
    await vm.machine.stop();
    vm.cleanup();
  }
});

/** cirrus_vbe's modes, in order. */
const VBE_TARGETS = [[640, 480, 8], [1024, 768, 8], [800, 600, 16], [640, 480, 24]] as const;

kvmTest("cirrus: VBE modes of the Cirrus BIOS, drawn, match QEMU's screendump", async () => {
  const vm = startCirrus("cirrus_vbe");
  const qemu = new QemuProcess(fixture("cirrus_vbe"), {
    monitor: true,
    killAfterMs: 240_000,
    extraArgs: CIRRUS,
  });
  try {
    for (const [i, [width, height, bpp]] of VBE_TARGETS.entries()) {
      const what = `${width}x${height}x${bpp}`;
      await Promise.all([vm.waitSerial(`ready ${i}`), qemu.waitForStdout(`ready ${i}`, 60_000)]);
      const frame = fullFrame(await vm.machine.frame(true));
      strictEqual(
        firstDifference(frame, expectedImage(width, height, bpp, false)),
        null,
        `${what}`,
      );
      const png = await decodePng(await encodePng(await vm.machine.screenshot()));
      strictEqual(firstDifference(png, frame), null, `${what}: PNG screenshot vs framebuffer`);
      const tolerance = bpp === 16 ? 7 : 0;
      strictEqual(firstDifference(frame, await screendump(qemu), tolerance), null, `${what}: QEMU`);
      vm.machine.pressKeys("Enter");
      await qemu.hmp("sendkey ret");
      await Promise.all([vm.waitSerial(`changed ${i}`), qemu.waitForStdout(`changed ${i}`)]);
      onlySquare(await vm.machine.frame(), what);
      const ours = fullFrame(await vm.machine.frame(true));
      strictEqual(firstDifference(ours, await screendump(qemu), tolerance), null, `${what}: after`);
      vm.machine.pressKeys("Enter");
      await qemu.hmp("sendkey ret");
    }
    await vm.waitSerial("back to text");
    vm.machine.pressKeys("Enter");
    await qemu.hmp("sendkey ret");
    deepStrictEqual(await vm.machine.exited, { reason: "debug-exit", code: 0x21 });
    strictEqual((await qemu.finished()).debugExit, 0x21);
  } finally {
    qemu.kill();
    await vm.machine.stop();
    vm.cleanup();
  }
});

kvmTest("cirrus: BitBLT pictures at 8, 16 and 24 bpp match QEMU's screendump", async () => {
  const vm = startCirrus("cirrus_blt");
  const qemu = new QemuProcess(fixture("cirrus_blt"), {
    monitor: true,
    killAfterMs: 240_000,
    extraArgs: CIRRUS,
  });
  try {
    for (const [i, bpp] of [8, 16, 24].entries()) {
      await Promise.all([vm.waitSerial(`blt ready ${i}`), qemu.waitForStdout(`blt ready ${i}`)]);
      const ours = await decodePng(await encodePng(await vm.machine.screenshot()));
      const theirs = await screendump(qemu);
      strictEqual(firstDifference(ours, theirs, bpp === 16 ? 7 : 0), null, `${bpp} bpp`);
      // The picture is the engine's: far from one colour.
      const colours = new Set<number>();
      const words = new Uint32Array(ours.rgba.buffer, ours.rgba.byteOffset, ours.rgba.length / 4);
      for (let p = 0; p < words.length; p += 97) colours.add(words[p]);
      ok(colours.size >= 8, `${bpp} bpp: only ${colours.size} colours`);
      // The hardware cursor at (203, 150) paints its colours, red and yellow, in both.
      const cursorColours = new Set<string>();
      for (let y = 150; y < 182; y++) {
        for (let x = 203; x < 235; x++) {
          const at = (y * ours.width + x) * 4;
          cursorColours.add(ours.rgba.subarray(at, at + 3).join(","));
        }
      }
      ok(cursorColours.has("255,0,0") && cursorColours.has("255,255,0"), `${bpp} bpp: cursor`);
      vm.machine.pressKeys("Enter");
      await qemu.hmp("sendkey ret");
    }
    deepStrictEqual(await vm.machine.exited, { reason: "debug-exit", code: 0x23 });
    strictEqual((await qemu.finished()).debugExit, 0x23);
  } finally {
    qemu.kill();
    await vm.machine.stop();
    vm.cleanup();
  }
});

kvmTest("cirrus: a VM saved over a BitBLT picture restores it and carries on", async () => {
  const dir = Deno.makeTempDirSync();
  const file = `${dir}/cirrus.save`;
  const vm = startCirrus("cirrus_blt");
  let restored: Machine | null = null;
  try {
    await vm.waitSerial("blt ready 0");
    const before = await decodePng(await encodePng(await vm.machine.screenshot()));
    await vm.machine.save(file, { stop: true });
    await vm.machine.exited;
    const header = openSaveFile(file);
    strictEqual(header.config.vga, "cirrus");
    let serial = "";
    restored = new Machine(header.config, {
      serial: (b) => serial += new TextDecoder().decode(b),
    }, { restorePath: file });
    const after = await decodePng(await encodePng(await restored.screenshot()));
    strictEqual(firstDifference(after, before), null, "the picture and cursor come back");
    restored.pressKeys("Enter");
    const end = Date.now() + 60_000;
    while (!serial.includes("blt ready 1") && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    ok(serial.includes("blt ready 1"), `the restored guest goes on: ${serial}`);
  } finally {
    await restored?.stop();
    vm.cleanup();
    Deno.removeSync(dir, { recursive: true });
  }
});

kvmTest("--vga none: nothing at 00:02.0 and no VGA ports, as under QEMU's -vga none", async () => {
  const image = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.copyFileSync(fixture("cirrus_regs"), image);
  let serial = "";
  const machine = new Machine({
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: null },
    disks: [{ path: image, interface: "ide", media: "disk", readonly: false }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 10, 25, 12),
    vga: "none",
  }, { serial: (b) => serial += new TextDecoder().decode(b) });
  const qemu = new QemuProcess(fixture("cirrus_regs"), { extraArgs: ["-vga", "none"] });
  try {
    const [exit, theirs] = await Promise.all([machine.exited, qemu.finished()]);
    deepStrictEqual(exit, { reason: "debug-exit", code: 0x22 });
    ok(/^pci ffffffff/m.test(serial) && /^cr27 ff/m.test(serial), serial);
    strictEqual(serial, theirs.stdout);
  } finally {
    qemu.kill();
    await machine.stop();
    Deno.removeSync(image);
  }
});
