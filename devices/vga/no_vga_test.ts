import { deepStrictEqual, strictEqual } from "node:assert";
import { assertRestoreIdentity, assertRestoreRejects } from "../testing/snapshot_check.ts";
import { renderFrame } from "./graphics_render.ts";
import { renderScreen } from "./render_text.ts";
import { NoVga } from "./no_vga.ts";

Deno.test("no vga: a blank 80x25 text screen for the readers, and the state of nothing", () => {
  const none = new NoVga();
  strictEqual(renderFrame(none.vga), null, "text, not graphics");
  const image = renderScreen(none.vga);
  deepStrictEqual([image.width, image.height], [720, 400]);
  deepStrictEqual(new Set(image.rgba.filter((_, i) => i % 4 !== 3)), new Set([0]), "black");
  const good = assertRestoreIdentity(none, new NoVga());
  assertRestoreRejects(none, good, [{ model: "std" }]);
});
