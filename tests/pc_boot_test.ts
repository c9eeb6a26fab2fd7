/**
 * The PC platform end to end: SeaBIOS boots fixture sectors from IDE and
 * virtio-blk disks, int 13h reads and writes, --snapshot, the boot menu and
 * int 16h keyboard input through the PS/2 keyboard.
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import type { DiskConfig, MachineConfig } from "../machine/config.ts";
import { Machine } from "../machine/machine.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { kvmTest } from "./kvm_available.ts";
import { runVmrun, VmrunProcess } from "./vmrun_process.ts";

const INTERFACES = ["ide", "virtio"] as const;

/** A copy of a fixture image the test may write. */
function copyOf(name: string): string {
  const path = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.copyFileSync(fixture(name), path);
  return path;
}

function pcConfig(disks: DiskConfig[], extra: Partial<MachineConfig> = {}): MachineConfig {
  return {
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks,
    snapshot: false,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 10, 25, 12),
    ...extra,
  };
}

function disk(path: string, iface: "ide" | "virtio"): DiskConfig {
  return { path, interface: iface, media: "disk", readonly: false };
}

/** Runs a machine, collecting serial output, until `until` says so. */
function boot(config: MachineConfig) {
  let serial = "";
  const dec = new TextDecoder();
  const machine = new Machine(config, { serial: (b) => serial += dec.decode(b) });
  return {
    machine,
    serial: () => serial,
    async waitSerial(text: string, ms = 120_000) {
      const end = Date.now() + ms;
      while (!serial.includes(text)) {
        if (Date.now() > end) {
          throw new Error(`'${text}' never came; serial: ${JSON.stringify(serial)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async waitScreen(pattern: RegExp, ms = 120_000): Promise<string> {
      const end = Date.now() + ms;
      for (;;) {
        const text = (await machine.snapshot()).devices?.screen.text ?? "";
        if (pattern.test(text)) return text;
        if (Date.now() > end) throw new Error(`${pattern} never on screen; screen:\n${text}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

for (const iface of INTERFACES) {
  kvmTest(
    `SeaBIOS boots a sector from ${iface}: COM1, the VGA screen and the exit code`,
    async () => {
      const run = boot(pcConfig([disk(copyOf("bios_wait"), iface)]));
      await run.waitSerial("vmrun waits for a key");
      const screen = await run.waitScreen(/vmrun waits for a key/);
      match(screen, /SeaBIOS/);
      run.machine.typeText("x");
      deepStrictEqual(await run.machine.exited, { reason: "debug-exit", code: 7 });
    },
  );

  kvmTest(`int 13h reads by CHS and LBA from ${iface} find the sector pattern`, async () => {
    const r = await runVmrun([
      "--headless",
      "--timeout",
      "60",
      `--disk=${copyOf("disk_read")},if=${iface}`,
    ]);
    strictEqual(r.stdout, "chs ok\r\nlba ok\r\n", r.stderr);
    strictEqual(r.code, 0);
  });

  kvmTest(
    `int 13h writes to ${iface} reach the image, and --snapshot keeps them away`,
    async () => {
      const path = copyOf("disk_write");
      const spec = `--disk=${path},if=${iface}`;
      const first = await runVmrun(["--headless", "--timeout", "60", spec]);
      strictEqual(first.code, 10, first.stdout + first.stderr);
      const second = await runVmrun(["--headless", "--timeout", "60", spec]);
      strictEqual(second.code, 20, second.stdout + second.stderr);
      strictEqual(second.stdout, "found\r\n");

      const pristine = copyOf("disk_write");
      const before = Deno.readFileSync(pristine);
      const snapSpec = `--disk=${pristine},if=${iface}`;
      strictEqual(
        (await runVmrun(["--headless", "--timeout", "60", "--snapshot", snapSpec])).code,
        10,
      );
      strictEqual(
        (await runVmrun(["--headless", "--timeout", "60", "--snapshot", snapSpec])).code,
        10,
      );
      deepStrictEqual(Deno.readFileSync(pristine), before);
    },
  );
}

kvmTest(
  "SeaBIOS's boot makes few MMIO exits: the VGA ROM is read as memory, VGA window writes are coalesced",
  async () => {
    const run = boot(pcConfig([disk(copyOf("bios_wait"), "ide")]));
    await run.waitSerial("vmrun waits for a key");
    // The text the VGA BIOS and SeaBIOS wrote through the coalesced window is all there.
    const screen = await run.waitScreen(/vmrun waits for a key/);
    match(screen, /SeaBIOS/);
    const mmio = (await run.machine.snapshot()).vcpu.byKind.mmio ?? 0;
    // QEMU's boot of the same sector makes about 400; an exit per ROM dword and per
    // character cell written made it about 30,000.
    ok(mmio < 2000, `${mmio} MMIO exits`);
    run.machine.typeText("x");
    deepStrictEqual(await run.machine.exited, { reason: "debug-exit", code: 7 });
  },
);

kvmTest("the boot menu appears with --boot-menu and a key picks the disk", async () => {
  const run = boot(pcConfig([disk(copyOf("bios_wait"), "virtio")], { bootMenu: true }));
  await run.waitScreen(/Press ESC for boot menu/);
  run.machine.pressKeys("Escape");
  const menu = await run.waitScreen(/Select boot device/);
  const line = menu.split("\n").find((l) => /virtio/i.test(l));
  ok(line, `no virtio entry in the menu:\n${menu}`);
  const entry = /^\s*(\d+)\./.exec(line)![1];
  run.machine.typeText(entry);
  await run.waitSerial("vmrun waits for a key");
  run.machine.typeText("x");
  deepStrictEqual(await run.machine.exited, { reason: "debug-exit", code: 7 });
});

kvmTest(
  "int 16h receives typed text, shifted characters, arrows and Ctrl combinations",
  async () => {
    const run = boot(pcConfig([disk(copyOf("keys"), "virtio")]));
    await run.waitSerial("keys?");
    run.machine.typeText("aB!");
    run.machine.pressKeys("ArrowUp");
    run.machine.pressKeys("Ctrl+C");
    run.machine.pressKeys("Escape");
    deepStrictEqual(await run.machine.exited, { reason: "debug-exit", code: 0 });
    // ASCII:scan code as int 16h AH=00h reports them (IBM PC BIOS key codes).
    strictEqual(run.serial().split("keys?\r\n")[1], "61:1e 42:30 21:02 00:48 03:2e 1b:01 ");
  },
);

kvmTest("SeaBIOS boots an El Torito CD-ROM (.iso) through the IDE ATAPI drive", async () => {
  const iso = fixture("cdboot_cd").replace(/\.img$/, ".iso");
  const before = Deno.readFileSync(iso);
  const r = await runVmrun(["--headless", "--timeout", "60", iso]);
  strictEqual(r.stdout, "vmrun booted from the CD\r\n", r.stderr);
  strictEqual(r.code, 9);
  deepStrictEqual(Deno.readFileSync(iso), before);
});

kvmTest("the quick start's demo guest echoes COM1 input and powers off on q", async () => {
  const p = new VmrunProcess(["--headless", "--snapshot", "--timeout", "120", fixture("demo")], {
    killAfterMs: 150_000,
  });
  await p.waitForStdout("q powers off.", 120_000);
  await p.write("abc");
  await p.waitForStdout("abc");
  await p.write("q");
  const r = await p.finished();
  strictEqual(r.code, 0, r.stderr);
  ok(r.stdout.endsWith("abc\r\nbye\r\n"), JSON.stringify(r.stdout));
});
