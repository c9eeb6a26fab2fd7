/**
 * virtio-balloon-pci end to end: the fixture driver
 * (fixtures/src/virtio_balloon.asm), booted by SeaBIOS, fills 40 MiB, waits
 * for a target, inflates by num_pages pages, then deflates part of them when
 * the target grows again and checks they read back zero. Driven through
 * `vm.balloon()`, through `vmrun ctl <socket> balloon`, and under QEMU with
 * HMP `balloon`: the same lines, and after inflating by 32 MiB the VMM's
 * resident memory is about 32 MiB smaller.
 */

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { BalloonError, Vm } from "../mod.ts";
import { kvmTest } from "./kvm_available.ts";
import {
  BALLOON_FILLED,
  BALLOON_INFLATE_TO_MIB,
  BALLOON_INFLATED,
  BALLOON_RAM_MIB,
  qemuWithBalloon,
  statusMiB,
} from "./balloon_fixture.ts";
import { runVmrun, withControlledVmrun } from "./vmrun_process.ts";

const MiB = 2 ** 20;
const OK_EXIT = 0x21;
const RAM_MIB = BALLOON_RAM_MIB;
const INFLATE_TO = BALLOON_INFLATE_TO_MIB;
/** Then 112 MiB: the guest takes 16 MiB (4096 pages) back. */
const DEFLATE_TO = 112;
const TAKEN_MIB = RAM_MIB - INFLATE_TO;
// Hang guards, not performance checks: a SeaBIOS boot takes ~10 s here, more when busy.
const RUN_LIMIT_MS = 150_000;
const WAIT = { timeout: 90_000 };

const FILLED = BALLOON_FILLED;
const INFLATED = BALLOON_INFLATED;
const LINES = [
  "balloon: found",
  "balloon: filled 00002800 pages",
  "balloon: num_pages 00002000",
  "balloon: inflated 00002000",
  "balloon: num_pages 00001000",
  "balloon: deflated 00001000",
  "balloon: deflated pages read zero",
  "balloon: the other pages kept their data",
];
const lines = (text: string) => text.split("\r\n").filter((l) => l !== "");

/** Asserts that resident memory went down by about the balloon's 32 MiB. */
/** The fixture booted with a balloon, once it has filled its test pages. */
async function filledVm(): Promise<Vm> {
  const vm = await Vm.start({
    disk: fixture("virtio_balloon"),
    memory: `${RAM_MIB}M`,
    snapshot: true,
    device: "virtio-balloon-pci",
    timeout: RUN_LIMIT_MS,
  });
  try {
    await vm.serial.waitFor(FILLED, WAIT);
  } catch (e) {
    await vm[Symbol.asyncDispose]();
    throw e;
  }
  return vm;
}

function assertFreed(before: number, after: number, what: string): void {
  const drop = before - after;
  ok(
    drop > TAKEN_MIB - 2 && drop < TAKEN_MIB + 2,
    `${what}: ${before.toFixed(1)} -> ${after.toFixed(1)} MiB, down ${drop.toFixed(1)} MiB`,
  );
}

kvmTest(
  "virtio-balloon-pci: vm.balloon() inflates, the guest RAM's pages go back to the host",
  async () => {
    await using vm = await filledVm();
    const start = await vm.balloon();
    strictEqual(start.ramBytes, RAM_MIB * MiB);
    strictEqual(start.targetBytes, RAM_MIB * MiB);
    strictEqual(start.actualPages, 0);
    // The fixture gave its stats before filling: free 18 MiB, total 64 MiB.
    strictEqual(start.stats?.freeMemory, 18 * MiB);
    strictEqual(start.stats?.totalMemory, 64 * MiB);
    // Bad targets are refused with one line, and change nothing.
    for (const bad of [0, -1, 1.5, RAM_MIB + 1, Number.NaN]) {
      await rejects(vm.balloon(bad), (e: unknown) => {
        ok(e instanceof BalloonError, String(e));
        strictEqual(e.message.includes("\n"), false);
        return true;
      });
    }
    // Only the guest RAM this VM maps counts: shared memory, this process's.
    const before = statusMiB("self", "RssShmem");
    const asked = await vm.balloon(INFLATE_TO);
    strictEqual(asked.targetBytes, INFLATE_TO * MiB);
    strictEqual(asked.targetPages, TAKEN_MIB * 256);
    await vm.serial.waitFor(INFLATED, WAIT);
    const inflated = await vm.balloon();
    strictEqual(inflated.actualBytes, INFLATE_TO * MiB);
    strictEqual(inflated.inflatedPages, TAKEN_MIB * 256);
    assertFreed(before, statusMiB("self", "RssShmem"), "RssShmem of this process");
    await vm.balloon(DEFLATE_TO);
    deepStrictEqual(await vm.exited, { reason: "debug-exit", code: OK_EXIT });
    deepStrictEqual(lines(vm.serial.text()), LINES);
    await rejects(vm.balloon(), /the run has ended/);
  },
);

kvmTest(
  "virtio-balloon-pci: an inflated balloon is saved and restored, and deflates after",
  async () => {
    const dir = Deno.makeTempDirSync();
    const file = `${dir}/ballooned.vmsave`;
    try {
      {
        await using vm = await filledVm();
        await vm.balloon(INFLATE_TO);
        await vm.serial.waitFor(INFLATED, WAIT);
        await vm.save(file, { stop: true });
      }
      await using again = await Vm.start({ restore: file, timeout: RUN_LIMIT_MS });
      const restored = await again.balloon();
      strictEqual(restored.targetBytes, INFLATE_TO * MiB);
      strictEqual(restored.actualBytes, INFLATE_TO * MiB);
      strictEqual(restored.stats?.totalMemory, 64 * MiB);
      await again.balloon(DEFLATE_TO);
      deepStrictEqual(await again.exited, { reason: "debug-exit", code: OK_EXIT });
      deepStrictEqual(lines(again.serial.text()), LINES.slice(4));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

kvmTest(
  "virtio-balloon-pci: the target outlives a reset; the new driver inflates again",
  async () => {
    await using vm = await filledVm();
    await vm.balloon(INFLATE_TO);
    await vm.serial.waitFor(INFLATED, WAIT);
    vm.reset();
    // After the reset the driver finds the same target and inflates by it unasked.
    await vm.serial.waitFor(FILLED, WAIT);
    await vm.serial.waitFor(INFLATED, WAIT);
    const after = await vm.balloon();
    strictEqual(after.targetBytes, INFLATE_TO * MiB);
    strictEqual(after.actualBytes, INFLATE_TO * MiB);
  },
);

kvmTest("virtio-balloon-pci: a VM without a balloon says so", async () => {
  await using vm = await Vm.start({ disk: fixture("virtio_balloon"), snapshot: true });
  await rejects(vm.balloon(64), /no balloon \(start it with --device virtio-balloon-pci\)/);
  await rejects(vm.balloon(), BalloonError);
  deepStrictEqual(await vm.exited, { reason: "debug-exit", code: 0x31 });
});

kvmTest("virtio-balloon-pci: vmrun ctl <socket> balloon sets and reads the target", async () => {
  await withControlledVmrun(
    [
      "--headless",
      "--snapshot",
      "-m",
      `${RAM_MIB}M`,
      "--device",
      "virtio-balloon-pci",
      "--timeout",
      "140",
      fixture("virtio_balloon"),
    ],
    { killAfterMs: RUN_LIMIT_MS },
    async (vmrun, socket) => {
      await vmrun.waitForStdout(FILLED, WAIT.timeout);
      const before = statusMiB(vmrun.child.pid, "RssShmem");
      const set = await runVmrun(["ctl", socket, "balloon", String(INFLATE_TO)]);
      strictEqual(set.code, 0, set.stderr);
      strictEqual(JSON.parse(set.stdout).targetBytes, INFLATE_TO * MiB);
      await vmrun.waitForStdout(INFLATED, WAIT.timeout);
      assertFreed(before, statusMiB(vmrun.child.pid, "RssShmem"), "RssShmem of vmrun");
      const query = await runVmrun(["ctl", socket, "balloon"]);
      strictEqual(query.code, 0, query.stderr);
      const info = JSON.parse(query.stdout);
      strictEqual(info.actualBytes, INFLATE_TO * MiB);
      strictEqual(info.stats.totalMemory, 64 * MiB);
      // Bad input: one line each, the run goes on.
      const negative = await runVmrun(["ctl", socket, "balloon", "-5"]);
      strictEqual(negative.code, 2);
      strictEqual(negative.stderr, "vmrun: ctl balloon: '-5' is not a whole number of MiB\n");
      const big = await runVmrun(["ctl", socket, "balloon", "4096"]);
      strictEqual(big.code, 1);
      strictEqual(
        big.stderr,
        `vmrun: balloon: balloon target 4096 MiB is more than the guest's RAM (${RAM_MIB} MiB)\n`,
      );
      const deflate = await runVmrun(["ctl", socket, "balloon", String(DEFLATE_TO)]);
      strictEqual(deflate.code, 0, deflate.stderr);
      const r = await vmrun.finished();
      strictEqual(r.code, OK_EXIT, r.stderr);
      deepStrictEqual(lines(r.stdout), LINES);
    },
  );
});

kvmTest("virtio-balloon-pci: QEMU's HMP balloon does the same to the same fixture", async () => {
  const qemu = qemuWithBalloon(RUN_LIMIT_MS);
  try {
    await qemu.waitForStdout(FILLED, WAIT.timeout);
    const before = statusMiB(qemu.child.pid, "VmRSS");
    strictEqual(await qemu.hmp(`balloon ${INFLATE_TO}`), "");
    await qemu.waitForStdout(INFLATED, WAIT.timeout);
    assertFreed(before, statusMiB(qemu.child.pid, "VmRSS"), "QEMU's VmRSS");
    strictEqual(await qemu.hmp(`balloon ${DEFLATE_TO}`), "");
    const r = await qemu.finished();
    strictEqual(r.debugExit, OK_EXIT, r.stdout + r.stderr);
    deepStrictEqual(lines(r.stdout), LINES);
  } finally {
    qemu.kill();
    await qemu.finished();
  }
});
