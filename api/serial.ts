/**
 * COM1 seen from the API: a byte stream of the guest's output, expect-style
 * waits, and input.
 *
 * @module
 */

import type { SerialLog, SerialMatch, WaitOptions } from "./serial_log.ts";

/** Bytes per message to the vCPU worker (its mailbox holds 64 KiB of JSON). */
const BYTES_PER_MESSAGE = 4096;

/**
 * A VM's first serial port (COM1).
 *
 * @example Logging in over the serial console
 * ```ts
 * import { Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
 * await vm.serial.waitFor(/login:/, { timeout: 30_000 });
 * await vm.serial.write("root\n");
 * const { before } = await vm.serial.waitFor("# ");
 * console.log(before);
 * ```
 */
export class SerialConsole {
  readonly #log: SerialLog;
  readonly #send: (bytes: Uint8Array) => void;

  /**
   * Creates a serial port view (a VM makes its own).
   * @param log the port's output
   * @param send hands input bytes to the machine
   */
  constructor(log: SerialLog, send: (bytes: Uint8Array) => void) {
    this.#log = log;
    this.#send = send;
  }

  /**
   * A new stream of everything the guest sends: the output so far (its
   * last 1 MiB, see `RETAIN` in serial_log.ts), then the rest until the run
   * ends. Each read gets its own stream; cancel it when done.
   *
   * @example Copying the guest's output to stdout
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * vm.serial.readable.pipeTo(Deno.stdout.writable, { preventClose: true });
   * await vm.exited;
   * ```
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#log.readable();
  }

  /**
   * Resolves at the first match of `pattern` (a string, or a RegExp matched
   * against the text decoded as UTF-8) after the previous match, whether the
   * output came before the call or comes later, in one chunk or several.
   * Default timeout 30 s.
   * @throws {WaitTimeoutError} with the last lines seen, when nothing matches in time
   * @throws {VmExitedError} with the last lines seen, when the run ends first
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * const m = await vm.serial.waitFor(/Linux version (\S+)/, { timeout: 60_000 });
   * console.log(`kernel ${m.captures[0]}`);
   * ```
   */
  waitFor(pattern: string | RegExp, options?: WaitOptions): Promise<SerialMatch> {
    return this.#log.waitFor(pattern, options);
  }

  /**
   * Sends text (as UTF-8) or bytes to the guest's serial receiver.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.serial.write("uname -a\n");
   * await vm.serial.write(new Uint8Array([0x03])); // Ctrl-C
   * ```
   */
  write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    for (let i = 0; i < bytes.length; i += BYTES_PER_MESSAGE) {
      this.#send(bytes.subarray(i, i + BYTES_PER_MESSAGE));
    }
    return Promise.resolve();
  }

  /**
   * What the guest sent, decoded as UTF-8: everything up to 1 Mi characters;
   * past that the last 1 to 2 Mi characters (the log is a bounded ring, see
   * `RETAIN` in serial_log.ts).
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.exited;
   * console.log(vm.serial.text());
   * ```
   */
  text(): string {
    return this.#log.text;
  }

  /**
   * The last `n` lines the guest sent (default 10), oldest first.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.exited;
   * console.log(vm.serial.lastLines(3).join("\n"));
   * ```
   */
  lastLines(n?: number): string[] {
    return this.#log.lastLines(n);
  }
}
