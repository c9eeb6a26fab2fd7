/**
 * What every vmrun benchmark module provides, and the runner that
 * tests/bench.ts uses to run them in turn and print one summary table.
 *
 * @module
 */

/** One line of the summary table. */
export interface BenchRow {
  /** What was measured, e.g. "vmrun exits/s". */
  readonly metric: string;
  /** The figure, formatted. */
  readonly value: string;
  /** The goal it is held to, when there is one (e.g. ">= 0.95"). */
  readonly goal?: string;
  /** Whether the goal was met; a measurement below goal is not a failure. */
  readonly verdict?: "PASS" | "BELOW";
}

/** A benchmark: measures, prints its runs as it goes, returns summary rows. */
export interface Benchmark {
  /** Short name, used by `--only` and in the summary. */
  readonly name: string;
  /** One line on what it measures. */
  readonly description: string;
  /**
   * Runs the benchmark with the command-line arguments.
   * @throws {Error} when a run fails (a crashed guest, a reference that did not build)
   */
  run(args: readonly string[]): Promise<BenchRow[]>;
}

/** The value after `--name` in `args`, or `fallback` when absent. */
export function flagValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

/**
 * A positive integer option such as `--exits 1000000` (underscores allowed).
 * @throws {Error} when the value is not a positive integer
 */
export function intFlag(args: readonly string[], name: string, fallback: number): number {
  const raw = flagValue(args, name);
  if (raw === undefined) return fallback;
  const n = Number(raw.replaceAll("_", ""));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} wants a positive integer`);
  return n;
}

/** A number with thousands separators and `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Left-aligned text columns separated by two spaces, with a rule under the header. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The host's 1/5/15-minute load averages, from /proc/loadavg. */
export function loadAverage(): string {
  try {
    return `load average ${
      Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ")
    }`;
  } catch {
    return "load average unknown";
  }
}

/**
 * Runs `benchmarks` in order (or only those named by `--only a,b`), prints
 * a summary table and returns the process exit status: 1 when any
 * benchmark failed to run, 0 otherwise (figures below goal included).
 */
export async function runBenchmarks(
  benchmarks: readonly Benchmark[],
  args: readonly string[],
): Promise<number> {
  const only = flagValue(args, "only")?.split(",");
  const chosen = benchmarks.filter((b) => !only || only.includes(b.name));
  if (chosen.length === 0) {
    console.error(`bench: nothing to run; benchmarks: ${benchmarks.map((b) => b.name).join(", ")}`);
    return 1;
  }
  const rows: string[][] = [];
  let failed = 0;
  console.log(`host: ${navigator.hardwareConcurrency} CPUs, ${loadAverage()}`);
  for (const b of chosen) {
    console.log(`== ${b.name}: ${b.description}`);
    try {
      for (const r of await b.run(args)) {
        rows.push([b.name, r.metric, r.value, r.goal ?? "", r.verdict ?? ""]);
      }
    } catch (e) {
      failed++;
      const message = e instanceof Error ? e.message : String(e);
      console.error(`bench: ${b.name} FAILED: ${message}`);
      rows.push([b.name, "run", "FAILED", "", ""]);
    }
    console.log();
  }
  console.log(`== summary (host ${loadAverage()}; other load skews every figure)`);
  console.log(formatTable(["benchmark", "metric", "value", "goal", ""], rows));
  return failed ? 1 : 0;
}
