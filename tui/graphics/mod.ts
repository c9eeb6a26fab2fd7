/**
 * Guest graphics in the terminal: probing what the terminal can show,
 * renderers (sixel, kitty, half-blocks) and the painter that keeps the
 * screen pane current. See painter.ts for how the pieces fit.
 *
 * @module
 */

import type { ColorDepth } from "../colors.ts";
import type { DisplayMode, TerminalCaps } from "./capabilities.ts";
import { DEFAULT_CELL, type PaneGeometry } from "./geometry.ts";
import { HalfBlockRenderer } from "./halfblock.ts";
import { KittyRenderer } from "./kitty.ts";
import type { GraphicsRenderer } from "./renderer.ts";
import { SixelRenderer } from "./sixel.ts";
import { cellSizeFromWindow } from "./terminal_probe.ts";

export * from "./capabilities.ts";
export * from "./geometry.ts";
export { HalfBlockRenderer } from "./halfblock.ts";
export { HostFrame } from "./host_frame.ts";
export { KittyRenderer } from "./kitty.ts";
export { GraphicsPainter, type PainterOptions, type PainterStats } from "./painter.ts";
export type { GraphicsRenderer, RendererKind } from "./renderer.ts";
export { TerminalReplyFilter } from "./reply_filter.ts";
export { encodeSixel, SixelRenderer } from "./sixel.ts";
export { cellSizeFromWindow, stdinProbe, windowSize } from "./terminal_probe.ts";

/**
 * The renderer for a display mode, or null for "text" and "none" (no
 * pixels). Half-blocks use 24-bit colour unless the terminal has less.
 */
export function createRenderer(mode: DisplayMode, depth: ColorDepth): GraphicsRenderer | null {
  switch (mode) {
    case "sixel":
      return new SixelRenderer();
    case "kitty":
      return new KittyRenderer();
    case "blocks":
      return new HalfBlockRenderer(depth === "truecolor" ? "truecolor" : "256");
    default:
      return null;
  }
}

/**
 * Pixels of one cell: what the terminal answered, else TIOCGWINSZ's pixel
 * size over the cell count, else 8×16. Call again after a resize (a font
 * size change moves it) when the terminal answered nothing.
 */
export function cellSize(
  caps: TerminalCaps,
  fromWindow: () => { width: number; height: number } | null = cellSizeFromWindow,
): { width: number; height: number } {
  if (caps.cellWidth && caps.cellHeight) return { width: caps.cellWidth, height: caps.cellHeight };
  return fromWindow() ?? { ...DEFAULT_CELL };
}

/** The pane geometry for an inner rect of the layout (zero-based cells) and a cell size. */
export function paneGeometry(
  rect: { x: number; y: number; width: number; height: number },
  cell: { width: number; height: number },
): PaneGeometry {
  return {
    x: rect.x,
    y: rect.y,
    cols: rect.width,
    rows: rect.height,
    cellWidth: cell.width,
    cellHeight: cell.height,
  };
}
