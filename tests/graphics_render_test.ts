/**
 * The renderers' output decoded again: sixel with the `sixel` package's
 * decoder against the scaled frame; kitty by a decoder of the protocol
 * written here (chunks, base64, zlib, frame edits) against the frame
 * itself; half-blocks by a headless xterm, cell by cell.
 *
 * Colour tolerance for sixel: sixel colours are percentages, so a colour
 * comes back within 2 of itself per channel when the picture has at most
 * 256 colours (kept exactly). A picture of more colours (a smooth gradient
 * of about 60,000) is quantised by median cut: every channel within 32, the
 * mean error under 6.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { inflateSync } from "node:zlib";
import xterm from "../deps/xterm.ts";
import { decode } from "../deps/sixel.ts";
import { nearest256 } from "../tui/colors.ts";
import { type PaneGeometry, placeHalfBlocks, placePixels } from "../tui/graphics/geometry.ts";
import { HalfBlockRenderer } from "../tui/graphics/halfblock.ts";
import { KITTY_CHUNK, KittyRenderer } from "../tui/graphics/kitty.ts";
import { type RgbaImage, scaleImage } from "../tui/graphics/scale.ts";
import { SixelRenderer } from "../tui/graphics/sixel.ts";

const PANE: PaneGeometry = { x: 3, y: 2, cols: 40, rows: 15, cellWidth: 10, cellHeight: 20 };

/** A 160×120 picture of 64 colours: blocks of colour with fine detail. */
function paletteImage(): RgbaImage {
  const width = 160;
  const height = 120;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = ((x >> 3) + (y >> 3) * 3 + ((x ^ y) & 1)) & 63;
      rgba.set([(c & 3) * 85, ((c >> 2) & 3) * 85, (c >> 4) * 85, 255], (y * width + x) * 4);
    }
  }
  return { width, height, rgba };
}

/** A 320×200 smooth gradient of tens of thousands of colours. */
function gradientImage(): RgbaImage {
  const width = 320;
  const height = 200;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rgba.set(
        [(x * 255) / 319, (y * 255) / 199, 255 - ((x + y) * 255) / 518, 255],
        (y * width + x) * 4,
      );
    }
  }
  return { width, height, rgba };
}

function setPixel(img: RgbaImage, x: number, y: number, rgb: number[]): void {
  img.rgba.set([...rgb, 255], (y * img.width + x) * 4);
}

/** Sixel images in `out` (their data, after DCS ... q), each with the cell it was placed at. */
function sixelImages(out: string): { col: number; row: number; seq: string }[] {
  const found: { col: number; row: number; seq: string }[] = [];
  // deno-lint-ignore no-control-regex
  const re = /\x1b\[(\d+);(\d+)H\x1bP[\d;]*q([^\x1b]*)\x1b\\/g;
  for (const m of out.matchAll(re)) {
    found.push({ row: Number(m[1]) - 1, col: Number(m[2]) - 1, seq: m[3] });
  }
  return found;
}

function compare(
  decoded: Uint8Array,
  width: number,
  expected: RgbaImage,
  at: { x: number; y: number },
  height: number,
) {
  let max = 0;
  let sum = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(
          decoded[(y * width + x) * 4 + c] -
            expected.rgba[((at.y + y) * expected.width + at.x + x) * 4 + c],
        );
        max = Math.max(max, d);
        sum += d;
      }
    }
  }
  return { max, mean: sum / (width * height * 3) };
}

Deno.test("sixel: the full frame decodes to the scaled frame, colours within 2", () => {
  const frame = paletteImage();
  const r = new SixelRenderer();
  const out = r.full(frame, PANE);
  const pl = placePixels(frame.width, frame.height, PANE);
  deepStrictEqual([pl.width, pl.height, pl.cols, pl.rows], [400, 300, 40, 15]);
  const images = sixelImages(out);
  strictEqual(images.length, 1);
  deepStrictEqual([images[0].col, images[0].row], [pl.col, pl.row]);
  const d = decode(images[0].seq);
  deepStrictEqual([d.width, d.height], [pl.width, pl.height]);
  const scaled = scaleImage(frame, pl.width, pl.height);
  const { max } = compare(
    new Uint8Array(d.data32.buffer),
    d.width,
    scaled,
    { x: 0, y: 0 },
    d.height,
  );
  ok(max <= 2, `max channel error ${max}`);
});

Deno.test("sixel: a small change is a small image on whole cells, decoding to the change", () => {
  const frame = paletteImage();
  const r = new SixelRenderer();
  const full = r.full(frame, PANE);
  for (let y = 50; y < 54; y++) for (let x = 70; x < 74; x++) setPixel(frame, x, y, [250, 5, 5]);
  const out = r.update(frame, PANE, [{ x: 70, y: 50, width: 4, height: 4 }]);
  ok(out.length * 20 < full.length, `update ${out.length} bytes vs full ${full.length}`);
  const [img] = sixelImages(out);
  const d = decode(img.seq);
  const pl = placePixels(frame.width, frame.height, PANE);
  const at = {
    x: (img.col - pl.col) * PANE.cellWidth,
    y: (img.row - pl.row) * PANE.cellHeight,
  };
  strictEqual(d.width % PANE.cellWidth, 0);
  ok(at.x <= 70 * 2.5 && at.x + d.width >= 74 * 2.5, "covers the change horizontally");
  ok(at.y <= 50 * 2.5 && at.y + d.height >= 54 * 2.5, "covers the change vertically");
  const scaled = scaleImage(frame, pl.width, pl.height);
  const { max } = compare(new Uint8Array(d.data32.buffer), d.width, scaled, at, d.height);
  ok(max <= 2, `max channel error ${max}`);
});

Deno.test("sixel: a picture of thousands of colours is quantised within the stated tolerance", () => {
  const frame = gradientImage();
  const r = new SixelRenderer();
  const pane = { ...PANE, cols: 32, rows: 10 };
  const [img] = sixelImages(r.full(frame, pane));
  const d = decode(img.seq);
  const pl = placePixels(frame.width, frame.height, pane);
  const scaled = scaleImage(frame, pl.width, pl.height);
  const { max, mean } = compare(new Uint8Array(d.data32.buffer), d.width, scaled, {
    x: 0,
    y: 0,
  }, d.height);
  ok(max <= 32 && mean < 6, `max ${max}, mean ${mean.toFixed(2)}`); // measured: 24, 4.1
});

/** A kitty graphics decoder: the images' pixels after all commands in `out`. */
function kittyDecode(out: string, images = new Map<number, RgbaImage>()) {
  const commands: { keys: Record<string, string>; data: Uint8Array }[] = [];
  let pending: { keys: Record<string, string>; b64: string } | null = null;
  // deno-lint-ignore no-control-regex
  for (const m of out.matchAll(/\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\/g)) {
    const keys = Object.fromEntries(m[1].split(",").map((kv) => kv.split("=")));
    ok((m[2] ?? "").length <= KITTY_CHUNK, "chunks are at most 4096 bytes");
    strictEqual(keys.q, "2", "every command is quiet");
    if (pending) pending.b64 += m[2] ?? "";
    else pending = { keys, b64: m[2] ?? "" };
    if (keys.m !== "1") {
      const raw = Uint8Array.from(atob(pending.b64), (c) => c.charCodeAt(0));
      const data = pending.keys.o === "z" ? new Uint8Array(inflateSync(raw)) : raw;
      commands.push({ keys: pending.keys, data });
      pending = null;
    }
  }
  const placements: Record<string, string>[] = [];
  for (const { keys, data } of commands) {
    const id = Number(keys.i);
    if (keys.a === "d") images.delete(id);
    else if (keys.a === "T") {
      strictEqual(keys.f, "32");
      const [w, h] = [Number(keys.s), Number(keys.v)];
      strictEqual(data.length, w * h * 4);
      images.set(id, { width: w, height: h, rgba: data.slice() });
      placements.push(keys);
    } else if (keys.a === "f") {
      strictEqual(keys.r, "1");
      const img = images.get(id)!;
      const [x, y, w, h] = [keys.x, keys.y, keys.s, keys.v].map(Number);
      for (let r = 0; r < h; r++) {
        img.rgba.set(data.subarray(r * w * 4, (r + 1) * w * 4), ((y + r) * img.width + x) * 4);
      }
    }
  }
  return { images, placements };
}

Deno.test("kitty: the image, placed over the fitted cells, and frame edits decode to the frame", () => {
  const frame = gradientImage();
  const r = new KittyRenderer();
  const full = r.full(frame, PANE);
  const { images, placements } = kittyDecode(full);
  const pl = placePixels(frame.width, frame.height, PANE);
  deepStrictEqual([placements[0].c, placements[0].r], [String(pl.cols), String(pl.rows)]);
  ok(full.includes(`\x1b[${pl.row + 1};${pl.col + 1}H\x1b_G`), "placed at the fitted cell");
  deepStrictEqual(images.get(1)!.rgba, frame.rgba);
  for (let y = 10; y < 30; y++) for (let x = 300; x < 320; x++) setPixel(frame, x, y, [1, 2, 3]);
  const edit = r.update(frame, PANE, [{ x: 300, y: 10, width: 20, height: 20 }]);
  ok(edit.length < full.length / 20, `edit ${edit.length} bytes vs ${full.length}`);
  ok(!edit.includes("a=T"), "an edit, not a new image");
  deepStrictEqual(kittyDecode(edit, images).images.get(1)!.rgba, frame.rgba);
  strictEqual(r.clear(), "\x1b_Ga=d,d=I,i=1,q=2\x1b\\");
});

Deno.test("kitty without frame edits sends the whole image again, uncompressed when asked", () => {
  const frame = paletteImage();
  const r = new KittyRenderer({ frameEdits: false, compress: false, id: 7 });
  r.full(frame, PANE);
  setPixel(frame, 0, 0, [9, 9, 9]);
  const again = r.update(frame, PANE, [{ x: 0, y: 0, width: 1, height: 1 }]);
  ok(again.includes("a=T") && !again.includes("o=z"));
  deepStrictEqual(kittyDecode(again).images.get(7)!.rgba, frame.rgba);
});

/** A headless xterm that has taken `out`. */
async function terminal(cols: number, rows: number, ...outs: string[]) {
  const term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
  for (const out of outs) await new Promise<void>((resolve) => term.write(out, resolve));
  return term;
}

function cellColours(term: InstanceType<typeof xterm.Terminal>, col: number, row: number) {
  const cell = term.buffer.active.getLine(row)!.getCell(col)!;
  return { ch: cell.getChars(), fg: cell.getFgColor(), bg: cell.getBgColor(), rgb: cell.isFgRGB() };
}

Deno.test("half-blocks: every cell is ▀ with the upper pixel as foreground and the lower as background", async () => {
  const frame = paletteImage();
  const r = new HalfBlockRenderer("truecolor");
  const pane = { ...PANE, cols: 46, cellWidth: 8, cellHeight: 16 };
  const pl = placeHalfBlocks(frame.width, frame.height, pane);
  const scaled = scaleImage(frame, pl.width, pl.height);
  const rgbAt = (x: number, y: number) => {
    const i = (y * pl.width + x) * 4;
    return (scaled.rgba[i] << 16) | (scaled.rgba[i + 1] << 8) | scaled.rgba[i + 2];
  };
  const term = await terminal(60, 20, r.full(frame, pane));
  for (let row = 0; row < pl.rows; row++) {
    for (let col = 0; col < pl.cols; col++) {
      const c = cellColours(term, pl.col + col, pl.row + row);
      deepStrictEqual(c, {
        ch: "▀",
        fg: rgbAt(col, 2 * row),
        bg: rgbAt(col, 2 * row + 1),
        rgb: true,
      });
    }
  }
  strictEqual(cellColours(term, pl.col - 1, pl.row).ch, " ", "letterbox cells are blank");
  // A change rewrites only its cells, and they come out right.
  for (let y = 40; y < 44; y++) for (let x = 60; x < 64; x++) setPixel(frame, x, y, [255, 255, 0]);
  const upd = r.update(frame, pane, [{ x: 60, y: 40, width: 4, height: 4 }]);
  ok(upd.length < 600, `update is ${upd.length} bytes`);
  const term2 = await terminal(60, 20, r.full(frame, pane));
  const after = await terminal(60, 20, new HalfBlockRenderer().full(paletteImage(), pane), upd);
  for (let row = 0; row < pl.rows; row++) {
    for (let col = 0; col < pl.cols; col++) {
      deepStrictEqual(
        cellColours(after, pl.col + col, pl.row + row),
        cellColours(term2, pl.col + col, pl.row + row),
      );
    }
  }
});

Deno.test("half-blocks in 256 colours use the nearest xterm palette entries", async () => {
  const frame = paletteImage();
  const pane = { ...PANE, cellWidth: 8, cellHeight: 16 };
  const pl = placeHalfBlocks(frame.width, frame.height, pane);
  const scaled = scaleImage(frame, pl.width, pl.height);
  const term = await terminal(50, 20, new HalfBlockRenderer("256").full(frame, pane));
  const c = cellColours(term, pl.col + 5, pl.row + 3);
  const at = (y: number) => (y * pl.width + 5) * 4;
  const rgb = (i: number) =>
    (scaled.rgba[i] << 16) | (scaled.rgba[i + 1] << 8) | scaled.rgba[i + 2];
  deepStrictEqual([c.ch, c.fg, c.bg, c.rgb], [
    "▀",
    nearest256(rgb(at(6))),
    nearest256(rgb(at(7))),
    false,
  ]);
});
