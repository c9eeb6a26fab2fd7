/**
 * The public API on /dev/kvm with the boot-sector fixtures (no firmware):
 * serial waits, input, streams, exit statuses, timeouts, --no-reboot,
 * pause/resume, stats, devices, disposal and several VMs in one process.
 */

import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert";
import { ImageLockedError, Vm, VmExitedError, type VmOptions, WaitTimeoutError } from "../mod.ts";
import { imageCopy, until } from "./api_fixtures.ts";
import { kvmTest } from "./kvm_available.ts";

const WAIT = { timeout: 20_000 };
const bare = (name: string, more: Partial<VmOptions> = {}): VmOptions => ({
  disk: imageCopy(name),
  firmware: "none",
  memory: "16M",
  ...more,
});

kvmTest("a guest's serial output: waitFor, text, readable; its debug-exit status", async () => {
  await using vm = await Vm.start(bare("hello"));
  const m = await vm.serial.waitFor(/Hello from (\w+)!/, WAIT);
  deepStrictEqual(m.captures, ["vmrun"]);
  deepStrictEqual(await vm.exited, { reason: "debug-exit", code: 0 });
  strictEqual(vm.serial.text(), "Hello from vmrun!\r\n");
  strictEqual(await new Response(vm.serial.readable).text(), "Hello from vmrun!\r\n");
  deepStrictEqual(vm.serial.lastLines(), ["Hello from vmrun!"]);
  strictEqual(vm.state, "stopped");
  await using exit42 = await Vm.start(bare("exit_code"));
  deepStrictEqual(await exit42.exited, { reason: "debug-exit", code: 42 });
});

kvmTest("serial input, pause and resume, stats and devices", async () => {
  await using vm = await Vm.start(bare("echo", { snapshot: true }));
  await vm.serial.waitFor("ready", WAIT);
  await vm.serial.write("ping");
  await vm.serial.waitFor("ping", WAIT);
  vm.pause();
  await until(() => vm.state === "paused", "the pause");
  const paused = await vm.stats();
  strictEqual(paused.runState, "paused");
  ok(paused.exits > 0 && paused.byKind.io > 0, JSON.stringify(paused));
  // A paused guest takes input but cannot echo it.
  await vm.serial.write("pong");
  await rejects(vm.serial.waitFor("pong", { timeout: 300 }), WaitTimeoutError);
  vm.resume();
  await vm.serial.waitFor("pong", WAIT);
  const devices = await vm.devices();
  ok(devices && devices.pio.some((r) => r.name === "com1"), "COM1 in the device snapshot");
  await vm.serial.write("q");
  deepStrictEqual(await vm.exited, { reason: "debug-exit", code: 0 });
  strictEqual(await vm.devices(), null);
  strictEqual((await vm.stats()).runState, "stopped");
  await rejects(vm.serial.waitFor("more"), VmExitedError);
});

kvmTest("two VMs in one process do not mix their serial streams", async () => {
  await using a = await Vm.start(bare("echo", { snapshot: true }));
  await using b = await Vm.start(bare("echo", { snapshot: true }));
  const streams = [a, b].map((vm) => new Response(vm.serial.readable).text());
  await Promise.all([a.serial.waitFor("ready", WAIT), b.serial.waitFor("ready", WAIT)]);
  for (let i = 0; i < 20; i++) {
    await a.serial.write("A".repeat(50));
    await b.serial.write("B".repeat(50));
  }
  await Promise.all([
    a.serial.waitFor("A".repeat(1000), WAIT),
    b.serial.waitFor("B".repeat(1000), WAIT),
  ]);
  await a.serial.write("q");
  await b.serial.write("q");
  const [outA, outB] = await Promise.all(streams);
  match(outA, /^ready[^\n]*\n?A{1000}$/s);
  match(outB, /^ready[^\n]*\n?B{1000}$/s);
});

kvmTest("the timeout option ends the run with status 124; waits learn why", async () => {
  await using vm = await Vm.start(bare("spin", { timeout: 500 }));
  const e = await vm.serial.waitFor("never", { timeout: 20_000 }).catch((e) => e);
  ok(e instanceof VmExitedError, String(e));
  strictEqual(e.exit.reason, "timeout");
  // How far the guest got in 500 ms depends on the host's load.
  deepStrictEqual(e.lastLines, vm.serial.lastLines());
  const exit = await vm.exited;
  strictEqual(exit.reason, "timeout");
  strictEqual(exit.code, 124);
});

kvmTest("a wait that times out carries the last serial lines", async () => {
  await using vm = await Vm.start(bare("spin"));
  await vm.serial.waitFor("spinning", WAIT);
  const e = await vm.serial.waitFor("login:", { timeout: 1000 }).catch((e) => e);
  ok(e instanceof WaitTimeoutError, String(e));
  deepStrictEqual(e.lastLines, ["spinning"]);
  match(
    e.message,
    /"login:" not seen on the serial within 1000 ms; last serial lines:\n {2}\| spinning/,
  );
  strictEqual(vm.state, "running");
});

kvmTest("noReboot: a guest reset or reset() ends the run with reason reset", async () => {
  await using resets = await Vm.start(bare("resets", { noReboot: true }));
  strictEqual((await resets.exited).reason, "reset");
  strictEqual((await resets.exited).code, 0);
  strictEqual(resets.serial.text(), "boots: 1\r\n");
  await using halt = await Vm.start(bare("halt", { noReboot: true }));
  await halt.serial.waitFor("halted", WAIT);
  halt.reset();
  strictEqual((await halt.exited).reason, "reset");
  // Without it the guest starts over.
  await using again = await Vm.start(bare("halt"));
  await again.serial.waitFor("halted", WAIT);
  again.reset();
  await again.serial.waitFor("halted", WAIT);
  strictEqual(again.state, "running");
});

kvmTest("a faulting guest ends with status 1 and its registers", async () => {
  await using vm = await Vm.start(bare("triple_fault"));
  const exit = await vm.exited;
  match(exit.reason, /^(triple-fault|internal-error)$/);
  strictEqual(exit.code, 1);
  strictEqual(typeof exit.registers?.rip, "number");
});

kvmTest("disposal stops the guest and releases the image lock, even after a throw", async () => {
  const options = bare("halt");
  let first: Vm | undefined;
  const thrown = await (async () => {
    await using vm = await Vm.start(options);
    first = vm;
    await vm.serial.waitFor("halted", WAIT);
    await rejects(Vm.start(options), ImageLockedError);
    throw new Error("the test body failed");
  })().catch((e) => e);
  strictEqual(thrown.message, "the test body failed");
  deepStrictEqual(await first!.exited, { reason: "stopped", code: 0 });
  await using second = await Vm.start(options);
  await second.serial.waitFor("halted", WAIT);
  deepStrictEqual(await second.stop(), { reason: "stopped", code: 0 });
});

/** How many mappings of exactly `bytes` this process has (guest RAM is one). */
function mappingsOf(bytes: number): number {
  return Deno.readTextFileSync("/proc/self/maps").split("\n").filter((line) => {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    return m !== null && parseInt(m[2], 16) - parseInt(m[1], 16) === bytes;
  }).length;
}

kvmTest(
  "a stopped VM gives its guest RAM back: VM after VM in one process keeps none",
  async () => {
    // An odd size, so no other mapping of this process matches it.
    const bytes = 37 * 2 ** 20;
    const before = mappingsOf(bytes);
    for (let i = 0; i < 3; i++) {
      const vm = await Vm.start(bare("spin", { memory: "37M" }));
      await until(() => mappingsOf(bytes) === before + 1, "guest RAM mapped");
      await vm.stop();
      await vm[Symbol.asyncDispose]();
      strictEqual(mappingsOf(bytes), before, `run ${i + 1} left its guest RAM mapped`);
    }
  },
);
