import { deepStrictEqual, strictEqual, throws } from "node:assert";
import {
  comboToKeyStrokes,
  isKeyName,
  KEY_NAMES,
  KeyNameError,
  type KeyStroke,
  parseKeyCombo,
  scanCodes,
  textToKeyStrokes,
} from "./keymap.ts";

/** Strokes written compactly: "+KeyA" is down, "-KeyA" is up. */
function compact(strokes: KeyStroke[]): string[] {
  return strokes.map((s) => (s.down ? "+" : "-") + s.key);
}

Deno.test("keymap: covers the 104-key US keyboard plus the ISO key", () => {
  strictEqual(KEY_NAMES.length, 105);
  for (const name of ["KeyA", "Digit0", "F12", "Numpad9", "IntlBackslash", "ContextMenu"]) {
    strictEqual(isKeyName(name), true, name);
  }
  strictEqual(isKeyName("keya"), false);
  strictEqual(isKeyName("toString"), false);
});

Deno.test("keymap: plain keys follow the prefix rules of each set", () => {
  deepStrictEqual(scanCodes("KeyA", 1), { make: [0x1e], break: [0x9e] });
  deepStrictEqual(scanCodes("KeyA", 2), { make: [0x1c], break: [0xf0, 0x1c] });
  deepStrictEqual(scanCodes("KeyA", 3), { make: [0x1c], break: [0xf0, 0x1c] });
  deepStrictEqual(scanCodes("Escape", 1), { make: [0x01], break: [0x81] });
  deepStrictEqual(scanCodes("Escape", 2), { make: [0x76], break: [0xf0, 0x76] });
  deepStrictEqual(scanCodes("Escape", 3), { make: [0x08], break: [0xf0, 0x08] });
  deepStrictEqual(scanCodes("F7", 2), { make: [0x83], break: [0xf0, 0x83] });
});

Deno.test("keymap: extended keys carry E0 in sets 1 and 2 and none in set 3", () => {
  deepStrictEqual(scanCodes("ArrowUp", 1), { make: [0xe0, 0x48], break: [0xe0, 0xc8] });
  deepStrictEqual(scanCodes("ArrowUp", 2), { make: [0xe0, 0x75], break: [0xe0, 0xf0, 0x75] });
  deepStrictEqual(scanCodes("ArrowUp", 3), { make: [0x63], break: [0xf0, 0x63] });
  deepStrictEqual(scanCodes("ControlRight", 1), { make: [0xe0, 0x1d], break: [0xe0, 0x9d] });
  deepStrictEqual(scanCodes("MetaLeft", 2), { make: [0xe0, 0x1f], break: [0xe0, 0xf0, 0x1f] });
  deepStrictEqual(scanCodes("NumpadDivide", 3), { make: [0x77], break: [0xf0, 0x77] });
});

Deno.test("keymap: PrintScreen and Pause use their special sequences", () => {
  deepStrictEqual(scanCodes("PrintScreen", 1), {
    make: [0xe0, 0x2a, 0xe0, 0x37],
    break: [0xe0, 0xb7, 0xe0, 0xaa],
  });
  deepStrictEqual(scanCodes("PrintScreen", 2), {
    make: [0xe0, 0x12, 0xe0, 0x7c],
    break: [0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12],
  });
  deepStrictEqual(scanCodes("Pause", 1), {
    make: [0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5],
    break: [],
  });
  deepStrictEqual(scanCodes("Pause", 2), {
    make: [0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77],
    break: [],
  });
  deepStrictEqual(scanCodes("Pause", 3), { make: [0x62], break: [0xf0, 0x62] });
});

Deno.test("keymap: no two keys share a make code in any set", () => {
  for (const set of [1, 2, 3] as const) {
    const seen = new Map<string, string>();
    for (const key of KEY_NAMES) {
      const make = scanCodes(key, set).make.join(",");
      strictEqual(seen.get(make), undefined, `set ${set}: ${key} clashes with ${seen.get(make)}`);
      seen.set(make, key);
    }
  }
});

Deno.test("parseKeyCombo: names, aliases and order", () => {
  deepStrictEqual(parseKeyCombo("Ctrl+Alt+Delete"), ["ControlLeft", "AltLeft", "Delete"]);
  deepStrictEqual(parseKeyCombo("control+alt+del"), ["ControlLeft", "AltLeft", "Delete"]);
  deepStrictEqual(parseKeyCombo("Ctrl + Shift + Esc"), ["ControlLeft", "ShiftLeft", "Escape"]);
  deepStrictEqual(parseKeyCombo("Super+r"), ["MetaLeft", "KeyR"]);
  deepStrictEqual(parseKeyCombo("Win+R"), ["MetaLeft", "KeyR"]);
  deepStrictEqual(parseKeyCombo("Meta+Return"), ["MetaLeft", "Enter"]);
  deepStrictEqual(parseKeyCombo("Alt+F4"), ["AltLeft", "F4"]);
  deepStrictEqual(parseKeyCombo("f5"), ["F5"]);
  deepStrictEqual(parseKeyCombo("AltGr+q"), ["AltRight", "KeyQ"]);
  deepStrictEqual(parseKeyCombo("Shift+Up"), ["ShiftLeft", "ArrowUp"]);
  deepStrictEqual(parseKeyCombo("Ctrl+PgDn"), ["ControlLeft", "PageDown"]);
  deepStrictEqual(parseKeyCombo("Shift+Ins"), ["ShiftLeft", "Insert"]);
  deepStrictEqual(parseKeyCombo("ControlRight+arrowleft"), ["ControlRight", "ArrowLeft"]);
  deepStrictEqual(parseKeyCombo("Ctrl+1"), ["ControlLeft", "Digit1"]);
  deepStrictEqual(parseKeyCombo("Ctrl+/"), ["ControlLeft", "Slash"]);
  deepStrictEqual(parseKeyCombo("Left"), ["ArrowLeft"]);
});

Deno.test("parseKeyCombo: shifted characters bring Shift, once", () => {
  deepStrictEqual(parseKeyCombo("Ctrl+?"), ["ControlLeft", "ShiftLeft", "Slash"]);
  deepStrictEqual(parseKeyCombo("Ctrl++"), ["ControlLeft", "ShiftLeft", "Equal"]);
  deepStrictEqual(parseKeyCombo("Shift+!"), ["ShiftLeft", "Digit1"]);
  deepStrictEqual(parseKeyCombo("+"), ["ShiftLeft", "Equal"]);
  deepStrictEqual(parseKeyCombo("Ctrl+Control+c"), ["ControlLeft", "KeyC"]);
});

Deno.test("parseKeyCombo: unknown or empty names are refused clearly", () => {
  throws(
    () => parseKeyCombo("Ctrl+Foo"),
    (e: unknown) =>
      e instanceof KeyNameError && e.message === 'unknown key name "Foo" in "Ctrl+Foo"',
  );
  throws(() => parseKeyCombo(""), KeyNameError);
  throws(() => parseKeyCombo("Ctrl+"), /empty key name in combo "Ctrl\+"/);
  throws(() => parseKeyCombo("Ctrl+é"), /unknown key name "é"/);
});

Deno.test("comboToKeyStrokes: presses in order and releases in reverse", () => {
  deepStrictEqual(compact(comboToKeyStrokes("Ctrl+Alt+Del")), [
    "+ControlLeft",
    "+AltLeft",
    "+Delete",
    "-Delete",
    "-AltLeft",
    "-ControlLeft",
  ]);
});

Deno.test("textToKeyStrokes: US layout with Shift for shifted characters", () => {
  deepStrictEqual(compact(textToKeyStrokes("aB!")), [
    "+KeyA",
    "-KeyA",
    "+ShiftLeft",
    "+KeyB",
    "-KeyB",
    "-ShiftLeft",
    "+ShiftLeft",
    "+Digit1",
    "-Digit1",
    "-ShiftLeft",
  ]);
  deepStrictEqual(compact(textToKeyStrokes(" \t\b\x1b\n")), [
    "+Space",
    "-Space",
    "+Tab",
    "-Tab",
    "+Backspace",
    "-Backspace",
    "+Escape",
    "-Escape",
    "+Enter",
    "-Enter",
  ]);
  deepStrictEqual(textToKeyStrokes(""), []);
});

Deno.test("textToKeyStrokes: every printable ASCII character is typeable", () => {
  for (let c = 0x20; c < 0x7f; c++) {
    const strokes = textToKeyStrokes(String.fromCharCode(c));
    strictEqual(strokes.length === 2 || strokes.length === 4, true);
  }
  deepStrictEqual(compact(textToKeyStrokes("~")), [
    "+ShiftLeft",
    "+Backquote",
    "-Backquote",
    "-ShiftLeft",
  ]);
  deepStrictEqual(compact(textToKeyStrokes('"')), [
    "+ShiftLeft",
    "+Quote",
    "-Quote",
    "-ShiftLeft",
  ]);
});

Deno.test("textToKeyStrokes: \\r\\n is one Enter", () => {
  deepStrictEqual(compact(textToKeyStrokes("a\r\nb")), [
    "+KeyA",
    "-KeyA",
    "+Enter",
    "-Enter",
    "+KeyB",
    "-KeyB",
  ]);
});

Deno.test("textToKeyStrokes: names the first character it cannot type", () => {
  throws(
    () => textToKeyStrokes("héllo wörld"),
    (e: unknown) =>
      e instanceof KeyNameError &&
      e.message === 'cannot type character "é" (U+00E9) at index 1: not on a US keyboard',
  );
  throws(() => textToKeyStrokes("ok\x07"), /character U\+0007 at index 2/);
  throws(() => textToKeyStrokes("€"), /"€" \(U\+20AC\) at index 0/);
});
