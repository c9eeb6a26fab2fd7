import { deepStrictEqual, strictEqual } from "node:assert";
import { computeLayout, type LayoutInput } from "./layout.ts";

const ALL = { screen: true, serial: true, stats: true, devices: true };
const base: LayoutInput = {
  cols: 132,
  rows: 43,
  guestCols: 80,
  guestRows: 25,
  show: ALL,
  fullscreen: false,
  focus: "screen",
};

Deno.test("a big terminal: screen at full size, serial under it, side column to the right", () => {
  const l = computeLayout(base);
  deepStrictEqual(l.header, { x: 0, y: 0, width: 132, height: 1 });
  deepStrictEqual(l.status, { x: 0, y: 42, width: 132, height: 1 });
  deepStrictEqual(l.panes.screen?.inner, { x: 1, y: 2, width: 80, height: 25 });
  deepStrictEqual(l.panes.serial?.outer, { x: 0, y: 28, width: 82, height: 14 });
  deepStrictEqual(l.panes.stats?.outer, { x: 82, y: 1, width: 50, height: 15 });
  deepStrictEqual(l.panes.devices?.outer, { x: 82, y: 16, width: 50, height: 26 });
  deepStrictEqual(l.squeezed, []);
});

Deno.test("a small terminal: no side column, a cropped screen and room for the serial pane", () => {
  const l = computeLayout({ ...base, cols: 70, rows: 20 });
  strictEqual(l.panes.stats, null);
  strictEqual(l.panes.devices, null);
  deepStrictEqual(l.squeezed, ["stats", "devices"]);
  deepStrictEqual(l.panes.screen?.inner, { x: 1, y: 2, width: 68, height: 11 });
  deepStrictEqual(l.panes.serial?.inner, { x: 1, y: 15, width: 68, height: 3 });
});

Deno.test("hidden panes give their room to the others", () => {
  const l = computeLayout({ ...base, show: { ...ALL, serial: false, devices: false } });
  deepStrictEqual(l.panes.screen?.outer, { x: 0, y: 1, width: 82, height: 41 });
  deepStrictEqual(l.panes.stats?.outer, { x: 82, y: 1, width: 50, height: 41 });
  strictEqual(l.panes.serial, null);
});

Deno.test("full-screen view: the focused pane alone, borderless, over the whole terminal", () => {
  const l = computeLayout({ ...base, fullscreen: true, focus: "serial" });
  strictEqual(l.header, null);
  strictEqual(l.panes.screen, null);
  deepStrictEqual(l.panes.serial, {
    outer: { x: 0, y: 0, width: 132, height: 43 },
    inner: { x: 0, y: 0, width: 132, height: 43 },
    border: false,
  });
});
