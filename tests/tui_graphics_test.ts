/**
 * End to end: vmrun's console shows a mode 13h guest's picture in the
 * screen pane as half-blocks (read back cell by cell from a headless
 * xterm), keeps it under the help overlay's comings and goings, follows
 * the guest's changes, and gives the pane back to text when the guest
 * leaves graphics.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_CELL, placeHalfBlocks } from "../tui/graphics/geometry.ts";
import { type RgbaImage, scaleImage } from "../tui/graphics/scale.ts";
import { kvmTest } from "./kvm_available.ts";
import { PtyVmrun } from "./tui_pty.ts";

/** The 6-bit DAC value as the VGA widens it to 8 bits. */
const dac8 = (v: number) => (v << 2) | ((v & 1) * 3);

/** What fixtures/src/mode13.asm draws: index (x + 64k) & 255, k = (y >> 2) & 3, through its DAC. */
function mode13Picture(square: boolean): RgbaImage {
  const rgba = new Uint8Array(320 * 200 * 4);
  for (let y = 0; y < 200; y++) {
    for (let x = 0; x < 320; x++) {
      const inSquare = square && x >= 50 && x < 58 && y >= 50 && y < 58;
      const i = inSquare ? 15 : (x + 64 * ((y >> 2) & 3)) & 255;
      rgba.set([dac8(i >> 2), dac8((255 - i) >> 2), dac8((i & 15) << 2), 255], (y * 320 + x) * 4);
    }
  }
  return { width: 320, height: 200, rgba };
}

kvmTest(
  "tui: a mode 13h guest appears in the screen pane as half-blocks, titled with its mode",
  async () => {
    const p = new PtyVmrun(["--display", "blocks", fixture("mode13")], {
      env: { COLORTERM: "truecolor" },
    });
    // 132x43: the screen pane is 82x27 at row 1, its inside 80x25 from (1, 2). A pty
    // reports no pixel sizes, so cells are taken to be 8x16.
    const pane = { x: 1, y: 2, cols: 80, rows: 25, ...{ cellWidth: 8, cellHeight: 16 } };
    deepStrictEqual([pane.cellWidth, pane.cellHeight], [DEFAULT_CELL.width, DEFAULT_CELL.height]);
    const pl = placeHalfBlocks(320, 200, pane);
    const cells = (square: boolean) => {
      const scaled = scaleImage(mode13Picture(square), pl.width, pl.height);
      return (col: number, row: number) => {
        const rgb = (x: number, y: number) => {
          const j = (y * pl.width + x) * 4;
          return (scaled.rgba[j] << 16) | (scaled.rgba[j + 1] << 8) | scaled.rgba[j + 2];
        };
        return ["▀", rgb(col, 2 * row), rgb(col, 2 * row + 1)];
      };
    };
    const shown = (col: number, row: number) => {
      const c = p.cell(pl.col + col, pl.row + row);
      return [c.getChars(), c.getFgColor(), c.getBgColor()];
    };
    const samples = [[0, 0], [17, 5], [40, 12], [pl.cols - 1, pl.rows - 1]];
    const showsPicture = (want: ReturnType<typeof cells>, at = samples) =>
      at.every(([c, r]) => JSON.stringify(shown(c, r)) === JSON.stringify(want(c, r)));
    try {
      await p.waitFor("the mode in the pane's title", () => p.row(1).includes("VGA 320×200"));
      ok(p.row(1).startsWith("╭─ Screen VGA 320×200 256 colours"), p.row(1));
      const before = cells(false);
      await p.waitFor("the picture", () => showsPicture(before));
      for (const [c, r] of samples) deepStrictEqual(shown(c, r), before(c, r));
      for (let y = pane.y; y < pane.y + pane.rows; y++) {
        ok(
          !p.row(y).slice(0, 82).includes("graphics"),
          `no placeholder under the picture: ${p.row(y)}`,
        );
      }

      // The help overlay covers part of the picture; closing it brings the picture back.
      p.type("\x01?");
      await p.waitForText("Ctrl-a");
      await p.waitFor("the help overlay", () => !showsPicture(before, [[40, 12]]));
      p.type(" ");
      await p.waitFor("the picture after the help", () => showsPicture(before, [[40, 12]]));

      // The guest fills an 8x8 square with colour 15 at (50, 50): cells (12..14, 12..14).
      p.type("\r");
      const after = cells(true);
      const square = [[12, 12], [13, 13], [14, 14]];
      await p.waitFor("the white square", () => showsPicture(after, square));
      ok(showsPicture(after), "the rest unchanged");

      // Back to text: the pane shows the guest's text, and nothing of the picture is left.
      p.type("\r");
      await p.waitForText("back to text");
      await p.waitFor("the text title", () => p.row(1).startsWith("╭─ Screen 80x25 text"));
      await p.waitFor("the picture gone", () => {
        for (let y = pane.y; y < pane.y + pane.rows; y++) if (p.row(y).includes("▀")) return false;
        return true;
      });
      p.type("\r");
      strictEqual((await p.exited).exitCode, 0x13);
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  },
);

kvmTest(
  "tui: with NO_COLOR a graphics mode shows its placeholder, never coloured pixels",
  async () => {
    const p = new PtyVmrun(["--display", "blocks", fixture("mode13")], {
      env: { COLORTERM: "truecolor", NO_COLOR: "1" },
    });
    try {
      await p.waitFor("the graphics placeholder", () => /graphics/i.test(p.screen()), 60_000);
      for (let y = 2; y < 27; y++) ok(!p.row(y).includes("▀"), `no half-blocks: ${p.row(y)}`);
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  },
);
