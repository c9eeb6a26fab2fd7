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

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import type { GuestExit } from "../machine/board.ts";
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
