/**
 * The main thread controls a machine whose vCPU is busy or asleep in
 * KVM_RUN: pause, resume, snapshot, reset and stop all get through.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import type { MachineConfig } from "../machine/config.ts";
import type { RunState } from "../machine/control.ts";
import { Machine } from "../machine/machine.ts";
import { kvmTest } from "./kvm_available.ts";

function config(image: string): MachineConfig {
  return {
    memoryBytes: 16 << 20,
    cpus: 1,
    firmware: { kind: "none" },
    // Read-only: other test files may boot the same fixture at the same time.
    disks: [{ path: fixture(image), interface: "ide", media: "disk", readonly: true }],
    snapshot: false,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 0, 1),
  };
}

/** Starts a machine and collects its serial output and run states. */
function start(image: string) {
  const seen = { serial: "", states: [] as RunState[], resets: 0 };
  const waiters: (() => void)[] = [];
  const dec = new TextDecoder();
  const machine = new Machine(config(image), {
    serial: (b) => {
      seen.serial += dec.decode(b);
      waiters.splice(0).forEach((w) => w());
    },
    state: (s) => {
      seen.states.push(s);
      waiters.splice(0).forEach((w) => w());
    },
    reset: () => seen.resets++,
  });
  const until = async (cond: () => boolean, what: string) => {
    const deadline = Date.now() + 90_000; // a hang guard for loaded CI hosts
    while (!cond()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(seen)}`);
      }
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return { machine, seen, until };
}

for (const image of ["spin", "halt"]) {
  kvmTest(
    `pause, snapshot, resume and stop a guest that is ${
      image === "spin" ? "spinning without exits" : "halted"
    }`,
    async () => {
      const { machine, seen, until } = start(image);
      await until(
        () => seen.serial.includes(image === "spin" ? "spinning" : "halted"),
        "the guest's banner",
      );
      machine.pause();
      await until(() => machine.runState === "paused", "paused");
      const snap = await machine.snapshot();
      strictEqual(snap.runState, "paused");
      const uart = snap.devices!.uart as { lcr: number; baud: number };
      strictEqual(uart.lcr, 0x03);
      strictEqual(uart.baud, 115200);
      ok(snap.vcpu.exits > 0);
      ok(snap.vcpu.byKind.io > 0);
      machine.resume();
      await until(() => machine.runState === "running", "running again");
      const exit = await machine.stop();
      deepStrictEqual(exit, { reason: "stopped", code: 0 });
      deepStrictEqual(seen.states, ["running", "paused", "running", "stopped"]);
    },
  );
}

kvmTest("a reset reruns the guest from power-on", async () => {
  const { machine, seen, until } = start("spin");
  await until(() => seen.serial === "spinning\r\n", "first boot");
  machine.reset();
  await until(() => seen.serial === "spinning\r\nspinning\r\n", "second boot");
  strictEqual(seen.resets, 1);
  await machine.stop();
});

kvmTest("a guest's debug exit resolves exited; later requests are harmless", async () => {
  const { machine } = start("exit_code");
  deepStrictEqual(await machine.exited, { reason: "debug-exit", code: 42 });
  machine.pause();
  machine.sendSerial(new Uint8Array([1, 2, 3]));
  deepStrictEqual(await machine.stop(), { reason: "debug-exit", code: 42 });
});

kvmTest("two machines in one process keep their serial output apart", async () => {
  const a = start("hello");
  const b = start("spin");
  await a.machine.exited;
  await b.until(() => b.seen.serial.includes("spinning"), "b's banner");
  await b.machine.stop();
  strictEqual(a.seen.serial, "Hello from vmrun!\r\n");
  strictEqual(b.seen.serial, "spinning\r\n");
});
