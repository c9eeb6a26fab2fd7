/**
 * `deno task bench`: runs every benchmark module in turn and prints a
 * summary table. Exits non-zero only when a benchmark fails to run; a
 * figure below its goal is reported, not failed.
 *
 *   deno run -A tests/bench.ts [--only exit-loop] [--exits 1000000]
 *
 * Adding a benchmark: a module under tests/bench_*.ts exporting a
 * {@link Benchmark}, one import and one entry in {@link BENCHMARKS}.
 *
 * @module
 */

import { type Benchmark, runBenchmarks } from "./bench_common.ts";
import { exitLoopBenchmark } from "./bench_exit_loop.ts";
import { bootBenchmark } from "./bench_boot.ts";
import { diskBenchmark } from "./bench_disk.ts";
import { graphicsBenchmark } from "./bench_graphics.ts";
import { tuiBenchmark } from "./bench_tui.ts";
import { saveBenchmark } from "./bench_save.ts";
import { kernelBootBenchmark } from "./bench_kernel.ts";
import { linuxBootBenchmark } from "./bench_linux.ts";
import { startupBenchmark } from "./bench_startup.ts";
import { floodBenchmark } from "./bench_flood.ts";
import { balloonBenchmark } from "./bench_balloon.ts";
import { netBenchmark } from "./bench_net.ts";
import { cirrusBenchmark } from "./bench_cirrus.ts";

/** Every benchmark, in the order they run. */
export const BENCHMARKS: readonly Benchmark[] = [
  startupBenchmark,
  exitLoopBenchmark,
  bootBenchmark,
  floodBenchmark,
  diskBenchmark,
  graphicsBenchmark,
  cirrusBenchmark,
  tuiBenchmark,
  saveBenchmark,
  kernelBootBenchmark,
  balloonBenchmark,
  netBenchmark,
  linuxBootBenchmark,
];

if (import.meta.main) Deno.exit(await runBenchmarks(BENCHMARKS, Deno.args));
