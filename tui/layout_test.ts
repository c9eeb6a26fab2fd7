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

const at = (cols: number, rows: number, more: Partial<LayoutInput> = {}) =>
  computeLayout({ ...base, cols, rows, fullscreen: null, ...more });

Deno.test("80x24: the guest screen alone at full width, 24 of its 25 rows; the panels give way", () => {
  const l = at(80, 24);
  strictEqual(l.fullscreen, true);
  deepStrictEqual(l.panes.screen, {
    outer: { x: 0, y: 0, width: 80, height: 24 },
    inner: { x: 0, y: 0, width: 80, height: 24 },
    border: false,
  });
  strictEqual(l.header, null);
  strictEqual(l.status, null);
  for (const p of ["serial", "stats", "devices"] as const) strictEqual(l.panes[p], null);
  // Ctrl-a f: the panels back, the screen cropped in its box as before.
  const panels = at(80, 24, { fullscreen: false });
  strictEqual(panels.fullscreen, false);
  deepStrictEqual(panels.panes.screen?.inner, { x: 1, y: 2, width: 78, height: 15 });
  deepStrictEqual(panels.panes.serial?.inner, { x: 1, y: 19, width: 78, height: 3 });
});

Deno.test("80x25: the whole guest screen, cell for cell", () => {
  const l = at(80, 25);
  strictEqual(l.fullscreen, true);
  deepStrictEqual(l.panes.screen?.inner, { x: 0, y: 0, width: 80, height: 25 });
});

Deno.test("100x30: the whole screen in its box with header and status; serial and side squeezed", () => {
  const l = at(100, 30);
  strictEqual(l.fullscreen, false);
  deepStrictEqual(l.header, { x: 0, y: 0, width: 100, height: 1 });
  // Without a side column the box spans the terminal; the screen's 80 columns are at its left.
  deepStrictEqual(l.panes.screen?.inner, { x: 1, y: 2, width: 98, height: 25 });
  deepStrictEqual(l.status, { x: 0, y: 29, width: 100, height: 1 });
  strictEqual(l.panes.serial, null);
  deepStrictEqual(l.squeezed, ["stats", "devices", "serial"]);
  // With the keyboard on serial, the serial pane gets its rows and the screen is cropped.
  const serial = at(100, 30, { focus: "serial" });
  deepStrictEqual(serial.panes.screen?.inner, { x: 1, y: 2, width: 98, height: 21 });
  deepStrictEqual(serial.panes.serial?.inner, { x: 1, y: 25, width: 98, height: 3 });
});

Deno.test("120x40: the screen at full width, the side column narrower beside it, serial under", () => {
  const l = at(120, 40);
  strictEqual(l.fullscreen, false);
  deepStrictEqual(l.panes.screen?.inner, { x: 1, y: 2, width: 80, height: 25 });
  deepStrictEqual(l.panes.serial?.outer, { x: 0, y: 28, width: 82, height: 11 });
  deepStrictEqual(l.panes.stats?.outer, { x: 82, y: 1, width: 38, height: 15 });
  deepStrictEqual(l.panes.devices?.outer, { x: 82, y: 16, width: 38, height: 23 });
  deepStrictEqual(l.squeezed, []);
});

Deno.test("200x60: everything, as before", () => {
  const l = at(200, 60);
  deepStrictEqual(l.panes.screen?.inner, { x: 1, y: 2, width: 80, height: 25 });
  deepStrictEqual(l.panes.serial?.outer, { x: 0, y: 28, width: 82, height: 31 });
  deepStrictEqual(l.panes.stats?.outer, { x: 82, y: 1, width: 118, height: 15 });
  deepStrictEqual(l.panes.devices?.outer, { x: 82, y: 16, width: 118, height: 43 });
  deepStrictEqual(l.status, { x: 0, y: 59, width: 200, height: 1 });
});

Deno.test("a terminal too small for the screen alone keeps the panels; other guest modes count", () => {
  // 70 columns cannot show 80: the boxed layout, cropped (as before).
  strictEqual(at(70, 24).fullscreen, false);
  // An 80x50 guest on 132x43: cropped either way, so the panels stay.
  strictEqual(at(132, 43, { guestRows: 50 }).fullscreen, false);
  // A 40x25 guest fits in its box on 80x30.
  deepStrictEqual(at(80, 30, { guestCols: 40 }).panes.screen?.inner, {
    x: 1,
    y: 2,
    width: 78,
    height: 25,
  });
  // The keyboard on serial: no automatic full-screen view.
  strictEqual(at(80, 24, { focus: "serial" }).fullscreen, false);
});
