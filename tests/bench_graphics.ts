/**
 * Graphics benchmark: what it costs to show a guest's frame in the
 * terminal, and how fast the console follows a guest that keeps drawing.
 *
 *   deno run -A tests/bench_graphics.ts [--runs 7] [--seconds 3]
 *
 * - Encoders, per renderer at 640×480 and 1024×768 of a desktop-like
 *   screen (windows, text-like glyphs, a photo-like gradient: more than
 *   256 colours), and 640×480 of the vbe_modes fixture's pattern (a worst
 *   case: about 256 colours in every sixel band): encode time (median of
 *   --runs after warm-up) and bytes for the full frame and for a 16×16
 *   change. Sixel is drawn at about 1:1 on 10×20 cells, kitty at the
 *   guest's size (the terminal scales), half-blocks in a 160×50 pane.
 * - The guest side: the frame tracker's full and small updates, and the
 *   scalers (the renderers' own, and sharp's) for 640×480 → 1280×960.
 * - Live: fixtures/src/vbe_anim.asm moves a square at 640×480×32 forever;
 *   the painter follows it for --seconds per renderer into a terminal that
 *   takes everything at once: frames a second, frames dropped, bytes.
 *
 * Goals (desktop content): a full 640×480 sixel frame under 30 ms;
 * half-block frames under 5 ms; a 16×16 change under 5% of the full
 * frame's bytes; the live guest followed at 25 frames a second or more.
 *
 * @module
 */

import { DISPI_ENABLE, DISPI_INDEX } from "../devices/vga/dispi.ts";
import { FrameTracker } from "../devices/vga/frame_tracker.ts";
import { markBytes, pageBitmap } from "../devices/vga/page_bitmap.ts";
import { Vga } from "../devices/vga/vga.ts";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import type { PaneGeometry } from "../tui/graphics/geometry.ts";
import { HalfBlockRenderer } from "../tui/graphics/halfblock.ts";
import { KittyRenderer } from "../tui/graphics/kitty.ts";
import { GraphicsPainter } from "../tui/graphics/painter.ts";
import type { GraphicsRenderer } from "../tui/graphics/renderer.ts";
import { type RgbaImage, scaleImage, scaleWithSharp } from "../tui/graphics/scale.ts";
import { SixelRenderer } from "../tui/graphics/sixel.ts";
import { type Benchmark, type BenchRow, fmt, intFlag, runBenchmarks } from "./bench_common.ts";

/** The vbe_modes fixture's pattern at 32 bpp. */
function pattern(width: number, height: number): RgbaImage {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0, at = 0; y < height; y++) {
    const k = (y >> 2) & 3;
    for (let x = 0; x < width; x++, at += 4) {
      rgba[at] = (x + 64 * k) & 255;
      rgba[at + 1] = (3 * x + 32 * k) & 255;
      rgba[at + 2] = (7 * x + 96 * k) & 255;
      rgba[at + 3] = 255;
    }
  }
  return { width, height, rgba };
}

/**
 * A desktop-like screen: a plain background, three windows with title bars
 * and text-like glyphs, and a photo-like gradient (so more than 256 colours).
 */
function desktop(width: number, height: number): RgbaImage {
  const rgba = new Uint8Array(width * height * 4);
  const px = new Uint32Array(rgba.buffer);
  const word = (r: number, g: number, b: number) => (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
  px.fill(word(0, 128, 128));
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const rect = (x0: number, y0: number, w: number, h: number, c: number) => {
    for (let y = y0; y < Math.min(height, y0 + h); y++) {
      px.fill(c, y * width + x0, y * width + Math.min(width, x0 + w));
    }
  };
  for (
    const [fx, fy, fw, fh] of [[0.05, 0.06, 0.5, 0.55], [0.45, 0.3, 0.5, 0.6], [
      0.1,
      0.65,
      0.3,
      0.3,
    ]]
  ) {
    const [x0, y0, w, h] = [fx * width, fy * height, fw * width, fh * height].map(Math.floor);
    rect(x0, y0, w, h, word(192, 192, 192));
    rect(x0, y0, w, 18, word(0, 0, 128));
    for (let ty = y0 + 24; ty + 16 < Math.min(height, y0 + h); ty += 16) {
      for (let tx = x0 + 6; tx + 8 < Math.min(width, x0 + w - 6); tx += 8) {
        if (rand() < 0.15) continue;
        for (let gy = 2; gy < 14; gy++) {
          for (let gx = 1; gx < 7; gx++) {
            if (rand() < 0.35) px[(ty + gy) * width + tx + gx] = word(0, 0, 0);
          }
        }
      }
    }
  }
  const [x0, y0, w, h] = [width * 0.6, height * 0.05, width * 0.3, height * 0.2].map(Math.floor);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      px[(y0 + y) * width + x0 + x] = word(
        (x * 255) / w,
        (y * 255) / h,
        128 + 64 * Math.sin(x / 7),
      );
    }
  }
  return { width, height, rgba };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of `runs` calls of `f` after warm-up calls; and f's last result. */
async function timed<T>(runs: number, f: () => T | Promise<T>): Promise<{ ms: number; out: T }> {
  let out = await f();
  for (let i = 0; i < 4; i++) out = await f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    out = await f();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), out };
}

function row(metric: string, value: string, goal?: string, met?: boolean): BenchRow {
  return goal === undefined ? { metric, value } : {
    metric,
    value,
    goal,
    verdict: met ? "PASS" : "BELOW",
  };
}

/** The pane each renderer is measured in, for a `width`-pixel-wide frame. */
function paneFor(kind: string, width: number, height: number): PaneGeometry {
  if (kind === "blocks") return { x: 0, y: 1, cols: 160, rows: 50, cellWidth: 8, cellHeight: 16 };
  return {
    x: 0,
    y: 1,
    cols: Math.ceil(width / 10),
    rows: Math.ceil(height / 20),
    cellWidth: 10,
    cellHeight: 20,
  };
}

async function encoderRows(runs: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const makers: [string, () => GraphicsRenderer][] = [
    ["sixel", () => new SixelRenderer()],
    ["kitty", () => new KittyRenderer()],
    ["blocks", () => new HalfBlockRenderer("truecolor")],
  ];
  for (
    const [w, h, content] of [[640, 480, "desktop"], [1024, 768, "desktop"], [
      640,
      480,
      "pattern",
    ]] as const
  ) {
    const frame = content === "desktop" ? desktop(w, h) : pattern(w, h);
    for (const [kind, make] of makers) {
      const pane = paneFor(kind, w, h);
      const full = await timed(runs, () => make().full(frame, pane));
      const r = make();
      r.full(frame, pane);
      let n = 0;
      const change = await timed(runs, () => {
        // A different 16x16 change every time, so nothing is skipped as unchanged.
        n++;
        for (let y = 100; y < 116; y++) {
          for (let x = 200; x < 216; x++) {
            frame.rgba.set([n & 255, 255 - (n & 255), 0], (y * w + x) * 4);
          }
        }
        return r.update(frame, pane, [{ x: 200, y: 100, width: 16, height: 16 }]);
      });
      const size = `${w}x${h} ${content}`;
      const fullGoal = content === "pattern"
        ? null
        : kind === "sixel" && w === 640
        ? ["< 30 ms", full.ms < 30] as const
        : kind === "blocks"
        ? ["< 5 ms", full.ms < 5] as const
        : null;
      rows.push(
        fullGoal
          ? row(`${kind} ${size} full frame`, `${fmt(full.ms, 2)} ms`, fullGoal[0], fullGoal[1])
          : row(`${kind} ${size} full frame`, `${fmt(full.ms, 2)} ms`),
      );
      rows.push(row(`${kind} ${size} full frame bytes`, fmt(full.out.length)));
      rows.push(row(`${kind} ${size} 16x16 change`, `${fmt(change.ms, 3)} ms`));
      const share = change.out.length / full.out.length;
      rows.push(
        row(
          `${kind} ${size} 16x16 change bytes`,
          `${fmt(change.out.length)} (${fmt(share * 100, 2)}% of full)`,
          "< 5% of full",
          share < 0.05,
        ),
      );
      for (const r of rows.slice(-4)) console.log(`  ${r.metric}: ${r.value}`);
    }
  }
  return rows;
}

async function guestSideRows(runs: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const [w, h] of [[640, 480], [1024, 768]]) {
    const vga = new Vga({ vramSize: 16 << 20 });
    const d = vga.dispi;
    d.writeRegister(DISPI_INDEX.BPP, 32);
    d.writeRegister(DISPI_INDEX.XRES, w);
    d.writeRegister(DISPI_INDEX.YRES, h);
    d.writeRegister(DISPI_INDEX.ENABLE, DISPI_ENABLE.ENABLED);
    vga.vram.set(pattern(w, h).rgba);
    const t = new FrameTracker(vga);
    const full = await timed(runs, () => {
      t.invalidate();
      return t.update(null);
    });
    let n = 0;
    const small = await timed(runs, () => {
      const log = pageBitmap(vga.vram.length);
      n++;
      for (let y = 100; y < 116; y++) {
        const at = (y * w + 200) * 4;
        vga.vram.fill(n & 255, at, at + 64);
        markBytes(log, vga.vram.length / 4096, at, at + 64);
      }
      return t.update(log);
    });
    rows.push(row(`tracker ${w}x${h}x32 full frame`, `${fmt(full.ms, 2)} ms`));
    rows.push(row(`tracker ${w}x${h}x32 16x16 change (dirty log)`, `${fmt(small.ms, 3)} ms`));
  }
  const src = pattern(640, 480);
  const js = await timed(runs, () => scaleImage(src, 1280, 960));
  const sh = await timed(runs, () => scaleWithSharp(src, 1280, 960));
  rows.push(row("scale 640x480 -> 1280x960, renderers' scaler", `${fmt(js.ms, 2)} ms`));
  rows.push(row("scale 640x480 -> 1280x960, sharp", `${fmt(sh.ms, 2)} ms`));
  for (const r of rows) console.log(`  ${r.metric}: ${r.value}`);
  return rows;
}

async function liveRows(seconds: number): Promise<BenchRow[]> {
  const image = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.copyFileSync(fixture("vbe_anim"), image);
  let serial = "";
  const machine = new Machine({
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: image, interface: "ide", media: "disk", readonly: false }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.now(),
  }, { serial: (b) => serial += new TextDecoder().decode(b) });
  const rows: BenchRow[] = [];
  try {
    const end = Date.now() + 60_000;
    while (!serial.includes("anim ready")) {
      if (Date.now() > end) throw new Error(`vbe_anim never got ready: ${serial}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const renderer of [new SixelRenderer(), new KittyRenderer(), new HalfBlockRenderer()]) {
      const painter = new GraphicsPainter({
        renderer,
        frames: (full) => machine.frame(full),
        // A terminal that takes everything at once (one event-loop turn).
        write: () => new Promise((r) => setTimeout(r, 0)),
      });
      painter.setPane(paneFor(renderer.kind, 640, 480));
      painter.start();
      await new Promise((r) => setTimeout(r, 1000));
      const before = { ...painter.stats };
      await new Promise((r) => setTimeout(r, seconds * 1000));
      painter.stop();
      const frames = painter.stats.frames - before.frames;
      const fps = frames / seconds;
      const bytes = (painter.stats.bytes - before.bytes) / Math.max(1, frames);
      rows.push(
        row(`live ${renderer.kind}: frames followed`, `${fmt(fps, 1)}/s`, ">= 25/s", fps >= 25),
      );
      rows.push(row(`live ${renderer.kind}: bytes a frame`, fmt(bytes)));
      rows.push(
        row(`live ${renderer.kind}: ticks dropped`, fmt(painter.stats.dropped - before.dropped)),
      );
      for (const r of rows.slice(-3)) console.log(`  ${r.metric}: ${r.value}`);
    }
  } finally {
    await machine.stop();
    Deno.removeSync(image);
  }
  return rows;
}

/** The graphics benchmark for tests/bench.ts. */
export const graphicsBenchmark: Benchmark = {
  name: "graphics",
  description: "encode time and bytes per frame for sixel, kitty and half-blocks; live frame rate",
  async run(args) {
    const runs = intFlag(args, "runs", 7);
    const seconds = intFlag(args, "seconds", 3);
    return [
      ...await encoderRows(runs),
      ...await guestSideRows(runs),
      ...await liveRows(seconds),
    ];
  },
};

if (import.meta.main) Deno.exit(await runBenchmarks([graphicsBenchmark], Deno.args));
