/**
 * COM1's output as a terminal would show it: a headless xterm parses the
 * guest's bytes (ANSI sequences included) into a buffer with scrollback, and
 * the pane shows a window of it that PgUp/PgDn move.
 *
 * @module
 */

import xterm from "../deps/xterm.ts";
import { renderSerialLines } from "./serial_render.ts";
import { serialTail } from "./transcript.ts";
import type { StyledLine } from "./style.ts";

/** Lines kept above the visible ones. */
export const SERIAL_SCROLLBACK = 5000;

/** A terminal for COM1 output, sized to the serial pane. */
export class SerialConsole {
  readonly #term: xterm.Terminal;
  #offset = 0;
  #lastBase = 0;
  #dirty = true;
  #onChange: () => void;

  /** `onChange` is called after written bytes have been parsed. */
  constructor(cols: number, rows: number, onChange: () => void = () => {}) {
    this.#term = new xterm.Terminal({
      cols: Math.max(2, cols),
      rows: Math.max(1, rows),
      scrollback: SERIAL_SCROLLBACK,
      allowProposedApi: true,
      // Rewrap the line being written too when the pane changes width.
      reflowCursorLine: true,
    });
    this.#onChange = onChange;
  }

  get cols(): number {
    return this.#term.cols;
  }

  get rows(): number {
    return this.#term.rows;
  }

  /** Lines the view is scrolled back from the newest output. */
  get offset(): number {
    return this.#offset;
  }

  /** True when something changed since the last {@link view}. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** Feeds guest output; `done` runs once it is parsed. */
  write(bytes: Uint8Array, done?: () => void): void {
    this.#term.write(bytes, () => {
      const base = this.#term.buffer.active.baseY;
      // Keep a scrolled-back view on the same lines while output arrives.
      if (this.#offset > 0) this.#offset = Math.min(base, this.#offset + base - this.#lastBase);
      this.#lastBase = base;
      this.#dirty = true;
      this.#onChange();
      done?.();
    });
  }

  /** Resizes to the pane (the buffer reflows). */
  resize(cols: number, rows: number): void {
    const c = Math.max(2, cols), r = Math.max(1, rows);
    if (c === this.#term.cols && r === this.#term.rows) return;
    this.#term.resize(c, r);
    this.#lastBase = this.#term.buffer.active.baseY;
    this.#offset = Math.min(this.#offset, this.#lastBase);
    this.#dirty = true;
  }

  /** Scrolls back (positive) or forward (negative) by `lines`, within the scrollback. */
  scroll(lines: number): void {
    const base = this.#term.buffer.active.baseY;
    const next = Math.max(0, Math.min(base, this.#offset + lines));
    if (next !== this.#offset) this.#dirty = true;
    this.#offset = next;
  }

  /** Back to the newest output. */
  scrollToEnd(): void {
    this.scroll(-this.#offset);
  }

  /** The visible lines, `rows` of them. */
  view(): StyledLine[] {
    this.#dirty = false;
    const buf = this.#term.buffer.active;
    return renderSerialLines(buf, buf.baseY - this.#offset, this.#term.rows, this.#term.cols);
  }

  /** The cursor in view coordinates, or null when scrolled away from it. */
  cursor(): { row: number; col: number } | null {
    if (this.#offset > 0) return null;
    const buf = this.#term.buffer.active;
    return { row: buf.cursorY, col: Math.min(buf.cursorX, this.#term.cols - 1) };
  }

  /** The last `max` lines the guest wrote, as text, once every byte written so far is parsed. */
  async tail(max: number): Promise<string[]> {
    await new Promise<void>((resolve) => this.#term.write("", resolve));
    return serialTail(this.#term.buffer.active, max);
  }

  /** Frees the terminal. */
  dispose(): void {
    this.#term.dispose();
  }
}
