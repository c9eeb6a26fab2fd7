/**
 * --display and --vga-memory on the command line, and what --vga-memory
 * means to a guest: SeaVGABIOS offers only the VBE modes that fit.
 */

import { deepStrictEqual, match, strictEqual, throws } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { parseCommandLine, parseVgaMemory } from "../cli/program.ts";
import { UsageError } from "../cli/errors.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { kvmTest } from "./kvm_available.ts";

const io = { out: () => {}, err: () => {}, hostMemory: 8 * 2 ** 30 };
const base = ["--firmware", "none", fixture("hello")];

Deno.test("--display picks the graphics protocol; auto by default", () => {
  strictEqual(parseCommandLine(base, io).display, "auto");
  for (const d of ["text", "sixel", "kitty", "blocks", "none"]) {
    strictEqual(parseCommandLine(["--display", d, ...base], io).display, d);
  }
  throws(() => parseCommandLine(["--display", "vnc", ...base], io), UsageError);
});

Deno.test("--vga-memory sizes video RAM: a power of two from 1M to 256M, 16M by default", () => {
  strictEqual(parseCommandLine(base, io).config.vgaMemoryBytes, 16 * 2 ** 20);
  strictEqual(
    parseCommandLine(["--vga-memory", "64M", ...base], io).config.vgaMemoryBytes,
    2 ** 26,
  );
  deepStrictEqual([parseVgaMemory("1M"), parseVgaMemory("256M")], [2 ** 20, 2 ** 28]);
  for (const bad of ["3M", "512K", "512M", "lots"]) {
    throws(() => parseVgaMemory(bad), (e: Error) => {
      match(e.message, /--vga-memory '.*' must be a power of two from 1M to 256M/);
      return e instanceof UsageError;
    });
  }
});

Deno.test("--vga picks the display adapter by QEMU's names; std by default", () => {
  strictEqual(parseCommandLine(base, io).config.vga, undefined, "std is the default");
  const cirrus = parseCommandLine(["--vga", "cirrus", ...base], io).config;
  deepStrictEqual([cirrus.vga, cirrus.vgaMemoryBytes], ["cirrus", 4 * 2 ** 20]);
  strictEqual(parseCommandLine(["-vga", "none", ...base], io).config.vga, "none");
  strictEqual(
    parseCommandLine(["--vga", "cirrus", "--vga-memory", "4M", ...base], io).config.vga,
    "cirrus",
  );
  for (
    const [args, message] of [
      [
        ["--vga", "vga"],
        /argument 'vga' is invalid. Allowed choices are std, cirrus, virtio, none/,
      ],
      [["--vga", "cirrus", "--vga-memory", "8M"], /the cirrus VGA has 4M of video memory/],
    ] as const
  ) {
    throws(() => parseCommandLine([...args, ...base], io), (e: Error) => {
      match(e.message, message);
      return e instanceof UsageError;
    });
  }
});

Deno.test("--vga cirrus and none choose the VGA BIOS: Cirrus's, or none at all", () => {
  const bios = ["--firmware", DEFAULT_BIOS, fixture("hello")];
  const firmware = (args: string[]) => parseCommandLine([...args, ...bios], io).config.firmware;
  deepStrictEqual(firmware([]), {
    kind: "bios",
    path: DEFAULT_BIOS,
    vgaBiosPath: DEFAULT_VGA_BIOS,
  });
  deepStrictEqual(firmware(["--vga", "cirrus"]), {
    kind: "bios",
    path: DEFAULT_BIOS,
    vgaBiosPath: "/usr/share/seabios/vgabios-cirrus.bin",
  });
  deepStrictEqual(firmware(["--vga", "none"]), {
    kind: "bios",
    path: DEFAULT_BIOS,
    vgaBiosPath: null,
  });
});

kvmTest("with 4M of video memory SeaVGABIOS offers 1024x768x32 but not 1920x1080x32", async () => {
  const image = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.copyFileSync(fixture("vbe_modes"), image);
  let serial = "";
  const machine = new Machine({
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: image, interface: "ide", media: "disk", readonly: false }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 10, 25, 12),
    vgaMemoryBytes: 4 * 2 ** 20,
  }, { serial: (b) => serial += new TextDecoder().decode(b) });
  try {
    // Step through the fixture's modes with Enter until it stops.
    const presser = setInterval(() => {
      if (/ready \d|changed \d/.test(serial)) machine.pressKeys("Enter");
    }, 150);
    const exit = await machine.exited;
    clearInterval(presser);
    deepStrictEqual(exit, { reason: "debug-exit", code: 1 });
    match(serial, /ready 5\r\n/);
    match(serial, /no such mode: target 06/);
  } finally {
    await machine.stop();
    Deno.removeSync(image);
  }
});
