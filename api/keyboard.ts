/**
 * The PS/2 keyboard seen from the API: text typed on a US layout and key
 * combinations, validated before anything reaches the guest.
 *
 * @module
 */

import { comboToKeyStrokes, textToKeyStrokes } from "../devices/keymap.ts";
import type { KeyStroke } from "./types.ts";

/** Strokes per message to the vCPU worker (its mailbox holds 64 KiB). */
const STROKES_PER_MESSAGE = 256;

/**
 * A VM's keyboard.
 *
 * @example Logging in on the console
 * ```ts
 * import { Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
 * await vm.screen.waitForText("login:");
 * await vm.keyboard.type("root\n");
 * await vm.keyboard.press("Ctrl+Alt+Delete");
 * ```
 */
export class Keyboard {
  readonly #send: (strokes: readonly KeyStroke[]) => void;

  /**
   * Creates a keyboard view (a VM makes its own).
   * @param send hands strokes to the machine, in order
   */
  constructor(send: (strokes: readonly KeyStroke[]) => void) {
    this.#send = send;
  }

  /**
   * Types `text`: printable ASCII, "\n" (Enter), "\t", "\b" and "\x1b"
   * (Escape), with Shift where a US keyboard needs it.
   * @throws {KeyNameError} (as a rejection) naming the first character that cannot be
   * typed; nothing is sent then
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.keyboard.type("ls -l\n");
   * ```
   */
  type(text: string): Promise<void> {
    return attempt(() => this.keys(textToKeyStrokes(text)));
  }

  /**
   * Presses a combination such as "Ctrl+Alt+Delete", "Shift+F10" or "Esc",
   * then releases it.
   * @throws {KeyNameError} (as a rejection) for an unknown key name; nothing is sent then
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.keyboard.press("Ctrl+C");
   * ```
   */
  press(combo: string): Promise<void> {
    return attempt(() => this.keys(comboToKeyStrokes(combo)));
  }

  /**
   * Sends key strokes as they are, in order.
   *
   * @example Holding Shift over two keys
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.keyboard.keys([
   *   { key: "ShiftLeft", down: true },
   *   { key: "KeyA", down: true },
   *   { key: "KeyA", down: false },
   *   { key: "ShiftLeft", down: false },
   * ]);
   * ```
   */
  keys(strokes: readonly KeyStroke[]): Promise<void> {
    for (let i = 0; i < strokes.length; i += STROKES_PER_MESSAGE) {
      this.#send(strokes.slice(i, i + STROKES_PER_MESSAGE));
    }
    return Promise.resolve();
  }
}

/** Runs `f`, turning a synchronous throw into a rejection. */
function attempt(f: () => Promise<void>): Promise<void> {
  try {
    return f();
  } catch (e) {
    return Promise.reject(e);
  }
}
