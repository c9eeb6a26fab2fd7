/**
 * The boot benchmark: time from process start to a boot sector's marker on
 * COM1 through SeaBIOS, and the whole process's peak RSS, vmrun against
 * QEMU measured in the same run on the same host.
 *
 *   deno run -A tests/bench_boot.ts [--rounds 3] [--rss time|proc]
 *
 * The guest is fixtures/src/bios_hello.asm (assembled into a temp dir): it
 * prints "vmrun booted this sector" and exits with status 7. Both sides get
 * 128 MiB and the image as an IDE disk with writes kept in memory
 * (see {@link qemuArgs}, {@link vmrunArgs}). The sides run `--rounds` times,
 * alternating (QEMU, vmrun); every run is printed, and the best (lowest)
 * boot times and the highest peak RSS of each side are compared. vmrun runs
 * as a user runs it ({@link vmrunCommand}: bin/vmrun, or the pinned Deno
 * straight on cli/main.ts), so its figures include Deno's start-up and the
 * whole Deno process's memory. Goals: vmrun/QEMU boot time <= 1, peak RSS
 * <= 1.5.
 *
 * @module
 */

import { assemble, FIXTURE_SRC } from "../fixtures/build.ts";
import {
  type Benchmark,
  type BenchRow,
  flagValue,
  fmt,
  intFlag,
  runBenchmarks,
} from "./bench_common.ts";
import {
  BENCH_MEMORY_MIB,
  type BenchDrive,
  defaultRssMethod,
  denoAsVmrun,
  mib,
  pinnedDeno,
  QEMU_BIN,
  qemuArgs,
  qemuAvailable,
  qemuGuestStatus,
  ROOT,
  type RssMethod,
  runTimed,
  runTimedCommand,
  seconds,
  tail,
  type TimedRun,
  vmrunArgs,
  vmrunCommand,
  vmrunCommandNote,
} from "./bench_qemu.ts";

/** What bios_hello prints once SeaBIOS has started it. */
export const BOOT_MARKER = "vmrun booted this sector";
/** bios_hello's debug-exit value. */
export const BOOT_EXIT_VALUE = 7;
/** vmrun's boot time must be at most this multiple of QEMU's. */
export const BOOT_GOAL_RATIO = 1;
/** vmrun's peak RSS must be at most this multiple of QEMU's (issue 11; the moonshot is 1). */
export const RSS_GOAL_RATIO = 1.5;
const DEFAULT_ROUNDS = 3;
const TIMEOUT_S = 60;

/** One boot of either side. */
export interface BootRun {
  /** Process start to the marker on COM1, ms. */
  readonly markerMs: number;
  /** Process start to exit, ms. */
  readonly exitMs: number;
  /** Peak RSS of the process, KiB, or null when not measured. */
  readonly peakRssKiB: number | null;
  /** CPU time of the whole run (user + system), ms, or null when not measured. */
  readonly cpuMs: number | null;
}

/** What {@link measureBoot} found. */
export interface BootResult {
  readonly qemu: readonly BootRun[];
  readonly vmrun: readonly BootRun[];
  /** Peak RSS of `deno run` on an empty module, KiB: the runtime's own share of vmrun's. */
  readonly denoBaselineKiB: number | null;
  /** Peak RSS of tests/rss_floor/main.ts, KiB: the least any vmrun on this runtime can use. */
  readonly floorKiB: number | null;
  readonly rssMethod: RssMethod;
}

/**
 * Checks a finished boot and turns it into a {@link BootRun}.
 * @throws {Error} when the marker was not seen or the guest did not exit with `expected`
 */
export function bootRun(
  side: string,
  r: TimedRun,
  status: number | null,
  expected: number,
): BootRun {
  const marker = r.markerMs[BOOT_MARKER];
  if (r.timedOut || marker === undefined || status !== expected) {
    throw new Error(
      `${side}: boot ${r.timedOut ? "timed out" : `ended with status ${r.code}`}` +
        `${marker === undefined ? ", no marker on COM1" : ""}; stdout: ${tail(r.stdout)}; ` +
        `stderr: ${tail(r.stderr)}`,
    );
  }
  return { markerMs: marker, exitMs: r.exitMs, peakRssKiB: r.peakRssKiB, cpuMs: r.cpuMs };
}

/** Peak RSS of `deno run -q` on a module that does nothing, KiB. */
export async function denoBaselineRss(dir: string, rss: RssMethod): Promise<number | null> {
  const empty = `${dir}/empty.ts`;
  await Deno.writeTextFile(empty, "export {};\n");
  const r = await runTimed(pinnedDeno(), ["run", "-q", empty], {
    markers: [],
    timeoutMs: 30_000,
    rss,
  });
  return r.code === 0 ? r.peakRssKiB : null;
}

/**
 * Peak RSS of the memory floor (tests/rss_floor/main.ts: commander parses a
 * command line, one worker creates a KVM VM with the same guest RAM and a
 * vCPU, nothing runs), started as vmrun is (same config, V8 flags and
 * permissions), KiB.
 */
export async function floorRss(rss: RssMethod): Promise<number | null> {
  const floor = denoAsVmrun(`${ROOT}tests/rss_floor/main.ts`, [
    "-m",
    `${BENCH_MEMORY_MIB}M`,
    "--headless",
  ]);
  const r = await runTimedCommand(floor, { markers: [], timeoutMs: 30_000, rss });
  return r.code === 0 ? r.peakRssKiB : null;
}

/**
 * Assembles bios_hello into a temp dir and boots it `rounds` times on each
 * side, alternating, printing each run.
 */
export async function measureBoot(
  rounds: number,
  rss: RssMethod = defaultRssMethod(),
  log: (line: string) => void = console.log,
): Promise<BootResult> {
  if (!qemuAvailable()) throw new Error(`${QEMU_BIN} not found (Debian package qemu-system-x86)`);
  const dir = await Deno.makeTempDir({ prefix: "vmrun_bench_boot_" });
  try {
    const image = `${dir}/bios_hello.img`;
    await assemble(`${FIXTURE_SRC}bios_hello.asm`, image);
    const drives: BenchDrive[] = [{ path: image, interface: "ide" }];
    const opts = { markers: [BOOT_MARKER], timeoutMs: (TIMEOUT_S + 10) * 1000, rss };
    const line = (round: number, side: string, b: BootRun) =>
      log(
        `round ${round}  ${side.padEnd(5)}  marker ${seconds(b.markerMs)} s  exit ${
          seconds(b.exitMs)
        } s  CPU ${b.cpuMs === null ? "n/a" : seconds(b.cpuMs)} s  peak RSS ${
          mib(b.peakRssKiB)
        } MiB`,
      );
    const qemu: BootRun[] = [];
    const vmrun: BootRun[] = [];
    for (let round = 1; round <= rounds; round++) {
      const q = await runTimed(QEMU_BIN, qemuArgs(drives), opts);
      qemu.push(bootRun("QEMU", q, qemuGuestStatus(q.code), BOOT_EXIT_VALUE));
      line(round, "QEMU", qemu[qemu.length - 1]);
      const v = await runTimedCommand(vmrunCommand(vmrunArgs(drives, TIMEOUT_S)), opts);
      vmrun.push(bootRun("vmrun", v, v.code, BOOT_EXIT_VALUE));
      line(round, "vmrun", vmrun[vmrun.length - 1]);
    }
    const denoBaselineKiB = await denoBaselineRss(dir, rss);
    log(`deno run -q on an empty module: peak RSS ${mib(denoBaselineKiB)} MiB`);
    const floorKiB = rss === "none" ? null : await floorRss(rss);
    log(`memory floor (commander + a vCPU worker with a KVM VM): peak RSS ${mib(floorKiB)} MiB`);
    log(vmrunCommandNote());
    return { qemu, vmrun, denoBaselineKiB, floorKiB, rssMethod: rss };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function verdict(ratio: number, goal: number): "PASS" | "BELOW" {
  return ratio <= goal ? "PASS" : "BELOW";
}

/** Summary rows: best boot times, all runs, peak RSS, ratios and verdicts. */
export function bootRows(r: BootResult): BenchRow[] {
  const best = (runs: readonly BootRun[]) => Math.min(...runs.map((b) => b.markerMs));
  const all = (runs: readonly BootRun[]) => runs.map((b) => seconds(b.markerMs)).join(", ");
  const peak = (runs: readonly BootRun[]) => {
    const xs = runs.map((b) => b.peakRssKiB).filter((x): x is number => x !== null);
    return xs.length ? Math.max(...xs) : null;
  };
  const cpu = (runs: readonly BootRun[]) => {
    const xs = runs.map((b) => b.cpuMs).filter((x): x is number => x !== null);
    return xs.length ? `${seconds(Math.min(...xs))} (${xs.map(seconds).join(", ")})` : "n/a";
  };
  const timeRatio = best(r.vmrun) / best(r.qemu);
  const rssRatio = (peak(r.vmrun) ?? NaN) / (peak(r.qemu) ?? NaN);
  const rows: BenchRow[] = [
    { metric: "QEMU boot to marker, s (best)", value: seconds(best(r.qemu)) },
    { metric: "QEMU boot to marker, s (all)", value: all(r.qemu) },
    { metric: "vmrun boot to marker, s (best)", value: seconds(best(r.vmrun)) },
    { metric: "vmrun boot to marker, s (all)", value: all(r.vmrun) },
    {
      metric: "vmrun/QEMU boot time",
      value: fmt(timeRatio, 3),
      goal: `<= ${BOOT_GOAL_RATIO}`,
      verdict: verdict(timeRatio, BOOT_GOAL_RATIO),
    },
  ];
  if (r.rssMethod !== "none") {
    rows.push(
      { metric: "QEMU CPU s, user+sys, best (all)", value: cpu(r.qemu) },
      { metric: "vmrun CPU s, user+sys, best (all)", value: cpu(r.vmrun) },
      { metric: `QEMU peak RSS, MiB (${r.rssMethod})`, value: mib(peak(r.qemu)) },
      { metric: `vmrun peak RSS, MiB (${r.rssMethod})`, value: mib(peak(r.vmrun)) },
      { metric: "deno run -q of an empty module, peak RSS MiB", value: mib(r.denoBaselineKiB) },
      { metric: "memory floor (tests/rss_floor), peak RSS MiB", value: mib(r.floorKiB) },
      {
        metric: "memory floor/QEMU peak RSS",
        value: fmt((r.floorKiB ?? NaN) / (peak(r.qemu) ?? NaN), 3),
      },
      {
        metric: "vmrun/QEMU peak RSS",
        value: fmt(rssRatio, 3),
        goal: `<= ${RSS_GOAL_RATIO}`,
        verdict: verdict(rssRatio, RSS_GOAL_RATIO),
      },
    );
  }
  return rows;
}

/** Reads `--rss time|proc|none`. */
export function rssFlag(args: readonly string[]): RssMethod {
  const v = flagValue(args, "rss");
  if (v === undefined) return defaultRssMethod();
  if (v === "time" || v === "proc" || v === "none") return v;
  throw new Error("--rss wants time, proc or none");
}

/** The boot benchmark, for tests/bench.ts. */
export const bootBenchmark: Benchmark = {
  name: "boot",
  description: "SeaBIOS boot to a COM1 marker and peak RSS, vmrun against QEMU",
  async run(args) {
    const r = await measureBoot(intFlag(args, "rounds", DEFAULT_ROUNDS), rssFlag(args));
    return bootRows(r);
  },
};

if (import.meta.main) Deno.exit(await runBenchmarks([bootBenchmark], Deno.args));
