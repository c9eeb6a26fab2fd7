/**
 * An MF2 PS/2 keyboard as a pure state machine: it takes command bytes from
 * the i8042, answers them, and turns host key presses into scan codes in the
 * selected set (1, 2 or 3; set 2 after reset).
 *
 * The keyboard keeps two outgoing queues: bytes ready to go (the rest of a
 * key sequence already started, then command replies) and whole key
 * sequences waiting behind them, so a reply never lands inside a sequence.
 * Commands that clear a real keyboard's buffer drop the waiting sequences.
 *
 * Simplifications: the keyboard answers at once (no 500 ms self-test), it
 * never auto-repeats (the host repeats by calling {@link Ps2Keyboard.keyDown}
 * again; the typematic byte is only stored), and its key queue is far
 * deeper than a real 16-byte buffer so that pasted text survives.
 *
 * @module
 */

import type { Json, Stateful } from "./types.ts";
import { type KeyName, type KeyStroke, scanCodes, type ScanCodeSet, set3Code } from "./keymap.ts";

/** Acknowledge, sent after every accepted command and argument byte. */
export const KBD_ACK = 0xfa;
/** Resend: the byte just received was not understood. */
export const KBD_RESEND = 0xfe;
/** Basic assurance test passed, sent after a reset. */
export const KBD_BAT_OK = 0xaa;
/** Reply to the echo command. */
export const KBD_ECHO = 0xee;

/** Key sequences the keyboard holds before it reports an overrun. */
export const KBD_QUEUE_LIMIT = 4096;

/** Typematic byte after reset: 10.9 characters/s after a 500 ms delay. */
const DEFAULT_TYPEMATIC = 0x2b;

// Set-3 key modes: whether a held key repeats and whether it sends a break code.
const REPEAT = 1;
const BREAK = 2;

// Set-3 keys that send a break code by default: the shift-type keys, plus the
// keys added after the 101-key layout (Windows, Menu).
const SET3_DEFAULT_BREAK = [0x14, 0x12, 0x59, 0x11, 0x19, 0x8b, 0x8c, 0x8d];

/** Keyboard LED state, as set by command 0xED. */
export interface KeyboardLeds {
  scrollLock: boolean;
  numLock: boolean;
  capsLock: boolean;
}

/** Options for {@link Ps2Keyboard}. */
export interface Ps2KeyboardOptions {
  /** Called whenever the keyboard has new bytes to send (the i8042 then pulls). */
  wake?: () => void;
}

/** The argument a multi-byte command is waiting for. */
type Awaiting = "leds" | "scanSet" | "typematic" | "keyMode";

/** An MF2 keyboard on the i8042's first PS/2 port. */
export class Ps2Keyboard implements Stateful {
  #wake: () => void;
  #out: number[] = [];
  #keys: number[][] = [];
  #lastSent = KBD_BAT_OK;
  #awaiting: Awaiting | undefined;
  #keyMode = 0;
  #enabled = true;
  #set: ScanCodeSet = 2;
  #leds = 0;
  #typematic = DEFAULT_TYPEMATIC;
  #set3Modes = new Uint8Array(256);
  #pressed = new Set<KeyName>();

  /** @param options see {@link Ps2KeyboardOptions} */
  constructor(options: Ps2KeyboardOptions = {}) {
    this.#wake = options.wake ?? (() => {});
    this.reset();
  }

  /** Power-on state: scanning, set 2, LEDs off, queues empty. Sends nothing. */
  reset(): void {
    this.#out = [];
    this.#keys = [];
    this.#awaiting = undefined;
    this.#enabled = true;
    this.#set = 2;
    this.#leds = 0;
    this.#pressed.clear();
    this.#setDefaults();
  }

  /** The scan code set keys are reported in. */
  get scanCodeSet(): ScanCodeSet {
    return this.#set;
  }

  /** True while the keyboard scans keys (command 0xF4; 0xF5 stops it). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The LEDs as the guest last set them. */
  get leds(): KeyboardLeds {
    return {
      scrollLock: (this.#leds & 1) !== 0,
      numLock: (this.#leds & 2) !== 0,
      capsLock: (this.#leds & 4) !== 0,
    };
  }

  /** Bytes waiting to be sent, replies and queued key sequences together. */
  get pendingBytes(): number {
    return this.#out.length + this.#keys.reduce((n, seq) => n + seq.length, 0);
  }

  /** Takes the next byte to send to the controller, if any. */
  pull(): number | undefined {
    if (this.#out.length === 0) {
      const next = this.#keys.shift();
      if (next) this.#out = next;
    }
    const byte = this.#out.shift();
    if (byte !== undefined) this.#lastSent = byte;
    return byte;
  }

  /** Receives one byte from the controller: a command or a command's argument. */
  receive(byte: number): void {
    byte &= 0xff;
    const awaiting = this.#awaiting;
    // Bytes from 0xED up are commands; one arriving in place of an argument
    // abandons the pending command, as on a real keyboard.
    if (awaiting !== undefined && byte < 0xed) {
      this.#argument(awaiting, byte);
    } else {
      this.#awaiting = undefined;
      this.#command(byte);
    }
    this.#wake();
  }

  #reply(...bytes: number[]): void {
    this.#out.push(...bytes);
  }

  #setDefaults(): void {
    this.#typematic = DEFAULT_TYPEMATIC;
    this.#set3Modes.fill(REPEAT);
    for (const code of SET3_DEFAULT_BREAK) this.#set3Modes[code] = BREAK;
  }

  #command(cmd: number): void {
    switch (cmd) {
      case 0xed: // set LEDs
        this.#reply(KBD_ACK);
        this.#awaiting = "leds";
        return;
      case 0xee: // echo
        this.#reply(KBD_ECHO);
        return;
      case 0xf0: // get/set scan code set
        this.#reply(KBD_ACK);
        this.#awaiting = "scanSet";
        return;
      case 0xf2: // identify: MF2 keyboard
        this.#reply(KBD_ACK, 0xab, 0x83);
        return;
      case 0xf3: // set typematic rate/delay
        this.#reply(KBD_ACK);
        this.#awaiting = "typematic";
        return;
      case 0xf4: // enable scanning
        this.#keys = [];
        this.#enabled = true;
        this.#reply(KBD_ACK);
        return;
      case 0xf5: // disable scanning and restore defaults
        this.#keys = [];
        this.#enabled = false;
        this.#setDefaults();
        this.#reply(KBD_ACK);
        return;
      case 0xf6: // restore defaults, keep scanning
        this.#keys = [];
        this.#setDefaults();
        this.#reply(KBD_ACK);
        return;
      case 0xf7: // set 3: all keys typematic
      case 0xf8: // all keys make/break
      case 0xf9: // all keys make only
      case 0xfa: // all keys typematic and make/break
        this.#set3Modes.fill(setAllMode(cmd));
        this.#reply(KBD_ACK);
        return;
      case 0xfb: // set 3: listed keys typematic
      case 0xfc: // listed keys make/break
      case 0xfd: // listed keys make only
        this.#keyMode = setAllMode(cmd - 4);
        this.#awaiting = "keyMode";
        this.#reply(KBD_ACK);
        return;
      case 0xfe: // resend the last byte
        this.#reply(this.#lastSent);
        return;
      case 0xff: // reset
        this.reset();
        this.#reply(KBD_ACK, KBD_BAT_OK);
        return;
      default:
        this.#reply(KBD_RESEND);
    }
  }

  #argument(awaiting: Awaiting, arg: number): void {
    switch (awaiting) {
      case "leds":
        this.#awaiting = undefined;
        this.#leds = arg & 7;
        this.#reply(KBD_ACK);
        return;
      case "scanSet":
        this.#awaiting = undefined;
        if (arg === 0) {
          this.#reply(KBD_ACK, this.#set);
        } else if (arg <= 3) {
          this.#set = arg as ScanCodeSet;
          this.#keys = [];
          this.#pressed.clear();
          this.#reply(KBD_ACK);
        } else {
          this.#reply(KBD_RESEND);
        }
        return;
      case "typematic":
        this.#awaiting = undefined;
        if (arg & 0x80) {
          this.#reply(KBD_RESEND);
        } else {
          this.#typematic = arg;
          this.#reply(KBD_ACK);
        }
        return;
      case "keyMode":
        // Keeps waiting: the key list ends with the next command byte.
        this.#set3Modes[arg] = this.#keyMode;
        this.#reply(KBD_ACK);
        return;
    }
  }

  /**
   * The host presses `key` (or repeats it while held). Returns false when
   * the keyboard is not scanning or its queue is full; then, as on a real
   * keyboard, an overrun code replaces the newest queued sequence.
   */
  keyDown(key: KeyName): boolean {
    if (!this.#enabled) return false;
    const held = this.#pressed.has(key);
    let bytes: readonly number[];
    if (this.#set === 3) {
      const code = set3Code(key);
      if (held && !(this.#set3Modes[code] & REPEAT)) return true;
      bytes = [code];
    } else {
      // Pause has no break code and does not repeat.
      if (held && key === "Pause") return true;
      bytes = scanCodes(key, this.#set).make;
    }
    this.#pressed.add(key);
    return this.#queue(bytes);
  }

  /** The host releases `key`. Returns false when it was not held or nothing could be queued. */
  keyUp(key: KeyName): boolean {
    if (!this.#pressed.delete(key) || !this.#enabled) return false;
    let bytes: readonly number[];
    if (this.#set === 3) {
      const code = set3Code(key);
      if (!(this.#set3Modes[code] & BREAK)) return true;
      bytes = [0xf0, code];
    } else {
      bytes = scanCodes(key, this.#set).break;
      if (bytes.length === 0) return true;
    }
    return this.#queue(bytes);
  }

  /** Applies strokes in order; returns how many were accepted. */
  keyStrokes(strokes: readonly KeyStroke[]): number {
    let accepted = 0;
    for (const s of strokes) if (s.down ? this.keyDown(s.key) : this.keyUp(s.key)) accepted++;
    return accepted;
  }

  /** Releases every key the host still holds (for example when the TUI loses focus). */
  releaseAll(): void {
    for (const key of [...this.#pressed]) this.keyUp(key);
  }

  #queue(bytes: readonly number[]): boolean {
    if (this.#keys.length >= KBD_QUEUE_LIMIT) {
      // Overrun: 0xFF in set 1, 0x00 in sets 2 and 3, in the last slot, once.
      const overrun = this.#set === 1 ? 0xff : 0x00;
      const last = this.#keys.at(-1);
      if (!(last?.length === 1 && last[0] === overrun)) {
        this.#keys[this.#keys.length - 1] = [overrun];
      }
      this.#wake();
      return false;
    }
    this.#keys.push([...bytes]);
    this.#wake();
    return true;
  }

  /** Plain-JSON snapshot. */
  state(): Json {
    return {
      enabled: this.#enabled,
      scanCodeSet: this.#set,
      leds: { ...this.leds },
      typematic: this.#typematic,
      pressed: [...this.#pressed],
      pendingBytes: this.pendingBytes,
      awaiting: this.#awaiting ?? null,
    };
  }
}

/** The set-3 mode bits selected by 0xF7..0xFA (and 0xFB..0xFD minus 4). */
function setAllMode(cmd: number): number {
  switch (cmd) {
    case 0xf7:
      return REPEAT;
    case 0xf8:
      return BREAK;
    case 0xf9:
      return 0;
    default:
      return REPEAT | BREAK;
  }
}
