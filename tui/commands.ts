/**
 * vmrun's own keys: Ctrl-a (as in QEMU and screen) followed by a letter.
 * Everything else belongs to the guest.
 *
 * @module
 */

import type { KeyEvent, TermEvent } from "./key_parser.ts";

/** What vmrun can be asked to do from the keyboard. */
export type Action =
  | "help"
  | "focus"
  | "fullscreen"
  | "pause"
  | "reset"
  | "power-button"
  | "balloon-down"
  | "balloon-up"
  | "save"
  | "ctrl-alt-del"
  | "quit"
  | "toggle-screen"
  | "toggle-serial"
  | "toggle-stats"
  | "toggle-devices"
  | "send-prefix";

/** The key after Ctrl-a for each action, with its help line, in help order. */
export const COMMAND_KEYS: readonly { key: string; label: string; action: Action }[] = [
  { key: "?", label: "?  h", action: "help" },
  { key: "h", label: "", action: "help" },
  { key: "Tab", label: "Tab  c", action: "focus" },
  { key: "c", label: "", action: "focus" },
  { key: "f", label: "f", action: "fullscreen" },
  { key: "p", label: "p", action: "pause" },
  { key: "r", label: "r", action: "reset" },
  { key: "o", label: "o", action: "power-button" },
  { key: "-", label: "-", action: "balloon-down" },
  { key: "+", label: "+  =", action: "balloon-up" },
  { key: "=", label: "", action: "balloon-up" },
  { key: "s", label: "s", action: "save" },
  { key: "Delete", label: "Del  k", action: "ctrl-alt-del" },
  { key: "k", label: "", action: "ctrl-alt-del" },
  { key: "1", label: "1", action: "toggle-screen" },
  { key: "2", label: "2", action: "toggle-serial" },
  { key: "3", label: "3", action: "toggle-stats" },
  { key: "4", label: "4", action: "toggle-devices" },
  { key: "a", label: "a", action: "send-prefix" },
  { key: "x", label: "x  q", action: "quit" },
  { key: "q", label: "", action: "quit" },
];

/** What each action does, for the help overlay. */
export const ACTION_HELP: Record<Action, string> = {
  help: "show or hide the list of keys",
  focus: "keyboard to screen or serial",
  fullscreen: "panels off (focused pane alone) or on",
  pause: "pause or resume the guest",
  reset: "reset the guest",
  "power-button": "press the power button (an ACPI guest shuts down)",
  "balloon-down": "balloon: the guest keeps 1/8 of RAM less",
  "balloon-up": "balloon: the guest gets 1/8 of RAM back",
  save: "save the running VM to a file (vmrun --restore carries it on)",
  "ctrl-alt-del": "send Ctrl-Alt-Del",
  quit: "quit vmrun",
  "toggle-screen": "show or hide the screen pane",
  "toggle-serial": "show or hide the serial pane",
  "toggle-stats": "show or hide the stats pane",
  "toggle-devices": "show or hide the devices pane",
  "send-prefix": "send Ctrl-a to the guest",
};

/** Where an input event goes. */
export type Routed =
  | { readonly to: "guest"; readonly event: TermEvent }
  | { readonly to: "vmrun"; readonly action: Action }
  | { readonly to: "none" };

function isPrefix(ev: KeyEvent): boolean {
  return ev.ctrl && !ev.alt && ev.key === "a";
}

/** Separates vmrun's Ctrl-a commands from the guest's input; keeps the prefix across reads. */
export class CommandRouter {
  #armed = false;

  /** True between Ctrl-a and the key after it. */
  get armed(): boolean {
    return this.#armed;
  }

  /** Routes one event. */
  route(ev: TermEvent): Routed {
    if (!this.#armed) {
      if (ev.type === "key" && isPrefix(ev)) {
        this.#armed = true;
        return { to: "none" };
      }
      return { to: "guest", event: ev };
    }
    this.#armed = false;
    if (ev.type !== "key") return { to: "guest", event: ev };
    // Letters count in either case and with Ctrl held (Ctrl-a Ctrl-a sends Ctrl-a).
    const k = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    const hit = COMMAND_KEYS.find((c) => c.key === k);
    return hit ? { to: "vmrun", action: hit.action } : { to: "none" };
  }
}

/** The command keys as documentation rows: the keys after Ctrl-a (aliases together), what they do. */
export function commandKeyRows(): { keys: string[]; does: string }[] {
  return COMMAND_KEYS.filter((c) => c.label).map((c) => ({
    keys: c.label.split(/\s+/).map((k) => `Ctrl-a ${k}`),
    does: ACTION_HELP[c.action],
  }));
}
