/**
 * Save and restore of a running VM: a SeaBIOS guest that counts with BIOS
 * timer waits, keeps a RAM pattern and reads the disk through int 13h is
 * saved mid-run, and a new machine restored from the file carries on: no
 * count missing or repeated, the pattern intact, disk reads good, the
 * guest's own exit status.
 */

import { deepStrictEqual, match, ok, rejects, strictEqual, throws } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import type { MachineConfig } from "../machine/config.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { openSaveFile } from "../machine/restore.ts";
import { SaveFileError } from "../machine/save_file.ts";
import { kvmTest } from "./kvm_available.ts";
import { runVmrun, VmrunProcess } from "./vmrun_process.ts";
import { Vm } from "../mod.ts";

const HANG_GUARD_MS = 120_000;
const COUNT = 40;

function config(snapshot: boolean): MachineConfig {
  return {
    memoryBytes: 64 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: fixture("save_count"), interface: "ide", media: "disk", readonly: false }],
    snapshot,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 0, 1),
  };
}

/** A serial listener that collects COM1 into `serial.text`. */
function collect(serial: { text: string }) {
  const dec = new TextDecoder();
  return (bytes: Uint8Array) => {
    serial.text += dec.decode(bytes, { stream: true });
  };
}

async function waitFor(serial: { text: string }, pattern: RegExp, machine: Machine) {
  const deadline = Date.now() + HANG_GUARD_MS;
  while (!pattern.test(serial.text)) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(serial.text)}`);
    const ended = await Promise.race([
      machine.exited.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 5)),
    ]);
    if (ended) throw new Error(`the run ended before ${pattern}: ${serial.text}`);
  }
}

function counts(text: string): number[] {
  return [...text.matchAll(/count (\d\d)/g)].map((m) => Number(m[1]));
}

kvmTest("a saved VM restored in a new machine carries on exactly", async () => {
  const dir = Deno.makeTempDirSync();
  const file = `${dir}/vm.save`;
  try {
    const first = { text: "" };
    const a = new Machine(config(true), { serial: collect(first) });
    await waitFor(first, /count 12/, a);
    const saved = await a.save(file, { stop: true });
    const endA = await a.exited;
    strictEqual(endA.reason, "stopped");
    ok(saved.bytes > 0 && saved.bytes < 16 << 20, `${saved.bytes} bytes: zero pages skipped`);
    const before = counts(first.text);

    const header = openSaveFile(file);
    deepStrictEqual(header.config.disks, config(true).disks);
    const second = { text: "" };
    const b = new Machine(header.config, { serial: collect(second) }, {
      restorePath: file,
    });
    const guard = setTimeout(() => b.stop(), HANG_GUARD_MS);
    const endB = await b.exited;
    clearTimeout(guard);
    const after = counts(second.text);
    deepStrictEqual([...before, ...after], Array.from({ length: COUNT }, (_, i) => i));
    ok(!/failed|broken/.test(second.text), second.text);
    match(second.text, /done\r\n$/);
    deepStrictEqual({ reason: endB.reason, code: endB.code }, { reason: "debug-exit", code: 0x33 });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

kvmTest("a truncated, foreign or newer save file is one clear error", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/vm.save`;
    const serial = { text: "" };
    const m = new Machine(config(true), { serial: collect(serial) });
    await waitFor(serial, /count 02/, m);
    await m.save(file, { stop: true });
    await m.exited;
    const bytes = Deno.readFileSync(file);
    Deno.writeFileSync(`${dir}/cut`, bytes.subarray(0, bytes.length - 100));
    Deno.writeFileSync(
      `${dir}/elf`,
      new TextEncoder().encode("\x7fELF\x02\x01\x01 not a save file"),
    );
    const newer = bytes.slice(0, 4096);
    new DataView(newer.buffer).setUint32(8, 99, true);
    Deno.writeFileSync(`${dir}/newer`, newer);
    throws(() => openSaveFile(`${dir}/elf`), /not a vmrun save file/);
    throws(() => openSaveFile(`${dir}/newer`), /save format 99 is newer/);
    throws(() => openSaveFile(`${dir}/missing`), /no such file/);
    throws(() => openSaveFile(`${dir}/cut`), /truncated/);
    // A file cut after the check is still refused by the worker, as a failure.
    const cut = new Machine(config(true), {}, { restorePath: `${dir}/cut` });
    const end = await cut.exited;
    strictEqual(end.code, 1);
    match(end.detail ?? "", /truncated/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

kvmTest("restoring over a disk that changed since the save is refused unless forced", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const image = `${dir}/disk.img`;
    Deno.copyFileSync(fixture("save_count"), image);
    const cfg = { ...config(false), disks: [{ ...config(false).disks[0], path: image }] };
    const serial = { text: "" };
    const m = new Machine(cfg, { serial: collect(serial) });
    await waitFor(serial, /count 02/, m);
    await m.save(`${dir}/vm.save`, { stop: true });
    await m.exited;
    deepStrictEqual(openSaveFile(`${dir}/vm.save`).disks.length, 1);
    const later = new Date(Date.now() + 10_000);
    Deno.utimeSync(image, later, later);
    throws(() => openSaveFile(`${dir}/vm.save`), SaveFileError);
    throws(() => openSaveFile(`${dir}/vm.save`), /modified after the save.*--force-restore/);
    strictEqual(openSaveFile(`${dir}/vm.save`, true).disks[0].path, image);
    await rejects(
      (async () => {
        const stopped = new Machine(cfg);
        await stopped.stop();
        await stopped.save(`${dir}/late.save`);
      })(),
      /stopped/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

kvmTest(
  "API: vm.save stops the run; Vm.start({ restore }) carries it on to the guest's exit",
  async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const file = `${dir}/api.vmsave`;
      const vm = await Vm.start({ disk: fixture("save_count"), memory: "64M", snapshot: true });
      await vm.serial.waitFor("count 05", { timeout: HANG_GUARD_MS });
      const saved = await vm.save(file, { stop: true });
      strictEqual(saved.path, file);
      const end = await vm.exited;
      deepStrictEqual([end.reason, end.code], ["stopped", 0]);
      match(end.detail ?? "", /saved to/);
      await rejects(Vm.start({ restore: file, memory: "128M" }), /drop memory/);
      await using again = await Vm.start({ restore: file, timeout: HANG_GUARD_MS });
      await again.serial.waitFor("done", { timeout: HANG_GUARD_MS });
      const text = again.serial.text();
      ok(!/count 0[0-5]/.test(text), `restored run repeated a count: ${text}`);
      match(text, /count 06/);
      deepStrictEqual({ ...(await again.exited), detail: undefined }, {
        reason: "debug-exit",
        code: 0x33,
        detail: undefined,
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

kvmTest(
  "CLI: vmrun ctl save, then vmrun --restore carries on; bad files are status 2",
  async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const sock = `${dir}/vm.sock`;
      const file = `${dir}/cli.vmsave`;
      const p = new VmrunProcess([
        "--headless",
        "--snapshot",
        "-m",
        "64M",
        "--control",
        sock,
        fixture("save_count"),
      ]);
      await p.waitForStdout("count 04", HANG_GUARD_MS);
      const ctl = await runVmrun(["ctl", sock, "save", file, "--stop"]);
      strictEqual(ctl.code, 0, ctl.stderr);
      strictEqual((await p.finished()).code, 0);
      const r = await runVmrun(["--headless", "--restore", file]);
      strictEqual(r.code, 0x33, r.stderr);
      match(r.stdout, /done\r\n$/);
      ok(!/count 0[0-3]/.test(r.stdout), r.stdout);

      const refused = await runVmrun(["--headless", "--restore", file, "--memory", "64M"]);
      strictEqual(refused.code, 2);
      match(
        refused.stderr,
        /^vmrun: --restore carries on the saved machine as it was: drop --memory\n$/,
      );
      Deno.writeFileSync(`${dir}/foreign`, new TextEncoder().encode("not a save file at all"));
      const foreign = await runVmrun(["--headless", "--restore", `${dir}/foreign`]);
      strictEqual(foreign.code, 2);
      match(foreign.stderr, /^vmrun: .*foreign: not a vmrun save file\n$/);
      const bytes = Deno.readFileSync(file);
      Deno.writeFileSync(`${dir}/cut`, bytes.subarray(0, bytes.length >> 1));
      const cut = await runVmrun(["--headless", "--restore", `${dir}/cut`]);
      strictEqual(cut.code, 2);
      match(cut.stderr, /truncated/);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
