/**
 * Screen models for tests and benchmarks.
 *
 * @module
 */

import type { ScreenState } from "../devices/vga/screen.ts";

/** The VGA's default 16 text colours. */
export const VGA_PALETTE: readonly number[] = [
  0x000000,
  0x0000aa,
  0x00aa00,
  0x00aaaa,
  0xaa0000,
  0xaa00aa,
  0xaa5500,
  0xaaaaaa,
  0x555555,
  0x5555ff,
  0x55ff55,
  0x55ffff,
  0xff5555,
  0xff55ff,
  0xffff55,
  0xffffff,
];

/** A text screen of `cols` x `rows` blanks (attribute 0x07) with `text` written at (row, col). */
export function textScreen(
  cols: number,
  rows: number,
  writes: { row: number; col: number; text: string; attr?: number }[] = [],
  cursor = { row: 0, col: 0 },
): ScreenState {
  const cells = new Array<number>(cols * rows).fill(0x20 | (0x07 << 8));
  for (const w of writes) {
    for (let i = 0; i < w.text.length; i++) {
      cells[w.row * cols + w.col + i] = w.text.charCodeAt(i) | ((w.attr ?? 0x07) << 8);
    }
  }
  return {
    mode: "text",
    cols,
    rows,
    cells,
    cursor: { ...cursor, visible: true, startLine: 13, endLine: 14 },
    palette: [...VGA_PALETTE],
    blinkEnabled: true,
    charHeight: 16,
    width: cols * 9,
    height: rows * 16,
    text: "",
  };
}
