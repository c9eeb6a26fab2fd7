/**
 * The Cirrus CL-GD5446 (`--vga cirrus`) beside QEMU's `-vga cirrus` with
 * KVM, on fixtures/src/cirrus_bench.asm in VBE mode 0x105 (1024x768, 8 bpp):
 * 200 BitBLT solid fills of the whole screen, each started through GR31
 * and polled until done, then 20 full-screen redraws through the 0xA0000
 * window, 12 banks of 64 KiB switched with GR09 (how a VBE program without
 * the linear framebuffer draws). Times are the host's, between the
 * fixture's COM1 markers; the ratios are QEMU's time over vmrun's (above 1:
 * vmrun is faster).
 *
 * @module
 */

import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { VGA_MODEL_INFO } from "../machine/vga_models.ts";
import { type Benchmark, type BenchRow, fmt, intFlag } from "./bench_common.ts";
import { QemuProcess } from "./qemu.ts";

const FILLS = 200;
const REDRAWS = 20;
const SCREEN_BYTES = 1024 * 768;
const MARKERS = ["fill start", "fill end", "redraw start", "redraw end"] as const;

interface Times {
  readonly fillMs: number;
  readonly redrawMs: number;
}

function times(at: readonly number[]): Times {
  return { fillMs: at[1] - at[0], redrawMs: at[3] - at[2] };
}

/** One vmrun run: the host time of each marker as COM1 delivers it. */
async function vmrunRound(): Promise<Times> {
  const at: number[] = [];
  let text = "";
  const dec = new TextDecoder();
  const machine = new Machine({
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: VGA_MODEL_INFO.cirrus.bios },
    disks: [{ path: fixture("cirrus_bench"), interface: "ide", media: "disk", readonly: true }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.now(),
    vga: "cirrus",
  }, {
    serial: (b) => {
      const now = performance.now();
      text += dec.decode(b);
      while (at.length < MARKERS.length && text.includes(MARKERS[at.length])) at.push(now);
    },
  });
  try {
    const exit = await Promise.race([
      machine.exited,
      new Promise<null>((r) => setTimeout(() => r(null), 180_000)),
    ]);
    if (exit?.code !== 0x24 || at.length < MARKERS.length) {
      throw new Error(`vmrun: ${JSON.stringify(exit)}, COM1: ${text}`);
    }
    return times(at);
  } finally {
    await machine.stop();
  }
}

/** One QEMU run, timed the same way from its stdout. */
async function qemuRound(): Promise<Times> {
  const q = new QemuProcess(fixture("cirrus_bench"), {
    extraArgs: ["-vga", "cirrus"],
    killAfterMs: 180_000,
  });
  try {
    const at: number[] = [];
    for (const m of MARKERS) {
      await q.waitForStdout(m, 120_000);
      at.push(performance.now());
    }
    const done = await q.finished();
    if (done.debugExit !== 0x24) throw new Error(`QEMU: ${JSON.stringify(done)}`);
    return times(at);
  } finally {
    q.kill();
    await q.finished();
  }
}

const best = (xs: number[]) => Math.min(...xs);

/** The Cirrus benchmark. */
export const cirrusBenchmark: Benchmark = {
  name: "cirrus",
  description: `Cirrus BitBLT fills and banked VBE redraws at 1024x768x8 vs QEMU -vga cirrus`,
  async run(args): Promise<BenchRow[]> {
    const rounds = intFlag(args, "rounds", 2);
    const v: Times[] = [];
    const q: Times[] = [];
    for (let i = 0; i < rounds; i++) {
      v.push(await vmrunRound());
      q.push(await qemuRound());
      console.log(
        `round ${i + 1}: vmrun fills ${fmt(v[i].fillMs, 1)} ms, redraws ${fmt(v[i].redrawMs)} ms` +
          ` | QEMU fills ${fmt(q[i].fillMs, 1)} ms, redraws ${fmt(q[i].redrawMs)} ms`,
      );
    }
    const [vf, qf] = [best(v.map((t) => t.fillMs)), best(q.map((t) => t.fillMs))];
    const [vr, qr] = [best(v.map((t) => t.redrawMs)), best(q.map((t) => t.redrawMs))];
    const perFill = (ms: number) => `${fmt((ms * 1000) / FILLS)} us`;
    const rate = (ms: number) =>
      `${fmt((REDRAWS * SCREEN_BYTES) / 2 ** 20 / (ms / 1000), 1)} MiB/s`;
    return [
      { metric: "vmrun BitBLT fill 1024x768 (per fill)", value: perFill(vf) },
      { metric: "QEMU BitBLT fill 1024x768 (per fill)", value: perFill(qf) },
      { metric: "fill QEMU/vmrun", value: fmt(qf / vf, 2) },
      { metric: "vmrun banked VBE redraw", value: `${fmt(vr / REDRAWS, 1)} ms (${rate(vr)})` },
      { metric: "QEMU banked VBE redraw", value: `${fmt(qr / REDRAWS, 1)} ms (${rate(qr)})` },
      { metric: "redraw QEMU/vmrun", value: fmt(qr / vr, 2) },
    ];
  },
};
