/**
 * Save and restore of a 256 MiB guest, side by side with QEMU's
 * migrate-to-file and `-incoming` from that file, in one run: how long the
 * guest is held while it is written, the file's size, and how long until a
 * restored guest runs again. The guest is SeaBIOS waiting for a key (few
 * touched pages), so both sides skip most of RAM.
 *
 * vmrun's figures are taken in process (Machine.save's hold time; Machine
 * construction to the worker's "running"); QEMU's through QMP (the migrate
 * command to "completed"; process spawn to "running"). The restore goal is
 * vmrun's own: under 100 ms to the first guest instruction.
 *
 * @module
 */

import { fixture } from "../fixtures/build.ts";
import type { MachineConfig } from "../machine/config.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { openSaveFile } from "../machine/restore.ts";
import { type Benchmark, type BenchRow, fmt, intFlag } from "./bench_common.ts";
import { QemuProcess } from "./qemu.ts";

const MEMORY_MIB = 256;
const MARKER = "vmrun waits for a key";

function config(): MachineConfig {
  return {
    memoryBytes: MEMORY_MIB << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: fixture("bios_wait"), interface: "ide", media: "disk", readonly: false }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.now(),
  };
}

async function untilSerial(machine: Machine, seen: () => string, text: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!seen().includes(text)) {
    if (Date.now() > deadline) throw new Error(`vmrun: no '${text}' within 60 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  void machine;
}

/** One vmrun save and restore: hold time, file size, restore time. */
async function vmrunRound(
  file: string,
): Promise<{ holdMs: number; bytes: number; restoreMs: number }> {
  let text = "";
  const dec = new TextDecoder();
  const a = new Machine(config(), { serial: (b) => text += dec.decode(b) });
  await untilSerial(a, () => text, MARKER);
  const saved = await a.save(file, { stop: true });
  await a.exited;
  const header = openSaveFile(file);
  const t0 = performance.now();
  let running!: () => void;
  const isRunning = new Promise<void>((r) => running = r);
  const b = new Machine(header.config, { state: (s) => s === "running" && running() }, {
    restorePath: file,
  });
  await isRunning;
  const restoreMs = performance.now() - t0;
  await b.stop();
  return { holdMs: saved.ms, bytes: saved.bytes, restoreMs };
}

async function pollHmp(q: QemuProcess, command: string, done: RegExp, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const out = await q.hmp(command);
    if (done.test(out)) return;
    if (/status: failed/i.test(out)) throw new Error(`QEMU ${command}: ${out}`);
    if (Date.now() > deadline) throw new Error(`QEMU ${command}: still ${out}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** One QEMU migrate to file and -incoming from it. */
async function qemuRound(
  file: string,
): Promise<{ holdMs: number; bytes: number; restoreMs: number }> {
  const q = new QemuProcess(fixture("bios_wait"), { memoryMiB: MEMORY_MIB, monitor: true });
  try {
    await q.waitForStdout(MARKER, 120_000);
    const t0 = performance.now();
    await q.hmp(`migrate "exec:cat > ${file}"`);
    await pollHmp(q, "info migrate", /Migration status: completed/);
    const holdMs = performance.now() - t0;
    const bytes = Deno.statSync(file).size;
    q.kill();
    await q.finished();
    const t1 = performance.now();
    const r = new QemuProcess(fixture("bios_wait"), {
      memoryMiB: MEMORY_MIB,
      monitor: true,
      extraArgs: ["-incoming", `exec:cat ${file}`],
    });
    try {
      await pollHmp(r, "info status", /VM status: running/);
      return { holdMs, bytes, restoreMs: performance.now() - t1 };
    } finally {
      r.kill();
      await r.finished();
    }
  } finally {
    q.kill();
    await q.finished();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The save/restore benchmark. */
export const saveBenchmark: Benchmark = {
  name: "save",
  description: `save and restore of a ${MEMORY_MIB} MiB guest vs QEMU migrate to file`,
  async run(args): Promise<BenchRow[]> {
    const rounds = intFlag(args, "rounds", 3);
    const dir = Deno.makeTempDirSync({ prefix: "vmrun-bench-save-" });
    try {
      const v: { holdMs: number; bytes: number; restoreMs: number }[] = [];
      const q: typeof v = [];
      for (let i = 0; i < rounds; i++) {
        v.push(await vmrunRound(`${dir}/vmrun.save`));
        q.push(await qemuRound(`${dir}/qemu.mig`));
        console.log(
          `round ${i + 1}: vmrun save ${fmt(v[i].holdMs, 1)} ms, ${fmt(v[i].bytes)} B, ` +
            `restore ${fmt(v[i].restoreMs, 1)} ms | QEMU migrate ${fmt(q[i].holdMs, 1)} ms, ` +
            `${fmt(q[i].bytes)} B, incoming ${fmt(q[i].restoreMs, 1)} ms`,
        );
      }
      const [vh, qh] = [median(v.map((r) => r.holdMs)), median(q.map((r) => r.holdMs))];
      const [vb, qb] = [median(v.map((r) => r.bytes)), median(q.map((r) => r.bytes))];
      const [vr, qr] = [median(v.map((r) => r.restoreMs)), median(q.map((r) => r.restoreMs))];
      const verdict = (ok: boolean): "PASS" | "BELOW" => ok ? "PASS" : "BELOW";
      return [
        {
          metric: "save time vmrun/QEMU",
          value: `${fmt(vh, 1)} / ${fmt(qh, 1)} ms = ${fmt(vh / qh, 2)}`,
          goal: "<= 1",
          verdict: verdict(vh <= qh),
        },
        {
          metric: "save file vmrun/QEMU",
          value: `${fmt(vb / 1024)} / ${fmt(qb / 1024)} KiB = ${fmt(vb / qb, 2)}`,
          goal: "<= 1",
          verdict: verdict(vb <= qb),
        },
        {
          metric: "restore to running vmrun (QEMU -incoming)",
          value: `${fmt(vr, 1)} ms (${fmt(qr, 1)} ms)`,
          goal: "< 100 ms",
          verdict: verdict(vr < 100),
        },
      ];
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
};
