/**
 * What stays on the terminal when the console closes, as QEMU's -nographic
 * leaves its transcript: the guest's last COM1 lines, as plain text (the
 * serial terminal has already acted on the guest's control sequences), and
 * one line that says how the run ended.
 *
 * @module
 */

import type { VmExit } from "../machine/exit.ts";
import { asciiText, type Charset } from "./charset.ts";

/** At most this many COM1 lines stay (fewer on a short terminal). */
export const TRANSCRIPT_LINES = 20;

/** The part of an xterm buffer the transcript reads. */
export interface TextBufferLike {
  readonly length: number;
  getLine(
    y: number,
  ): { readonly isWrapped: boolean; translateToString(trim?: boolean): string } | undefined;
}

/**
 * The last `max` lines of `buffer` as the guest wrote them: rows the
 * terminal wrapped are joined again, trailing blanks and trailing empty
 * lines dropped.
 */
export function serialTail(buffer: TextBufferLike, max: number): string[] {
  const text = (y: number, trim: boolean) => buffer.getLine(y)?.translateToString(trim) ?? "";
  let y = buffer.length - 1;
  while (y >= 0 && text(y, true) === "") y--;
  const lines: string[] = [];
  while (y >= 0 && lines.length < max) {
    // A wrapped row continues the one above it: go back to the row that starts the line.
    const parts: string[] = [];
    for (;;) {
      parts.unshift(text(y, false));
      if (!buffer.getLine(y)?.isWrapped || y === 0) break;
      y--;
    }
    lines.unshift(parts.join("").trimEnd());
    y--;
  }
  while (lines.length && lines[0] === "") lines.shift();
  return lines;
}

/**
 * How the run ended, in one line; null where vmrun's report on stderr
 * already says it (a timeout, a fault, an internal error).
 */
export function endingLine(exit: VmExit): string | null {
  switch (exit.reason) {
    case "debug-exit":
      return `vmrun: the guest exited with status ${exit.code}`;
    case "shutdown":
      return `vmrun: the guest powered off (status ${exit.code})`;
    case "signal":
      return `vmrun: stopped by ${exit.detail ?? "a signal"} (status ${exit.code})`;
    case "stopped": {
      const d = exit.detail;
      // The user's own quit (Ctrl-a x, the console's quit) needs no more words.
      const quit = !d || d === "Ctrl-a x" || d === "quit from the console";
      const how = quit ? "quit" : /^SIG[A-Z]+$/.test(d) ? `stopped by ${d}` : `stopped: ${d}`;
      return `vmrun: ${how} (status ${exit.code})`;
    }
    default:
      return null;
  }
}

// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * The transcript as terminal output: `lines` with anything that could act
 * on the terminal replaced, in `charset`, then the ending line.
 */
export function buildTranscript(
  lines: readonly string[],
  exit: VmExit,
  charset: Charset,
): string {
  const out = lines.map((l) => {
    const safe = l.replace(CONTROLS, "?");
    return charset === "ascii" ? asciiText(safe) : safe;
  });
  const end = endingLine(exit);
  if (end !== null) out.push(end);
  return out.map((l) => l + "\n").join("");
}
