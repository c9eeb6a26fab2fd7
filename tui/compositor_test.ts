import { ok, strictEqual } from "node:assert";
import xterm from "../deps/xterm.ts";
import { Compositor } from "./compositor.ts";
import { plainRun } from "./style.ts";

async function shown(out: string, cols: number): Promise<string> {
  const t = new xterm.Terminal({ cols, rows: 2, allowProposedApi: true });
  await new Promise<void>((r) => t.write(out, r));
  const line = t.buffer.active.getLine(0)!.translateToString(true);
  t.dispose();
  return line;
}

Deno.test("compositor: in ASCII every cell is one ASCII look-alike and keeps its column", async () => {
  const layers = [{
    rect: { x: 0, y: 0, width: 12, height: 1 },
    lines: [[plainRun("╭─漢x é▁█╮")]],
  }];
  const ascii = new Compositor("16", "ascii").frame(12, 2, layers, null);
  // deno-lint-ignore no-control-regex
  ok(/^[\x00-\x7f]*$/.test(ascii), JSON.stringify(ascii));
  // The wide character took two columns: its look-alike and a blank, so "x" stays in column 4.
  strictEqual(await shown(ascii, 12), "+-? x e_#+");
  strictEqual(await shown(new Compositor("16").frame(12, 2, layers, null), 12), "╭─漢x é▁█╮");
});
