/**
 * What the terminal can show, found once at start-up before the console
 * takes stdin: a kitty graphics query, the cell size (`CSI 16 t`), the text
 * area in pixels (`CSI 14 t`), then primary device attributes (`CSI c`,
 * parameter 4 means sixel). Terminals answer in order, so the DA1 reply
 * ends the probe; a terminal that answers nothing is given up on after a
 * short timeout. Inside tmux or GNU screen nothing is asked (replies would
 * be the multiplexer's, and images do not pass through it reliably).
 *
 * @module
 */

/** Values of `--display`. */
export const DISPLAY_CHOICES = ["auto", "text", "sixel", "kitty", "blocks", "none"] as const;
/** A `--display` value. */
export type DisplayChoice = (typeof DISPLAY_CHOICES)[number];

/**
 * How the screen pane shows graphics modes: an image protocol, half-block
 * characters, only a notice ("text", the text view), or nothing at all.
 */
export type DisplayMode = "sixel" | "kitty" | "blocks" | "text" | "none";

/** What the probe found. */
export interface TerminalCaps {
  /** DA1 listed sixel graphics (parameter 4). */
  readonly sixel: boolean;
  /** The kitty graphics query was answered OK. */
  readonly kitty: boolean;
  /** Pixels of one character cell, when the terminal told. */
  readonly cellWidth: number | null;
  readonly cellHeight: number | null;
  /** Running inside a terminal multiplexer (nothing was asked). */
  readonly multiplexer: "tmux" | "screen" | null;
  /** The terminal answered DA1 (false: the probe timed out). */
  readonly answered: boolean;
}

/** How the probe talks to the terminal. */
export interface ProbeIo {
  /** Sends a query. */
  write(text: string): void | Promise<void>;
  /** The next chunk of input, or null when none came within `ms`. */
  read(ms: number): Promise<Uint8Array | null>;
}

/** The outcome of {@link probeTerminal}. */
export interface ProbeResult {
  readonly caps: TerminalCaps;
  /** Input that was not a reply (keys typed during the probe), for the guest. */
  readonly input: Uint8Array;
}

/** Image id of the kitty query (a 1×1 RGB image that is never stored: t=d, a=q). */
const KITTY_QUERY_ID = 31;
/** The queries, in the order the replies are expected. */
export const PROBE_QUERIES = `\x1b_Gi=${KITTY_QUERY_ID},s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\` +
  "\x1b[16t" +
  "\x1b[14t" +
  "\x1b[c";
/** How long a silent terminal is waited for. */
export const PROBE_TIMEOUT_MS = 300;

/** The multiplexer the environment says we run in, if any. */
export function multiplexerOf(
  env: Readonly<Record<string, string | undefined>>,
): "tmux" | "screen" | null {
  const term = env.TERM ?? "";
  if (env.TMUX || term.startsWith("tmux")) return "tmux";
  if (env.STY || term.startsWith("screen")) return "screen";
  return null;
}

/** Options for {@link probeTerminal}. */
export interface ProbeOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
  /** The text area in cells, to turn a `CSI 14 t` pixel size into a cell size. */
  readonly cells?: { cols: number; rows: number };
  /** Probe even inside a multiplexer. */
  readonly insideMultiplexer?: boolean;
  /** Monotonic ms (injectable for tests). */
  readonly now?: () => number;
}

/** Asks the terminal what it can do; never waits longer than the timeout. */
export async function probeTerminal(io: ProbeIo, options: ProbeOptions): Promise<ProbeResult> {
  const multiplexer = multiplexerOf(options.env);
  const none: TerminalCaps = {
    sixel: false,
    kitty: false,
    cellWidth: null,
    cellHeight: null,
    multiplexer,
    answered: false,
  };
  if (multiplexer && !options.insideMultiplexer) return { caps: none, input: new Uint8Array(0) };
  const now = options.now ?? (() => performance.now());
  const deadline = now() + (options.timeoutMs ?? PROBE_TIMEOUT_MS);
  await io.write(PROBE_QUERIES);
  let bytes = new Uint8Array(0);
  let parsed = parseReplies(bytes);
  while (!parsed.da1) {
    const left = deadline - now();
    if (left <= 0) break;
    const chunk = await io.read(left);
    if (chunk === null) break;
    const joined = new Uint8Array(bytes.length + chunk.length);
    joined.set(bytes);
    joined.set(chunk, bytes.length);
    bytes = joined;
    parsed = parseReplies(bytes);
  }
  let cellWidth = parsed.cell?.width ?? null;
  let cellHeight = parsed.cell?.height ?? null;
  if (cellWidth === null && parsed.textArea && options.cells) {
    cellWidth = Math.floor(parsed.textArea.width / options.cells.cols) || null;
    cellHeight = Math.floor(parsed.textArea.height / options.cells.rows) || null;
  }
  return {
    caps: {
      sixel: parsed.da1?.includes(4) ?? false,
      kitty: parsed.kitty,
      cellWidth,
      cellHeight,
      multiplexer,
      answered: parsed.da1 !== null,
    },
    input: parsed.rest,
  };
}

/** Replies found in terminal input, and the bytes that were not replies. */
export interface ParsedReplies {
  /** DA1 parameters (`CSI ? 62 ; 4 ; 22 c` gives [62, 4, 22]), or null. */
  readonly da1: number[] | null;
  /** A kitty graphics reply said OK. */
  readonly kitty: boolean;
  /** `CSI 6 ; h ; w t`. */
  readonly cell: { width: number; height: number } | null;
  /** `CSI 4 ; h ; w t`. */
  readonly textArea: { width: number; height: number } | null;
  readonly rest: Uint8Array;
}

// deno-lint-ignore no-control-regex
const REPLY = /\x1b\[\?([\d;]*)c|\x1b_G([^\x1b\x07]*)(?:\x1b\\|\x07)|\x1b\[([46]);(\d+);(\d+)t/g;

/** Finds the probe's replies in `bytes`. */
export function parseReplies(bytes: Uint8Array): ParsedReplies {
  const text = new TextDecoder("latin1").decode(bytes);
  let da1: number[] | null = null;
  let kitty = false;
  let cell: { width: number; height: number } | null = null;
  let textArea: { width: number; height: number } | null = null;
  const rest = text.replace(REPLY, (_m, da, apc, which, h, w) => {
    if (da !== undefined) da1 = da.split(";").filter((s: string) => s).map(Number);
    else if (apc !== undefined) {
      const [keys, message] = (apc as string).split(";");
      if (keys.split(",").includes(`i=${KITTY_QUERY_ID}`) && message === "OK") kitty = true;
    } else {
      const size = { width: Number(w), height: Number(h) };
      if (which === "6") cell = size;
      else textArea = size;
    }
    return "";
  });
  return {
    da1,
    kitty,
    cell,
    textArea,
    rest: Uint8Array.from(rest, (c) => c.charCodeAt(0)),
  };
}

/**
 * What `--display` means on this terminal: an explicit protocol is used as
 * asked; `auto` picks kitty, then sixel, then half-blocks, and half-blocks
 * inside a multiplexer.
 */
export function chooseDisplay(choice: DisplayChoice, caps: TerminalCaps): DisplayMode {
  if (choice !== "auto") return choice;
  if (caps.multiplexer) return "blocks";
  if (caps.kitty) return "kitty";
  if (caps.sixel) return "sixel";
  return "blocks";
}
