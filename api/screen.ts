/**
 * The VGA text screen seen from the API: the latest text, fresh reads, and
 * waits that poll the screen until a pattern shows up.
 *
 * @module
 */

import type { ScreenState } from "./types.ts";
import { WaitTimeoutError } from "./errors.ts";
import { DEFAULT_WAIT_MS, type WaitOptions } from "./serial_log.ts";

/** How often a screen wait looks again, in milliseconds. */
export const SCREEN_POLL_MS = 100;

/** Reads the screen now; null once the machine has stopped. */
export type ScreenReader = () => Promise<ScreenState | null>;

/** The non-empty rows of a screen text, for messages. */
export function screenLines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

/**
 * A VM's text screen (80×25 and the other VGA text modes; graphics modes
 * read as "").
 *
 * @example Waiting for the firmware's banner
 * ```ts
 * import { Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
 * const text = await vm.screen.waitForText(/SeaBIOS/, { timeout: 10_000 });
 * console.log(text.split("\n")[0]);
 * ```
 */
export class Screen {
  readonly #read: ScreenReader;
  readonly #ended: (pattern: string | RegExp) => Error;
  #last: ScreenState | null = null;

  /**
   * Creates a screen view (a VM makes its own).
   * @param read takes a fresh screen state from the machine
   * @param ended the error for a wait that the end of the run cuts short
   */
  constructor(read: ScreenReader, ended: (pattern: string | RegExp) => Error) {
    this.#read = read;
    this.#ended = ended;
  }

  /**
   * The screen's text as last read (by {@link read}, a wait, or the VM's
   * background refresh a few times a second): rows joined by "\n", trailing
   * spaces trimmed. Use {@link read} for the screen of this very moment.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.screen.waitForText("login:");
   * console.log(vm.screen.text());
   * ```
   */
  text(): string {
    return this.#last?.text ?? "";
  }

  /**
   * The whole screen state as last read (cells, cursor, palette), or null
   * before the first read.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.screen.read();
   * console.log(vm.screen.state()?.cursor);
   * ```
   */
  state(): ScreenState | null {
    return this.#last;
  }

  /**
   * Reads the screen now and returns its text (the last text seen once the
   * run has ended).
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.keyboard.type("ls\n");
   * console.log(await vm.screen.read());
   * ```
   */
  async read(): Promise<string> {
    const state = await this.#read().catch(() => null);
    if (state) this.#last = state;
    return this.text();
  }

  /**
   * Resolves with the screen text once it contains `pattern`.
   * @throws {WaitTimeoutError} (with the screen's rows) when it does not appear in time
   * @throws {VmExitedError} when the run ends first; the signal's reason on abort
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.screen.waitForText("Welcome", { timeout: 10_000 });
   * ```
   */
  async waitForText(pattern: string | RegExp, options: WaitOptions = {}): Promise<string> {
    const timeout = options.timeout ?? DEFAULT_WAIT_MS;
    const deadline = Date.now() + timeout;
    const re = typeof pattern === "string"
      ? null
      : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
    for (;;) {
      options.signal?.throwIfAborted();
      const state = await this.#read().catch(() => null);
      if (state) this.#last = state;
      const text = this.text();
      if (re ? re.test(text) : text.includes(pattern as string)) return text;
      if (!state) throw this.#ended(pattern);
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(pattern, timeout, screenLines(text), "screen");
      await new Promise((r) => setTimeout(r, Math.min(SCREEN_POLL_MS, left)));
    }
  }
}
