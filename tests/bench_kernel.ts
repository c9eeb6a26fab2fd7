/**
 * The direct kernel boot benchmark: a fixture bzImage (64-bit entry,
 * fixtures/src/kernel_bz64.asm) with a 20000-byte initrd, from process start
 * to the process's exit after the kernel's report, vmrun without firmware
 * (`--firmware none --kernel`) against QEMU's `-kernel` (SeaBIOS and its
 * linuxboot option ROM) in the same run on the same host.
 *
 *   deno run -A tests/bench_kernel.ts [--rounds 3]
 *
 * The sides alternate (QEMU, vmrun) `--rounds` times; every run is printed and
 * the best whole-process times are compared. vmrun is `deno run -A
 * cli/main.ts`, Deno's start-up included. Goal: vmrun/QEMU <= 0.5 (no
 * firmware in the way).
 *
 * @module
 */

import { assemble, FIXTURE_SRC } from "../fixtures/build.ts";
import { type Benchmark, type BenchRow, fmt, intFlag, runBenchmarks } from "./bench_common.ts";
import {
  QEMU_BIN,
  qemuArgs,
  qemuAvailable,
  qemuGuestStatus,
  runTimed,
  seconds,
  tail,
  type TimedRun,
} from "./bench_qemu.ts";
import { CLI } from "./vmrun_process.ts";
import { KERNEL_EXIT, parseKernelReport, REPORT_END, testInitrd } from "./kernel_report.ts";

/** vmrun's direct boot must take at most this multiple of QEMU's -kernel boot. */
export const KERNEL_GOAL_RATIO = 0.5;
const DEFAULT_ROUNDS = 3;
const TIMEOUT_MS = 90_000;
const CMDLINE = "console=ttyS0";
const MEMORY_MIB = 128;

/** Whole-process times of each side, ms. */
export interface KernelBootResult {
  readonly qemu: readonly number[];
  readonly vmrun: readonly number[];
}

function checked(side: string, r: TimedRun, status: number | null): number {
  if (r.timedOut || status !== KERNEL_EXIT || !r.stdout.includes(REPORT_END)) {
    throw new Error(
      `${side}: ${r.timedOut ? "timed out" : `status ${r.code}`}; stdout: ${tail(r.stdout)}; ` +
        `stderr: ${tail(r.stderr)}`,
    );
  }
  if (parseKernelReport(r.stdout).cmdline !== CMDLINE) throw new Error(`${side}: wrong cmdline`);
  return r.exitMs;
}

/** Assembles the fixture into a temp dir and boots it `rounds` times on each side. */
export async function measureKernelBoot(
  rounds: number,
  log: (line: string) => void = console.log,
): Promise<KernelBootResult> {
  if (!qemuAvailable()) throw new Error(`${QEMU_BIN} not found (Debian package qemu-system-x86)`);
  const dir = await Deno.makeTempDir({ prefix: "vmrun_bench_kernel_" });
  try {
    const kernel = `${dir}/kernel_bz64.img`;
    await assemble(`${FIXTURE_SRC}kernel_bz64.asm`, kernel);
    const initrd = `${dir}/initrd`;
    await Deno.writeFile(initrd, testInitrd(20000));
    const boot = ["-kernel", kernel, "-initrd", initrd, "-append", CMDLINE];
    const opts = { markers: [REPORT_END], timeoutMs: TIMEOUT_MS, rss: "none" as const };
    const qemu: number[] = [];
    const vmrun: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const q = await runTimed(QEMU_BIN, [...qemuArgs([], MEMORY_MIB), ...boot], opts);
      qemu.push(checked("QEMU", q, qemuGuestStatus(q.code)));
      log(`round ${round}  QEMU   -kernel to exit ${seconds(q.exitMs)} s`);
      const v = await runTimed(Deno.execPath(), [
        "run",
        "-A",
        CLI,
        "--headless",
        "--firmware",
        "none",
        "-m",
        `${MEMORY_MIB}M`,
        "--timeout",
        String(TIMEOUT_MS / 1000),
        "--kernel",
        kernel,
        "--initrd",
        initrd,
        "--append",
        CMDLINE,
      ], opts);
      vmrun.push(checked("vmrun", v, v.code));
      log(`round ${round}  vmrun  --kernel to exit ${seconds(v.exitMs)} s`);
    }
    return { qemu, vmrun };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Summary rows: best times, all runs, the ratio and its verdict. */
export function kernelBootRows(r: KernelBootResult): BenchRow[] {
  const best = (xs: readonly number[]) => Math.min(...xs);
  const ratio = best(r.vmrun) / best(r.qemu);
  return [
    { metric: "QEMU -kernel to exit, s (best)", value: seconds(best(r.qemu)) },
    { metric: "QEMU -kernel to exit, s (all)", value: r.qemu.map(seconds).join(", ") },
    { metric: "vmrun --kernel (no firmware) to exit, s (best)", value: seconds(best(r.vmrun)) },
    { metric: "vmrun --kernel to exit, s (all)", value: r.vmrun.map(seconds).join(", ") },
    {
      metric: "vmrun/QEMU kernel boot time",
      value: fmt(ratio, 3),
      goal: `<= ${KERNEL_GOAL_RATIO}`,
      verdict: ratio <= KERNEL_GOAL_RATIO ? "PASS" : "BELOW",
    },
  ];
}

/** The kernel boot benchmark, for tests/bench.ts. */
export const kernelBootBenchmark: Benchmark = {
  name: "kernel",
  description: "fixture bzImage direct boot to exit, vmrun --kernel against QEMU -kernel",
  async run(args) {
    return kernelBootRows(await measureKernelBoot(intFlag(args, "rounds", DEFAULT_ROUNDS)));
  },
};

if (import.meta.main) Deno.exit(await runBenchmarks([kernelBootBenchmark], Deno.args));
