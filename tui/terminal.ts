/**
 * The terminal's modes while the console runs: alternate screen, hidden
 * cursor, bracketed paste, no auto-wrap, raw input; and their undoing,
 * exactly once, whichever way vmrun ends.
 *
 * @module
 */

/** Entered when the console starts. */
export const ENTER_SEQUENCE = "\x1b[?1049h" + // alternate screen
  "\x1b[?25l" + // hide the cursor
  "\x1b[?2004h" + // bracketed paste
  "\x1b[?7l" + // no auto-wrap: writing the last column must not scroll
  "\x1b[0m\x1b[2J\x1b[H";

/** Undoes {@link ENTER_SEQUENCE} (and ends any half-written synchronized update). */
export const LEAVE_SEQUENCE = "\x1b[?2026l" +
  "\x1b[0m" +
  "\x1b[?7h" +
  "\x1b[?2004l" +
  "\x1b[?25h" +
  "\x1b[?1049l";

/** What the session needs of stdin and stdout. */
export interface TerminalIo {
  setRaw(raw: boolean): void;
  writeSync(bytes: Uint8Array): number;
}

/** The console's hold on the terminal. */
export class TerminalSession {
  #entered = false;

  constructor(readonly io: TerminalIo) {}

  /** True between {@link enter} and {@link restore}. */
  get entered(): boolean {
    return this.#entered;
  }

  /** Switches to raw input and the alternate screen. */
  enter(): void {
    if (this.#entered) return;
    this.#entered = true;
    this.io.setRaw(true);
    this.#write(ENTER_SEQUENCE);
  }

  /** Puts the terminal back; safe to call any number of times, and on a terminal that is gone. */
  restore(): void {
    if (!this.#entered) return;
    this.#entered = false;
    this.#write(LEAVE_SEQUENCE);
    try {
      this.io.setRaw(false);
    } catch {
      // A hung-up terminal cannot be reset; nothing else needs it.
    }
  }

  #write(text: string): void {
    const bytes = new TextEncoder().encode(text);
    let off = 0;
    try {
      while (off < bytes.length) off += this.io.writeSync(bytes.subarray(off));
    } catch {
      // The terminal went away (SIGHUP): there is nothing to restore.
    }
  }
}
