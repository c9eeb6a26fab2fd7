/**
 * Whether two screen models look the same, so that polling can tell a
 * changing guest from an idle one.
 *
 * @module
 */

import type { ScreenState } from "../devices/vga/screen.ts";

/** True when `a` and `b` would render the same. */
export function sameScreen(a: ScreenState | null, b: ScreenState | null): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  if (
    a.mode !== b.mode || a.cols !== b.cols || a.rows !== b.rows || a.width !== b.width ||
    a.height !== b.height || a.blinkEnabled !== b.blinkEnabled ||
    a.cursor.row !== b.cursor.row || a.cursor.col !== b.cursor.col ||
    a.cursor.visible !== b.cursor.visible || a.cells.length !== b.cells.length
  ) return false;
  for (let i = 0; i < a.palette.length; i++) if (a.palette[i] !== b.palette[i]) return false;
  for (let i = 0; i < a.cells.length; i++) if (a.cells[i] !== b.cells[i]) return false;
  return true;
}
