/**
 * The painter between a VGA's frame tracker and a (fake, possibly slow)
 * terminal: a full picture first, then small updates only; frames dropped,
 * not queued, while the terminal is busy, with nothing lost; a new pane
 * redraws everything; the switch back to text takes the picture down. And
 * the whole way from a live guest to a headless xterm's cells.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { DISPI_ENABLE, DISPI_INDEX } from "../devices/vga/dispi.ts";
import { FrameTracker } from "../devices/vga/frame_tracker.ts";
import { programRegisters, TEXT_80X25 } from "../devices/vga/mode_tables.ts";
import { Vga } from "../devices/vga/vga.ts";
import { type PaneGeometry, placeHalfBlocks } from "../tui/graphics/geometry.ts";
import { HalfBlockRenderer } from "../tui/graphics/halfblock.ts";
import { KittyRenderer } from "../tui/graphics/kitty.ts";
import { GraphicsPainter } from "../tui/graphics/painter.ts";
import { scaleImage } from "../tui/graphics/scale.ts";
import xterm from "../deps/xterm.ts";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { kvmTest } from "./kvm_available.ts";

const PANE: PaneGeometry = { x: 1, y: 1, cols: 80, rows: 30, cellWidth: 8, cellHeight: 16 };

function guest() {
  const vga = new Vga({ vramSize: 4 << 20 });
  const d = vga.dispi;
  d.writeRegister(DISPI_INDEX.BPP, 32);
  d.writeRegister(DISPI_INDEX.XRES, 320);
  d.writeRegister(DISPI_INDEX.YRES, 200);
  d.writeRegister(DISPI_INDEX.ENABLE, DISPI_ENABLE.ENABLED);
  const tracker = new FrameTracker(vga);
  const frames = (full: boolean) => {
    if (full) tracker.invalidate();
    return Promise.resolve(tracker.update(null));
  };
  const poke = (x: number, y: number) => vga.vram.set([0xff, 0xff, 0xff, 0], (y * 320 + x) * 4);
  return { vga, frames, poke };
}

Deno.test("the painter draws the frame once, then only changes, each bracketed", async () => {
  const g = guest();
  const written: string[] = [];
  const labels: string[] = [];
  const painter = new GraphicsPainter({
    renderer: new HalfBlockRenderer(),
    frames: g.frames,
    write: (t) => {
      written.push(t);
      return Promise.resolve();
    },
    onFormat: (label) => labels.push(label),
  });
  painter.setPane(PANE);
  await painter.tick();
  deepStrictEqual(labels, ["VBE 320×200 32 bpp"]);
  strictEqual(written.length, 1);
  ok(written[0].startsWith("\x1b7\x1b[?2026h") && written[0].endsWith("\x1b[?2026l\x1b8"));
  await painter.tick();
  strictEqual(written.length, 1, "nothing changed, nothing written");
  g.poke(10, 10);
  await painter.tick();
  strictEqual(written.length, 2);
  ok(written[1].length < 200, `a one-pixel change is ${written[1].length} bytes`);
  deepStrictEqual([painter.stats.frames, painter.stats.fullFrames], [2, 1]);
  painter.setPane({ ...PANE, cols: 60 });
  await painter.tick();
  strictEqual(painter.stats.fullFrames, 2, "a new pane is a full redraw");
  painter.invalidate();
  await painter.tick();
  strictEqual(painter.stats.fullFrames, 3);
});

Deno.test("a slow terminal: ticks are dropped, not queued, and the next frame has every change", async () => {
  const g = guest();
  const written: string[] = [];
  let release = () => {};
  const painter = new GraphicsPainter({
    renderer: new HalfBlockRenderer(),
    frames: g.frames,
    write: (t) => {
      written.push(t);
      return new Promise((resolve) => release = resolve);
    },
  });
  painter.setPane(PANE);
  const first = painter.tick();
  await new Promise((r) => setTimeout(r, 0));
  g.poke(1, 1);
  await painter.tick();
  g.poke(300, 190);
  await painter.tick();
  strictEqual(painter.stats.dropped, 2);
  strictEqual(written.length, 1, "one frame in flight, nothing queued behind it");
  release();
  await first;
  const next = painter.tick();
  await new Promise((r) => setTimeout(r, 0));
  release();
  await next;
  strictEqual(written.length, 2);
  // Both pokes arrive together: 320x200 shrinks to 80x50 half-blocks, 25 rows from row 3.
  const pl = placeHalfBlocks(320, 200, PANE);
  deepStrictEqual([pl.row, pl.rows], [3, 25]);
  // deno-lint-ignore no-control-regex
  const rows = [...written[1].matchAll(/\x1b\[(\d+);\d+H/g)].map((m) => Number(m[1]) - 1);
  deepStrictEqual([...new Set(rows)], [pl.row, pl.row + 23], "the cells of both pokes, only");
});

Deno.test("kitty: a covered pane or text mode takes the image down; graphics again brings it back", async () => {
  const g = guest();
  const written: string[] = [];
  const modes: boolean[] = [];
  const painter = new GraphicsPainter({
    renderer: new KittyRenderer(),
    frames: g.frames,
    write: (t) => {
      written.push(t);
      return Promise.resolve();
    },
    onFormat: (_label, graphics) => modes.push(graphics),
  });
  painter.setPane(PANE);
  await painter.tick();
  ok(written[0].includes("a=T"));
  painter.setPane(null);
  await painter.tick();
  ok(written[1].includes("a=d,d=I,i=1"), "hidden: deleted");
  painter.setPane(PANE);
  await painter.tick();
  ok(written[2].includes("a=T"), "shown again");
  programRegisters(g.vga, TEXT_80X25);
  g.vga.dispi.writeRegister(DISPI_INDEX.ENABLE, 0);
  await painter.tick();
  ok(written[3].includes("a=d,d=I,i=1"), "text mode: deleted");
  strictEqual(painter.graphics, false);
  strictEqual(painter.label, "text");
  deepStrictEqual(modes, [true, false]);
  strictEqual(painter.stop(), "", "nothing left to take down");
});

kvmTest("a live guest in a headless xterm: mode 13h as half-blocks, then text again", async () => {
  const image = Deno.makeTempFileSync({ suffix: ".img" });
  Deno.copyFileSync(fixture("mode13"), image);
  let serial = "";
  const machine = new Machine({
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: image, interface: "ide", media: "disk", readonly: false }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 10, 25, 12),
  }, { serial: (b) => serial += new TextDecoder().decode(b) });
  const term = new xterm.Terminal({ cols: 100, rows: 40, allowProposedApi: true });
  const pane = { x: 2, y: 1, cols: 90, rows: 36, cellWidth: 8, cellHeight: 16 };
  const labels: string[] = [];
  const painter = new GraphicsPainter({
    renderer: new HalfBlockRenderer(),
    frames: (full) => machine.frame(full),
    write: (t) => new Promise((resolve) => term.write(t, resolve)),
    onFormat: (label) => labels.push(label),
  });
  painter.setPane(pane);
  const until = async (f: () => boolean, what: string) => {
    const end = Date.now() + 60_000;
    while (!f()) {
      if (Date.now() > end) throw new Error(`${what} never happened; serial: ${serial}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    painter.start();
    await until(() => serial.includes("mode13 ready"), "mode13 ready");
    await until(() => painter.label === "VGA 320×200 256 colours", "graphics");
    await new Promise((r) => setTimeout(r, 300));
    // The painter's copy is the guest's picture: index (x + 64k), DAC as the fixture loads it.
    const dac8 = (v: number) => (v << 2) | ((v & 1) * 3);
    const at = (
      x: number,
      y: number,
    ) => [...painter.frame.rgba.subarray((y * 320 + x) * 4, (y * 320 + x) * 4 + 3)];
    const i = (37 + 64 * ((150 >> 2) & 3)) & 255;
    deepStrictEqual(at(37, 150), [dac8(i >> 2), dac8((255 - i) >> 2), dac8((i & 15) << 2)]);
    // And the terminal shows it, cell by cell.
    const pl = placeHalfBlocks(320, 200, pane);
    const scaled = scaleImage(painter.frame, pl.width, pl.height);
    const rgb = (x: number, y: number) => {
      const j = (y * pl.width + x) * 4;
      return (scaled.rgba[j] << 16) | (scaled.rgba[j + 1] << 8) | scaled.rgba[j + 2];
    };
    for (const [col, row] of [[0, 0], [17, 5], [pl.cols - 1, pl.rows - 1]]) {
      const cell = term.buffer.active.getLine(pl.row + row)!.getCell(pl.col + col)!;
      deepStrictEqual(
        [cell.getChars(), cell.getFgColor(), cell.getBgColor()],
        ["▀", rgb(col, 2 * row), rgb(col, 2 * row + 1)],
      );
    }
    machine.pressKeys("Enter");
    await until(() => serial.includes("mode13 changed"), "mode13 changed");
    // The change is painted as a partial frame (waited for: under load the painter's next
    // turn may come after the guest has said so).
    await until(() => painter.stats.frames > painter.stats.fullFrames, "a partial frame");
    ok(painter.stats.fullFrames >= 1);
    machine.pressKeys("Enter");
    await until(() => painter.label === "text", "text mode");
    strictEqual(painter.graphics, false);
    ok(labels.includes("VGA 320×200 256 colours") && labels.at(-1) === "text");
  } finally {
    painter.stop();
    await machine.stop();
    Deno.removeSync(image);
  }
});
