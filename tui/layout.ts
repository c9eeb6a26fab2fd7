/**
 * Where each pane goes for a terminal size: a header line, the guest screen
 * with the serial console under it, stats and devices in a side column when
 * there is room, and a status line; or one pane alone in full-screen view.
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
  /** Shows the focused pane alone, without borders. */
  readonly fullscreen: boolean;
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
  readonly header: Rect | null;
  readonly status: Rect | null;
  readonly panes: Readonly<Record<PaneName, PaneBox | null>>;
  /** Panes the user asked for that do not fit. */
  readonly squeezed: readonly PaneName[];
}

/** Side column width. */
export const SIDE_WIDTH = 44;
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
  const { cols, rows, show } = input;
  const none = { screen: null, serial: null, stats: null, devices: null };
  if (input.fullscreen) {
    const rect = { x: 0, y: 0, width: cols, height: rows };
    return {
      cols,
      rows,
      header: null,
      status: null,
      panes: { ...none, [input.focus]: { outer: rect, inner: rect, border: false } },
      squeezed: [],
    };
  }
  const header = { x: 0, y: 0, width: cols, height: 1 };
  const status = rows > 2 ? { x: 0, y: rows - 1, width: cols, height: 1 } : null;
  const bodyY = 1;
  const bodyH = Math.max(0, rows - 1 - (status ? 1 : 0));
  const squeezed: PaneName[] = [];

  const wantSide = show.stats || show.devices;
  const sideFits = cols - SIDE_WIDTH >= MIN_MAIN_WIDTH;
  if (wantSide && !sideFits) {
    if (show.stats) squeezed.push("stats");
    if (show.devices) squeezed.push("devices");
  }
  const side = wantSide && sideFits;
  const mainWanted = show.screen || show.serial;
  const screenW = input.guestCols + 2;
  const mainW = !side
    ? cols
    : mainWanted
    ? Math.max(MIN_MAIN_WIDTH, Math.min(screenW, cols - SIDE_WIDTH))
    : 0;
  const sideW = side ? cols - mainW : 0;

  let screen: PaneBox | null = null;
  let serial: PaneBox | null = null;
  if (show.screen && show.serial) {
    const serialMin = MIN_SERIAL_ROWS + 2;
    const screenH = Math.min(input.guestRows + 2, Math.max(3, bodyH - serialMin));
    screen = boxed(0, bodyY, mainW, screenH);
    if (bodyH - screenH >= serialMin) serial = boxed(0, bodyY + screenH, mainW, bodyH - screenH);
    else squeezed.push("serial");
  } else if (show.screen) {
    screen = boxed(0, bodyY, mainW, bodyH);
  } else if (show.serial) {
    serial = boxed(0, bodyY, mainW, bodyH);
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
  return { cols, rows, header, status, panes: { screen, serial, stats, devices }, squeezed };
}
