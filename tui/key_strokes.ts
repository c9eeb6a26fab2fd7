/**
 * Key events from the terminal to PS/2 key strokes for the guest's
 * keyboard: characters through the US layout (Shift where the character
 * needs it), named keys by their key names, Ctrl/Alt/Shift held around.
 *
 * @module
 */

import { isKeyName, type KeyName, type KeyStroke, textToKeyStrokes } from "../devices/keymap.ts";
import type { KeyEvent } from "./key_parser.ts";

/** The strokes that type `ev` on the guest's keyboard, or [] when it has no PS/2 key. */
export function keyEventToStrokes(ev: KeyEvent): KeyStroke[] {
  let core: KeyStroke[];
  if (ev.key.length === 1 && ev.key >= " " && ev.key <= "~") {
    // A letter with Ctrl is the letter's key, whatever case the terminal gave.
    const ch = ev.ctrl && /[A-Z]/.test(ev.key) ? ev.key.toLowerCase() : ev.key;
    core = textToKeyStrokes(ch);
  } else if (isKeyName(ev.key)) {
    const k: KeyName = ev.key;
    core = [{ key: k, down: true }, { key: k, down: false }];
  } else {
    return [];
  }
  const held: KeyName[] = [];
  if (ev.ctrl) held.push("ControlLeft");
  if (ev.alt) held.push("AltLeft");
  // Shift is already part of a character that needs it.
  if (ev.shift && !core.some((s) => s.key === "ShiftLeft")) held.push("ShiftLeft");
  return [
    ...held.map((key) => ({ key, down: true })),
    ...core,
    ...held.toReversed().map((key) => ({ key, down: false })),
  ];
}

/** The strokes that type `text` on a US keyboard, skipping characters it has no key for. */
export function pasteToStrokes(text: string): KeyStroke[][] {
  const out: KeyStroke[][] = [];
  let last = "";
  for (const ch of text) {
    // "\r\n" is one Enter.
    if (ch === "\n" && last === "\r") continue;
    last = ch;
    try {
      out.push(textToKeyStrokes(ch === "\n" ? "\r" : ch));
    } catch {
      // Characters with no US key (é, emoji) cannot be typed on PS/2.
    }
  }
  return out;
}
