import { deepStrictEqual } from "node:assert";
import type { KeyStroke } from "../devices/keymap.ts";
import type { KeyEvent } from "./key_parser.ts";
import { keyEventToStrokes, pasteToStrokes } from "./key_strokes.ts";

function ev(key: string, mods: Partial<KeyEvent> = {}): KeyEvent {
  return {
    type: "key",
    key,
    ctrl: false,
    alt: false,
    shift: false,
    raw: new Uint8Array(),
    ...mods,
  };
}

const show = (s: KeyStroke[]) => s.map((k) => `${k.down ? "+" : "-"}${k.key}`).join(" ");

Deno.test("characters type through the US layout, with Shift when needed", () => {
  deepStrictEqual(show(keyEventToStrokes(ev("a"))), "+KeyA -KeyA");
  deepStrictEqual(show(keyEventToStrokes(ev("A"))), "+ShiftLeft +KeyA -KeyA -ShiftLeft");
  deepStrictEqual(show(keyEventToStrokes(ev("!"))), "+ShiftLeft +Digit1 -Digit1 -ShiftLeft");
  deepStrictEqual(show(keyEventToStrokes(ev("7"))), "+Digit7 -Digit7");
  deepStrictEqual(show(keyEventToStrokes(ev(" "))), "+Space -Space");
});

Deno.test("named keys and modifiers held around them", () => {
  deepStrictEqual(show(keyEventToStrokes(ev("Enter"))), "+Enter -Enter");
  deepStrictEqual(show(keyEventToStrokes(ev("F12"))), "+F12 -F12");
  deepStrictEqual(
    show(keyEventToStrokes(ev("c", { ctrl: true }))),
    "+ControlLeft +KeyC -KeyC -ControlLeft",
  );
  deepStrictEqual(
    show(keyEventToStrokes(ev("x", { alt: true }))),
    "+AltLeft +KeyX -KeyX -AltLeft",
  );
  deepStrictEqual(
    show(keyEventToStrokes(ev("ArrowLeft", { ctrl: true, shift: true }))),
    "+ControlLeft +ShiftLeft +ArrowLeft -ArrowLeft -ShiftLeft -ControlLeft",
  );
  deepStrictEqual(
    show(keyEventToStrokes(ev("Tab", { shift: true }))),
    "+ShiftLeft +Tab -Tab -ShiftLeft",
  );
});

Deno.test("keys with no PS/2 key give no strokes", () => {
  deepStrictEqual(keyEventToStrokes(ev("é")), []);
  deepStrictEqual(keyEventToStrokes(ev("Numpad9x")), []);
});

Deno.test("pasted text becomes one stroke group per character; CRLF is one Enter", () => {
  const groups = pasteToStrokes("Hi\r\nyé\n");
  deepStrictEqual(groups.map(show), [
    "+ShiftLeft +KeyH -KeyH -ShiftLeft",
    "+KeyI -KeyI",
    "+Enter -Enter",
    "+KeyY -KeyY",
    "+Enter -Enter",
  ]);
});
