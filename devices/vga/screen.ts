/**
 * The text screen as the VGA would display it, read straight from its
 * registers and planes: for the TUI, the API and tests.
 *
 * @module
 */

import { cp437ToUnicode } from "./cp437.ts";
import { displayGeometry, type DisplayMode, textCursor } from "./display_geometry.ts";
import type { Vga } from "./vga.ts";

/** One character cell. */
export interface ScreenCell {
  /** The character as Unicode (CP437 mapping, 0x00 as a space). */
  ch: string;
  /** The character code in plane 0. */
  code: number;
  /** The attribute byte in plane 1. */
  attr: number;
}

/** What the screen shows. */
export interface ScreenSnapshot {
  mode: DisplayMode;
  cols: number;
  /** 0 outside text mode. */
  rows: number;
  charWidth: number;
  charHeight: number;
  /** Row-major cells, `rows × cols` in text mode, empty otherwise. */
  cells: ScreenCell[];
  cursor: { row: number; col: number; visible: boolean; startLine: number; endLine: number };
  /** Pixels. */
  width: number;
  height: number;
  /** Attribute bit 7 blinks the character (else it brightens the background). */
  blinkEnabled: boolean;
}

/** Reads the current screen of `vga`. */
export function screenSnapshot(vga: Vga): ScreenSnapshot {
  const g = displayGeometry(vga);
  const cells: ScreenCell[] = [];
  if (g.mode === "text") {
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        const at = (g.startAddress + r * g.rowStride + c) << g.addressShift;
        const code = vga.memory.planeByte(0, at);
        cells.push({ ch: cp437ToUnicode(code), code, attr: vga.memory.planeByte(1, at) });
      }
    }
  }
  return {
    mode: g.mode,
    cols: g.cols,
    rows: g.rows,
    charWidth: g.charWidth,
    charHeight: g.charHeight,
    cells,
    cursor: textCursor(vga, g),
    width: g.width,
    height: g.height,
    blinkEnabled: vga.attr.blinkEnabled,
  };
}

/** The snapshot's text, one line per row joined by "\n", trailing spaces trimmed; "" outside text mode. */
export function screenText(snapshot: ScreenSnapshot): string {
  if (snapshot.mode !== "text") return "";
  const lines: string[] = [];
  for (let r = 0; r < snapshot.rows; r++) {
    let line = "";
    for (let c = 0; c < snapshot.cols; c++) line += snapshot.cells[r * snapshot.cols + c].ch;
    lines.push(line.replace(/ +$/, ""));
  }
  return lines.join("\n");
}
