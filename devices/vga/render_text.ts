/**
 * The text screen as the VGA puts it on the monitor, as RGBA pixels: the
 * font from plane 2, 9- or 8-dot character clocks, the attribute byte
 * through the attribute controller and the DAC, and the cursor.
 *
 * What is modelled, per the IBM VGA register descriptions:
 * - sequencer clocking mode bit 0 picks 8-dot cells, else 9-dot; in 9-dot
 *   cells the ninth column repeats the eighth for codes 0xC0-0xDF when
 *   attribute mode control bit 2 (line graphics) is set, else it is
 *   background;
 * - sequencer clocking mode bit 3 (dot clock halved, 40-column modes) shows
 *   every dot twice as wide, so a 40×25 screen is 720 pixels wide like 80×25;
 * - CRTC double scan shows every scan line twice;
 * - attribute bits 0-3 pick the foreground, bits 4-7 the background; with
 *   blink enabled (mode control bit 3) bit 7 blinks the character instead of
 *   brightening the background, and the "on" phase is drawn (characters and
 *   cursor visible);
 * - colour plane enable (attribute register 0x12) masks both colour indices;
 * - the underline (CRTC 0x14) on attributes whose bits 0-2 are 001 and 4-6
 *   are 000, as the attribute decoder draws it;
 * - the cursor: scan lines start..end (clipped to the cell) of the cursor
 *   cell in that cell's foreground colour, the full cell width.
 *
 * Not modelled: horizontal panning, preset row scan, split screen (line
 * compare) and cursor skew.
 *
 * @module
 */

import { displayGeometry } from "./display_geometry.ts";
import { screenSnapshot, textPalette } from "./screen.ts";
import type { Vga } from "./vga.ts";

/** A picture as RGBA bytes, row-major, 4 bytes a pixel (alpha always 255). */
export interface ScreenImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

const ATTR_MODE_CONTROL = 0x10;
const ATTR_COLOR_PLANE_ENABLE = 0x12;
const CRTC_UNDERLINE = 0x14;
const LINE_GRAPHICS = 0x04;
const LINE_GRAPHICS_FIRST = 0xc0;
const LINE_GRAPHICS_LAST = 0xdf;
/** Size used when the registers describe no picture at all (blanked from power-on). */
const FALLBACK_SIZE = { width: 640, height: 480 };

/** An all-black opaque image. */
export function blackImage(width: number, height: number): ScreenImage {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  return { width, height, rgba };
}

/**
 * Renders the current text screen of `vga`. Outside text mode the result is
 * an empty (0×0) image; use {@link renderScreen} for any mode.
 */
export function renderText(vga: Vga): ScreenImage {
  const snap = screenSnapshot(vga);
  if (snap.mode !== "text") return { width: 0, height: 0, rgba: new Uint8Array(0) };
  const { cols, rows, charWidth, charHeight, cells, cursor } = snap;
  const xScale = vga.seq.halfDotClock ? 2 : 1;
  const yScale = vga.crtc.doubleScan ? 2 : 1;
  const cellWidth = charWidth * xScale;
  const width = cols * cellWidth;
  const height = rows * charHeight * yScale;
  const rgba = new Uint8Array(width * height * 4);
  // Whole pixels at a time: x86 hosts are little-endian, so R lands first.
  const pixels = new Uint32Array(rgba.buffer);

  const palette = textPalette(vga).map((c) =>
    (0xff000000 | (c & 0xff) << 16 | (c & 0xff00) | c >> 16) >>> 0
  );
  const modeControl = vga.attr.regs[ATTR_MODE_CONTROL];
  const planeMask = vga.attr.regs[ATTR_COLOR_PLANE_ENABLE] & 0x0f;
  const blink = vga.attr.blinkEnabled;
  const lineGraphics = (modeControl & LINE_GRAPHICS) !== 0;
  const underline = vga.crtc.regs[CRTC_UNDERLINE] & 0x1f;
  const cursorLast = Math.min(cursor.endLine, charHeight - 1);
  // Fonts are looked up once per (code, map) rather than once per cell.
  const fonts = new Map<number, Uint8Array>();
  const font = (code: number, attr: number) => {
    const key = code | (attr & 0x08) << 5;
    let bitmap = fonts.get(key);
    if (!bitmap) fonts.set(key, bitmap = vga.glyph(code, charHeight, attr));
    return bitmap;
  };

  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const { code, attr } = cells[r * cols + c];
      const glyph = font(code, attr);
      const fg = palette[attr & 0x0f & planeMask];
      const bg = palette[(blink ? (attr >> 4) & 0x07 : attr >> 4) & planeMask];
      const isCursor = cursor.visible && cursor.row === r && cursor.col === c;
      const dupNinth = lineGraphics && code >= LINE_GRAPHICS_FIRST && code <= LINE_GRAPHICS_LAST;
      const underlined = (attr & 0x77) === 0x01;
      for (let y = 0; y < charHeight; y++) {
        const bits = glyph[y];
        // The dots of this scan line as 9 bits, bit 8 the leftmost.
        let pattern = bits << 1 | (dupNinth ? bits & 1 : 0);
        if (underlined && y === underline) pattern = 0x1ff;
        if (isCursor && y >= cursor.startLine && y <= cursorLast) pattern = 0x1ff;
        for (let ys = 0; ys < yScale; ys++) {
          const py = (r * charHeight + y) * yScale + ys;
          let at = py * width + c * cellWidth;
          for (let x = 0; x < charWidth; x++) {
            const color = pattern & (0x100 >> x) ? fg : bg;
            for (let xs = 0; xs < xScale; xs++) pixels[at++] = color;
          }
        }
      }
    }
  }
  return { width, height, rgba };
}

/**
 * What the monitor shows now: the rendered text screen in text modes. In
 * graphics modes this is, for now, a black image of the mode's width ×
 * height (the framebuffer is not rendered yet); a blanked display is black
 * too (640×480 when the registers describe no size at all).
 */
export function renderScreen(vga: Vga): ScreenImage {
  const g = displayGeometry(vga);
  if (g.mode === "text") {
    const image = renderText(vga);
    if (image.width > 0 && image.height > 0) return image;
  }
  if (g.width > 0 && g.height > 0) return blackImage(g.width, g.height);
  return blackImage(FALLBACK_SIZE.width, FALLBACK_SIZE.height);
}
