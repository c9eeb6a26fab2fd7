/**
 * The memory balloon, side by side with QEMU's, in one run: the
 * virtio_balloon fixture fills 40 MiB of a 128 MiB guest, then the target
 * drops to 96 MiB (the balloon takes 32 MiB). Measured for each VMM process:
 * resident memory (VmRSS) before and after the guest's driver has inflated,
 * and how long from setting the target to the driver's "inflated" line.
 * vmrun's target goes over its control socket, QEMU's over QMP (HMP
 * `balloon`). The goal: vmrun gives back at least 30 of the 32 MiB.
 *
 * @module
 */

import { fixture } from "../fixtures/build.ts";
import { type Benchmark, type BenchRow, fmt } from "./bench_common.ts";
import {
  BALLOON_FILLED,
  BALLOON_INFLATE_TO_MIB,
  BALLOON_INFLATED,
  BALLOON_RAM_MIB,
  qemuWithBalloon,
  statusMiB,
} from "./balloon_fixture.ts";
import { withControlledVmrun } from "./vmrun_process.ts";

const RAM_MIB = BALLOON_RAM_MIB;
const TARGET_MIB = BALLOON_INFLATE_TO_MIB;
const TAKEN_MIB = RAM_MIB - TARGET_MIB;
const FILLED = BALLOON_FILLED;
const INFLATED = BALLOON_INFLATED;
const LIMIT_MS = 150_000;

const rssMiB = (pid: number) => statusMiB(pid);

/** One request on vmrun's control socket; resolves once it is answered. */
async function control(path: string, request: Record<string, unknown>): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(new TextEncoder().encode(JSON.stringify({ id: 1, ...request }) + "\n"));
    const buf = new Uint8Array(1 << 16);
    let text = "";
    while (!text.includes("\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const reply = JSON.parse(text);
    if (reply.ok !== true) throw new Error(`vmrun: ${reply.error}`);
  } finally {
    conn.close();
  }
}

interface Round {
  readonly before: number;
  readonly after: number;
  readonly ms: number;
  /** vmrun's guest RAM is shared memory: what of it left RSS (RssShmem), MiB. */
  readonly shmemFreed?: number;
}

async function vmrunRound(): Promise<Round> {
  return await withControlledVmrun(
    [
      "--headless",
      "--snapshot",
      "-m",
      `${RAM_MIB}M`,
      "--device",
      "virtio-balloon-pci",
      fixture("virtio_balloon"),
    ],
    { killAfterMs: LIMIT_MS },
    async (p, socket) => {
      await p.waitForStdout(FILLED, LIMIT_MS);
      const before = rssMiB(p.child.pid);
      const shmem = statusMiB(p.child.pid, "RssShmem");
      const t0 = performance.now();
      await control(socket, { cmd: "balloon", target: TARGET_MIB });
      await p.waitForStdout(INFLATED, LIMIT_MS);
      const ms = performance.now() - t0;
      const shmemFreed = shmem - statusMiB(p.child.pid, "RssShmem");
      return { before, after: rssMiB(p.child.pid), ms, shmemFreed };
    },
  );
}

async function qemuRound(): Promise<Round> {
  const q = qemuWithBalloon(LIMIT_MS);
  try {
    await q.waitForStdout(FILLED, LIMIT_MS);
    const before = rssMiB(q.child.pid);
    const t0 = performance.now();
    await q.hmp(`balloon ${TARGET_MIB}`);
    await q.waitForStdout(INFLATED, LIMIT_MS);
    const ms = performance.now() - t0;
    return { before, after: rssMiB(q.child.pid), ms };
  } finally {
    q.kill();
    await q.finished();
  }
}

/** The balloon benchmark. */
export const balloonBenchmark: Benchmark = {
  name: "balloon",
  description: `RSS before and after inflating ${TAKEN_MIB} MiB of a ${RAM_MIB} MiB guest`,
  async run(): Promise<BenchRow[]> {
    const vmrun = await vmrunRound();
    const qemu = await qemuRound();
    const rows: BenchRow[] = [];
    for (const [who, r] of [["vmrun", vmrun], ["QEMU", qemu]] as const) {
      const freed = r.before - r.after;
      console.log(
        `${who}: VmRSS ${fmt(r.before, 1)} -> ${fmt(r.after, 1)} MiB (${fmt(freed, 1)} freed), ` +
          `inflated in ${fmt(r.ms)} ms`,
      );
      rows.push({ metric: `${who} VmRSS before, MiB`, value: fmt(r.before, 1) });
      rows.push({ metric: `${who} VmRSS after inflating, MiB`, value: fmt(r.after, 1) });
      const goal = who === "vmrun" ? TAKEN_MIB - 2 : null;
      rows.push({
        metric: `${who} freed, MiB (of ${TAKEN_MIB})`,
        value: fmt(freed, 1),
        ...(goal === null ? {} : {
          goal: `>= ${goal}`,
          verdict: freed >= goal ? "PASS" as const : "BELOW" as const,
        }),
      });
      if (r.shmemFreed !== undefined) {
        rows.push({
          metric: `${who} guest RAM freed (RssShmem), MiB`,
          value: fmt(r.shmemFreed, 1),
        });
      }
      rows.push({ metric: `${who} target to inflated, ms`, value: fmt(r.ms) });
    }
    return rows;
  },
};
