/**
 * The exit-dispatch benchmark: how many port-I/O exits per second vmrun
 * turns around, against the C reference (../shared/reference/kvm_exit_loop.c)
 * measured in the same run on the same host.
 *
 *   deno run -A tests/bench_exit_loop.ts [--exits 1000000] [--rounds 3]
 *
 * Both sides run `--rounds` times, alternating (C, vmrun baseline, vmrun);
 * every run is printed and the best of each side is compared. The goal is
 * vmrun/C >= 0.95.
 *
 * How vmrun is timed: a {@link Machine} is started in this process with
 * fixtures/src/exit_loop.asm assembled with COUNT=N (N `out 0x80` exits, then
 * a debug-exit write). A snapshot is requested right after the constructor;
 * the worker answers it before its first KVM_RUN, so the time from that
 * answer to `machine.exited` settling covers the guest's exits and nothing
 * of the start-up ("in-run"). As a cross-check, wall time around the whole
 * run minus the fastest COUNT=1 baseline run gives the same rate with
 * start-up subtracted ("wall - baseline"). The in-run figure is the headline.
 *
 * Whole process, as a user runs it (issue 11): each round also times the C
 * binary and `vmrun --headless --firmware none --snapshot exit_loop.img`
 * ({@link vmrunCommand}: bin/vmrun, or the pinned Deno straight on
 * cli/main.ts) from spawn to exit, start-up, build and teardown included,
 * after an untimed COUNT=1 run that warms Deno's V8 code cache as a user's
 * earlier runs would (the in-process runs leave it compiled under other V8
 * flags). Goal: C's time / vmrun's time >= 0.95, best of each.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { assemble, FIXTURE_SRC } from "../fixtures/build.ts";
import type { MachineConfig } from "../machine/config.ts";
import { Machine } from "../machine/machine.ts";
import { type Benchmark, type BenchRow, fmt, intFlag, runBenchmarks } from "./bench_common.ts";
import { exists, spawnPiped, vmrunCommand, vmrunCommandNote } from "./bench_qemu.ts";

/**
 * The C reference, beside the repository (../shared/reference/), or beside
 * the directory of git worktrees a checkout may sit in; $VMRUN_EXIT_LOOP_C
 * overrides both.
 */
export const REFERENCE_C = Deno.env.get("VMRUN_EXIT_LOOP_C") ??
  ["../../shared/reference/kvm_exit_loop.c", "../../../shared/reference/kvm_exit_loop.c"]
    .map((rel) => fromFileUrl(new URL(rel, import.meta.url)))
    .find(exists) ??
  fromFileUrl(new URL("../../shared/reference/kvm_exit_loop.c", import.meta.url));
/** vmrun's exits/s must reach this fraction of the C reference's. */
export const GOAL_RATIO = 0.95;
const DEFAULT_EXITS = 1_000_000;
const DEFAULT_ROUNDS = 3;
/** Exits the COUNT=1 baseline guest makes: one POST-code write, one debug-exit write. */
const BASELINE_EXITS = 2;

/** One run of the C reference, as it printed it. */
export interface ReferenceRun {
  readonly exits: number;
  readonly seconds: number;
  readonly exitsPerSecond: number;
}

/** One run of vmrun. */
export interface VmrunRun {
  /** Constructor to `exited`, ms. */
  readonly wallMs: number;
  /** Snapshot answer to `exited`, ms; null when the snapshot came too late. */
  readonly inRunMs: number | null;
  /** Exits made after the snapshot (N + 1 less the exits before it). */
  readonly inRunExits: number;
}

/** Compiles the C reference with `cc -O2` into `dir`; returns the binary's path. */
export async function buildReference(dir: string, source = REFERENCE_C): Promise<string> {
  const bin = `${dir}/kvm_exit_loop`;
  const r = await new Deno.Command("cc", { args: ["-O2", "-o", bin, source], stderr: "piped" })
    .output();
  if (!r.success) {
    throw new Error(`cc ${source}: ${new TextDecoder().decode(r.stderr).trim()}`);
  }
  return bin;
}

/** Parses the reference's `exits=... seconds=... exits_per_s=... us_per_exit=...` line. */
export function parseReference(output: string): ReferenceRun {
  const m = /exits=(\d+) seconds=([\d.]+) exits_per_s=([\d.]+)/.exec(output);
  if (!m) throw new Error(`kvm_exit_loop printed something unexpected: ${output.trim()}`);
  return { exits: Number(m[1]), seconds: Number(m[2]), exitsPerSecond: Number(m[3]) };
}

/** Runs the reference binary for `n` loop exits. */
export async function runReference(bin: string, n: number): Promise<ReferenceRun> {
  const r = await new Deno.Command(bin, { args: [String(n)], stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  if (!r.success) {
    throw new Error(`kvm_exit_loop failed (status ${r.code}): ${dec.decode(r.stderr).trim()}`);
  }
  return parseReference(dec.decode(r.stdout));
}

function machineConfig(image: string): MachineConfig {
  return {
    memoryBytes: 16 << 20,
    cpus: 1,
    firmware: { kind: "none" },
    disks: [{ path: image, interface: "ide", media: "disk", readonly: true }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.now(),
  };
}

/**
 * Boots `image` (exit_loop with COUNT=`count`) in-process and times it.
 * @throws {Error} when the guest does not end with debug-exit status 0 in time
 */
export async function runVmrun(image: string, count: number): Promise<VmrunRun> {
  const timeoutMs = 30_000 + count * 0.2;
  const t0 = performance.now();
  const machine = new Machine(machineConfig(image));
  let snapAt = NaN;
  let snapExits = 0;
  machine.snapshot().then((s) => {
    if (s.runState === "stopped") return;
    snapAt = performance.now();
    snapExits = s.vcpu.exits;
  }, () => {});
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    machine.stop();
  }, timeoutMs);
  const exit = await machine.exited;
  const t1 = performance.now();
  clearTimeout(timer);
  if (timedOut) throw new Error(`vmrun: the COUNT=${count} guest did not exit in ${timeoutMs} ms`);
  if (exit.reason !== "debug-exit" || exit.code !== 0) {
    throw new Error(
      `vmrun: the COUNT=${count} guest ended with ${exit.reason} ${exit.code}${
        exit.detail ? `: ${exit.detail}` : ""
      }`,
    );
  }
  const inRun = Number.isNaN(snapAt) ? null : t1 - snapAt;
  return { wallMs: t1 - t0, inRunMs: inRun, inRunExits: count + 1 - snapExits };
}

/**
 * Runs a command to completion and returns its wall time from spawn to
 * exit, ms, and its stdout.
 * @throws {Error} when it does not exit with status 0
 */
export async function wholeProcess(
  cmd: string,
  args: readonly string[],
): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  const child = spawnPiped(cmd, args);
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  const ms = performance.now() - t0;
  if (!status.success) {
    throw new Error(`${cmd} ${args.join(" ")}: status ${status.code}: ${stderr.trim()}`);
  }
  return { ms, stdout };
}

/** vmrun's arguments for the exit-loop guest, as a user would type them. */
export function exitLoopVmrunArgs(image: string): string[] {
  return ["--headless", "--firmware", "none", "--snapshot", "-m", "16M", "--timeout", "600", image];
}

/** What {@link measureExitLoop} found. */
export interface ExitLoopResult {
  readonly exits: number;
  /** Whole-process wall times of the C binary, ms. */
  readonly wholeC: readonly number[];
  /** Whole-process wall times of vmrun as a user runs it, ms. */
  readonly wholeVmrun: readonly number[];
  readonly reference: readonly ReferenceRun[];
  readonly baselines: readonly VmrunRun[];
  readonly vmrun: readonly VmrunRun[];
  /** Best C reference exits/s. */
  readonly referencePerSecond: number;
  /** Best vmrun exits/s, in-run (snapshot to exit); NaN when no snapshot made it. */
  readonly inRunPerSecond: number;
  /** Best vmrun exits/s from wall time less the fastest baseline. */
  readonly wallPerSecond: number;
}

/**
 * Builds the reference and the guests in a temp dir, then runs both sides
 * `rounds` times, alternating, printing each run.
 */
export async function measureExitLoop(
  exits: number,
  rounds: number,
  log: (line: string) => void = console.log,
): Promise<ExitLoopResult> {
  const dir = await Deno.makeTempDir({ prefix: "vmrun_bench_" });
  try {
    const bin = await buildReference(dir);
    const image = `${dir}/exit_loop_${exits}.img`;
    const baselineImage = `${dir}/exit_loop_1.img`;
    await assemble(`${FIXTURE_SRC}exit_loop.asm`, image, { COUNT: exits });
    await assemble(`${FIXTURE_SRC}exit_loop.asm`, baselineImage, { COUNT: 1 });
    const reference: ReferenceRun[] = [];
    const baselines: VmrunRun[] = [];
    const vmrun: VmrunRun[] = [];
    const wholeC: number[] = [];
    const wholeVmrun: number[] = [];
    const vmrunLine = vmrunCommand(exitLoopVmrunArgs(image));
    const warmLine = vmrunCommand(exitLoopVmrunArgs(baselineImage));
    log(vmrunCommandNote());
    for (let round = 1; round <= rounds; round++) {
      const wc = await wholeProcess(bin, [String(exits)]);
      wholeC.push(wc.ms);
      // The in-process runs compile vmrun's modules under this process's V8 flags, not
      // bin/vmrun's (--optimize-for-size): V8 rejects the code cache Deno keeps for them, and
      // the next vmrun would recompile and rewrite it. A user's runs find it warm; so does
      // the timed run after this untimed one.
      await wholeProcess(warmLine.cmd, warmLine.args);
      const wv = await wholeProcess(vmrunLine.cmd, vmrunLine.args);
      wholeVmrun.push(wv.ms);
      log(
        `round ${round}  whole process  C ${fmt(wc.ms / 1000, 3)} s  vmrun ${
          fmt(wv.ms / 1000, 3)
        } s  (C/vmrun ${fmt(wc.ms / wv.ms, 3)})`,
      );
      const c = await runReference(bin, exits);
      reference.push(c);
      log(
        `round ${round}  C      ${fmt(c.exitsPerSecond).padStart(9)} exits/s  ${
          fmt(1e6 / c.exitsPerSecond, 3)
        } us/exit  (${fmt(c.exits)} exits in ${fmt(c.seconds, 3)} s)`,
      );
      const b = await runVmrun(baselineImage, 1);
      baselines.push(b);
      log(`round ${round}  vmrun  baseline (COUNT=1) ${fmt(b.wallMs, 1)} ms`);
      const v = await runVmrun(image, exits);
      vmrun.push(v);
      const inRun = v.inRunMs === null ? NaN : v.inRunExits / (v.inRunMs / 1000);
      log(
        `round ${round}  vmrun  ${fmt(inRun).padStart(9)} exits/s  ${
          fmt(1e6 / inRun, 3)
        } us/exit  (in-run: ${fmt(v.inRunExits)} exits in ${
          fmt((v.inRunMs ?? NaN) / 1000, 3)
        } s; wall ${fmt(v.wallMs / 1000, 3)} s)`,
      );
    }
    const fastestBaseline = Math.min(...baselines.map((b) => b.wallMs));
    const wallRate = (v: VmrunRun) =>
      (exits + 1 - BASELINE_EXITS) / ((v.wallMs - fastestBaseline) / 1000);
    const inRunRate = (v: VmrunRun) => v.inRunMs === null ? NaN : v.inRunExits / (v.inRunMs / 1000);
    const best = (xs: number[]) => {
      const ok = xs.filter((x) => Number.isFinite(x));
      return ok.length ? Math.max(...ok) : NaN;
    };
    const wallPerSecond = best(vmrun.map(wallRate));
    log(
      `vmrun  wall - fastest baseline (${fmt(fastestBaseline, 1)} ms): ${
        vmrun.map((v) => fmt(wallRate(v))).join(", ")
      } exits/s`,
    );
    return {
      exits,
      wholeC,
      wholeVmrun,
      reference,
      baselines,
      vmrun,
      referencePerSecond: best(reference.map((c) => c.exitsPerSecond)),
      inRunPerSecond: best(vmrun.map(inRunRate)),
      wallPerSecond,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Summary rows for a result: both rates, µs per exit, the ratio and its verdict. */
export function exitLoopRows(r: ExitLoopResult): BenchRow[] {
  const vm = Number.isFinite(r.inRunPerSecond) ? r.inRunPerSecond : r.wallPerSecond;
  const ratio = vm / r.referencePerSecond;
  const bestC = Math.min(...r.wholeC);
  const bestVmrun = Math.min(...r.wholeVmrun);
  const wholeRatio = bestC / bestVmrun;
  const all = (xs: readonly number[]) => xs.map((x) => fmt(x / 1000, 3)).join(", ");
  return [
    { metric: `C whole process, ${fmt(r.exits)} exits, s (all)`, value: all(r.wholeC) },
    { metric: `vmrun whole process, ${fmt(r.exits)} exits, s (all)`, value: all(r.wholeVmrun) },
    {
      metric: "C/vmrun whole process (best)",
      value: fmt(wholeRatio, 3),
      goal: `>= ${GOAL_RATIO}`,
      verdict: wholeRatio >= GOAL_RATIO ? "PASS" : "BELOW",
    },
    { metric: "C reference exits/s (best)", value: fmt(r.referencePerSecond) },
    { metric: "C reference us/exit", value: fmt(1e6 / r.referencePerSecond, 3) },
    { metric: "vmrun exits/s (best, in-run)", value: fmt(r.inRunPerSecond) },
    { metric: "vmrun exits/s (best, wall - baseline)", value: fmt(r.wallPerSecond) },
    { metric: "vmrun us/exit", value: fmt(1e6 / vm, 3) },
    {
      metric: "vmrun/C exits/s in-run",
      value: fmt(ratio, 3),
      goal: `>= ${GOAL_RATIO}`,
      verdict: ratio >= GOAL_RATIO ? "PASS" : "BELOW",
    },
  ];
}

/** The exit-dispatch benchmark, for tests/bench.ts. */
export const exitLoopBenchmark: Benchmark = {
  name: "exit-loop",
  description: "port-I/O exits per second, vmrun against the C reference",
  async run(args) {
    const exits = intFlag(args, "exits", DEFAULT_EXITS);
    const rounds = intFlag(args, "rounds", DEFAULT_ROUNDS);
    const r = await measureExitLoop(exits, rounds);
    return exitLoopRows(r);
  },
};

if (import.meta.main) Deno.exit(await runBenchmarks([exitLoopBenchmark], Deno.args));
