/**
 * The console escape prefix of headless mode, as in QEMU's -nographic:
 * Ctrl-a x quits, Ctrl-a Ctrl-a sends a literal Ctrl-a, Ctrl-a h prints help.
 *
 * @module
 */

/** The prefix key, Ctrl-a. */
export const ESCAPE_BYTE = 0x01;

/** What a console action asks vmrun to do. */
export type EscapeCommand = "quit" | "help";

/** What a chunk of keyboard input turns into. */
export interface EscapeResult {
  /** Bytes for the guest's serial port. */
  readonly toGuest: Uint8Array;
  /** vmrun actions, in order. */
  readonly commands: EscapeCommand[];
}

/** Help shown for Ctrl-a h. */
export const ESCAPE_HELP =
  "C-a x    quit vmrun\r\nC-a h    this help\r\nC-a C-a  send C-a to the guest\r\n";

const COMMANDS: Record<string, EscapeCommand> = { x: "quit", X: "quit", h: "help", "?": "help" };

/** Splits keyboard bytes into guest input and escape commands; keeps state across chunks. */
export class EscapeFilter {
  #pending = false;

  /** Processes one chunk of input. */
  feed(bytes: Uint8Array): EscapeResult {
    const out: number[] = [];
    const commands: EscapeCommand[] = [];
    for (const b of bytes) {
      if (!this.#pending) {
        if (b === ESCAPE_BYTE) this.#pending = true;
        else out.push(b);
        continue;
      }
      this.#pending = false;
      if (b === ESCAPE_BYTE) out.push(b);
      else {
        const cmd = COMMANDS[String.fromCharCode(b)];
        if (cmd) commands.push(cmd);
      }
    }
    return { toGuest: Uint8Array.from(out), commands };
  }
}
