/**
 * Whether the console can drive the user's terminal. The console speaks
 * ECMA-48 as xterm does (CSI cursor addressing, SGR, the DEC private modes
 * for the alternate screen, auto-wrap, the cursor and bracketed paste); a
 * terminal that cannot take that (TERM=dumb, Emacs' shell, a printing or
 * non-ANSI terminal, a TERM nobody knows) gets the line-mode console: COM1
 * on stdin/stdout with Ctrl-a commands, as headless runs have.
 *
 * @module
 */

/** TERM values of emulators known to take xterm's sequences; the rest are checked in terminfo. */
const KNOWN =
  /^(xterm|screen|tmux|rxvt|linux|vt[1-5]\d\d|alacritty|foot|kitty|wezterm|st($|-)|konsole|gnome|putty|ansi|cygwin|ms-terminal|mintty|contour|iterm|ghostty|vte)/;

/** Indices into terminfo's boolean and string capabilities (ncurses' term.h order). */
const BOOL_GENERIC = 6; // gn: a generic line type, not a real terminal
const BOOL_HARDCOPY = 7; // hc: a printing terminal
const STR_CURSOR_ADDRESS = 10; // cup

/** The capabilities the decision needs from a terminfo entry. */
export interface TerminfoCaps {
  readonly hardcopy: boolean;
  readonly generic: boolean;
  /** cup, with terminfo's own escapes; null when absent. */
  readonly cursorAddress: string | null;
}

/**
 * Reads the capabilities the console needs from a compiled terminfo entry
 * (the legacy 16-bit format or ncurses 6's 32-bit one); null when `bytes`
 * is not one.
 */
export function parseTerminfo(bytes: Uint8Array): TerminfoCaps | null {
  if (bytes.length < 12) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getInt16(0, true);
  const numSize = magic === 0o432 ? 2 : magic === 0o1036 ? 4 : 0;
  if (!numSize) return null;
  const [namesSize, bools, nums, strs, tableSize] = [2, 4, 6, 8, 10].map((o) =>
    v.getInt16(o, true)
  );
  if ([namesSize, bools, nums, strs, tableSize].some((n) => n < 0)) return null;
  const boolAt = 12 + namesSize;
  let numAt = boolAt + bools;
  if (numAt % 2) numAt++;
  const strAt = numAt + nums * numSize;
  const tableAt = strAt + strs * 2;
  if (tableAt + tableSize > bytes.length) return null;
  const bool = (i: number) => i < bools && bytes[boolAt + i] === 1;
  let cursorAddress: string | null = null;
  if (STR_CURSOR_ADDRESS < strs) {
    const off = v.getInt16(strAt + STR_CURSOR_ADDRESS * 2, true);
    if (off >= 0 && off < tableSize) {
      let end = tableAt + off;
      while (end < tableAt + tableSize && bytes[end] !== 0) end++;
      cursorAddress = String.fromCharCode(...bytes.subarray(tableAt + off, end));
    }
  }
  return { hardcopy: bool(BOOL_HARDCOPY), generic: bool(BOOL_GENERIC), cursorAddress };
}

/** Reads `term`'s compiled terminfo entry where ncurses looks for it; null when there is none. */
export function readTerminfo(
  term: string,
  env: Readonly<Record<string, string | undefined>>,
): Uint8Array | null {
  if (!term || term.includes("/") || term.startsWith(".")) return null;
  const dirs: string[] = [];
  if (env.TERMINFO) dirs.push(env.TERMINFO);
  if (env.HOME) dirs.push(`${env.HOME}/.terminfo`);
  const defaults = ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo", "/usr/lib/terminfo"];
  // In TERMINFO_DIRS an empty entry stands for the defaults.
  for (const d of (env.TERMINFO_DIRS ?? "").split(":")) dirs.push(...(d ? [d] : defaults));
  const first = term[0];
  for (const dir of dirs) {
    for (const sub of [first, first.charCodeAt(0).toString(16)]) {
      try {
        return Deno.readFileSync(`${dir}/${sub}/${term}`);
      } catch {
        // Not here.
      }
    }
  }
  return null;
}

/** The console's verdict on a terminal: null when it can drive it, else why not. */
export function consoleRefusal(
  env: Readonly<Record<string, string | undefined>>,
  terminfo: (term: string) => Uint8Array | null,
): string | null {
  const term = env.TERM ?? "";
  if (!term) return "TERM is not set";
  if (term === "dumb") return "TERM=dumb";
  if (KNOWN.test(term)) return null;
  const bytes = terminfo(term);
  const caps = bytes && parseTerminfo(bytes);
  if (!caps) return `TERM=${term} is unknown (no terminfo entry)`;
  if (caps.hardcopy || caps.generic) return `TERM=${term} is not a screen terminal`;
  if (caps.cursorAddress === null) return `TERM=${term} cannot move the cursor`;
  // terminfo writes ESC as \E; the console's sequences start with CSI.
  // deno-lint-ignore no-control-regex
  if (!/^(\\E|\\e|\x1b)\[/.test(caps.cursorAddress)) {
    return `TERM=${term} does not take ANSI cursor sequences`;
  }
  return null;
}

/**
 * The one line vmrun says when it falls back to the line-mode console, or
 * null when the console can run. `terminfo` defaults to the system's.
 */
export function lineModeNote(
  env: Readonly<Record<string, string | undefined>>,
  terminfo: (term: string) => Uint8Array | null = (t) => readTerminfo(t, env),
): string | null {
  const why = consoleRefusal(env, terminfo);
  return why === null
    ? null
    : `vmrun: ${why}: line mode; Ctrl-a h for help, TERM=xterm for the console\n`;
}
