/**
 * SMP: the census fixture (fixtures/src/smp_core.inc) finds the MADT, starts
 * every AP with INIT-SIPI-SIPI and counts the CPUs that answer with their
 * APIC IDs; for 1, 2, 4, 8 and 16 vCPUs, through SeaBIOS (boot sector) and
 * direct kernel boot (bzImage 32-bit entry, vmrun's own tables), against
 * QEMU's `-smp` on the same fixture. Then pause, snapshot, reset and stop on
 * a machine whose every vCPU keeps exiting.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import type { MachineConfig } from "../machine/config.ts";
import { Machine, type MachineSnapshot } from "../machine/machine.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";

const COUNTS = [1, 2, 4, 8, 16];
const SMP_EXIT = 0x21;
/** Runs at once: the host has few cores and a 16-vCPU guest keeps several busy. */
const PARALLEL = 3;

interface Census {
  madt: number;
  cpus: number;
  ids: number[];
}

function parseCensus(side: string, out: string): Census {
  const text = out.replace(/\r/g, "");
  const madt = /^madt (\d+)$/m.exec(text);
  const cpus = /^cpus (\d+)$/m.exec(text);
  const ids = /^ids((?: \d+)*)$/m.exec(text);
  ok(madt && cpus && ids, `${side}: no census in ${JSON.stringify(out)}`);
  return {
    madt: Number(madt[1]),
    cpus: Number(cpus[1]),
    ids: ids[1].trim().split(" ").map(Number),
  };
}

async function vmrunCensus(n: number, direct: boolean): Promise<Census> {
  const args = direct
    ? ["--firmware", "none", "--kernel", fixture("smp_kernel")]
    : ["--snapshot", fixture("smp_count")];
  const r = await runVmrun(["--headless", "--cpus", String(n), "--timeout", "120", ...args], {
    killAfterMs: 180_000,
  });
  const side = `vmrun --cpus ${n} ${direct ? "direct" : "SeaBIOS"}`;
  strictEqual(r.code, SMP_EXIT, `${side}: exit status; stdout ${r.stdout} stderr ${r.stderr}`);
  return parseCensus(side, r.stdout);
}

async function qemuCensus(n: number): Promise<Census> {
  const q = new QemuProcess(fixture("smp_count"), {
    killAfterMs: 120_000,
    extraArgs: ["-smp", String(n)],
  });
  const r = await q.finished();
  strictEqual(r.debugExit, SMP_EXIT, `QEMU -smp ${n}: exit; stdout ${r.stdout} stderr ${r.stderr}`);
  return parseCensus(`QEMU -smp ${n}`, r.stdout);
}

/** Runs the jobs, at most `limit` at a time. */
async function pooled<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return out;
}

kvmTest("SMP census: every vCPU answers INIT-SIPI-SIPI, as under QEMU -smp", async () => {
  const jobs = COUNTS.flatMap((n) => [
    () => vmrunCensus(n, false),
    () => vmrunCensus(n, true),
    () => qemuCensus(n),
  ]);
  const results = await pooled(jobs, PARALLEL);
  COUNTS.forEach((n, i) => {
    const [bios, direct, qemu] = results.slice(i * 3, i * 3 + 3);
    const expected = { madt: n, cpus: n, ids: Array.from({ length: n }, (_, id) => id) };
    deepStrictEqual(bios, expected, `vmrun --cpus ${n} through SeaBIOS`);
    deepStrictEqual(direct, expected, `vmrun --cpus ${n} direct`);
    deepStrictEqual(qemu, bios, `QEMU -smp ${n} against vmrun`);
  });
});

function busyConfig(cpus: number): MachineConfig {
  return {
    memoryBytes: 64 << 20,
    cpus,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    // Read-only: other test files may boot the same fixture at the same time.
    disks: [{ path: fixture("smp_busy"), interface: "ide", media: "disk", readonly: true }],
    snapshot: false,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 0, 1),
  };
}

kvmTest("pause, snapshot, reset and stop hold every vCPU of an SMP guest", async () => {
  const cpus = 4;
  let serial = "";
  let resets = 0;
  const dec = new TextDecoder();
  const machine = new Machine(busyConfig(cpus), {
    serial: (b) => serial += dec.decode(b),
    reset: () => resets++,
  });
  const until = async (cond: () => boolean, what: string) => {
    const deadline = Date.now() + 90_000; // a hang guard for loaded hosts
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${serial}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const apExits = (s: MachineSnapshot) => s.vcpus.slice(1).map((v) => v.byKind.io ?? 0);
  try {
    const census = "ids 0 1 2 3\n";
    await until(() => serial.replace(/\r/g, "").includes(census), "the census");
    // Every AP writes port 0x80 for ever: its exits go through vCPU 0's thread.
    let snap = await machine.snapshot();
    strictEqual(snap.vcpus.length, cpus);
    const before = apExits(snap);
    await new Promise((r) => setTimeout(r, 300));
    snap = await machine.snapshot();
    apExits(snap).forEach((n, i) => ok(n > before[i], `vCPU ${i + 1} exits while running`));

    machine.pause();
    await until(() => machine.runState === "paused", "paused");
    const held = apExits(await machine.snapshot());
    await new Promise((r) => setTimeout(r, 300));
    const later = await machine.snapshot();
    deepStrictEqual(apExits(later), held, "no AP runs while the machine is paused");
    strictEqual(later.vcpus[0].exits, (await machine.snapshot()).vcpus[0].exits);

    machine.resume();
    await until(() => machine.runState === "running", "running again");
    await new Promise((r) => setTimeout(r, 300));
    apExits(await machine.snapshot()).forEach((n, i) =>
      ok(n > held[i], `vCPU ${i + 1} runs again after resume`)
    );

    // After a reset the guest counts again: every AP answered INIT-SIPI-SIPI anew.
    machine.reset();
    await until(
      () => serial.replace(/\r/g, "").split(census).length === 3,
      "the census after the reset",
    );
    strictEqual(resets, 1);
  } finally {
    deepStrictEqual(await machine.stop(), { reason: "stopped", code: 0 });
  }
});

kvmTest("a saved SMP guest restores with every AP carrying on where it was", async () => {
  const dir = Deno.makeTempDirSync();
  const file = `${dir}/vm.save`;
  try {
    let serial = "";
    const dec = new TextDecoder();
    const a = new Machine(busyConfig(4), { serial: (b) => serial += dec.decode(b) });
    const deadline = Date.now() + 90_000; // a hang guard for loaded hosts
    while (!serial.includes("ids 0 1 2 3")) {
      if (Date.now() > deadline) throw new Error(`no census: ${serial}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await a.save(file, { stop: true });
    strictEqual((await a.exited).reason, "stopped");

    let after = "";
    const b = new Machine(busyConfig(4), { serial: (x) => after += dec.decode(x) }, {
      restorePath: file,
    });
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const snap = await b.snapshot();
      strictEqual(snap.runState, "running");
      // Restored APs run the busy loop at once: no INIT-SIPI-SIPI, no new census.
      snap.vcpus.slice(1).forEach((v, i) => ok(v.exits > 0, `vCPU ${i + 1} runs after restore`));
      strictEqual(after, "");
    } finally {
      deepStrictEqual(await b.stop(), { reason: "stopped", code: 0 });
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
