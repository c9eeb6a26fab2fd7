import { deepStrictEqual, strictEqual } from "node:assert";
import { DISPI_ENABLE, DISPI_INDEX } from "./dispi.ts";
import { FrameTracker, type FrameUpdate } from "./frame_tracker.ts";
import { MODE_13H } from "./graphics_mode_tables.ts";
import { programRegisters, TEXT_80X25 } from "./mode_tables.ts";
import { markBytes, pageBitmap } from "./page_bitmap.ts";
import { Vga } from "./vga.ts";

const MiB = 1024 * 1024;

function vbe32(vga: Vga, width: number, height: number): void {
  const d = vga.dispi;
  d.writeRegister(DISPI_INDEX.BPP, 32);
  d.writeRegister(DISPI_INDEX.XRES, width);
  d.writeRegister(DISPI_INDEX.YRES, height);
  d.writeRegister(DISPI_INDEX.ENABLE, DISPI_ENABLE.ENABLED | DISPI_ENABLE.LFB_ENABLED);
}

const boxes = (u: FrameUpdate) => u.rects.map((r) => [r.x, r.y, r.width, r.height]);

/** Guest writes through the linear framebuffer, with the dirty bitmap KVM would report. */
function guestWrite(vga: Vga, at: number, bytes: number[]): Uint8Array {
  vga.vram.set(bytes, at);
  const log = pageBitmap(vga.vram.length);
  markBytes(log, vga.vram.length / 4096, at, at + bytes.length);
  return log;
}

Deno.test("the first update is the whole frame; then only what changed, as tight rects", () => {
  const vga = new Vga({ vramSize: 4 * MiB });
  vbe32(vga, 640, 480);
  const t = new FrameTracker(vga);
  const first = t.update(null);
  strictEqual(first.full, true);
  strictEqual(first.label, "VBE 640×480 32 bpp");
  deepStrictEqual(boxes(first), [[0, 0, 640, 480]]);
  strictEqual(first.rects[0].rgba.length, 640 * 480 * 4);
  deepStrictEqual(boxes(t.update(pageBitmap(vga.vram.length))), []);
  // One pixel at (100, 7) and one at (103, 9): one rect around both.
  const log = guestWrite(vga, (7 * 640 + 100) * 4, [1, 2, 3, 0]);
  const more = guestWrite(vga, (9 * 640 + 103) * 4, [9, 9, 9, 0]);
  for (let i = 0; i < log.length; i++) log[i] |= more[i];
  const u = t.update(log);
  strictEqual(u.full, false);
  deepStrictEqual(boxes(u), [[100, 7, 4, 3]]);
  deepStrictEqual([...u.rects[0].rgba.subarray(0, 4)], [3, 2, 1, 255]);
  deepStrictEqual([...u.rects[0].rgba.subarray((2 * 4 + 3) * 4, (2 * 4 + 3) * 4 + 4)], [
    9,
    9,
    9,
    255,
  ]);
  // Far-apart changes come as separate rects.
  const a = guestWrite(vga, (0 * 640 + 5) * 4, [7, 7, 7, 0]);
  const b = guestWrite(vga, (400 * 640 + 600) * 4, [7, 7, 7, 0]);
  for (let i = 0; i < a.length; i++) a[i] |= b[i];
  deepStrictEqual(boxes(t.update(a)), [[5, 0, 1, 1], [600, 400, 1, 1]]);
});

Deno.test("rows no page of the dirty log covers are not even looked at", () => {
  const vga = new Vga({ vramSize: 4 * MiB });
  vbe32(vga, 640, 480);
  const t = new FrameTracker(vga);
  t.update(null);
  vga.vram.set([1, 1, 1, 0], 0); // written behind the log's back
  deepStrictEqual(boxes(t.update(pageBitmap(vga.vram.length))), []);
  deepStrictEqual(boxes(t.update(null)), [[0, 0, 1, 1]], "null means: check every row");
});

Deno.test("palette, mode and text switches give full updates", () => {
  const vga = new Vga({ vramSize: 4 * MiB });
  programRegisters(vga, MODE_13H);
  const t = new FrameTracker(vga);
  strictEqual(t.update(null).label, "VGA 320×200 256 colours");
  vga.window.write(50 * 320 + 60, 1, 4);
  deepStrictEqual(boxes(t.update(pageBitmap(vga.vram.length))), [[60, 50, 1, 1]]);
  vga.write(0x3c8 - 0x3b0, 1, 4);
  for (const v of [1, 2, 3]) vga.write(0x3c9 - 0x3b0, 1, v);
  const repaint = t.update(pageBitmap(vga.vram.length));
  strictEqual(repaint.full, true, "a DAC change repaints everything");
  programRegisters(vga, TEXT_80X25);
  const text = t.update(pageBitmap(vga.vram.length));
  deepStrictEqual([text.full, text.format.mode, text.rects.length], [true, "text", 0]);
  deepStrictEqual([t.update(null).full, t.update(null).rects.length], [false, 0]);
  vbe32(vga, 320, 200);
  const back = t.update(pageBitmap(vga.vram.length));
  deepStrictEqual([back.full, boxes(back)], [true, [[0, 0, 320, 200]]]);
  t.invalidate();
  strictEqual(t.update(pageBitmap(vga.vram.length)).full, true);
});

Deno.test("banked window writes and the DISPI's own clearing are tracked without the log", () => {
  const vga = new Vga({ vramSize: 4 * MiB });
  vbe32(vga, 640, 480);
  const t = new FrameTracker(vga);
  t.update(null);
  vga.dispi.writeRegister(DISPI_INDEX.BANK, 2); // bytes 0x20000-0x2FFFF: lines 51-76
  vga.window.write(0x100, 4, 0x00ff0000);
  const u = t.update(pageBitmap(vga.vram.length));
  const at = 0x20100 / 4;
  deepStrictEqual(boxes(u), [[at % 640, Math.floor(at / 640), 1, 1]]);
  deepStrictEqual([...u.rects[0].rgba], [255, 0, 0, 255]);
});
