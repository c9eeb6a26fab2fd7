/**
 * The disk-read benchmark: how long a SeaBIOS-booted guest takes to read
 * 8 MiB with int 13h extended reads, through IDE and through virtio-blk,
 * vmrun against QEMU measured in the same run on the same host.
 *
 *   deno run -A tests/bench_disk.ts [--rounds 3] [--sectors 16384] [--chunk 127]
 *     [--tsc-mhz 2445.4] [--profile]
 *
 * The guest is fixtures/src/bench_read.asm, assembled into a temp dir with
 * SECTORS=`--sectors` data sectors read CHUNK=`--chunk` sectors per call; it
 * checks the first and last dword of every sector as it goes (a short or
 * misplaced read fails the run) and prints "bench_read start" before the
 * first read and "bench_read done tsc N" after the last. The read time is
 * the time between those two lines arriving on the child's stdout (host
 * clock; the check is inside the window, the same guest instructions on both
 * sides). The guest's TSC cycles over the read, at the host's TSC rate
 * (`--tsc-mhz`, else "cpu MHz" in /proc/cpuinfo when the TSC is constant),
 * are printed beside it as a guest-side cross-check: serial output held back
 * by either side would show as a gap between the two. (The BIOS tick count
 * is no use for this: both sides deliver IRQ 0 ticks missed during the slow,
 * emulated boot late, so it runs ahead of the wall clock.) For each
 * interface the sides run `--rounds` times,
 * alternating (QEMU, vmrun), and the best of each is compared. Goal:
 * vmrun/QEMU <= 1 for each interface.
 *
 * `--profile` then runs vmrun once more per interface in this process and
 * prints where the read window went: exits by kind, exits per sector, time
 * inside KVM_RUN and the busiest ports, from machine snapshots taken at the
 * two markers.
 *
 * @module
 */

import { assemble, FIXTURE_SRC } from "../fixtures/build.ts";
import type { MachineConfig } from "../machine/config.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine, type MachineSnapshot } from "../machine/machine.ts";
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
  QEMU_BIN,
  qemuArgs,
  qemuAvailable,
  qemuGuestStatus,
  runTimed,
  runTimedCommand,
  seconds,
  tail,
  type TimedRun,
  vmrunArgs,
  vmrunCommand,
} from "./bench_qemu.ts";

/** Printed by the guest just before its first read. */
export const START_MARKER = "bench_read start";
/** Printed by the guest after its last read, followed by the hex tick count. */
export const DONE_MARKER = "bench_read done";
/** vmrun's read time must be at most this multiple of QEMU's. */
export const DISK_GOAL_RATIO = 1;
/** The interfaces measured, in order. */
export const INTERFACES = ["ide", "virtio"] as const;
const DEFAULT_SECTORS = 16384;
const DEFAULT_CHUNK = 127;
const DEFAULT_ROUNDS = 3;
const TIMEOUT_S = 120;

/** One read run of either side. */
export interface ReadRun {
  /** Start marker to done marker on the host, ms. */
  readonly readMs: number;
  /** The guest's TSC cycles over the read. */
  readonly tscCycles: number;
  /** Process start to exit, ms. */
  readonly exitMs: number;
}

/** Both sides' runs for one interface. */
export interface InterfaceResult {
  readonly iface: (typeof INTERFACES)[number];
  readonly qemu: readonly ReadRun[];
  readonly vmrun: readonly ReadRun[];
}

/** What {@link measureDisk} found. */
export interface DiskResult {
  readonly bytes: number;
  readonly chunk: number;
  /** The host TSC rate used for guest-side seconds, or null. */
  readonly tscMhz: number | null;
  readonly interfaces: readonly InterfaceResult[];
}

/**
 * The host's TSC rate in MHz: `cpu MHz` from /proc/cpuinfo when the CPU
 * flags say the TSC is constant, else null (guest-side seconds not shown).
 */
export function hostTscMhz(): number | null {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(info);
    const flags = /^flags\s*:(.*)$/m.exec(info)?.[1].split(/\s+/) ?? [];
    return mhz && flags.includes("constant_tsc") ? Number(mhz[1]) : null;
  } catch {
    return null;
  }
}

/** A run's guest TSC cycles as seconds at `tscMhz`, or as cycles when it is unknown. */
export function guestTime(r: ReadRun, tscMhz: number | null): string {
  return tscMhz === null
    ? `${fmt(r.tscCycles)} cycles`
    : `${seconds(r.tscCycles / (tscMhz * 1000))} s`;
}

/**
 * Checks a finished read run and turns it into a {@link ReadRun}.
 * @throws {Error} when a marker is missing, the guest reported a failure or did not exit 0
 */
export function readRun(side: string, r: TimedRun, status: number | null): ReadRun {
  const start = r.markerMs[START_MARKER];
  const done = r.markerMs[DONE_MARKER];
  const tsc = /bench_read done tsc ([0-9a-f]{16})/.exec(r.stdout);
  if (r.timedOut || start === undefined || done === undefined || !tsc || status !== 0) {
    throw new Error(
      `${side}: read run ${r.timedOut ? "timed out" : `ended with status ${r.code}`}; ` +
        `stdout: ${tail(r.stdout)}; stderr: ${tail(r.stderr)}`,
    );
  }
  return { readMs: done - start, tscCycles: parseInt(tsc[1], 16), exitMs: r.exitMs };
}

/**
 * Assembles bench_read with `sectors` data sectors read `chunk` at a time
 * into `out`; with `hold`, the guest waits for a COM1 byte before exiting.
 */
export async function buildReadImage(
  out: string,
  sectors: number,
  chunk: number,
  hold = false,
): Promise<void> {
  if (chunk > 127) throw new Error("--chunk: int 13h extended reads take at most 127 sectors");
  const defines: Record<string, number> = { SECTORS: sectors, CHUNK: chunk };
  if (hold) defines.HOLD = 1;
  await assemble(`${FIXTURE_SRC}bench_read.asm`, out, defines);
}

/**
 * Builds the image in a temp dir and, per interface, runs both sides
 * `rounds` times, alternating, printing each run.
 */
export async function measureDisk(
  rounds: number,
  sectors: number,
  chunk: number,
  tscMhz: number | null = hostTscMhz(),
  log: (line: string) => void = console.log,
): Promise<DiskResult> {
  if (!qemuAvailable()) throw new Error(`${QEMU_BIN} not found (Debian package qemu-system-x86)`);
  const dir = await Deno.makeTempDir({ prefix: "vmrun_bench_disk_" });
  try {
    const image = `${dir}/bench_read.img`;
    await buildReadImage(image, sectors, chunk);
    const opts = {
      markers: [START_MARKER, DONE_MARKER],
      timeoutMs: (TIMEOUT_S + 10) * 1000,
      rss: "none" as const,
    };
    const mibs = sectors * 512 / (1 << 20);
    const interfaces: InterfaceResult[] = [];
    for (const iface of INTERFACES) {
      const drives: BenchDrive[] = [{ path: image, interface: iface }];
      const line = (round: number, side: string, r: ReadRun) =>
        log(
          `${iface.padEnd(6)} round ${round}  ${side.padEnd(5)}  read ${seconds(r.readMs)} s  ${
            fmt(mibs / (r.readMs / 1000), 1)
          } MiB/s  (guest TSC ${guestTime(r, tscMhz)}; exit ${seconds(r.exitMs)} s)`,
        );
      const qemu: ReadRun[] = [];
      const vmrun: ReadRun[] = [];
      for (let round = 1; round <= rounds; round++) {
        const q = await runTimed(QEMU_BIN, qemuArgs(drives), opts);
        qemu.push(readRun(`QEMU ${iface}`, q, qemuGuestStatus(q.code)));
        line(round, "QEMU", qemu[qemu.length - 1]);
        const v = await runTimedCommand(vmrunCommand(vmrunArgs(drives, TIMEOUT_S)), opts);
        vmrun.push(readRun(`vmrun ${iface}`, v, v.code));
        line(round, "vmrun", vmrun[vmrun.length - 1]);
      }
      interfaces.push({ iface, qemu, vmrun });
    }
    return { bytes: sectors * 512, chunk, tscMhz, interfaces };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Summary rows per interface: best and all read times, MiB/s, ratio and verdict. */
export function diskRows(r: DiskResult): BenchRow[] {
  const mibs = r.bytes / (1 << 20);
  const best = (runs: readonly ReadRun[]) => Math.min(...runs.map((x) => x.readMs));
  const describe = (runs: readonly ReadRun[]) => {
    const fastest = runs.reduce((a, b) => b.readMs < a.readMs ? b : a);
    return `${seconds(fastest.readMs)} (${runs.map((x) => seconds(x.readMs)).join(", ")}); ${
      fmt(mibs / (fastest.readMs / 1000), 1)
    } MiB/s; guest TSC ${guestTime(fastest, r.tscMhz)}`;
  };
  const rows: BenchRow[] = [];
  for (const i of r.interfaces) {
    const ratio = best(i.vmrun) / best(i.qemu);
    rows.push(
      { metric: `QEMU ${i.iface} read ${fmt(mibs)} MiB, s best (all)`, value: describe(i.qemu) },
      { metric: `vmrun ${i.iface} read ${fmt(mibs)} MiB, s best (all)`, value: describe(i.vmrun) },
      {
        metric: `vmrun/QEMU ${i.iface} read time`,
        value: fmt(ratio, 3),
        goal: `<= ${DISK_GOAL_RATIO}`,
        verdict: ratio <= DISK_GOAL_RATIO ? "PASS" : "BELOW",
      },
    );
  }
  return rows;
}

/** Where one in-process vmrun read went, from snapshots at the two markers. */
export interface ReadProfile {
  readonly iface: string;
  /** Snapshot at the start marker to snapshot at the done marker, ms. */
  readonly wallMs: number;
  /** Time inside KVM_RUN over the window, ms. */
  readonly guestMs: number;
  readonly exits: number;
  readonly byKind: Record<string, number>;
  /** Top ports at the end less their counts at the start (either top-5 list; approximate). */
  readonly ports: { port: number; exits: number }[];
}

function delta(a: MachineSnapshot, b: MachineSnapshot, iface: string, wallMs: number): ReadProfile {
  const byKind: Record<string, number> = {};
  for (const [k, n] of Object.entries(b.vcpu.byKind)) {
    const d = n - (a.vcpu.byKind[k] ?? 0);
    if (d) byKind[k] = d;
  }
  const before = new Map(a.vcpu.busiestPorts.map((p) => [p.port, p.exits]));
  const ports = b.vcpu.busiestPorts.map((p) => ({
    port: p.port,
    exits: p.exits - (before.get(p.port) ?? 0),
  })).filter((p) => p.exits > 0).sort((x, y) => y.exits - x.exits);
  return {
    iface,
    wallMs,
    guestMs: b.vcpu.guestMs - a.vcpu.guestMs,
    exits: b.vcpu.exits - a.vcpu.exits,
    byKind,
    ports,
  };
}

/**
 * Boots `image` (built with `hold`) in this process on `iface` and snapshots
 * the machine when each marker arrives on COM1, then lets the guest exit.
 * @throws {Error} when the guest does not finish its read with status 0
 */
export async function profileRead(image: string, iface: "ide" | "virtio"): Promise<ReadProfile> {
  let vgaBiosPath: string | null = DEFAULT_VGA_BIOS;
  try {
    Deno.statSync(DEFAULT_VGA_BIOS);
  } catch {
    vgaBiosPath = null;
  }
  const config: MachineConfig = {
    memoryBytes: BENCH_MEMORY_MIB << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath },
    disks: [{ path: image, interface: iface, media: "disk", readonly: false }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.now(),
  };
  let text = "";
  const dec = new TextDecoder();
  type Stamped = [MachineSnapshot, number];
  const snaps: { start?: Promise<Stamped>; done?: Promise<Stamped> } = {};
  const machine: Machine = new Machine(config, {
    serial: (bytes) => {
      text += dec.decode(bytes, { stream: true });
      const at = () => machine.snapshot().then((s): Stamped => [s, performance.now()]);
      if (!snaps.start && text.includes(START_MARKER)) snaps.start = at();
      if (!snaps.done && /done tsc \w+\r?\n/.test(text)) {
        snaps.done = at();
        snaps.done.then(() => machine.sendSerial(new Uint8Array([0x0a])));
      }
    },
  });
  const timer = setTimeout(() => machine.stop(), TIMEOUT_S * 1000);
  const exit = await machine.exited;
  clearTimeout(timer);
  if (exit.reason !== "debug-exit" || exit.code !== 0 || !snaps.start || !snaps.done) {
    throw new Error(`vmrun ${iface} profile: ${exit.reason} ${exit.code}; COM1: ${tail(text)}`);
  }
  const [[a, ta], [b, tb]] = await Promise.all([snaps.start, snaps.done]);
  if (a.runState === "stopped" || b.runState === "stopped") {
    throw new Error(`vmrun ${iface} profile: the guest exited before a snapshot was taken`);
  }
  return delta(a, b, iface, tb - ta);
}

/** Prints a {@link ReadProfile}. */
export function printProfile(p: ReadProfile, sectors: number, log = console.log): void {
  const kinds = Object.entries(p.byKind).sort((x, y) => y[1] - x[1])
    .map(([k, n]) => `${k} ${fmt(n)}`).join(", ");
  const ports = p.ports.map((x) => `0x${x.port.toString(16)} ${fmt(x.exits)}`).join(", ");
  log(
    `profile ${p.iface}: ${seconds(p.wallMs)} s wall, ${seconds(p.guestMs)} s inside KVM_RUN (${
      fmt(100 * p.guestMs / p.wallMs, 1)
    }%), ${fmt(p.exits)} exits = ${fmt(p.exits / sectors, 2)}/sector, ${
      fmt(1000 * (p.wallMs - p.guestMs) / Math.max(1, p.exits), 2)
    } us/exit outside KVM_RUN`,
  );
  log(`profile ${p.iface}: by kind: ${kinds}`);
  log(`profile ${p.iface}: busiest ports (approx.): ${ports || "none above the boot's top 5"}`);
}

/** The disk-read benchmark, for tests/bench.ts. */
export const diskBenchmark: Benchmark = {
  name: "disk",
  description: "int 13h extended reads (8 MiB) via IDE and virtio-blk, vmrun against QEMU",
  async run(args) {
    const sectors = intFlag(args, "sectors", DEFAULT_SECTORS);
    const chunk = intFlag(args, "chunk", DEFAULT_CHUNK);
    const mhz = flagValue(args, "tsc-mhz");
    const tscMhz = mhz === undefined ? hostTscMhz() : Number(mhz);
    if (tscMhz !== null && !(tscMhz > 0)) throw new Error("--tsc-mhz wants a positive number");
    const r = await measureDisk(intFlag(args, "rounds", DEFAULT_ROUNDS), sectors, chunk, tscMhz);
    if (args.includes("--profile")) {
      const dir = await Deno.makeTempDir({ prefix: "vmrun_bench_disk_" });
      try {
        const image = `${dir}/bench_read.img`;
        await buildReadImage(image, sectors, chunk, true);
        for (const iface of INTERFACES) printProfile(await profileRead(image, iface), sectors);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
    return diskRows(r);
  },
};

if (import.meta.main) Deno.exit(await runBenchmarks([diskBenchmark], Deno.args));
