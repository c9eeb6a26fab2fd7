/**
 * Key names and their PC keyboard scan codes, plus the helpers the TUI and
 * the scripting API use to turn "Ctrl+Alt+Delete" or a string of text into
 * key presses.
 *
 * Keys are named by their W3C UI Events `code` value (the physical key, not
 * the character it produces), so "KeyQ" is the key left of W on any layout.
 * Scan codes are the make/break sequences of an MF2 keyboard in sets 1, 2
 * and 3. Two keys are special: PrintScreen sends a fake-shift sequence in
 * sets 1 and 2, and Pause sends one 6- or 8-byte sequence on press and
 * nothing on release. The modifier-dependent variants of a real keyboard
 * (SysRq for Alt+PrintScreen, Break for Ctrl+Pause, the fake shifts around
 * the grey navigation keys) are not produced; operating systems accept the
 * plain sequences.
 *
 * @module
 */

/** Scan code set of a PS/2 keyboard. */
export type ScanCodeSet = 1 | 2 | 3;

/** An extended (0xE0-prefixed) code in the tables below. */
const E = 0xe000;

// [set 1, set 2, set 3] make codes; E | c means the sequence E0 c.
const KEYS = {
  Escape: [0x01, 0x76, 0x08],
  Digit1: [0x02, 0x16, 0x16],
  Digit2: [0x03, 0x1e, 0x1e],
  Digit3: [0x04, 0x26, 0x26],
  Digit4: [0x05, 0x25, 0x25],
  Digit5: [0x06, 0x2e, 0x2e],
  Digit6: [0x07, 0x36, 0x36],
  Digit7: [0x08, 0x3d, 0x3d],
  Digit8: [0x09, 0x3e, 0x3e],
  Digit9: [0x0a, 0x46, 0x46],
  Digit0: [0x0b, 0x45, 0x45],
  Minus: [0x0c, 0x4e, 0x4e],
  Equal: [0x0d, 0x55, 0x55],
  Backspace: [0x0e, 0x66, 0x66],
  Tab: [0x0f, 0x0d, 0x0d],
  KeyQ: [0x10, 0x15, 0x15],
  KeyW: [0x11, 0x1d, 0x1d],
  KeyE: [0x12, 0x24, 0x24],
  KeyR: [0x13, 0x2d, 0x2d],
  KeyT: [0x14, 0x2c, 0x2c],
  KeyY: [0x15, 0x35, 0x35],
  KeyU: [0x16, 0x3c, 0x3c],
  KeyI: [0x17, 0x43, 0x43],
  KeyO: [0x18, 0x44, 0x44],
  KeyP: [0x19, 0x4d, 0x4d],
  BracketLeft: [0x1a, 0x54, 0x54],
  BracketRight: [0x1b, 0x5b, 0x5b],
  Enter: [0x1c, 0x5a, 0x5a],
  ControlLeft: [0x1d, 0x14, 0x11],
  KeyA: [0x1e, 0x1c, 0x1c],
  KeyS: [0x1f, 0x1b, 0x1b],
  KeyD: [0x20, 0x23, 0x23],
  KeyF: [0x21, 0x2b, 0x2b],
  KeyG: [0x22, 0x34, 0x34],
  KeyH: [0x23, 0x33, 0x33],
  KeyJ: [0x24, 0x3b, 0x3b],
  KeyK: [0x25, 0x42, 0x42],
  KeyL: [0x26, 0x4b, 0x4b],
  Semicolon: [0x27, 0x4c, 0x4c],
  Quote: [0x28, 0x52, 0x52],
  Backquote: [0x29, 0x0e, 0x0e],
  ShiftLeft: [0x2a, 0x12, 0x12],
  Backslash: [0x2b, 0x5d, 0x5c],
  KeyZ: [0x2c, 0x1a, 0x1a],
  KeyX: [0x2d, 0x22, 0x22],
  KeyC: [0x2e, 0x21, 0x21],
  KeyV: [0x2f, 0x2a, 0x2a],
  KeyB: [0x30, 0x32, 0x32],
  KeyN: [0x31, 0x31, 0x31],
  KeyM: [0x32, 0x3a, 0x3a],
  Comma: [0x33, 0x41, 0x41],
  Period: [0x34, 0x49, 0x49],
  Slash: [0x35, 0x4a, 0x4a],
  ShiftRight: [0x36, 0x59, 0x59],
  NumpadMultiply: [0x37, 0x7c, 0x7e],
  AltLeft: [0x38, 0x11, 0x19],
  Space: [0x39, 0x29, 0x29],
  CapsLock: [0x3a, 0x58, 0x14],
  F1: [0x3b, 0x05, 0x07],
  F2: [0x3c, 0x06, 0x0f],
  F3: [0x3d, 0x04, 0x17],
  F4: [0x3e, 0x0c, 0x1f],
  F5: [0x3f, 0x03, 0x27],
  F6: [0x40, 0x0b, 0x2f],
  F7: [0x41, 0x83, 0x37],
  F8: [0x42, 0x0a, 0x3f],
  F9: [0x43, 0x01, 0x47],
  F10: [0x44, 0x09, 0x4f],
  NumLock: [0x45, 0x77, 0x76],
  ScrollLock: [0x46, 0x7e, 0x5f],
  Numpad7: [0x47, 0x6c, 0x6c],
  Numpad8: [0x48, 0x75, 0x75],
  Numpad9: [0x49, 0x7d, 0x7d],
  NumpadSubtract: [0x4a, 0x7b, 0x84],
  Numpad4: [0x4b, 0x6b, 0x6b],
  Numpad5: [0x4c, 0x73, 0x73],
  Numpad6: [0x4d, 0x74, 0x74],
  NumpadAdd: [0x4e, 0x79, 0x7c],
  Numpad1: [0x4f, 0x69, 0x69],
  Numpad2: [0x50, 0x72, 0x72],
  Numpad3: [0x51, 0x7a, 0x7a],
  Numpad0: [0x52, 0x70, 0x70],
  NumpadDecimal: [0x53, 0x71, 0x71],
  IntlBackslash: [0x56, 0x61, 0x13],
  F11: [0x57, 0x78, 0x56],
  F12: [0x58, 0x07, 0x5e],
  NumpadEnter: [E | 0x1c, E | 0x5a, 0x79],
  ControlRight: [E | 0x1d, E | 0x14, 0x58],
  NumpadDivide: [E | 0x35, E | 0x4a, 0x77],
  PrintScreen: [E | 0x37, E | 0x7c, 0x57],
  AltRight: [E | 0x38, E | 0x11, 0x39],
  Pause: [0, 0, 0x62],
  Home: [E | 0x47, E | 0x6c, 0x6e],
  ArrowUp: [E | 0x48, E | 0x75, 0x63],
  PageUp: [E | 0x49, E | 0x7d, 0x6f],
  ArrowLeft: [E | 0x4b, E | 0x6b, 0x61],
  ArrowRight: [E | 0x4d, E | 0x74, 0x6a],
  End: [E | 0x4f, E | 0x69, 0x65],
  ArrowDown: [E | 0x50, E | 0x72, 0x60],
  PageDown: [E | 0x51, E | 0x7a, 0x6d],
  Insert: [E | 0x52, E | 0x70, 0x67],
  Delete: [E | 0x53, E | 0x71, 0x64],
  MetaLeft: [E | 0x5b, E | 0x1f, 0x8b],
  MetaRight: [E | 0x5c, E | 0x27, 0x8c],
  ContextMenu: [E | 0x5d, E | 0x2f, 0x8d],
} as const satisfies Record<string, readonly [number, number, number]>;

/** A physical key, named by its W3C UI Events `code` value ("KeyA", "ShiftLeft", "Numpad5"). */
export type KeyName = keyof typeof KEYS;

/** Every key this keyboard has, in set-1 order. */
export const KEY_NAMES: readonly KeyName[] = Object.freeze(Object.keys(KEYS) as KeyName[]);

/** True when `name` is exactly a {@link KeyName}. */
export function isKeyName(name: string): name is KeyName {
  return Object.hasOwn(KEYS, name);
}

/** The make and break byte sequences of one key in one scan code set. */
export interface ScanCodes {
  /** Sent when the key goes down (and again on each typematic repeat). */
  readonly make: readonly number[];
  /** Sent when the key comes up; empty for Pause in sets 1 and 2. */
  readonly break: readonly number[];
}

// PrintScreen and Pause do not follow the prefix rules.
const SPECIAL: Partial<Record<KeyName, readonly [ScanCodes, ScanCodes]>> = {
  PrintScreen: [
    { make: [0xe0, 0x2a, 0xe0, 0x37], break: [0xe0, 0xb7, 0xe0, 0xaa] },
    { make: [0xe0, 0x12, 0xe0, 0x7c], break: [0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12] },
  ],
  Pause: [
    { make: [0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5], break: [] },
    { make: [0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77], break: [] },
  ],
};

/**
 * The make and break sequences of `key` in scan code `set`. In set 3 the
 * break is always `F0 code`; whether a set-3 key actually sends it depends
 * on the keyboard's per-key mode, which the keyboard decides.
 */
export function scanCodes(key: KeyName, set: ScanCodeSet): ScanCodes {
  const code = KEYS[key][set - 1];
  if (set === 3) return { make: [code], break: [0xf0, code] };
  const special = SPECIAL[key];
  if (special) return special[set - 1];
  const extended = code >= E;
  const low = code & 0xff;
  const prefix = extended ? [0xe0] : [];
  if (set === 1) return { make: [...prefix, low], break: [...prefix, low | 0x80] };
  return { make: [...prefix, low], break: [...prefix, 0xf0, low] };
}

/** The single set-3 code of `key` (set 3 has no prefixes). */
export function set3Code(key: KeyName): number {
  return KEYS[key][2];
}

/** Thrown for a key name, combo or character that cannot be turned into keys. */
export class KeyNameError extends Error {
  /** @param message what could not be understood, quoting it */
  constructor(message: string) {
    super(message);
    this.name = "KeyNameError";
  }
}

/** One key event: the key goes down or comes up. */
export interface KeyStroke {
  readonly key: KeyName;
  readonly down: boolean;
}

interface Typed {
  key: KeyName;
  shift: boolean;
}

/** Characters of the US layout: the key and whether Shift is needed. */
const US_LAYOUT: ReadonlyMap<string, Typed> = (() => {
  const map = new Map<string, Typed>();
  const add = (chars: string, keys: KeyName[]) => {
    // `chars` holds the unshifted characters, then the shifted ones.
    const half = keys.length;
    for (let i = 0; i < chars.length; i++) {
      map.set(chars[i], { key: keys[i % half], shift: i >= half });
    }
  };
  const letters = "abcdefghijklmnopqrstuvwxyz";
  add(
    letters + letters.toUpperCase(),
    [...letters.toUpperCase()].map((c) => `Key${c}` as KeyName),
  );
  add("1234567890!@#$%^&*()", [
    "Digit1",
    "Digit2",
    "Digit3",
    "Digit4",
    "Digit5",
    "Digit6",
    "Digit7",
    "Digit8",
    "Digit9",
    "Digit0",
  ]);
  add("-=[]\\;',./`_+{}|:\"<>?~", [
    "Minus",
    "Equal",
    "BracketLeft",
    "BracketRight",
    "Backslash",
    "Semicolon",
    "Quote",
    "Comma",
    "Period",
    "Slash",
    "Backquote",
  ]);
  map.set(" ", { key: "Space", shift: false });
  map.set("\n", { key: "Enter", shift: false });
  map.set("\r", { key: "Enter", shift: false });
  map.set("\t", { key: "Tab", shift: false });
  map.set("\b", { key: "Backspace", shift: false });
  map.set("\x1b", { key: "Escape", shift: false });
  return map;
})();

/** Friendly names for keys, lower-case; exact KeyNames are accepted case-insensitively too. */
const ALIASES: ReadonlyMap<string, KeyName> = new Map<string, KeyName>([
  ["ctrl", "ControlLeft"],
  ["control", "ControlLeft"],
  ["lctrl", "ControlLeft"],
  ["rctrl", "ControlRight"],
  ["alt", "AltLeft"],
  ["lalt", "AltLeft"],
  ["ralt", "AltRight"],
  ["altgr", "AltRight"],
  ["shift", "ShiftLeft"],
  ["lshift", "ShiftLeft"],
  ["rshift", "ShiftRight"],
  ["meta", "MetaLeft"],
  ["super", "MetaLeft"],
  ["win", "MetaLeft"],
  ["windows", "MetaLeft"],
  ["cmd", "MetaLeft"],
  ["menu", "ContextMenu"],
  ["apps", "ContextMenu"],
  ["del", "Delete"],
  ["esc", "Escape"],
  ["return", "Enter"],
  ["up", "ArrowUp"],
  ["down", "ArrowDown"],
  ["left", "ArrowLeft"],
  ["right", "ArrowRight"],
  ["pgup", "PageUp"],
  ["pgdn", "PageDown"],
  ["pagedn", "PageDown"],
  ["ins", "Insert"],
  ["bs", "Backspace"],
  ["caps", "CapsLock"],
  ["prtsc", "PrintScreen"],
  ["print", "PrintScreen"],
  ["sysrq", "PrintScreen"],
  ["break", "Pause"],
]);

const LOWER_KEY_NAMES: ReadonlyMap<string, KeyName> = new Map(
  KEY_NAMES.map((k) => [k.toLowerCase(), k]),
);

/** The keys one combo part stands for: a name, an alias, or one character (Shift added if needed). */
function comboPart(part: string, combo: string): KeyName[] {
  if (part.length === 1) {
    const typed = US_LAYOUT.get(part);
    // Letters name the key itself: "Ctrl+C" and "Ctrl+c" are the same combo.
    if (typed && /[a-zA-Z]/.test(part)) return [typed.key];
    if (typed && part.trim() !== "") return typed.shift ? ["ShiftLeft", typed.key] : [typed.key];
  }
  const lower = part.toLowerCase();
  const key = ALIASES.get(lower) ?? LOWER_KEY_NAMES.get(lower);
  if (key) return [key];
  throw new KeyNameError(
    part === "" ? `empty key name in combo "${combo}"` : `unknown key name "${part}" in "${combo}"`,
  );
}

/**
 * Parses a key combination such as "Ctrl+Alt+Delete", "Shift+F10" or
 * "Ctrl+/" into the keys to press in order (and release in reverse order).
 * Parts are separated by "+" ("Ctrl++" means Ctrl and the "+" key, which
 * adds Shift). A part is a KeyName in any case, an alias (Ctrl, Control,
 * Alt, AltGr, Shift, Meta/Super/Win, Del, Esc, Return, Up/Down/Left/Right,
 * PgUp/PgDn, Ins, ...), or a single US-layout character; a character that
 * needs Shift brings ShiftLeft in before it. Repeated keys are kept once.
 *
 * @throws {KeyNameError} naming the first part that is not a key
 */
export function parseKeyCombo(combo: string): KeyName[] {
  const trimmed = combo.trim();
  if (trimmed === "") throw new KeyNameError("empty key combo");
  const parts: string[] = [];
  let rest = trimmed;
  for (;;) {
    // A "+" right after a separator (or at the start) is the key itself.
    const at = rest.indexOf("+", 1);
    if (at < 0) {
      parts.push(rest.trim());
      break;
    }
    parts.push(rest.slice(0, at).trim());
    rest = rest.slice(at + 1).trimStart();
    if (rest === "") {
      parts.push("");
      break;
    }
  }
  const keys: KeyName[] = [];
  for (const part of parts) {
    for (const key of comboPart(part, combo)) if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/** The strokes of a combo: every key down in order, then up in reverse order. */
export function comboToKeyStrokes(combo: string): KeyStroke[] {
  const keys = parseKeyCombo(combo);
  return [
    ...keys.map((key) => ({ key, down: true })),
    ...keys.toReversed().map((key) => ({ key, down: false })),
  ];
}

/** How a character is named in an error: the character itself, or its escape for controls. */
function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return cp < 0x20 || cp === 0x7f ? hex : `"${ch}" (${hex})`;
}

/**
 * Turns text into key strokes on a US layout: printable ASCII, "\n" and "\r"
 * (Enter, with "\r\n" counted once), "\t" (Tab), "\b" (Backspace) and "\x1b"
 * (Escape). Each character is pressed and released; characters that need
 * Shift are wrapped in ShiftLeft down/up.
 *
 * @throws {KeyNameError} naming the first character that cannot be typed and its index
 */
export function textToKeyStrokes(text: string): KeyStroke[] {
  const strokes: KeyStroke[] = [];
  let index = 0;
  for (const ch of text) {
    const typed = US_LAYOUT.get(ch);
    if (!typed) {
      throw new KeyNameError(
        `cannot type character ${describeChar(ch)} at index ${index}: not on a US keyboard`,
      );
    }
    const crlf = ch === "\n" && text[index - 1] === "\r";
    index += ch.length;
    if (crlf) continue;
    if (typed.shift) strokes.push({ key: "ShiftLeft", down: true });
    strokes.push({ key: typed.key, down: true }, { key: typed.key, down: false });
    if (typed.shift) strokes.push({ key: "ShiftLeft", down: false });
  }
  return strokes;
}
