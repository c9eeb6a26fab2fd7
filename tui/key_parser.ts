/**
 * Terminal input bytes to key events: control characters, UTF-8, CSI and SS3
 * sequences (xterm, VT220 and Linux console styles, with xterm's modifier
 * parameter), Alt as an ESC prefix, and bracketed paste. Sequences split
 * across reads are held until the rest arrives or {@link KeyParser.flush}.
 *
 * @module
 */

/** A key the terminal reported. */
export interface KeyEvent {
  readonly type: "key";
  /** One printable character ("a", "A", "!", " "), or a key name ("Enter", "ArrowUp", "F5"). */
  readonly key: string;
  readonly ctrl: boolean;
  readonly alt: boolean;
  readonly shift: boolean;
  /** The bytes that made the event. */
  readonly raw: Uint8Array;
}

/** Text the terminal pasted (bracketed paste). */
export interface PasteEvent {
  readonly type: "paste";
  readonly text: string;
}

/** What the parser produces. */
export type TermEvent = KeyEvent | PasteEvent;

const ESC = 0x1b;
const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";

const TILDE_KEYS: Record<number, string> = {
  1: "Home",
  2: "Insert",
  3: "Delete",
  4: "End",
  5: "PageUp",
  6: "PageDown",
  7: "Home",
  8: "End",
  11: "F1",
  12: "F2",
  13: "F3",
  14: "F4",
  15: "F5",
  17: "F6",
  18: "F7",
  19: "F8",
  20: "F9",
  21: "F10",
  23: "F11",
  24: "F12",
};

const LETTER_KEYS: Record<string, string> = {
  A: "ArrowUp",
  B: "ArrowDown",
  C: "ArrowRight",
  D: "ArrowLeft",
  H: "Home",
  F: "End",
  E: "Numpad5",
  P: "F1",
  Q: "F2",
  R: "F3",
  S: "F4",
};

const LINUX_F_KEYS: Record<string, string> = { A: "F1", B: "F2", C: "F3", D: "F4", E: "F5" };

/** A sequence found at the start of the input, or why none was. */
type Match = { length: number; events: TermEvent[] } | "incomplete";

function key(
  k: string,
  raw: Uint8Array,
  mods: { ctrl?: boolean; alt?: boolean; shift?: boolean } = {},
): KeyEvent {
  return {
    type: "key",
    key: k,
    ctrl: mods.ctrl ?? false,
    alt: mods.alt ?? false,
    shift: mods.shift ?? false,
    raw,
  };
}

/** The key a C0 control byte stands for. */
function controlKey(b: number, raw: Uint8Array): KeyEvent {
  switch (b) {
    case 0x0d:
      return key("Enter", raw);
    case 0x09:
      return key("Tab", raw);
    case 0x7f:
    case 0x08:
      return key("Backspace", raw);
    case ESC:
      return key("Escape", raw);
    case 0x00:
      return key(" ", raw, { ctrl: true });
    case 0x1c:
      return key("\\", raw, { ctrl: true });
    case 0x1d:
      return key("]", raw, { ctrl: true });
    case 0x1e:
      return key("6", raw, { ctrl: true });
    case 0x1f:
      return key("-", raw, { ctrl: true });
    default:
      return key(String.fromCharCode(0x60 + b), raw, { ctrl: true });
  }
}

/** Modifiers from xterm's parameter (1 + shift + 2·alt + 4·ctrl). */
function modifiers(param: number | undefined): { ctrl: boolean; alt: boolean; shift: boolean } {
  const m = (param ?? 1) - 1;
  return { shift: (m & 1) !== 0, alt: (m & 2) !== 0, ctrl: (m & 4) !== 0 };
}

function withAlt(e: TermEvent): TermEvent {
  return e.type === "key" ? { ...e, alt: true } : e;
}

/** Splits terminal input into key and paste events; keeps state across reads. */
export class KeyParser {
  #pending: number[] = [];
  #paste: number[] | null = null;
  readonly #decoder = new TextDecoder();

  /** True while an incomplete sequence waits for more bytes (call {@link flush} after a pause). */
  get waiting(): boolean {
    return this.#pending.length > 0 && this.#paste === null;
  }

  /** Parses a chunk of input. */
  feed(bytes: Uint8Array): TermEvent[] {
    for (const b of bytes) this.#pending.push(b);
    return this.#drain(false);
  }

  /** Ends a held sequence: a lone ESC is the Escape key, a cut-off sequence is dropped. */
  flush(): TermEvent[] {
    return this.#drain(true);
  }

  #drain(final: boolean): TermEvent[] {
    const events: TermEvent[] = [];
    let buf = Uint8Array.from(this.#pending);
    let at = 0;
    while (at < buf.length) {
      if (this.#paste !== null) {
        const end = indexOf(buf, PASTE_END, at);
        if (end < 0) {
          // Keep a possible partial end marker for the next read.
          const keep = Math.min(PASTE_END.length - 1, buf.length - at);
          this.#paste.push(...buf.subarray(at, buf.length - keep));
          at = buf.length - keep;
          if (!final) break;
          this.#paste.push(...buf.subarray(at));
          at = buf.length;
          break;
        }
        this.#paste.push(...buf.subarray(at, end));
        events.push({ type: "paste", text: this.#decoder.decode(Uint8Array.from(this.#paste)) });
        this.#paste = null;
        at = end + PASTE_END.length;
        continue;
      }
      if (startsWith(buf, PASTE_START, at)) {
        this.#paste = [];
        at += PASTE_START.length;
        continue;
      }
      const m = this.#match(buf.subarray(at), final);
      if (m === "incomplete") break;
      events.push(...m.events);
      at += m.length;
    }
    buf = buf.subarray(at);
    this.#pending = [...buf];
    return events;
  }

  #match(b: Uint8Array, final: boolean): Match {
    const first = b[0];
    if (first === ESC) return this.#escape(b, final);
    if (first < 0x20 || first === 0x7f) {
      return { length: 1, events: [controlKey(first, b.slice(0, 1))] };
    }
    if (first < 0x80) {
      return { length: 1, events: [key(String.fromCharCode(first), b.slice(0, 1))] };
    }
    const need = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
    if (b.length < need && !final) return "incomplete";
    const raw = b.slice(0, Math.min(need, b.length));
    return { length: raw.length, events: [key(this.#decoder.decode(raw), raw)] };
  }

  #escape(b: Uint8Array, final: boolean): Match {
    if (b.length === 1) {
      return final ? { length: 1, events: [key("Escape", b.slice(0, 1))] } : "incomplete";
    }
    const second = b[1];
    if (second === 0x5b /* [ */) return this.#csi(b, final);
    if (second === 0x4f /* O */) {
      if (b.length < 3) {
        return final
          ? { length: 2, events: [key("O", b.slice(0, 2), { alt: true, shift: true })] }
          : "incomplete";
      }
      const name = LETTER_KEYS[String.fromCharCode(b[2])];
      return { length: 3, events: name ? [key(name, b.slice(0, 3))] : [] };
    }
    if (second === ESC) {
      // ESC ESC: Alt on whatever follows (Alt+arrow in some terminals), or Alt+Escape.
      const rest = this.#match(b.subarray(1), final);
      if (rest === "incomplete") return rest;
      return { length: rest.length + 1, events: rest.events.map(withAlt) };
    }
    const rest = this.#match(b.subarray(1), final);
    if (rest === "incomplete") return rest;
    return { length: rest.length + 1, events: rest.events.map(withAlt) };
  }

  #csi(b: Uint8Array, final: boolean): Match {
    // Linux console F1-F5: ESC [ [ A..E.
    if (b[2] === 0x5b) {
      if (b.length < 4) return final ? { length: b.length, events: [] } : "incomplete";
      const name = LINUX_F_KEYS[String.fromCharCode(b[3])];
      return { length: 4, events: name ? [key(name, b.slice(0, 4))] : [] };
    }
    let i = 2;
    while (i < b.length && b[i] >= 0x20 && b[i] <= 0x3f) i++;
    if (i >= b.length) {
      if (!final) return "incomplete";
      return b.length === 2
        ? { length: 2, events: [key("[", b.slice(0, 2), { alt: true })] }
        : { length: b.length, events: [] };
    }
    const finalByte = String.fromCharCode(b[i]);
    const raw = b.slice(0, i + 1);
    const paramText = String.fromCharCode(...b.subarray(2, i));
    const length = i + 1;
    // Private sequences (mouse reports, replies to queries) are not keys.
    if (/^[<>?=]/.test(paramText)) return { length, events: [] };
    const params = paramText.split(";").map((p) => (p === "" ? undefined : Number(p)));
    if (finalByte === "~") {
      const name = TILDE_KEYS[params[0] ?? 0];
      return { length, events: name ? [key(name, raw, modifiers(params[1]))] : [] };
    }
    if (finalByte === "Z") return { length, events: [key("Tab", raw, { shift: true })] };
    const name = LETTER_KEYS[finalByte];
    return { length, events: name ? [key(name, raw, modifiers(params[1]))] : [] };
  }
}

function startsWith(b: Uint8Array, s: string, at: number): boolean {
  if (b.length - at < s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

function indexOf(b: Uint8Array, s: string, from: number): number {
  for (let i = from; i + s.length <= b.length; i++) if (startsWith(b, s, i)) return i;
  return -1;
}
