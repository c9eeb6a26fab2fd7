/**
 * Where a guest frame goes in the screen pane: scaled to fit with its
 * aspect ratio kept, centred, on whole character cells.
 *
 * @module
 */

/** The screen pane as the graphics renderers see it. */
export interface PaneGeometry {
  /** Column and row of the pane's top-left cell in the terminal, zero-based. */
  readonly x: number;
  readonly y: number;
  /** Size in cells. */
  readonly cols: number;
  readonly rows: number;
  /** Pixels of one cell (what the probe found; 8×16 is a fair guess otherwise). */
  readonly cellWidth: number;
  readonly cellHeight: number;
}

/** A rectangle in pixels or cells. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Where an image lands. */
export interface Placement {
  /** Terminal column and row of the image's top-left cell, zero-based. */
  readonly col: number;
  readonly row: number;
  /** Cells covered. */
  readonly cols: number;
  readonly rows: number;
  /** The scaled image in the renderer's pixels. */
  readonly width: number;
  readonly height: number;
}

/** Cell size used when the terminal did not tell. */
export const DEFAULT_CELL = { width: 8, height: 16 } as const;

/**
 * Fits an image of `width × height` into the pane, in units of
 * `pixelWidth × pixelHeight` screen pixels per image pixel unit (a cell
 * is `cellWidth × cellHeight` screen pixels): the largest size that keeps
 * the aspect ratio and fits, centred on whole cells.
 *
 * For pixel protocols the unit is one screen pixel (1 × 1); half-blocks
 * have two units a cell, each `cellWidth × cellHeight / 2`.
 */
export function placeImage(
  width: number,
  height: number,
  pane: PaneGeometry,
  unit: { width: number; height: number; perCellX: number; perCellY: number },
): Placement {
  const availW = pane.cols * unit.perCellX;
  const availH = pane.rows * unit.perCellY;
  if (width <= 0 || height <= 0 || availW <= 0 || availH <= 0) {
    return { col: pane.x, row: pane.y, cols: 0, rows: 0, width: 0, height: 0 };
  }
  // Compare on screen pixels so non-square units keep the picture's shape.
  const scale = Math.min((availW * unit.width) / width, (availH * unit.height) / height);
  const w = Math.max(1, Math.min(availW, Math.round((width * scale) / unit.width)));
  const h = Math.max(1, Math.min(availH, Math.round((height * scale) / unit.height)));
  const cols = Math.ceil(w / unit.perCellX);
  const rows = Math.ceil(h / unit.perCellY);
  return {
    col: pane.x + Math.floor((pane.cols - cols) / 2),
    row: pane.y + Math.floor((pane.rows - rows) / 2),
    cols,
    rows,
    width: w,
    height: h,
  };
}

/** {@link placeImage} for pixel protocols (sixel, kitty): units are screen pixels. */
export function placePixels(width: number, height: number, pane: PaneGeometry): Placement {
  return placeImage(width, height, pane, {
    width: 1,
    height: 1,
    perCellX: pane.cellWidth,
    perCellY: pane.cellHeight,
  });
}

/** {@link placeImage} for half-blocks: two units a cell, each half a cell high. */
export function placeHalfBlocks(width: number, height: number, pane: PaneGeometry): Placement {
  return placeImage(width, height, pane, {
    width: pane.cellWidth,
    height: pane.cellHeight / 2,
    perCellX: 1,
    perCellY: 2,
  });
}

/**
 * The part of a `dst`-sized scaled image that shows source rect `r` of a
 * `src`-sized image, widened to multiples of `align` (x and y) and clipped.
 */
export function scaledRect(
  r: Rect,
  src: { width: number; height: number },
  dst: { width: number; height: number },
  align: { x: number; y: number } = { x: 1, y: 1 },
): Rect {
  const sx = dst.width / src.width;
  const sy = dst.height / src.height;
  // One destination pixel of slack each side covers rounding and filter reach.
  let x0 = Math.max(0, Math.floor(r.x * sx) - 1);
  let y0 = Math.max(0, Math.floor(r.y * sy) - 1);
  let x1 = Math.min(dst.width, Math.ceil((r.x + r.width) * sx) + 1);
  let y1 = Math.min(dst.height, Math.ceil((r.y + r.height) * sy) + 1);
  x0 -= x0 % align.x;
  y0 -= y0 % align.y;
  x1 = Math.min(dst.width, Math.ceil(x1 / align.x) * align.x);
  y1 = Math.min(dst.height, Math.ceil(y1 / align.y) * align.y);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
