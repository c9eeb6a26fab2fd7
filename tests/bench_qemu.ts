/**
 * Shared pieces for benchmarks that run vmrun and QEMU side by side as child
 * processes: both command lines (same RAM, same disks, the same debug-exit
 * port), a runner that timestamps marker text on the child's stdout (COM1)
 * and measures the child's peak RSS, and the status decoding of each side.
 *
 * Peak RSS comes from GNU time (`/usr/bin/time -v`, Debian package `time`),
 * which reports the waited child's `ru_maxrss`; without it, from polling
 * VmHWM in /proc/<pid>/status every {@link RSS_POLL_MS} ms. CPU time comes
 * from the same source: under a loaded host it is steadier than wall time.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { CLI } from "./vmrun_process.ts";

/** The checkout's root directory. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The user's command (bin/vmrun), when the checkout has it. */
export const LAUNCHER = `${ROOT}bin/vmrun`;
/** The permissions bin/vmrun gives vmrun (no --allow-run). */
export const VMRUN_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  "--allow-net",
];

/**
 * V8 flags vmrun runs with (bin/vmrun and `deno task vmrun` carry the same):
 * --optimize-for-size keeps V8's heaps close to their live size (a COM1
 * flood's RSS stays flat instead of growing ~25 MiB between major GCs) at
 * no measurable cost to the exit loop; --no-short-builtin-calls spares each
 * isolate its own copy of the builtins. $VMRUN_BENCH_V8_FLAGS replaces them
 * (comma-separated) to try others; it applies only without bin/vmrun.
 */
export const VMRUN_V8_FLAGS: readonly string[] = [
  `--v8-flags=${
    Deno.env.get("VMRUN_BENCH_V8_FLAGS") ?? "--optimize-for-size,--no-short-builtin-calls"
  }`,
];

/** The Deno binary package.json pins, as bin/vmrun finds it; else this process's. */
export function pinnedDeno(): string {
  const pinned = `${ROOT}node_modules/deno/deno`;
  return exists(pinned) ? pinned : Deno.execPath();
}

/** A command line: the program and its arguments. */
export interface CommandLine {
  readonly cmd: string;
  readonly args: readonly string[];
}

/**
 * `vmrun args...` the way a user runs it: bin/vmrun when the checkout has
 * it, else the very command bin/vmrun runs (the pinned Deno straight on
 * cli/main.ts: no npx, no `deno task`).
 */
export function vmrunCommand(args: readonly string[]): CommandLine {
  if (exists(LAUNCHER)) return { cmd: LAUNCHER, args };
  return denoAsVmrun(CLI, args);
}

/** The environment bin/vmrun sets for Deno (its malloc arenas), as `env` takes it. */
export const VMRUN_ENV: readonly string[] = [
  `MALLOC_ARENA_MAX=${Deno.env.get("MALLOC_ARENA_MAX") ?? "2"}`,
];

/**
 * `script args...` on the pinned Deno with bin/vmrun's environment, flags,
 * config and permissions (through env(1), which execs Deno: the process
 * measured is Deno's).
 */
export function denoAsVmrun(script: string, args: readonly string[]): CommandLine {
  return {
    cmd: "/usr/bin/env",
    args: [
      ...VMRUN_ENV,
      pinnedDeno(),
      "run",
      "-q",
      "--no-prompt",
      "--config",
      `${ROOT}deno.json`,
      ...VMRUN_V8_FLAGS,
      ...VMRUN_PERMISSIONS,
      script,
      ...args,
    ],
  };
}

/** How {@link vmrunCommand} starts vmrun, for benchmark output. */
export function vmrunCommandNote(): string {
  return exists(LAUNCHER)
    ? `vmrun is ${LAUNCHER}`
    : `vmrun is \`env ${
      VMRUN_ENV.join(" ")
    } ${pinnedDeno()} run -q --no-prompt --config deno.json ${
      [...VMRUN_V8_FLAGS, ...VMRUN_PERMISSIONS].join(" ")
    } cli/main.ts\` (no bin/vmrun in this checkout; the command it runs)`;
}

/** QEMU, from Debian's qemu-system-x86 package. */
export const QEMU_BIN = "/usr/bin/qemu-system-x86_64";
/** GNU time, from Debian's time package. */
export const TIME_BIN = "/usr/bin/time";
/** Interval of the /proc VmHWM fallback, ms. */
export const RSS_POLL_MS = 20;
/** Guest RAM both sides get, MiB (QEMU's `-m 128`). */
export const BENCH_MEMORY_MIB = 128;

/** A disk for either side. */
export interface BenchDrive {
  readonly path: string;
  readonly interface: "ide" | "virtio";
}

/** How peak RSS is measured: GNU time, /proc polling, or not at all. */
export type RssMethod = "time" | "proc" | "none";

/** Whether `path` exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether QEMU is installed. */
export function qemuAvailable(): boolean {
  return exists(QEMU_BIN);
}

/** GNU time when it is installed, /proc polling otherwise. */
export function defaultRssMethod(): RssMethod {
  return exists(TIME_BIN) ? "time" : "proc";
}

/**
 * QEMU's command line for booting `drives` through its SeaBIOS: KVM, no
 * display, COM1 on stdio, isa-debug-exit at 0xf4, every write kept in
 * memory (`snapshot=on`), so the images are never written.
 */
export function qemuArgs(drives: readonly BenchDrive[], memoryMiB = BENCH_MEMORY_MIB): string[] {
  return [
    "-enable-kvm",
    "-m",
    String(memoryMiB),
    "-display",
    "none",
    "-serial",
    "stdio",
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=1",
    ...drives.flatMap((d) => [
      "-drive",
      `file=${d.path},format=raw,if=${d.interface},snapshot=on`,
    ]),
  ];
}

/**
 * vmrun's arguments for the same boot: headless, `--snapshot`, `--timeout`.
 * The first drive is the boot disk. Run them through {@link vmrunCommand}.
 */
export function vmrunArgs(
  drives: readonly BenchDrive[],
  timeoutS: number,
  memoryMiB = BENCH_MEMORY_MIB,
): string[] {
  return [
    "--headless",
    "-m",
    `${memoryMiB}M`,
    "--snapshot",
    "--timeout",
    String(timeoutS),
    ...drives.map((d) => `--disk=${d.path},if=${d.interface}`),
  ];
}

/** The value the guest wrote to isa-debug-exit, from QEMU's status `(v << 1) | 1`; null if even. */
export function qemuGuestStatus(status: number): number | null {
  return status % 2 === 1 ? (status - 1) / 2 : null;
}

/** Options for {@link runTimed}. */
export interface TimedRunOptions {
  /** Texts to timestamp when they first appear on stdout. */
  readonly markers: readonly string[];
  /** Kill the child after this long, ms. */
  readonly timeoutMs: number;
  /** How to measure peak RSS; {@link defaultRssMethod} when absent. */
  readonly rss?: RssMethod;
  /** Called with each marker as it is seen, and ms since spawn. */
  readonly onMarker?: (marker: string, ms: number) => void;
}

/** A finished child run. */
export interface TimedRun {
  /** Exit status (128 + signal when killed). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** ms from just before spawn to the stdout chunk completing each marker seen. */
  readonly markerMs: Readonly<Record<string, number>>;
  /** ms from just before spawn to the exit status. */
  readonly exitMs: number;
  /** Peak resident set size of the child, KiB; null when not measured. */
  readonly peakRssKiB: number | null;
  /**
   * CPU time (user + system, all threads, guest time included) of the child,
   * ms: from GNU time, or the last /proc poll; null when not measured.
   */
  readonly cpuMs: number | null;
  readonly rssMethod: RssMethod;
  /** The child was killed for running past `timeoutMs`. */
  readonly timedOut: boolean;
}

/** Children of `pid` (from /proc/<pid>/task/<pid>/children). */
function childPids(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)
      .filter((s) => s !== "").map(Number);
  } catch {
    return [];
  }
}

/** VmHWM of `pid` in KiB, or null when it is gone. */
export function readVmHwmKiB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** utime + stime of `pid` in ms from /proc/<pid>/stat, or null when it is gone. */
export function readCpuMs(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // fields 14 and 15, at 100 ticks/s
  } catch {
    return null;
  }
}

/** User + system seconds from GNU time's -v report, as ms. */
export function parseTimeCpuMs(report: string): number | null {
  const user = /User time \(seconds\): ([\d.]+)/.exec(report);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(report);
  return user && sys ? Math.round((Number(user[1]) + Number(sys[1])) * 1000) : null;
}

/** "Maximum resident set size (kbytes): N" from GNU time's -v report. */
export function parseTimeMaxRss(report: string): number | null {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  return m ? Number(m[1]) : null;
}

/**
 * Runs `cmd args` with stdin closed, timestamps `markers` on its stdout and
 * measures its peak RSS. Never throws for the child's status: callers judge
 * it. With GNU time, `cmd` runs as time's child; a timeout kills `cmd` (found
 * by pid under time) and then time.
 */
export async function runTimed(
  cmd: string,
  args: readonly string[],
  opts: TimedRunOptions,
): Promise<TimedRun> {
  const rssMethod = opts.rss ?? defaultRssMethod();
  let report: string | null = null;
  let argv = [cmd, ...args];
  if (rssMethod === "time") {
    report = await Deno.makeTempFile({ prefix: "vmrun_bench_time_" });
    argv = [TIME_BIN, "-v", "-o", report, ...argv];
  }
  try {
    const t0 = performance.now();
    const child = spawnPiped(argv[0], argv.slice(1));
    const markerMs: Record<string, number> = {};
    let stdout = "";
    let stderr = "";
    const readOut = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stdout) {
        const now = performance.now() - t0;
        stdout += dec.decode(chunk, { stream: true });
        for (const m of opts.markers) {
          if (markerMs[m] === undefined && stdout.includes(m)) {
            markerMs[m] = now;
            opts.onMarker?.(m, now);
          }
        }
      }
    })();
    const readErr = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stderr) stderr += dec.decode(chunk, { stream: true });
    })();
    let polledKiB: number | null = null;
    let polledCpuMs: number | null = null;
    const poller = rssMethod === "proc"
      ? setInterval(() => {
        const v = readVmHwmKiB(child.pid);
        if (v !== null) polledKiB = Math.max(polledKiB ?? 0, v);
        polledCpuMs = readCpuMs(child.pid) ?? polledCpuMs;
      }, RSS_POLL_MS)
      : undefined;
    let timedOut = false;
    const guard = setTimeout(() => {
      timedOut = true;
      for (const pid of rssMethod === "time" ? childPids(child.pid) : []) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* already gone */ }
      }
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, opts.timeoutMs);
    const status = await child.status;
    const exitMs = performance.now() - t0;
    clearTimeout(guard);
    if (poller !== undefined) clearInterval(poller);
    await Promise.all([readOut, readErr]);
    let peakRssKiB: number | null = null;
    let cpuMs: number | null = null;
    if (rssMethod === "time" && report !== null) {
      const text = await Deno.readTextFile(report);
      peakRssKiB = parseTimeMaxRss(text);
      cpuMs = parseTimeCpuMs(text);
    } else if (rssMethod === "proc") {
      peakRssKiB = polledKiB;
      cpuMs = polledCpuMs;
    }
    const code = status.signal === null ? status.code : 128 + signalNumber(status.signal);
    return { code, stdout, stderr, markerMs, exitMs, peakRssKiB, cpuMs, rssMethod, timedOut };
  } finally {
    if (report !== null) await Deno.remove(report).catch(() => {});
  }
}

/**
 * Spawns `cmd` with stdin an empty pipe (closed at once) and stdout and
 * stderr piped. Benchmarks never use Deno's "null" stdio: it opens
 * /dev/null, which a broken host may have turned into a regular file (then
 * a child reads stale bytes as input, and floods land in a file).
 */
export function spawnPiped(cmd: string, args: readonly string[]): Deno.ChildProcess {
  const child = new Deno.Command(cmd, {
    args: [...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  child.stdin.close().catch(() => {});
  return child;
}

/** Reads a stream to its end, keeping nothing. */
export async function discard(stream: ReadableStream<Uint8Array>): Promise<void> {
  for await (const _ of stream) { /* dropped */ }
}

/** {@link runTimed} for a {@link CommandLine}. */
export function runTimedCommand(line: CommandLine, opts: TimedRunOptions): Promise<TimedRun> {
  return runTimed(line.cmd, line.args, opts);
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGABRT: 6,
    SIGKILL: 9,
    SIGSEGV: 11,
    SIGPIPE: 13,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 0;
}

/** Seconds with three decimals, for run lines. */
export function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** MiB with one decimal from KiB, or "n/a". */
export function mib(kib: number | null): string {
  return kib === null ? "n/a" : (kib / 1024).toFixed(1);
}

/** The last lines of a child's output, for error messages. */
export function tail(text: string, lines = 5): string {
  return text.trim().split("\n").slice(-lines).join(" | ");
}
