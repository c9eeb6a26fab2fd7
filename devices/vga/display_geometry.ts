/**
 * What the VGA's registers say the display looks like: text or graphics or
 * blanked, character cells, pixel size, and how the CRTC walks memory.
 * Everything is computed from the registers; no mode numbers are assumed.
 *
 * @module
 */

import type { AttributeController } from "./attribute_controller.ts";
import type { Crtc } from "./crtc.ts";
import type { GraphicsController } from "./graphics_controller.ts";
import type { Sequencer } from "./sequencer.ts";

/** The register groups the geometry depends on. */
export interface VgaRegisters {
  readonly seq: Sequencer;
  readonly gc: GraphicsController;
  readonly attr: AttributeController;
  readonly crtc: Crtc;
}

/** Kind of picture being generated. */
export type DisplayMode = "text" | "graphics" | "off";

/** The display's shape and memory walk. */
export interface DisplayGeometry {
  /** "off" when the sequencer blanks the screen or the palette source bit is clear. */
  mode: DisplayMode;
  /** Text columns (character clocks per line). */
  cols: number;
  /** Text rows (0 in graphics). */
  rows: number;
  /** Dots per character: 8 or 9. */
  charWidth: number;
  /** Scan lines per character row. */
  charHeight: number;
  /** Picture width in pixels (text: cols × charWidth). */
  width: number;
  /** Picture height in pixels (text: rows × charHeight). */
  height: number;
  /** First address shown, in CRTC units. */
  startAddress: number;
  /** CRTC address units between character rows (text) or pixel rows (graphics). */
  rowStride: number;
  /** Left shift from CRTC address to plane offset (word mode 1, doubleword 2). */
  addressShift: number;
}

/** Computes the display geometry from the current register contents. */
export function displayGeometry(regs: VgaRegisters): DisplayGeometry {
  const { seq, gc, attr, crtc } = regs;
  const graphics = attr.graphicsMode || gc.graphicsMode;
  const off = seq.screenOff || !attr.paletteAddressSource;
  const mode: DisplayMode = off ? "off" : graphics ? "graphics" : "text";
  const cols = crtc.horizontalDisplayEnd + 1;
  let lines = crtc.verticalDisplayEnd + 1;
  if (crtc.doubleScan) lines = Math.floor(lines / 2);
  const charHeight = crtc.maxScanLine + 1;
  const common = {
    mode,
    cols,
    charHeight,
    startAddress: crtc.startAddress,
    rowStride: crtc.offset * 2,
    addressShift: crtc.addressShift,
  };
  if (graphics) {
    // 256-colour pixels take two dot clocks each.
    const width = (cols * 8) / (attr.eightBitColor ? 2 : 1);
    // Lines of a character row repeat unless the CGA bits make them distinct.
    const height = Math.floor(lines / charHeight) * crtc.distinctLinesPerRow;
    return { ...common, rows: 0, charWidth: 8, width, height };
  }
  const charWidth = seq.eightDot ? 8 : 9;
  const rows = Math.floor(lines / charHeight);
  return { ...common, rows, charWidth, width: cols * charWidth, height: rows * charHeight };
}

/** The text cursor as the CRTC places it. */
export interface TextCursor {
  /** Row relative to the display start (may lie off screen). */
  row: number;
  /** Column relative to the display start. */
  col: number;
  /** Shown: not disabled, on screen, and a non-empty line range inside the cell. */
  visible: boolean;
  /** First scan line within the cell. */
  startLine: number;
  /** Last scan line within the cell. */
  endLine: number;
}

/** Locates the text cursor (CRTC 0x0E/0x0F) relative to the start address. */
export function textCursor(regs: VgaRegisters, geometry: DisplayGeometry): TextCursor {
  const { crtc } = regs;
  const rel = crtc.cursorLocation - geometry.startAddress;
  const stride = geometry.rowStride;
  const row = stride > 0 ? Math.floor(rel / stride) : 0;
  const col = stride > 0 ? rel - row * stride : rel;
  const startLine = crtc.cursorStart;
  const endLine = crtc.cursorEnd;
  // A start line past the end line or past the cell shows no cursor on the VGA.
  const visible = geometry.mode === "text" && !crtc.cursorDisabled && rel >= 0 &&
    row < geometry.rows && col < geometry.cols && startLine <= endLine &&
    startLine < geometry.charHeight;
  return { row, col, visible, startLine, endLine };
}
