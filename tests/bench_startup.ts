/**
 * The start-up benchmark: `vmrun --version` and `vmrun --help`, run as a
 * user runs them ({@link vmrunCommand}), against `deno run -q` of an empty
 * module on the same Deno, in the same run. Goal (issue 11): each within
 * 2.5× of the empty `deno run`.
 *
 *   deno run -A tests/bench_startup.ts [--rounds 20]
 *
 * The three commands run `--rounds` times, interleaved, each from spawn to
 * exit with output discarded. The summary compares the best (lowest) times,
 * which other load on the host skews least, and shows the medians beside.
 *
 * @module
 */

import { type Benchmark, type BenchRow, fmt, intFlag, runBenchmarks } from "./bench_common.ts";
import {
  type CommandLine,
  discard,
  pinnedDeno,
  spawnPiped,
  vmrunCommand,
  vmrunCommandNote,
} from "./bench_qemu.ts";

/** vmrun's start-up must be at most this multiple of an empty `deno run`'s. */
export const STARTUP_GOAL_RATIO = 2.5;
const DEFAULT_ROUNDS = 20;

/** Wall time of one run of `line` from spawn to exit, ms. */
export async function timeRun(line: CommandLine): Promise<number> {
  const t0 = performance.now();
  const child = spawnPiped(line.cmd, line.args);
  const [status, , stderr] = await Promise.all([
    child.status,
    discard(child.stdout),
    new Response(child.stderr).text(),
  ]);
  const ms = performance.now() - t0;
  if (!status.success) {
    throw new Error(`${line.cmd} ${line.args.join(" ")}: status ${status.code}: ${stderr.trim()}`);
  }
  return ms;
}

/** Lowest and median of `xs`. */
export function bestAndMedian(xs: readonly number[]): { best: number; median: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { best: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2 };
}

/** Times of each command, ms, by name. */
export type StartupTimes = Record<"deno" | "version" | "help", number[]>;

/** Runs the three commands `rounds` times, interleaved. */
export async function measureStartup(
  rounds: number,
  log: (line: string) => void = console.log,
): Promise<StartupTimes> {
  const dir = await Deno.makeTempDir({ prefix: "vmrun_bench_startup_" });
  try {
    const empty = `${dir}/empty.ts`;
    await Deno.writeTextFile(empty, "export {};\n");
    const lines: Record<keyof StartupTimes, CommandLine> = {
      deno: { cmd: pinnedDeno(), args: ["run", "-q", empty] },
      version: vmrunCommand(["--version"]),
      help: vmrunCommand(["--help"]),
    };
    log(vmrunCommandNote());
    const times: StartupTimes = { deno: [], version: [], help: [] };
    // One untimed round fills Deno's caches (transpiled modules, code cache).
    for (const line of Object.values(lines)) await timeRun(line);
    for (let round = 1; round <= rounds; round++) {
      for (const key of Object.keys(lines) as (keyof StartupTimes)[]) {
        times[key].push(await timeRun(lines[key]));
      }
    }
    for (const [key, xs] of Object.entries(times)) {
      const { best, median } = bestAndMedian(xs);
      log(`${key.padEnd(8)} best ${fmt(best, 1)} ms  median ${fmt(median, 1)} ms`);
    }
    return times;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Summary rows: best and median of each, and the two ratios with their verdicts. */
export function startupRows(t: StartupTimes): BenchRow[] {
  const d = bestAndMedian(t.deno);
  const rows: BenchRow[] = [
    {
      metric: "deno run -q (empty), ms best / median",
      value: `${fmt(d.best, 1)} / ${fmt(d.median, 1)}`,
    },
  ];
  for (const key of ["version", "help"] as const) {
    const v = bestAndMedian(t[key]);
    const ratio = v.best / d.best;
    rows.push(
      {
        metric: `vmrun --${key}, ms best / median`,
        value: `${fmt(v.best, 1)} / ${fmt(v.median, 1)}`,
      },
      {
        metric: `vmrun --${key} / deno run (best; median ${fmt(v.median / d.median, 2)})`,
        value: fmt(ratio, 2),
        goal: `<= ${STARTUP_GOAL_RATIO}`,
        verdict: ratio <= STARTUP_GOAL_RATIO ? "PASS" : "BELOW",
      },
    );
  }
  return rows;
}

/** The start-up benchmark, for tests/bench.ts. */
export const startupBenchmark: Benchmark = {
  name: "startup",
  description: "vmrun --version and --help against an empty deno run",
  async run(args) {
    return startupRows(await measureStartup(intFlag(args, "rounds", DEFAULT_ROUNDS)));
  },
};

if (import.meta.main) Deno.exit(await runBenchmarks([startupBenchmark], Deno.args));
