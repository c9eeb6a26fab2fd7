import { deepStrictEqual, strictEqual } from "node:assert";
import type { ScreenState } from "../devices/vga/screen.ts";
import { textScreen } from "./testing.ts";
import { renderScreen } from "./screen_render.ts";
import { ATTR, lineText, rgb } from "./style.ts";

Deno.test("text, colours from the palette, CP437 glyphs, and the cursor", () => {
  const s = textScreen(80, 25, [{ row: 2, col: 3, text: "Hi\x01\xdb", attr: 0x1e }], {
    row: 2,
    col: 5,
  });
  const f = renderScreen(s, { width: 80, height: 25 }, { top: 0, left: 0 });
  strictEqual(f.lines.length, 25);
  strictEqual(lineText(f.lines[2]).slice(0, 8), "   Hi☺█ ");
  const run = f.lines[2][1];
  deepStrictEqual(run, { text: "Hi☺█", fg: rgb(0xffff55), bg: rgb(0x0000aa), attrs: 0 });
  deepStrictEqual(f.cursor, { row: 2, col: 5 });
  strictEqual(f.cropped, false);
  strictEqual(f.mode, "80x25 text");
});

Deno.test("attribute bit 7 blinks when blinking is on, else brightens the background", () => {
  const s = textScreen(40, 25, [{ row: 0, col: 0, text: "B", attr: 0xc7 }]);
  const blink = renderScreen(s, { width: 40, height: 25 }, { top: 0, left: 0 }).lines[0][0];
  strictEqual(blink.attrs, ATTR.BLINK);
  strictEqual(blink.bg, rgb(0xaa0000));
  const bright = renderScreen({ ...s, blinkEnabled: false }, { width: 40, height: 25 }, {
    top: 0,
    left: 0,
  }).lines[0][0];
  strictEqual(bright.attrs, 0);
  strictEqual(bright.bg, rgb(0xff5555));
});

Deno.test("a small pane shows a cropped view that follows the cursor and keeps still otherwise", () => {
  const s = textScreen(80, 50, [{ row: 45, col: 70, text: "END" }], { row: 45, col: 72 });
  const f = renderScreen(s, { width: 20, height: 10 }, { top: 0, left: 0 });
  strictEqual(f.cropped, true);
  deepStrictEqual(f.view, { top: 36, left: 53 });
  deepStrictEqual(f.cursor, { row: 9, col: 19 });
  strictEqual(lineText(f.lines[9]).trimEnd(), "                 END");
  // The cursor moving inside the view does not move the view.
  const g = renderScreen({ ...s, cursor: { ...s.cursor, row: 40, col: 60 } }, {
    width: 20,
    height: 10,
  }, f.view);
  deepStrictEqual(g.view, f.view);
  deepStrictEqual(g.cursor, { row: 4, col: 7 });
});

Deno.test("a pane larger than the screen leaves the rest empty; a hidden cursor is null", () => {
  const s = textScreen(40, 25);
  const f = renderScreen({ ...s, cursor: { ...s.cursor, visible: false } }, {
    width: 60,
    height: 30,
  }, { top: 0, left: 0 });
  strictEqual(f.lines.length, 30);
  strictEqual(lineText(f.lines[0]).length, 40);
  deepStrictEqual(f.lines[29], []);
  strictEqual(f.cursor, null);
});

Deno.test("graphics modes and a blank display show a notice with the mode", () => {
  const s: ScreenState = { ...textScreen(80, 25), mode: "graphics", width: 640, height: 480 };
  const f = renderScreen(s, { width: 60, height: 10 }, { top: 0, left: 0 });
  strictEqual(f.mode, "640x480 graphics");
  strictEqual(f.lines.map(lineText).join("\n").includes("Graphics mode 640x480"), true);
  strictEqual(f.cursor, null);
  const off = renderScreen({ ...s, mode: "off" }, { width: 60, height: 10 }, { top: 0, left: 0 });
  strictEqual(off.lines.map(lineText).join("").includes("Display off"), true);
});
