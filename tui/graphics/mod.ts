/**
 * Guest graphics in the terminal: probing what the terminal can show,
 * renderers (sixel, kitty, half-blocks) and the painter that keeps the
 * screen pane current. See painter.ts for how the pieces fit.
 *
 * @module
 */

import type { ColorDepth } from "../colors.ts";
import type { DisplayMode } from "./capabilities.ts";
import { HalfBlockRenderer } from "./halfblock.ts";
import { KittyRenderer } from "./kitty.ts";
import type { GraphicsRenderer } from "./renderer.ts";
import { SixelRenderer } from "./sixel.ts";

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
