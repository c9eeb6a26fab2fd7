/**
 * The real-kernel benchmark: the Debian cloud kernel of the early-log test
 * (tests/debian_kernel.ts: its ELF vmlinux at the PVH entry, the same
 * memory, CPUs, initrd and command line) from process start to its "Linux
 * version" line on COM1, vmrun without firmware (`--firmware none
 * --kernel`) against QEMU with KVM (`-kernel`, SeaBIOS and its PVH option
 * ROM), side by side in the same run.
 *
 *   deno run -A tests/bench_linux.ts [--rounds 1]
 *
 * Each round starts QEMU, then vmrun; each process is timed from just
 * before it is spawned to the stdout chunk that completes the line, then
 * killed (QEMU) or left to end by its `--exit-on` (vmrun, whose exit time is
 * printed too); the CPU time each had used by then (user + system, all
 * threads, the guest's included) is printed beside, as it says more than the
 * wall time on a shared host. Goal: vmrun/QEMU <= 1.0 on the best wall times.
 *
 * @module
 */

import { fixture } from "../fixtures/build.ts";
import { type Benchmark, type BenchRow, fmt, intFlag, runBenchmarks } from "./bench_common.ts";
import { qemuAvailable, readCpuMs, seconds, vmrunCommand } from "./bench_qemu.ts";
import {
  debianCloudKernel,
  EARLY_LOG,
  earlyLogInitrd,
  qemuEarlyLogArgs,
  vmrunEarlyLogArgs,
} from "./debian_kernel.ts";
import { QemuProcess } from "./qemu.ts";

/** vmrun must reach the line in at most this multiple of QEMU's time. */
export const LINUX_GOAL_RATIO = 1.0;
const DEFAULT_ROUNDS = 1;
const MARKER = "Linux version";
/** A hang guard per run; the line comes within seconds on a quiet host. */
const GUARD_MS = 180_000;

/** Each side's times, ms. */
export interface LinuxBootResult {
  readonly qemu: readonly number[];
  readonly vmrun: readonly number[];
  readonly vmrunExit: readonly number[];
  /** CPU time (user + system, all threads) each process had used at the line, ms. */
  readonly qemuCpu: readonly number[];
  readonly vmrunCpu: readonly number[];
}

/** Runs `cmd` until `MARKER` shows on stdout; resolves with the ms to it and to the exit. */
async function vmrunToMarker(
  args: readonly string[],
): Promise<{ markerMs: number; exitMs: number; cpuMs: number }> {
  const { cmd, args: full } = vmrunCommand(args);
  const t0 = performance.now();
  const child = new Deno.Command(cmd, {
    args: [...full],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), GUARD_MS);
  const stderr = new Response(child.stderr).text();
  let markerMs = NaN;
  let cpuMs = NaN;
  let seen = "";
  const dec = new TextDecoder();
  for await (const chunk of child.stdout) {
    seen += dec.decode(chunk, { stream: true });
    if (Number.isNaN(markerMs) && seen.includes(MARKER)) {
      markerMs = performance.now() - t0;
      // bin/vmrun execs Deno: the child is vmrun itself.
      cpuMs = readCpuMs(child.pid) ?? NaN;
    }
  }
  const status = await child.status;
  const exitMs = performance.now() - t0;
  clearTimeout(guard);
  if (Number.isNaN(markerMs) || status.code !== 0) {
    throw new Error(
      `vmrun: status ${status.code}, no '${MARKER}': ${seen.slice(-500)} ${await stderr}`,
    );
  }
  return { markerMs, exitMs, cpuMs };
}

/** Boots the kernel `rounds` times on each side. */
export async function measureLinuxBoot(
  rounds: number,
  log: (line: string) => void = console.log,
): Promise<LinuxBootResult> {
  if (!qemuAvailable()) throw new Error("QEMU not found (Debian package qemu-system-x86)");
  const kernel = await debianCloudKernel();
  const initrd = await earlyLogInitrd("vmrun-bench-initrd-");
  const qemu: number[] = [];
  const vmrun: number[] = [];
  const vmrunExit: number[] = [];
  const qemuCpu: number[] = [];
  const vmrunCpu: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const t0 = performance.now();
      const q = new QemuProcess(fixture("halt"), {
        memoryMiB: EARLY_LOG.memoryMiB,
        killAfterMs: GUARD_MS,
        extraArgs: qemuEarlyLogArgs(kernel.vmlinux, initrd),
      });
      try {
        await q.waitForStdout(MARKER, GUARD_MS);
        qemu.push(performance.now() - t0);
        qemuCpu.push(readCpuMs(q.child.pid) ?? NaN);
      } finally {
        q.kill();
        await q.finished();
      }
      log(
        `round ${round}  QEMU   -kernel to '${MARKER}' ${seconds(qemu.at(-1)!)} s ` +
          `(CPU ${seconds(qemuCpu.at(-1)!)} s)`,
      );
      const v = await vmrunToMarker(vmrunEarlyLogArgs(kernel.vmlinux, initrd, MARKER, GUARD_MS));
      vmrun.push(v.markerMs);
      vmrunExit.push(v.exitMs);
      vmrunCpu.push(v.cpuMs);
      log(
        `round ${round}  vmrun  --kernel to '${MARKER}' ${seconds(v.markerMs)} s ` +
          `(CPU ${seconds(v.cpuMs)} s; exit ${seconds(v.exitMs)} s)`,
      );
    }
  } finally {
    await Deno.remove(initrd);
  }
  return { qemu, vmrun, vmrunExit, qemuCpu, vmrunCpu };
}

/** Summary rows: best times, all runs, the ratio and its verdict. */
export function linuxBootRows(r: LinuxBootResult): BenchRow[] {
  const best = (xs: readonly number[]) => Math.min(...xs);
  const ratio = best(r.vmrun) / best(r.qemu);
  return [
    { metric: `QEMU -kernel to '${MARKER}', s (best)`, value: seconds(best(r.qemu)) },
    { metric: `QEMU to '${MARKER}', s (all)`, value: r.qemu.map(seconds).join(", ") },
    { metric: `vmrun --kernel to '${MARKER}', s (best)`, value: seconds(best(r.vmrun)) },
    { metric: `vmrun to '${MARKER}', s (all)`, value: r.vmrun.map(seconds).join(", ") },
    {
      metric: "vmrun to its exit after the line, s (all)",
      value: r.vmrunExit.map(seconds).join(", "),
    },
    { metric: "QEMU CPU time to the line, s (all)", value: r.qemuCpu.map(seconds).join(", ") },
    { metric: "vmrun CPU time to the line, s (all)", value: r.vmrunCpu.map(seconds).join(", ") },
    {
      metric: "vmrun/QEMU CPU time to the line (best)",
      value: fmt(best(r.vmrunCpu) / best(r.qemuCpu), 3),
    },
    {
      metric: "vmrun/QEMU real kernel to 'Linux version'",
      value: fmt(ratio, 3),
      goal: `<= ${LINUX_GOAL_RATIO}`,
      verdict: ratio <= LINUX_GOAL_RATIO ? "PASS" : "BELOW",
    },
  ];
}

/** The real-kernel benchmark, for tests/bench.ts. */
export const linuxBootBenchmark: Benchmark = {
  name: "linux",
  description: "Debian kernel (PVH) to its 'Linux version' line, vmrun against QEMU -kernel",
  async run(args) {
    return linuxBootRows(await measureLinuxBoot(intFlag(args, "rounds", DEFAULT_ROUNDS)));
  },
};

if (import.meta.main) Deno.exit(await runBenchmarks([linuxBootBenchmark], Deno.args));
