/**
 * The serial flood benchmark: a guest that writes COM1 as fast as it can,
 * vmrun headless with its stdout read and dropped as fast as it comes (a
 * pipe, not /dev/null: see {@link spawnPiped}), and vmrun's resident memory
 * sampled from /proc as the flood goes on. Memory must stay flat: the serial
 * log is a bounded ring and nothing else may keep the output.
 *
 *   deno run -A tests/bench_flood.ts [--seconds 30]
 *
 * Reports RSS once the run has settled, at the end, the peak, and the
 * growth in between: memory is flat when the growth stays within V8's
 * collection slack.
 *
 * @module
 */

import { assemble } from "../fixtures/build.ts";
import { type Benchmark, type BenchRow, fmt, intFlag, runBenchmarks } from "./bench_common.ts";
import {
  discard,
  mib,
  readVmHwmKiB,
  spawnPiped,
  vmrunCommand,
  vmrunCommandNote,
} from "./bench_qemu.ts";

const DEFAULT_SECONDS = 60;
const POLL_MS = 250;
/**
 * RSS after this long is the flat line's start: start-up is over. The
 * serial log's ring (1 MiB of bytes, 1 to 2 Mi characters of text) is still
 * filling then at this host's exit rate (a byte per port write, ~60 KB/s:
 * the bytes fill in ~17 s, the text is first trimmed after ~35 s), so the
 * growth figure includes that bounded fill: it errs on the strict side.
 */
const SETTLE_MS = 10_000;
/** Growth from the settled RSS to the end beyond this much is reported as BELOW goal. */
export const FLOOD_GROWTH_GOAL_MIB = 8;

/** The flood guest: no firmware, `rep outsb` of a 64-byte line to COM1, forever. */
export const FLOOD_ASM = `bits 16
org 0x7c00
    cli
    xor ax, ax
    mov ds, ax
    cld
    mov dx, 0x3f8
.again:
    mov si, line
    mov cx, 64
    rep outsb
    jmp .again
line: times 63 db 'x'
    db 10
times 510 - ($ - $$) db 0
dw 0xaa55
`;

/** VmRSS of `pid` in KiB, or null when it is gone. */
export function readVmRssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** What {@link measureFlood} found, KiB. */
export interface FloodResult {
  readonly seconds: number;
  readonly settledKiB: number;
  readonly endKiB: number;
  readonly peakKiB: number;
}

/** Floods for `seconds` and samples vmrun's RSS. */
export async function measureFlood(
  seconds: number,
  log: (line: string) => void = console.log,
): Promise<FloodResult> {
  const dir = await Deno.makeTempDir({ prefix: "vmrun_bench_flood_" });
  try {
    const src = `${dir}/flood.asm`;
    const image = `${dir}/flood.img`;
    await Deno.writeTextFile(src, FLOOD_ASM);
    await assemble(src, image);
    const line = vmrunCommand([
      "--headless",
      "--firmware",
      "none",
      "--snapshot",
      "-m",
      "16M",
      "--timeout",
      String(seconds),
      image,
    ]);
    log(vmrunCommandNote());
    const child = spawnPiped(line.cmd, line.args);
    const drained = Promise.all([discard(child.stdout), discard(child.stderr)]);
    const t0 = performance.now();
    let settled = NaN;
    let last = NaN;
    let lastLogged = 0;
    const poll = setInterval(() => {
      const kib = readVmRssKiB(child.pid);
      if (kib === null) return;
      const t = performance.now() - t0;
      last = kib;
      if (Number.isNaN(settled) && t >= SETTLE_MS) settled = kib;
      if (t - lastLogged >= 5000) {
        lastLogged = t;
        log(`${fmt(t / 1000, 1).padStart(5)} s  RSS ${mib(kib)} MiB`);
      }
    }, POLL_MS);
    const peak = readVmHwmKiB(child.pid);
    let peakKiB = peak ?? 0;
    const hwm = setInterval(() => {
      peakKiB = Math.max(peakKiB, readVmHwmKiB(child.pid) ?? 0);
    }, POLL_MS);
    const status = await child.status;
    await drained;
    clearInterval(poll);
    clearInterval(hwm);
    // --timeout ends a flood that never exits: status 124.
    if (status.code !== 124) throw new Error(`vmrun ended with status ${status.code}, not 124`);
    if (Number.isNaN(settled)) throw new Error("the run ended before RSS settled");
    return { seconds, settledKiB: settled, endKiB: last, peakKiB };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Summary rows. */
export function floodRows(r: FloodResult): BenchRow[] {
  const growth = (r.endKiB - r.settledKiB) / 1024;
  return [
    { metric: `RSS after ${SETTLE_MS / 1000} s of flood, MiB`, value: mib(r.settledKiB) },
    { metric: `RSS after ${r.seconds} s, MiB`, value: mib(r.endKiB) },
    { metric: "peak RSS, MiB", value: mib(r.peakKiB) },
    {
      metric: `growth from ${SETTLE_MS / 1000} s to ${r.seconds} s, MiB`,
      value: fmt(growth, 1),
      goal: `<= ${FLOOD_GROWTH_GOAL_MIB}`,
      verdict: growth <= FLOOD_GROWTH_GOAL_MIB ? "PASS" : "BELOW",
    },
  ];
}

/** The serial flood benchmark, for tests/bench.ts. */
export const floodBenchmark: Benchmark = {
  name: "flood",
  description: "vmrun's RSS while a guest floods COM1 to a pipe that drops it",
  async run(args) {
    return floodRows(await measureFlood(intFlag(args, "seconds", DEFAULT_SECONDS)));
  },
};

if (import.meta.main) Deno.exit(await runBenchmarks([floodBenchmark], Deno.args));
