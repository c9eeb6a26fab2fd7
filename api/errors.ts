/**
 * The errors the API throws: bad options, waits that time out, and waits or
 * inputs that meet a VM whose run has ended. Each carries what a test
 * report needs (the last lines the guest printed).
 *
 * @module
 */

import type { VmExit } from "./types.ts";

/**
 * Options that `Vm.start` refuses, with the same words the CLI uses.
 *
 * @example Catching a bad size
 * ```ts
 * import { Vm, VmOptionsError } from "../mod.ts";
 * try {
 *   await Vm.start({ disk: "guest.img", memory: "lots" });
 * } catch (e) {
 *   if (!(e instanceof VmOptionsError)) throw e;
 *   console.error(e.message);
 * }
 * ```
 */
export class VmOptionsError extends Error {
  /**
   * Creates the error.
   * @param message what is wrong, naming the option
   */
  constructor(message: string) {
    super(message);
    this.name = "VmOptionsError";
  }
}

/** How a pattern is shown in messages. */
export function describePattern(pattern: string | RegExp): string {
  return typeof pattern === "string" ? JSON.stringify(pattern) : String(pattern);
}

function withLines(head: string, lines: readonly string[], what: string): string {
  if (lines.length === 0) return `${head}; ${what}: (nothing)`;
  return `${head}; ${what}:\n${lines.map((l) => `  | ${l}`).join("\n")}`;
}

/**
 * A wait (serial, screen or `vm.waitForWatchdog`) that saw no match in time.
 *
 * @example Showing what the guest printed last
 * ```ts
 * import { Vm, WaitTimeoutError } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
 * try {
 *   await vm.serial.waitFor(/login:/, { timeout: 5_000 });
 * } catch (e) {
 *   if (e instanceof WaitTimeoutError) console.error(e.lastLines.join("\n"));
 *   throw e;
 * }
 * ```
 */
export class WaitTimeoutError extends Error {
  /**
   * Creates the error.
   * @param pattern what was awaited
   * @param timeoutMs how long it was awaited
   * @param lastLines the last lines seen (serial output or screen rows), oldest first
   * @param where "serial", "screen" or "watchdog" (lastLines are serial lines then)
   */
  constructor(
    readonly pattern: string | RegExp,
    readonly timeoutMs: number,
    readonly lastLines: readonly string[],
    readonly where: "serial" | "screen" | "watchdog" = "serial",
  ) {
    super(
      withLines(
        where === "watchdog"
          ? `no watchdog expiry within ${timeoutMs} ms`
          : `${describePattern(pattern)} not seen on the ${where} within ${timeoutMs} ms`,
        lastLines,
        where === "screen" ? "screen" : "last serial lines",
      ),
    );
    this.name = "WaitTimeoutError";
  }
}

/**
 * The VM's run ended while something waited on it or wanted to reach it.
 *
 * @example Telling an early exit from a timeout
 * ```ts
 * import { Vm, VmExitedError } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
 * try {
 *   await vm.serial.waitFor("ready");
 * } catch (e) {
 *   if (e instanceof VmExitedError) console.error(`ended: ${e.exit.reason} ${e.exit.code}`);
 *   throw e;
 * }
 * ```
 */
export class VmExitedError extends Error {
  /**
   * Creates the error.
   * @param exit how the run ended
   * @param lastLines the last serial lines, oldest first
   * @param waitingFor the pattern that was awaited, if any
   */
  constructor(
    readonly exit: VmExit,
    readonly lastLines: readonly string[],
    readonly waitingFor?: string | RegExp,
  ) {
    const head = `the VM's run ended (${exit.reason}, status ${exit.code})` +
      (waitingFor === undefined ? "" : ` before ${describePattern(waitingFor)} was seen`);
    super(withLines(head, lastLines, "last serial lines"));
    this.name = "VmExitedError";
  }
}
