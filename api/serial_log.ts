/**
 * COM1's output as it arrives: decoded text for matching, raw bytes for
 * streams, and waiters that match across chunk boundaries. Matching works
 * like expect: each wait starts where the previous match ended.
 *
 * The log is bounded, whatever the guest floods: it keeps the last
 * {@link RETAIN} characters of text (trimmed back to that whenever it holds
 * twice as many) and the last {@link RETAIN} bytes for stream replays, so a
 * run's serial log stays within a few MiB.
 *
 * @module
 */

import type { VmExit as GuestExit } from "../machine/exit.ts";
import { VmExitedError, WaitTimeoutError } from "./errors.ts";

/**
 * How much output a log keeps at least: characters of text (it holds up to
 * twice as many before trimming), and at most this many bytes of raw chunks
 * for {@link SerialLog.readable} replays.
 */
export const RETAIN = 1 << 20;
/** A regular expression match may span at most this many characters before the newest chunk. */
export const MATCH_WINDOW = 64 << 10;
/**
 * Kept output is packed into blocks of this many bytes: a flood arrives in
 * small chunks (one per 2 ms flush of the vCPU worker), and a buffer per
 * chunk would cost several times its payload in object headers.
 */
export const BLOCK = 64 << 10;
/**
 * The kept text's small chunks are joined into one piece once they add up
 * to this many characters: soon enough that the chunks die young (the
 * collector then never copies them into the old generation to free them
 * there at the next full collection), large enough to hold few pieces.
 */
export const PIECE = 4 << 10;
/** The default limit of a wait, in milliseconds. */
export const DEFAULT_WAIT_MS = 30_000;
/** How many lines errors and reports show. */
export const LAST_LINES = 10;

/**
 * Options of a wait.
 *
 * @example
 * ```ts
 * import { Vm, type WaitOptions } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * const options: WaitOptions = { timeout: 60_000, signal: AbortSignal.timeout(90_000) };
 * await vm.serial.waitFor("login:", options);
 * ```
 */
export interface WaitOptions {
  /** Milliseconds to wait before rejecting with a {@link WaitTimeoutError}; default 30 000. */
  readonly timeout?: number;
  /** Aborts the wait, rejecting with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * What a serial wait matched.
 *
 * @example The output of a command
 * ```ts
 * import { type SerialMatch, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * await vm.serial.write("uname -r\n");
 * const m: SerialMatch = await vm.serial.waitFor(/(\S+)\r?\n# /);
 * console.log(m.captures[0], m.before);
 * ```
 */
export interface SerialMatch {
  /** The matched text. */
  readonly text: string;
  /** The output between the previous match (or the start) and this one. */
  readonly before: string;
  /** A regular expression's capture groups, in order (none for a string). */
  readonly captures: readonly (string | undefined)[];
}

interface Waiter {
  readonly pattern: string | RegExp;
  readonly from: number;
  /** Where the next search may start (absolute); earlier text was searched already. */
  scanned: number;
  /** Resolves with `match`, or rejects with `error` when there is none. */
  settle(match: SerialMatch | null, error?: unknown): void;
}

/** The output of one serial port. */
export class SerialLog {
  readonly #decoder = new TextDecoder();
  /**
   * The text kept, in pieces: trimming drops whole pieces instead of copying
   * megabytes, so a flood leaves little garbage. The decoded chunks are
   * appended as they come and the trailing small ones joined into one piece
   * once they add up to {@link PIECE} characters.
   */
  #pieces: string[] = [];
  /** How many pieces at the end are chunks not yet joined, and their characters. */
  #loose = 0;
  #looseLength = 0;
  /** Characters in {@link #pieces}. */
  #length = 0;
  /** Characters dropped from the front, before {@link #pieces}. */
  #dropped = 0;
  /** {@link #pieces} joined, until the next append. */
  #joined: string | null = "";
  /** The bytes kept, in {@link BLOCK}-byte blocks (the last one filling); kept from #blockStart. */
  #blocks: Uint8Array[] = [];
  #blockStart = 0;
  #blockEnd = 0;
  #keptBytes = 0;
  /** A block dropped from the front, to fill next (a flood then allocates none). */
  #spare: Uint8Array | null = null;
  #cursor = 0;
  readonly #waiters = new Set<Waiter>();
  readonly #streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #exit: GuestExit | null = null;
  #total = 0;

  /**
   * The output kept, decoded as UTF-8: everything while the run has sent
   * fewer than {@link RETAIN} characters, later the last {@link RETAIN} to
   * 2 × {@link RETAIN} of them.
   */
  get text(): string {
    this.#joined ??= this.#pieces.join("");
    return this.#joined;
  }

  /** Bytes received since the start. */
  get totalBytes(): number {
    return this.#total;
  }

  /** The last `n` lines, without line ends; a partial last line counts. */
  lastLines(n = LAST_LINES): string[] {
    const end = this.#dropped + this.#length;
    const tail = this.#slice(Math.max(this.#dropped, end - 8192), end);
    const lines = tail.split("\n").map((l) => l.replace(/\r+$/, ""));
    if (lines.at(-1) === "") lines.pop();
    if (tail.length < this.#length) lines.shift(); // probably cut
    return lines.slice(-n);
  }

  /** Takes a chunk the guest sent. */
  push(bytes: Uint8Array): void {
    if (this.#exit || bytes.length === 0) return;
    this.#total += bytes.length;
    this.#keep(bytes);
    for (const c of this.#streams) c.enqueue(bytes.slice());
    this.#append(this.#decoder.decode(bytes, { stream: true }));
  }

  /** The run ended: pending waits reject, streams close. */
  end(exit: GuestExit): void {
    if (this.#exit) return;
    this.#append(this.#decoder.decode());
    this.#exit = exit;
    for (const w of this.#waiters) {
      w.settle(null, new VmExitedError(exit, this.lastLines(), w.pattern));
    }
    for (const c of this.#streams) c.close();
    this.#streams.clear();
  }

  /**
   * A new stream of the output: what is kept so far (the last
   * {@link RETAIN} bytes, in chunks of up to {@link BLOCK} bytes), then
   * everything that follows, in chunks as they arrive, until the run ends.
   * Cancel it when done.
   */
  readable(): ReadableStream<Uint8Array> {
    let self: ReadableStreamDefaultController<Uint8Array>;
    return new ReadableStream<Uint8Array>({
      start: (c) => {
        self = c;
        this.#blocks.forEach((b, i) => {
          const end = i === this.#blocks.length - 1 ? this.#blockEnd : b.length;
          const start = i === 0 ? this.#blockStart : 0;
          if (end > start) c.enqueue(b.slice(start, end));
        });
        if (this.#exit) c.close();
        else this.#streams.add(c);
      },
      cancel: () => {
        this.#streams.delete(self);
      },
    });
  }

  /**
   * Resolves at the first match of `pattern` after the previous match, in
   * output already received or still to come.
   * @throws {WaitTimeoutError} when nothing matches in time
   * @throws {VmExitedError} when the run ends first
   */
  waitFor(pattern: string | RegExp, options: WaitOptions = {}): Promise<SerialMatch> {
    const timeout = options.timeout ?? DEFAULT_WAIT_MS;
    return new Promise<SerialMatch>((resolve, reject) => {
      options.signal?.throwIfAborted();
      const onAbort = () => waiter.settle(null, options.signal!.reason);
      const timer = Number.isFinite(timeout)
        ? setTimeout(
          () => waiter.settle(null, new WaitTimeoutError(pattern, timeout, this.lastLines())),
          timeout,
        )
        : undefined;
      const waiter: Waiter = {
        pattern,
        from: this.#cursor,
        scanned: this.#cursor,
        settle: (match, error) => {
          if (!this.#waiters.delete(waiter)) return;
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          if (match) resolve(match);
          else reject(error);
        },
      };
      this.#waiters.add(waiter);
      options.signal?.addEventListener("abort", onAbort);
      if (!this.#search(waiter) && this.#exit) {
        waiter.settle(null, new VmExitedError(this.#exit, this.lastLines(), pattern));
      }
    });
  }

  /** Copies `bytes` into the blocks, then drops what lies before the last {@link RETAIN}. */
  #keep(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      let last = this.#blocks.at(-1);
      if (!last || this.#blockEnd === last.length) {
        last = this.#spare ?? new Uint8Array(BLOCK);
        this.#spare = null;
        this.#blocks.push(last);
        this.#blockEnd = 0;
      }
      const n = Math.min(bytes.length - at, last.length - this.#blockEnd);
      last.set(bytes.subarray(at, at + n), this.#blockEnd);
      this.#blockEnd += n;
      at += n;
    }
    this.#keptBytes += bytes.length;
    let extra = this.#keptBytes - RETAIN;
    while (extra > 0) {
      const first = this.#blocks[0];
      const usable = (this.#blocks.length === 1 ? this.#blockEnd : first.length) - this.#blockStart;
      if (extra < usable) {
        this.#blockStart += extra;
        this.#keptBytes -= extra;
        break;
      }
      this.#spare = this.#blocks.shift()!;
      this.#blockStart = 0;
      this.#keptBytes -= usable;
      extra -= usable;
    }
  }

  #append(text: string): void {
    if (!text) return;
    this.#pieces.push(text);
    this.#length += text.length;
    this.#loose++;
    this.#looseLength += text.length;
    if (this.#looseLength >= PIECE) {
      // (A chunk that long on its own is a piece already.)
      if (this.#loose > 1) this.#pieces.push(this.#pieces.splice(-this.#loose).join(""));
      this.#loose = this.#looseLength = 0;
    }
    this.#joined = null;
    if (this.#length > 2 * RETAIN) this.#trim(this.#length - RETAIN);
    for (const w of [...this.#waiters]) this.#search(w);
  }

  /** Drops `count` characters from the front: whole pieces, then part of one. */
  #trim(count: number): void {
    let i = 0;
    let left = count;
    while (i < this.#pieces.length && left >= this.#pieces[i].length) {
      left -= this.#pieces[i++].length;
    }
    this.#pieces.splice(0, i);
    if (left > 0) this.#pieces[0] = this.#pieces[0].slice(left);
    // Trimming reached into the loose chunks: those left are still loose.
    this.#loose = Math.min(this.#loose, this.#pieces.length);
    if (this.#loose === this.#pieces.length) this.#looseLength = this.#length - count;
    this.#length -= count;
    this.#dropped += count;
  }

  /** The kept text from absolute position `from` to `to` (both within what is kept). */
  #slice(from: number, to: number): string {
    if (to <= from) return "";
    const parts: string[] = [];
    let pos = this.#dropped + this.#length; // end of the piece at i
    for (let i = this.#pieces.length - 1; i >= 0 && pos > from; i--) {
      const piece = this.#pieces[i];
      const start = pos - piece.length;
      if (start < to) {
        parts.push(piece.slice(Math.max(0, from - start), Math.min(piece.length, to - start)));
      }
      pos = start;
    }
    return parts.reverse().join("");
  }

  /** Looks for a waiter's pattern in the unsearched text; settles it on a match. */
  #search(w: Waiter): boolean {
    const end = this.#dropped + this.#length;
    const overlap = typeof w.pattern === "string" ? w.pattern.length - 1 : MATCH_WINDOW;
    let start = Math.max(w.from, this.#dropped, w.scanned - overlap);
    if (typeof w.pattern !== "string" && start > w.from) {
      // Start a regular expression's window at a line start, so ^ means one.
      // (looking back at most MATCH_WINDOW more: a longer line starts the window mid-line)
      const back = Math.max(w.from, this.#dropped, start - MATCH_WINDOW);
      const nl = this.#slice(back, start).lastIndexOf("\n");
      if (nl >= 0) start = back + nl + 1;
      else if (back === Math.max(w.from, this.#dropped)) start = back;
    }
    w.scanned = end;
    const region = this.#slice(start, end);
    let index: number;
    let text: string;
    let captures: (string | undefined)[] = [];
    if (typeof w.pattern === "string") {
      index = region.indexOf(w.pattern);
      text = w.pattern;
    } else {
      const m = new RegExp(w.pattern.source, w.pattern.flags.replace(/[gy]/g, "")).exec(region);
      index = m ? m.index : -1;
      text = m ? m[0] : "";
      captures = m ? m.slice(1) : [];
    }
    if (index < 0) return false;
    const at = start + index;
    const before = this.#slice(Math.max(w.from, this.#dropped), at);
    this.#cursor = Math.max(this.#cursor, at + text.length);
    w.settle({ text, before, captures });
    return true;
  }
}
