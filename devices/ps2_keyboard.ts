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

import type { DeviceState, Snapshotting } from "./types.ts";
import {
  KEY_NAMES,
  type KeyName,
  type KeyStroke,
  scanCodes,
  type ScanCodeSet,
  set3Code,
} from "./keymap.ts";
import { StateShape } from "./state_shape.ts";

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
export type KeyboardAwaiting = "leds" | "scanSet" | "typematic" | "keyMode";
type Awaiting = KeyboardAwaiting;
const AWAITING: readonly (KeyboardAwaiting | null)[] = [
  null,
  "leds",
  "scanSet",
  "typematic",
  "keyMode",
];

/** Longest key sequence a queue entry may hold (Pause in set 2 has 8 bytes). */
const MAX_SEQUENCE = 16;

/** Saved state of {@link Ps2Keyboard}. `pendingBytes` is derived, for readers. */
export interface Ps2KeyboardState extends DeviceState {
  readonly version: 1;
  /** Bytes ready to go: the rest of a started key sequence, then command replies. */
  readonly out: number[];
  /** Whole key sequences waiting behind `out`. */
  readonly keys: number[][];
  /** The last byte sent, repeated by the resend command. */
  readonly lastSent: number;
  /** The argument a command waits for, or null. */
  readonly awaiting: KeyboardAwaiting | null;
  /** Set-3 mode the pending 0xFB-0xFD key list assigns. */
  readonly keyMode: number;
  /** Scanning enabled (0xF4) or disabled (0xF5). */
  readonly enabled: boolean;
  readonly scanCodeSet: ScanCodeSet;
  readonly leds: KeyboardLeds;
  /** Typematic rate/delay byte (stored only). */
  readonly typematic: number;
  /** Set-3 mode bits (repeat 1, break 2) per key code. */
  readonly set3Modes: Uint8Array;
  /** Keys the host holds down. */
  readonly pressed: KeyName[];
  /** Bytes waiting to be sent, replies and queued sequences together. */
  readonly pendingBytes: number;
}

/** An MF2 keyboard on the i8042's first PS/2 port. */
export class Ps2Keyboard implements Snapshotting<Ps2KeyboardState> {
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

  /** Everything the controller and the host can observe, queues included. */
  snapshot(): Ps2KeyboardState {
    return {
      version: 1,
      out: [...this.#out],
      keys: this.#keys.map((k) => [...k]),
      lastSent: this.#lastSent,
      awaiting: this.#awaiting ?? null,
      keyMode: this.#keyMode,
      enabled: this.#enabled,
      scanCodeSet: this.#set,
      leds: this.leds,
      typematic: this.#typematic,
      set3Modes: this.#set3Modes.slice(),
      pressed: [...this.#pressed],
      pendingBytes: this.pendingBytes,
    };
  }

  /**
   * Puts the keyboard back into `state` without waking the controller (the
   * i8042 restores its own output buffer).
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: Ps2KeyboardState): void {
    const r = StateShape.versioned("ps2-keyboard", state, 1);
    const leds = r.object("leds");
    const pressed = r.strings("pressed");
    for (const key of pressed) {
      if (!KEY_NAMES.includes(key as KeyName)) r.fail("pressed", `unknown key ${key}`);
    }
    const v = {
      out: r.ints("out", 0, 0xff),
      keys: r.intLists("keys", 0, 0xff, KBD_QUEUE_LIMIT, MAX_SEQUENCE),
      lastSent: r.int("lastSent", 0, 0xff),
      awaiting: r.oneOf("awaiting", AWAITING),
      keyMode: r.int("keyMode", 0, REPEAT | BREAK),
      enabled: r.bool("enabled"),
      set: r.oneOf("scanCodeSet", [1, 2, 3] as const),
      leds: (leds.bool("scrollLock") ? 1 : 0) | (leds.bool("numLock") ? 2 : 0) |
        (leds.bool("capsLock") ? 4 : 0),
      typematic: r.int("typematic", 0, 0x7f),
      set3Modes: r.bytes("set3Modes", 256),
    };
    if (v.set3Modes.some((m) => m > (REPEAT | BREAK))) r.fail("set3Modes", "modes above 3");
    this.#out = v.out;
    this.#keys = v.keys;
    this.#lastSent = v.lastSent;
    this.#awaiting = v.awaiting ?? undefined;
    this.#keyMode = v.keyMode;
    this.#enabled = v.enabled;
    this.#set = v.set;
    this.#leds = v.leds;
    this.#typematic = v.typematic;
    this.#set3Modes = v.set3Modes;
    this.#pressed = new Set(pressed as KeyName[]);
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
