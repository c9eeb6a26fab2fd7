/**
 * The watchdogs on the watchdog fixture (fixtures/src/watchdog.asm), under
 * vmrun and, as the reference, under QEMU with KVM. The fixture arms a 4 s
 * watchdog (the i6300esb: two stages of 2 s), pets it five times a second
 * apart (longer than a timeout: nothing may happen meanwhile), prints
 * "stopped petting" and idles.
 *
 * Timing is host time from the "stopped petting" line to the action, with
 * wide margins (the host is shared): the action may not come before about
 * one timeout, nor long after it.
 */

import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert";
import { reportProblems } from "../api/report.ts";
import { Vm, VmExitedError, WaitTimeoutError } from "../mod.ts";
import { fixture } from "../fixtures/build.ts";
import type { BoardState, GuestExit } from "../machine/board.ts";
import type { MachineConfig } from "../machine/config.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import type { WatchdogConfig, WatchdogEvent } from "../machine/watchdog.ts";
import { optionalState } from "../machine/optional_devices.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { VmrunProcess } from "./vmrun_process.ts";

const IMAGE = fixture("watchdog");
const STOPPED = "stopped petting\r\n";
/** The fixture's timeout is 4 s; the window allows for a loaded host (late serial lines). */
const MIN_S = 2;
const MAX_S = 15;
const BOOT_LIMIT_MS = 120_000;

function config(watchdog: WatchdogConfig): MachineConfig {
  return {
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: IMAGE, interface: "ide", media: "disk", readonly: true }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.now(),
    devices: [{ name: watchdog.model, options: {} }],
    watchdogAction: watchdog.action,
  };
}

/** A vmrun machine on the fixture, with COM1 and the time "stopped petting" was seen. */
function start(watchdog: WatchdogConfig) {
  const run = {
    serial: "",
    stoppedAt: 0,
    events: [] as { event: WatchdogEvent; at: number }[],
    machine: null as unknown as Machine,
  };
  const dec = new TextDecoder();
  run.machine = new Machine(config(watchdog), {
    serial: (b) => {
      run.serial += dec.decode(b);
      if (!run.stoppedAt && run.serial.includes(STOPPED)) run.stoppedAt = performance.now();
    },
    watchdog: (event) => run.events.push({ event, at: performance.now() }),
  });
  const guard = setTimeout(() => run.machine.stop(), BOOT_LIMIT_MS);
  run.machine.exited.finally(() => clearTimeout(guard));
  return run;
}

function assertAboutOneTimeout(seconds: number, what: string): void {
  console.log(`${what}: the action came ${seconds.toFixed(2)} s after the last pet`);
  ok(
    seconds >= MIN_S && seconds <= MAX_S,
    `${what}: the action came ${seconds.toFixed(2)} s after the last pet`,
  );
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

kvmTest("watchdog: ib700 poweroff under vmrun, one timeout after the last pet", async () => {
  const run = start({ model: "ib700", action: "poweroff" });
  const exit = await run.machine.exited;
  const at = performance.now();
  strictEqual(run.serial, "watchdog fixture: ib700\r\npetting\r\n" + STOPPED);
  deepStrictEqual(exit, {
    reason: "shutdown",
    code: 0,
    detail: "the ib700 watchdog expired (action poweroff)",
  });
  deepStrictEqual(run.events.map((e) => e.event), [{ model: "ib700", action: "poweroff" }]);
  assertAboutOneTimeout((at - run.stoppedAt) / 1000, "vmrun ib700");
});

kvmTest("watchdog: i6300esb poweroff under vmrun after both stages", async () => {
  const run = start({ model: "i6300esb", action: "poweroff" });
  const exit = await run.machine.exited;
  const at = performance.now();
  strictEqual(run.serial, "watchdog fixture: i6300esb flag 0\r\npetting\r\n" + STOPPED);
  strictEqual(exit.reason, "shutdown");
  assertAboutOneTimeout((at - run.stoppedAt) / 1000, "vmrun i6300esb");
});

kvmTest("watchdog: i6300esb reset under vmrun reboots with the timeout flag set", async () => {
  const run = start({ model: "i6300esb", action: "reset" });
  const exit = await run.machine.exited;
  strictEqual(
    run.serial,
    "watchdog fixture: i6300esb flag 0\r\npetting\r\n" + STOPPED +
      "watchdog fixture: i6300esb flag 1\r\nrebooted by the watchdog\r\n",
  );
  deepStrictEqual(exit, { reason: "debug-exit", code: 0x21 });
});

kvmTest("watchdog: ib700 pause under vmrun pauses the guest; it resumes", async () => {
  const run = start({ model: "ib700", action: "pause" });
  try {
    await until(() => run.machine.runState === "paused", 60_000, "the pause");
    assertAboutOneTimeout((run.events[0].at - run.stoppedAt) / 1000, "vmrun pause");
    run.machine.resume();
    await until(() => run.machine.runState === "running", 5_000, "the resume");
    const s = await run.machine.snapshot();
    const wdt = s.devices && optionalState(s.devices.optional, "ib700");
    ok(wdt, "the ib700's state");
    strictEqual(wdt.expirations, 1);
    strictEqual(wdt.armed, false);
    strictEqual(wdt.pets, 6); // armed once, petted five times
  } finally {
    await run.machine.stop();
  }
});

kvmTest("watchdog: action none only records the expiry (device state and event)", async () => {
  const run = start({ model: "i6300esb", action: "none" });
  try {
    await until(() => run.events.length > 0, 60_000, "the expiry");
    const s = await run.machine.snapshot();
    strictEqual(s.runState, "running");
    const wdt = s.devices && optionalState(s.devices.optional, "i6300esb");
    ok(wdt, "the i6300esb's state");
    strictEqual(s.devices?.optional[0].slot, 3, "the first free PCI slot, as on QEMU");
    strictEqual(wdt.expirations, 1);
    ok(wdt.firstStageExpirations >= 1);
    strictEqual(wdt.rebootFlag, true);
    strictEqual(wdt.enabled, false);
  } finally {
    const exit: GuestExit = await run.machine.stop();
    strictEqual(exit.reason, "stopped");
  }
});

kvmTest("watchdog: the CLI's exit action ends with status 3 and a line on stderr", async () => {
  const p = new VmrunProcess(
    ["--headless", "--snapshot", "-device", "ib700", "--watchdog-action", "exit", IMAGE],
    { killAfterMs: BOOT_LIMIT_MS },
  );
  p.closeStdin();
  await p.waitForStdout(STOPPED, BOOT_LIMIT_MS);
  const stoppedAt = performance.now();
  const r = await p.finished();
  assertAboutOneTimeout((performance.now() - stoppedAt) / 1000, "vmrun CLI");
  strictEqual(r.code, 3, r.stderr);
  strictEqual(r.stderr, "vmrun: watchdog: the ib700 watchdog expired (action exit)\n");
});

/** Runs the fixture under QEMU with `args`; the time from "stopped petting" to QEMU's exit. */
async function qemu(args: string[]) {
  const q = new QemuProcess(IMAGE, { extraArgs: args, killAfterMs: BOOT_LIMIT_MS });
  await q.waitForStdout(STOPPED, BOOT_LIMIT_MS);
  const stoppedAt = performance.now();
  const r = await q.finished();
  return { ...r, seconds: (performance.now() - stoppedAt) / 1000 };
}

kvmTest("watchdog: QEMU's -device ib700 -action watchdog=poweroff acts the same", async () => {
  const r = await qemu(["-device", "ib700", "-action", "watchdog=poweroff"]);
  strictEqual(r.signal, null, r.stderr);
  strictEqual(r.code, 0, r.stderr);
  strictEqual(r.stdout, "watchdog fixture: ib700\r\npetting\r\n" + STOPPED);
  assertAboutOneTimeout(r.seconds, "QEMU ib700");
});

kvmTest("watchdog: QEMU's -device i6300esb -watchdog-action poweroff acts the same", async () => {
  const r = await qemu(["-device", "i6300esb", "-watchdog-action", "poweroff"]);
  strictEqual(r.code, 0, r.stderr);
  strictEqual(r.stdout, "watchdog fixture: i6300esb flag 0\r\npetting\r\n" + STOPPED);
  assertAboutOneTimeout(r.seconds, "QEMU i6300esb");
});

kvmTest("watchdog: QEMU's i6300esb reset also reboots with the flag set", async () => {
  const r = await qemu(["-device", "i6300esb", "-action", "watchdog=reset"]);
  strictEqual(r.debugExit, 0x21, r.stderr);
  match(r.stdout, /flag 1\r\nrebooted by the watchdog\r\n$/);
});

kvmTest("watchdog: the API's event: vm.waitForWatchdog and vm.watchdogEvents", async () => {
  await using vm = await Vm.start({
    disk: IMAGE,
    snapshot: true,
    device: "ib700",
    watchdogAction: "none",
  });
  await vm.serial.waitFor(STOPPED, { timeout: BOOT_LIMIT_MS });
  const stoppedAt = performance.now();
  const expiry = await vm.waitForWatchdog({ timeout: 60_000 });
  assertAboutOneTimeout((performance.now() - stoppedAt) / 1000, "vmrun API");
  strictEqual(expiry.model, "ib700");
  strictEqual(expiry.action, "none");
  ok(expiry.atMs > 0 && expiry.atMs < BOOT_LIMIT_MS, `atMs ${expiry.atMs}`);
  deepStrictEqual(vm.watchdogEvents, [expiry]);
  strictEqual(vm.state, "running");
  const wdt = optionalState((await vm.devices())?.optional ?? [], "ib700");
  strictEqual(wdt?.expirations, 1);
  // The ib700 stops once it has fired: no second expiry comes.
  await rejects(vm.waitForWatchdog({ timeout: 300 }), WaitTimeoutError);
  const exit = await vm.stop();
  strictEqual(exit.reason, "stopped");
  await rejects(vm.waitForWatchdog(), VmExitedError);
});

kvmTest("watchdog: --watchdog with --report and --control: the event and the report", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-watchdog-" });
  try {
    const sock = `${dir}/vm.sock`;
    const p = new VmrunProcess([
      "--headless",
      "--snapshot",
      "--watchdog",
      "i6300esb,action=exit",
      "--audio",
      `wav:${dir}/out.wav`,
      "--report",
      `${dir}/report.json`,
      "--control",
      sock,
      IMAGE,
    ], { killAfterMs: BOOT_LIMIT_MS });
    p.closeStdin();
    await p.waitForStdout("petting", BOOT_LIMIT_MS);
    const conn = await Deno.connect({ transport: "unix", path: sock });
    await conn.write(new TextEncoder().encode('{"cmd":"subscribe","events":["watchdog"]}\n'));
    const lines = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes('"event":"watchdog"')) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    const event = text.split("\n").map((l) => l && JSON.parse(l)).find((m) => m?.event);
    deepStrictEqual(Object.keys(event.watchdog), ["model", "action", "atMs"]);
    strictEqual(event.watchdog.model, "i6300esb");
    strictEqual(event.watchdog.action, "exit");
    await lines.cancel().catch(() => {});
    const r = await p.finished();
    strictEqual(r.code, 3, r.stderr);
    const report = JSON.parse(Deno.readTextFileSync(`${dir}/report.json`));
    deepStrictEqual(reportProblems(report), []);
    deepStrictEqual(report.watchdog, [event.watchdog]);
    strictEqual(report.exit.reason, "watchdog");
    // The fixture plays nothing: the file is an empty, finished WAV.
    deepStrictEqual(report.audio, { file: `${dir}/out.wav`, bytes: 44, seconds: 0 });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

kvmTest(
  "watchdog: saved armed beside a sound card, restored in place, it still expires",
  async () => {
    const dir = Deno.makeTempDirSync({ prefix: "vmrun-watchdog-save-" });
    try {
      const vm = await Vm.start({
        disk: IMAGE,
        snapshot: true,
        device: ["virtio-rng-pci", "ib700"],
        watchdogAction: "none",
        audio: `wav:${dir}/a.wav,model=es1370`,
      });
      await vm.serial.waitFor("petting", { timeout: BOOT_LIMIT_MS });
      // As QEMU places -audio model=es1370 -device virtio-rng-pci -device ib700: the ISA
      // watchdog takes no slot.
      const placed = (d: BoardState | null) => d?.optional.map((o) => [o.name, o.slot]);
      const where = [["ES1370", 3], ["virtio-rng-pci", 4], ["ib700", null]];
      deepStrictEqual(placed(await vm.devices()), where);
      await vm.save(`${dir}/vm.save`, { stop: true });
      await using again = await Vm.start({ restore: `${dir}/vm.save` });
      const d = await again.devices();
      deepStrictEqual(placed(d), where);
      strictEqual(optionalState(d?.optional ?? [], "ib700")?.armed, true);
      const expiry = await again.waitForWatchdog({ timeout: 60_000 });
      deepStrictEqual([expiry.model, expiry.action], ["ib700", "none"]);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
