/**
 * The console TUI's costs: the time and bytes of a screen-pane frame after
 * the screen model changed (one cell, every cell), the rate at which the
 * screen follows a guest that changes it all the time, and vmrun's CPU use
 * with an idle guest and the console open.
 *
 *   deno run -A tests/bench_tui.ts
 *
 * @module
 */

import { fixture } from "../fixtures/build.ts";
import type { KeyStroke } from "../devices/keymap.ts";
import type { ScreenState } from "../devices/vga/screen.ts";
import type { RunState } from "../machine/control.ts";
import { Machine, type MachineSnapshot } from "../machine/machine.ts";
import { ConsoleController, type MachineLike } from "../tui/console_controller.tsx";
import { boardState, textScreen } from "../tui/testing.ts";
import type { Benchmark, BenchRow } from "./bench_common.ts";
import { PtyVmrun } from "./tui_pty.ts";

/** One measured figure. */
export interface TuiBenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The goal in words, e.g. "< 1". */
  readonly goal?: string;
}

const FRAMES = 300;
const FOLLOW_SECONDS = 3;
const IDLE_SECONDS = 10;

/** A machine that hands out whatever screen it is given. */
class ScreenMachine implements MachineLike {
  runState: RunState = "running";
  screen: ScreenState = textScreen(80, 25);
  uptime = 0;
  pause() {}
  resume() {}
  reset() {}
  powerButton() {}
  sendSerial() {}
  sendKeys(_: readonly KeyStroke[]) {}
  pressKeys() {}
  snapshot(): Promise<MachineSnapshot> {
    return Promise.resolve(this.snap());
  }
  snap(): MachineSnapshot {
    this.uptime += 1;
    return {
      runState: "running",
      devices: { ...boardState(), screen: this.screen },
      vcpu: { exits: 0, byKind: {}, guestMs: 0, uptimeMs: this.uptime, busiestPorts: [] },
      vcpus: [],
    };
  }
}

function median(xs: number[]): number {
  const s = xs.toSorted((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Time and bytes of the frame after each change `mutate` makes, on a 132x43 truecolor terminal. */
async function frameCost(
  mutate: (s: ScreenState, i: number) => ScreenState,
): Promise<{ ms: number; bytes: number }> {
  const m = new ScreenMachine();
  const c = new ConsoleController({
    machine: m,
    image: "bench.img",
    cpus: 1,
    memoryBytes: 256 << 20,
    depth: "truecolor",
    size: () => ({ cols: 132, rows: 43 }),
    write: () => Promise.resolve(),
    quit: () => {},
  });
  c.applySnapshot(m.snap());
  c.renderFrame();
  const times: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < FRAMES; i++) {
    m.screen = mutate(m.screen, i);
    c.applySnapshot(m.snap());
    const t0 = performance.now();
    const out = c.renderFrame();
    times.push(performance.now() - t0);
    bytes.push(new TextEncoder().encode(out).length);
  }
  await new Promise((r) => setTimeout(r, 0));
  c.stop();
  return { ms: median(times), bytes: median(bytes) };
}

function oneCell(s: ScreenState, i: number): ScreenState {
  const cells = s.cells.slice();
  cells[(i * 7) % cells.length] = (0x41 + (i % 26)) | (0x1e << 8);
  return { ...s, cells };
}

function everyCell(s: ScreenState, i: number): ScreenState {
  return { ...s, cells: s.cells.map((_, j) => (0x21 + ((i + j) % 90)) | (((i + j) % 127) << 8)) };
}

/** Assembles a boot sector that rewrites the first text cell at full speed, after SeaBIOS. */
async function busyScreenImage(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "vmrun-bench-tui-" });
  const src = `${dir}/busy.asm`;
  await Deno.writeTextFile(
    src,
    `bits 16
org 0x7c00
    mov ax, 0xb800
    mov es, ax
.loop:
    inc word [es:0]
    jmp .loop
times 510 - ($ - $$) db 0
dw 0xaa55
times 1024 * 1024 - ($ - $$) db 0
`,
  );
  const out = `${dir}/busy.img`;
  const r = await new Deno.Command("nasm", { args: ["-f", "bin", "-o", out, src] }).output();
  if (!r.success) throw new Error(`nasm: ${new TextDecoder().decode(r.stderr)}`);
  return out;
}

/** Frames per second the console draws while the guest changes its screen all the time. */
async function followRate(): Promise<number> {
  const image = await busyScreenImage();
  const { parseCommandLine } = await import("../cli/program.ts");
  const req = parseCommandLine([image], { out: () => {}, err: () => {}, hostMemory: 8 * 2 ** 30 });
  const machine = new Machine(req.config, {});
  // SeaBIOS boots first (slower on a loaded host): wait until the loop turns
  // the banner's first cell ('S', 0x0753) into ever new values.
  const banner = new Set([undefined, 0x0720, 0x0753, 0x0000]);
  let prev: number | undefined;
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const cell = (await machine.snapshot()).devices?.screen.cells[0];
    if (!banner.has(prev) && !banner.has(cell) && cell !== prev) break;
    prev = cell;
  }
  const c = new ConsoleController({
    machine,
    image: "busy.img",
    cpus: 1,
    memoryBytes: req.config.memoryBytes,
    depth: "truecolor",
    size: () => ({ cols: 132, rows: 43 }),
    write: () => Promise.resolve(),
    quit: () => {},
  });
  c.start();
  await new Promise((r) => setTimeout(r, 1000));
  const f0 = c.frames;
  await new Promise((r) => setTimeout(r, FOLLOW_SECONDS * 1000));
  const fps = (c.frames - f0) / FOLLOW_SECONDS;
  c.stop();
  await machine.stop();
  await Deno.remove(image.slice(0, image.lastIndexOf("/")), { recursive: true });
  return fps;
}

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

/** vmrun's CPU use, in % of one core, with keys.img waiting for a key. */
async function idleCpu(args: string[]): Promise<number> {
  const p = new PtyVmrun([...args, fixture("keys")], { killAfterMs: 120_000 });
  try {
    await p.waitFor("the guest waiting for a key", () => p.output.includes("keys?"));
    await new Promise((r) => setTimeout(r, 2000));
    const t0 = performance.now();
    const c0 = cpuTicks(p.pid);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const used = (cpuTicks(p.pid) - c0) * 10;
    return (used / (performance.now() - t0)) * 100;
  } finally {
    p.kill("SIGTERM");
    await p.exited;
    p.dispose();
  }
}

/** Runs every measurement. */
export async function benchTui(): Promise<TuiBenchRow[]> {
  const one = await frameCost(oneCell);
  const all = await frameCost(everyCell);
  const fps = await followRate();
  const idle = await idleCpu([]);
  const idleHeadless = await idleCpu(["--headless"]);
  return [
    { name: "screen frame, one cell changed: time", value: one.ms, unit: "ms", goal: "< 1" },
    {
      name: "screen frame, one cell changed: output",
      value: one.bytes,
      unit: "bytes",
      goal: "< 100",
    },
    { name: "screen frame, 80x25 all changed: time", value: all.ms, unit: "ms" },
    { name: "screen frame, 80x25 all changed: output", value: all.bytes, unit: "bytes" },
    { name: "screen follows a busy guest", value: fps, unit: "frames/s", goal: ">= 30" },
    { name: "idle guest, console open: vmrun CPU", value: idle, unit: "% of a core", goal: "< 3" },
    {
      name: "idle guest, headless: vmrun CPU (reference)",
      value: idleHeadless,
      unit: "% of a core",
    },
  ];
}

function met(value: number, goal: string): boolean {
  const [op, n] = goal.split(" ");
  const target = Number(n);
  return op === "<" ? value < target : op === ">=" ? value >= target : true;
}

/** The same figures as a {@link Benchmark} for `deno task bench`. */
export const tuiBenchmark: Benchmark = {
  name: "tui",
  description: "console frame cost, screen follow rate and idle CPU",
  async run(): Promise<BenchRow[]> {
    return (await benchTui()).map((r) => ({
      metric: `${r.name} (${r.unit})`,
      value: r.value.toFixed(r.value < 10 ? 2 : 0),
      ...(r.goal ? { goal: r.goal, verdict: met(r.value, r.goal) ? "PASS" : "BELOW" } : {}),
    }));
  },
};

if (import.meta.main) {
  for (const r of await benchTui()) {
    const v = r.value.toFixed(r.value < 10 ? 3 : 1);
    console.log(
      `${r.name.padEnd(48)} ${v.padStart(9)} ${r.unit}${r.goal ? `  (goal ${r.goal})` : ""}`,
    );
  }
}
