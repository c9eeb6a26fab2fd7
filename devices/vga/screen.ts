/**
 * The text screen as the VGA would display it, read straight from its
 * registers and planes: for the TUI, the API and tests.
 *
 * @module
 */

import { cp437ToUnicode } from "./cp437.ts";
import { displayGeometry, type DisplayMode, textCursor } from "./display_geometry.ts";
import { frameFormat, frameLabel } from "./graphics_render.ts";
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
  /** "VBE 1024×768 32 bpp", "VGA 320×200 256 colours", "text", "off". */
  label: string;
}

/** Reads the current screen of `vga`. */
export function screenSnapshot(vga: Vga): ScreenSnapshot {
  // Graphics sizes come from the frame (a VBE mode ignores the VGA's timing).
  const f = frameFormat(vga);
  const g = f.mode === "graphics"
    ? { ...displayGeometry(vga), mode: f.mode, rows: 0, width: f.width, height: f.height }
    : displayGeometry(vga);
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
    label: frameLabel(f),
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

/**
 * The 16 text colours as 0xRRGGBB: each attribute palette register picks a
 * DAC entry (with the colour-select bits of attribute registers 0x10/0x14),
 * whose 6-bit components are scaled to 8 bits.
 */
export function textPalette(vga: Vga): number[] {
  const attrPal = vga.attributePalette();
  const dac = vga.dacPalette();
  const modeControl = vga.attr.regs[0x10];
  const colorSelect = vga.attr.regs[0x14];
  const out: number[] = [];
  for (let i = 0; i < 16; i++) {
    let index = attrPal[i] & 0x3f;
    // P5/P4 come from the colour-select register when mode control bit 7 says so.
    if (modeControl & 0x80) index = (index & 0x0f) | ((colorSelect & 0x03) << 4);
    index |= (colorSelect & 0x0c) << 4;
    const scale = (v: number) => Math.round(((v & 0x3f) * 255) / 63);
    out.push(
      (scale(dac[index * 3]) << 16) | (scale(dac[index * 3 + 1]) << 8) | scale(dac[index * 3 + 2]),
    );
  }
  return out;
}

/** The screen as plain JSON for snapshots: cells packed as `code | attr << 8`. */
export interface ScreenState {
  mode: DisplayMode;
  cols: number;
  rows: number;
  /** Row-major, `code | attr << 8` per cell; empty outside text mode. */
  cells: number[];
  cursor: { row: number; col: number; visible: boolean; startLine: number; endLine: number };
  /** The 16 text colours as 0xRRGGBB. */
  palette: number[];
  blinkEnabled: boolean;
  charHeight: number;
  width: number;
  height: number;
  /** The screen's text (CP437 mapped to Unicode), rows joined by "\n". */
  text: string;
  /** What the display shows, e.g. "VBE 1024×768 32 bpp" (absent in older snapshots). */
  label?: string;
}

/** A {@link ScreenState} of `vga` now. */
export function screenState(vga: Vga): ScreenState {
  const s = screenSnapshot(vga);
  return {
    mode: s.mode,
    cols: s.cols,
    rows: s.rows,
    cells: s.cells.map((c) => c.code | (c.attr << 8)),
    cursor: { ...s.cursor },
    palette: textPalette(vga),
    blinkEnabled: s.blinkEnabled,
    charHeight: s.charHeight,
    width: s.width,
    height: s.height,
    text: screenText(s),
    label: s.label,
  };
}
