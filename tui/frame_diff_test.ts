import { ok, strictEqual } from "node:assert";
import { CellGrid } from "./cell_grid.ts";
import { diffGrids } from "./frame_diff.ts";
import { ATTR, DEFAULT_COLOR, rgb } from "./style.ts";

Deno.test("a first frame clears and draws only cells that are not blank", () => {
  const g = new CellGrid(10, 3);
  g.set(2, 1, "x", rgb(0xff0000), DEFAULT_COLOR, 0);
  strictEqual(
    diffGrids(null, g, "truecolor"),
    "\x1b[0m\x1b[2J\x1b[2;3H\x1b[0;38;2;255;0;0mx\x1b[0m",
  );
});

Deno.test("one changed cell costs one move, one SGR and the character", () => {
  const a = new CellGrid(80, 25);
  for (let x = 0; x < 80; x++) a.set(x, 5, "=", rgb(0xaaaaaa), rgb(0x0000aa), 0);
  const b = a.clone();
  b.set(40, 5, "#", rgb(0xaaaaaa), rgb(0x0000aa), 0);
  const out = diffGrids(a, b, "16");
  strictEqual(out, "\x1b[6;41H\x1b[0;37;44m#\x1b[0m");
  strictEqual(diffGrids(b, b.clone(), "16"), "");
});

Deno.test("runs of changed cells share one move and one SGR; style changes emit SGR", () => {
  const a = new CellGrid(20, 2);
  const b = a.clone();
  b.set(3, 0, "a", DEFAULT_COLOR, DEFAULT_COLOR, ATTR.BOLD);
  b.set(4, 0, "b", DEFAULT_COLOR, DEFAULT_COLOR, ATTR.BOLD);
  b.set(5, 0, "c", 3, DEFAULT_COLOR, 0);
  strictEqual(diffGrids(a, b, "256"), "\x1b[1;4H\x1b[0;1mab\x1b[0;33mc\x1b[0m");
});

Deno.test("a size change redraws in full; a wide character advances two columns", () => {
  const a = new CellGrid(4, 1);
  const b = new CellGrid(5, 1);
  b.paintLines([[{ text: "中x", fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs: 0 }]], {
    x: 0,
    y: 0,
    width: 5,
    height: 1,
  });
  strictEqual(b.chars.slice(0, 3).join("|"), "中||x");
  const out = diffGrids(a, b, "16");
  ok(out.startsWith("\x1b[0m\x1b[2J"));
  ok(out.includes("中x"), JSON.stringify(out));
});
