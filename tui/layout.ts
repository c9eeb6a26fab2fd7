/**
 * Where each pane goes for a terminal size: a header line, the guest screen
 * with the serial console under it, stats and devices in a side column when
 * there is room, and a status line; or one pane alone in full-screen view.
 *
 * The guest's screen comes first: the side column and the serial pane take
 * only the room it leaves. A terminal too small for the screen in its box
 * with the header and status line (80x24 for an 80x25 screen) shows it alone
 * and borderless when that shows all its columns and all but at most one of
 * its rows: the panels give way until Ctrl-a f brings them back.
 *
 * @module
 */

import type { Rect } from "./cell_grid.ts";

/** The panes. */
export type PaneName = "screen" | "serial" | "stats" | "devices";

/** The part of the UI state that decides the layout. */
export interface LayoutInput {
  readonly cols: number;
  readonly rows: number;
  /** The guest screen's size in cells (80x25 when not in text mode). */
  readonly guestCols: number;
  readonly guestRows: number;
  readonly show: Readonly<Record<PaneName, boolean>>;
  /**
   * Shows the focused pane alone, without borders; null decides by the
   * terminal's size (see the module's notes).
   */
  readonly fullscreen: boolean | null;
  readonly focus: "screen" | "serial";
}

/** A pane's place: the outer box (with its border) and the content inside. */
export interface PaneBox {
  readonly outer: Rect;
  readonly inner: Rect;
  readonly border: boolean;
}

/** Where everything goes; null for what is not shown. */
export interface Layout {
  readonly cols: number;
  readonly rows: number;
  /** The focused pane alone (asked for, or because the terminal is small). */
  readonly fullscreen: boolean;
  readonly header: Rect | null;
  readonly status: Rect | null;
  readonly panes: Readonly<Record<PaneName, PaneBox | null>>;
  /** Panes the user asked for that do not fit. */
  readonly squeezed: readonly PaneName[];
}

/** Side column width when the terminal is wide enough (it gets any room beyond too). */
export const SIDE_WIDTH = 44;
/** The narrowest side column worth showing (its rows are cut at the end below that). */
export const MIN_SIDE_WIDTH = 36;
/** The main column never gets narrower than this to make room for the side column. */
const MIN_MAIN_WIDTH = 60;
/** Fewest content rows worth showing a serial pane for. */
const MIN_SERIAL_ROWS = 3;
/** Stats content rows. */
const STATS_ROWS = 13;

function boxed(x: number, y: number, width: number, height: number): PaneBox {
  return {
    outer: { x, y, width, height },
    inner: { x: x + 1, y: y + 1, width: Math.max(0, width - 2), height: Math.max(0, height - 2) },
    border: true,
  };
}

/** Lays out the panes. */
export function computeLayout(input: LayoutInput): Layout {
  const full = input.fullscreen ?? smallTerminal(input);
  return full ? fullscreenLayout(input) : boxedLayout(input);
}

/**
 * True when the guest's screen does not fit in its box with the panels but
 * does, all columns and all but at most one row, on the terminal alone.
 */
function smallTerminal(input: LayoutInput): boolean {
  if (input.focus !== "screen" || !input.show.screen) return false;
  const shows = (w: number, h: number) => w >= input.guestCols && h >= input.guestRows - 1;
  const inner = boxedLayout(input).panes.screen?.inner;
  return !(inner && shows(inner.width, inner.height)) && shows(input.cols, input.rows);
}

function fullscreenLayout(input: LayoutInput): Layout {
  const { cols, rows } = input;
  const none = { screen: null, serial: null, stats: null, devices: null };
  const rect = { x: 0, y: 0, width: cols, height: rows };
  return {
    cols,
    rows,
    fullscreen: true,
    header: null,
    status: null,
    panes: { ...none, [input.focus]: { outer: rect, inner: rect, border: false } },
    squeezed: [],
  };
}

function boxedLayout(input: LayoutInput): Layout {
  const { cols, rows, show } = input;
  const header = { x: 0, y: 0, width: cols, height: 1 };
  const status = rows > 2 ? { x: 0, y: rows - 1, width: cols, height: 1 } : null;
  const bodyY = 1;
  const bodyH = Math.max(0, rows - 1 - (status ? 1 : 0));
  const squeezed: PaneName[] = [];

  // The main column is as wide as the screen's box; the side column gets the rest, if enough.
  const mainWanted = show.screen || show.serial;
  const screenW = input.guestCols + 2;
  const mainW = mainWanted ? Math.min(cols, Math.max(MIN_MAIN_WIDTH, screenW)) : 0;
  const wantSide = show.stats || show.devices;
  const side = wantSide && cols - mainW >= MIN_SIDE_WIDTH;
  if (wantSide && !side) {
    if (show.stats) squeezed.push("stats");
    if (show.devices) squeezed.push("devices");
  }
  const mainCols = side ? mainW : cols;
  const sideW = side ? cols - mainW : 0;

  let screen: PaneBox | null = null;
  let serial: PaneBox | null = null;
  if (show.screen && show.serial) {
    const serialMin = MIN_SERIAL_ROWS + 2;
    const screenFull = input.guestRows + 2;
    // The whole screen before the serial pane, unless the keyboard is on serial or the screen
    // is cropped anyway.
    const screenH = input.focus !== "serial" && bodyH >= screenFull
      ? screenFull
      : Math.min(screenFull, Math.max(3, bodyH - serialMin));
    screen = boxed(0, bodyY, mainCols, screenH);
    if (bodyH - screenH >= serialMin) serial = boxed(0, bodyY + screenH, mainCols, bodyH - screenH);
    else squeezed.push("serial");
  } else if (show.screen) {
    screen = boxed(0, bodyY, mainCols, bodyH);
  } else if (show.serial) {
    serial = boxed(0, bodyY, mainCols, bodyH);
  }

  let stats: PaneBox | null = null;
  let devices: PaneBox | null = null;
  if (side) {
    const x = mainW;
    if (show.stats && show.devices) {
      const statsH = Math.min(STATS_ROWS + 2, Math.floor(bodyH / 2));
      stats = boxed(x, bodyY, sideW, statsH);
      devices = boxed(x, bodyY + statsH, sideW, bodyH - statsH);
    } else if (show.stats) stats = boxed(x, bodyY, sideW, bodyH);
    else devices = boxed(x, bodyY, sideW, bodyH);
  }
  return {
    cols,
    rows,
    fullscreen: false,
    header,
    status,
    panes: { screen, serial, stats, devices },
    squeezed,
  };
}
