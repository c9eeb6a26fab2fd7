/**
 * A PS/2 mouse with the IntelliMouse extensions, as a pure state machine on
 * the i8042's auxiliary port.
 *
 * It starts as a plain 3-byte mouse (ID 0). The sample-rate "knock" 200,
 * 100, 80 turns it into an IntelliMouse (ID 3, a fourth byte with the wheel)
 * and, after that, 200, 200, 80 into an IntelliMouse Explorer (ID 4, wheel
 * in the low nibble of the fourth byte, buttons 4 and 5 in bits 4 and 5).
 *
 * Simplifications: packets are sent when the host moves the mouse, not at
 * the sample rate (which is only stored, like the resolution); the host's
 * deltas are taken as counts. Packets not yet started are dropped when a
 * command arrives, since the host is reconfiguring the mouse.
 *
 * @module
 */

import { StateShape } from "./state_shape.ts";
import type { DeviceState, Snapshotting } from "./types.ts";

/** Acknowledge, sent after every accepted command and argument byte. */
export const MOUSE_ACK = 0xfa;
/** Resend: the byte just received was not understood. */
export const MOUSE_RESEND = 0xfe;

/** Button bits for {@link Ps2Mouse.move} (the PS/2 packet's own order). */
export const MOUSE_LEFT = 0x01;
/** Right button. */
export const MOUSE_RIGHT = 0x02;
/** Middle button (wheel click). */
export const MOUSE_MIDDLE = 0x04;
/** Fourth button ("back"); reported only with ID 4. */
export const MOUSE_BUTTON4 = 0x08;
/** Fifth button ("forward"); reported only with ID 4. */
export const MOUSE_BUTTON5 = 0x10;

/** Movement packets the mouse holds before it drops new ones. */
export const MOUSE_QUEUE_LIMIT = 1024;

/** Sample rates the mouse accepts (reports per second). */
const VALID_RATES = [10, 20, 40, 60, 80, 100, 200];

/** Options for {@link Ps2Mouse}. */
export interface Ps2MouseOptions {
  /** Called whenever the mouse has new bytes to send (the i8042 then pulls). */
  wake?: () => void;
}

/** Applies 2:1 scaling to one count (a fixed curve, then doubling). */
function scale21(n: number): number {
  const curve = [0, 1, 1, 3, 6, 9];
  const mag = Math.abs(n);
  const out = mag < curve.length ? curve[mag] : mag * 2;
  return n < 0 ? -out : out;
}

/** Clamps to a two's-complement range; reports whether it had to. */
function clamp(n: number, min: number, max: number): [number, boolean] {
  return n < min ? [min, true] : n > max ? [max, true] : [n, false];
}

/** Longest reply or packet a queue entry holds (status request: ACK and 3 bytes). */
const MAX_UNIT = 4;

/** Saved state of {@link Ps2Mouse}. `mode` and `pendingBytes` are derived, for readers. */
export interface Ps2MouseState extends DeviceState {
  readonly version: 1;
  /** Bytes ready to go: the rest of a started packet, then command replies. */
  readonly out: number[];
  /** Movement packets waiting behind `out`. */
  readonly packets: number[][];
  /** The last packet or reply, repeated by the resend command. */
  readonly lastUnit: number[];
  /** The argument a command waits for, or null. */
  readonly awaiting: "rate" | "resolution" | null;
  /** Device ID: 0 plain, 3 IntelliMouse, 4 IntelliMouse Explorer. */
  readonly id: 0 | 3 | 4;
  readonly sampleRate: number;
  readonly resolution: number;
  readonly scaling: "1:1" | "2:1";
  /** Remote mode (0xF0); wrap mode may be on top of it. */
  readonly remote: boolean;
  /** Wrap (echo) mode. */
  readonly wrap: boolean;
  /** Data reporting enabled (0xF4). */
  readonly reporting: boolean;
  /** Buttons held, MOUSE_LEFT .. MOUSE_BUTTON5. */
  readonly buttons: number;
  /** The last (up to three) sample rates set, for the IntelliMouse knock. */
  readonly rates: number[];
  /** Movement not yet reported, in PS/2 orientation (y up). */
  readonly dx: number;
  readonly dy: number;
  readonly dz: number;
  /** "wrap", "remote" or "stream". */
  readonly mode: "wrap" | "remote" | "stream";
  /** Bytes waiting to be sent. */
  readonly pendingBytes: number;
}

/** A PS/2 mouse on the i8042's auxiliary port. */
export class Ps2Mouse implements Snapshotting<Ps2MouseState> {
  #wake: () => void;
  #out: number[] = [];
  #packets: number[][] = [];
  #lastUnit: number[] = [];
  #awaiting: "rate" | "resolution" | undefined;
  #id = 0;
  #rate = 100;
  #resolution = 2;
  #scaling21 = false;
  #remote = false;
  #wrap = false;
  #reporting = false;
  #buttons = 0;
  #rates: number[] = [];
  // Movement not yet reported, in PS/2 orientation (y up).
  #dx = 0;
  #dy = 0;
  #dz = 0;

  /** @param options see {@link Ps2MouseOptions} */
  constructor(options: Ps2MouseOptions = {}) {
    this.#wake = options.wake ?? (() => {});
    this.reset();
  }

  /** Power-on state: ID 0, defaults, stream mode, reporting off. Sends nothing. */
  reset(): void {
    this.#out = [];
    this.#packets = [];
    this.#lastUnit = [];
    this.#awaiting = undefined;
    this.#id = 0;
    this.#wrap = false;
    this.#buttons = 0;
    this.#rates = [];
    this.#setDefaults();
  }

  /** The device ID: 0 plain, 3 IntelliMouse, 4 IntelliMouse Explorer. */
  get id(): number {
    return this.#id;
  }

  /** True when the mouse sends packets on its own (stream mode with reporting enabled). */
  get streaming(): boolean {
    return this.#reporting && !this.#remote && !this.#wrap;
  }

  /** Bytes waiting to be sent. */
  get pendingBytes(): number {
    return this.#out.length + this.#packets.reduce((n, p) => n + p.length, 0);
  }

  /** Takes the next byte to send to the controller, if any. */
  pull(): number | undefined {
    if (this.#out.length === 0) {
      const next = this.#packets.shift();
      if (next) {
        this.#out = next;
        this.#lastUnit = [...next];
      }
    }
    return this.#out.shift();
  }

  #setDefaults(): void {
    this.#rate = 100;
    this.#resolution = 2;
    this.#scaling21 = false;
    this.#remote = false;
    this.#reporting = false;
    this.#clearCounters();
  }

  #clearCounters(): void {
    this.#dx = this.#dy = this.#dz = 0;
  }

  #reply(...bytes: number[]): void {
    this.#out.push(...bytes);
    this.#lastUnit = bytes;
  }

  /** Receives one byte from the controller (via the i8042's 0xD4 command). */
  receive(byte: number): void {
    byte &= 0xff;
    if (this.#wrap && byte !== 0xec && byte !== 0xff) {
      this.#reply(byte); // wrap mode echoes everything else
    } else if (this.#awaiting !== undefined) {
      this.#argument(this.#awaiting, byte);
    } else {
      this.#packets = [];
      this.#command(byte);
    }
    this.#wake();
  }

  #argument(awaiting: "rate" | "resolution", arg: number): void {
    this.#awaiting = undefined;
    if (awaiting === "rate") {
      if (!VALID_RATES.includes(arg)) return this.#reply(MOUSE_RESEND);
      this.#rate = arg;
      this.#rates = [...this.#rates, arg].slice(-3);
      this.#knock();
    } else {
      if (arg > 3) return this.#reply(MOUSE_RESEND);
      this.#resolution = arg;
    }
    this.#reply(MOUSE_ACK);
  }

  /** Recognises the IntelliMouse sample-rate sequences. */
  #knock(): void {
    const seq = this.#rates.join(",");
    if (seq === "200,100,80" && this.#id === 0) this.#id = 3;
    else if (seq === "200,200,80" && this.#id === 3) this.#id = 4;
  }

  #command(cmd: number): void {
    switch (cmd) {
      case 0xff: // reset
        this.reset();
        this.#reply(MOUSE_ACK, 0xaa, 0x00);
        return;
      case 0xfe: // resend the last packet or reply
        this.#out.push(...this.#lastUnit);
        return;
      case 0xf6: // set defaults
        this.#setDefaults();
        this.#reply(MOUSE_ACK);
        return;
      case 0xf5: // disable data reporting
        this.#reporting = false;
        this.#clearCounters();
        this.#reply(MOUSE_ACK);
        return;
      case 0xf4: // enable data reporting
        this.#reporting = true;
        this.#clearCounters();
        this.#reply(MOUSE_ACK);
        return;
      case 0xf3: // set sample rate
        this.#awaiting = "rate";
        this.#reply(MOUSE_ACK);
        return;
      case 0xf2: // get device ID
        this.#clearCounters();
        this.#reply(MOUSE_ACK, this.#id);
        return;
      case 0xf0: // remote mode
        this.#remote = true;
        this.#clearCounters();
        this.#reply(MOUSE_ACK);
        return;
      case 0xee: // wrap (echo) mode
        this.#wrap = true;
        this.#clearCounters();
        this.#reply(MOUSE_ACK);
        return;
      case 0xec: // leave wrap mode
        this.#wrap = false;
        this.#clearCounters();
        this.#reply(MOUSE_ACK);
        return;
      case 0xeb: // read data: one packet from the counters, unscaled
        this.#reply(MOUSE_ACK, ...this.#packet(false));
        return;
      case 0xea: // stream mode
        this.#remote = false;
        this.#clearCounters();
        this.#reply(MOUSE_ACK);
        return;
      case 0xe9: // status request
        this.#reply(MOUSE_ACK, this.#statusByte(), this.#resolution, this.#rate);
        return;
      case 0xe8: // set resolution
        this.#awaiting = "resolution";
        this.#reply(MOUSE_ACK);
        return;
      case 0xe7: // scaling 2:1
        this.#scaling21 = true;
        this.#reply(MOUSE_ACK);
        return;
      case 0xe6: // scaling 1:1
        this.#scaling21 = false;
        this.#reply(MOUSE_ACK);
        return;
      default:
        this.#reply(MOUSE_RESEND);
    }
  }

  #statusByte(): number {
    const b = this.#buttons;
    return (this.#remote ? 0x40 : 0) | (this.#reporting ? 0x20 : 0) |
      (this.#scaling21 ? 0x10 : 0) | (b & MOUSE_LEFT ? 0x04 : 0) |
      (b & MOUSE_MIDDLE ? 0x02 : 0) | (b & MOUSE_RIGHT ? 0x01 : 0);
  }

  /** Builds a packet from the counters and clears them. */
  #packet(scaled: boolean): number[] {
    const sx = scaled && this.#scaling21 ? scale21(this.#dx) : this.#dx;
    const sy = scaled && this.#scaling21 ? scale21(this.#dy) : this.#dy;
    // X and Y are 9-bit two's complement: the sign lives in byte 0.
    const [x, xOverflow] = clamp(sx, -256, 255);
    const [y, yOverflow] = clamp(sy, -256, 255);
    const [z] = clamp(this.#dz, -8, 7);
    this.#clearCounters();
    const b = this.#buttons;
    const bytes = [
      0x08 | (b & 0x07) | (x < 0 ? 0x10 : 0) | (y < 0 ? 0x20 : 0) | (xOverflow ? 0x40 : 0) |
      (yOverflow ? 0x80 : 0),
      x & 0xff,
      y & 0xff,
    ];
    if (this.#id === 3) bytes.push(z & 0xff);
    if (this.#id === 4) bytes.push((z & 0x0f) | ((b & (MOUSE_BUTTON4 | MOUSE_BUTTON5)) << 1));
    return bytes;
  }

  /**
   * The host moves the mouse and/or changes buttons. `dx` is positive to the
   * right and `dy` positive *down* (screen convention; the packet's Y points
   * up), `wheel` positive when scrolling down (towards the user), `buttons`
   * a mask of MOUSE_LEFT/RIGHT/MIDDLE/BUTTON4/BUTTON5. Deltas beyond -256..255
   * are clamped with the overflow bit set; the wheel is clamped to -8..7.
   * Returns true when a packet was queued; otherwise the movement stays in
   * the counters (remote mode reads it with 0xEB).
   */
  move(dx: number, dy: number, buttons: number, wheel = 0): boolean {
    this.#buttons = buttons & 0x1f;
    if (this.#wrap) return false;
    this.#dx += Math.trunc(dx);
    this.#dy -= Math.trunc(dy);
    this.#dz += Math.trunc(wheel);
    if (!this.streaming) return false;
    if (this.#packets.length >= MOUSE_QUEUE_LIMIT) {
      this.#clearCounters();
      return false;
    }
    this.#packets.push(this.#packet(true));
    this.#wake();
    return true;
  }

  /** Everything the controller and the host can observe, queues and counters included. */
  snapshot(): Ps2MouseState {
    return {
      version: 1,
      out: [...this.#out],
      packets: this.#packets.map((p) => [...p]),
      lastUnit: [...this.#lastUnit],
      awaiting: this.#awaiting ?? null,
      id: this.#id as 0 | 3 | 4,
      sampleRate: this.#rate,
      resolution: this.#resolution,
      scaling: this.#scaling21 ? "2:1" : "1:1",
      remote: this.#remote,
      wrap: this.#wrap,
      reporting: this.#reporting,
      buttons: this.#buttons,
      rates: [...this.#rates],
      dx: this.#dx,
      dy: this.#dy,
      dz: this.#dz,
      mode: this.#wrap ? "wrap" : this.#remote ? "remote" : "stream",
      pendingBytes: this.pendingBytes,
    };
  }

  /**
   * Puts the mouse back into `state` without waking the controller (the
   * i8042 restores its own output buffer).
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: Ps2MouseState): void {
    const r = StateShape.versioned("ps2-mouse", state, 1);
    const counter = (key: string) => r.int(key, -Number.MAX_SAFE_INTEGER);
    const v = {
      out: r.ints("out", 0, 0xff),
      packets: r.intLists("packets", 0, 0xff, MOUSE_QUEUE_LIMIT, MAX_UNIT),
      lastUnit: r.ints("lastUnit", 0, 0xff),
      awaiting: r.oneOf("awaiting", [null, "rate", "resolution"] as const),
      id: r.oneOf("id", [0, 3, 4] as const),
      rate: r.oneOf("sampleRate", VALID_RATES),
      resolution: r.int("resolution", 0, 3),
      scaling: r.oneOf("scaling", ["1:1", "2:1"] as const),
      remote: r.bool("remote"),
      wrap: r.bool("wrap"),
      reporting: r.bool("reporting"),
      buttons: r.int("buttons", 0, 0x1f),
      rates: r.intsUpTo("rates", 0, 0xff, 3),
      dx: counter("dx"),
      dy: counter("dy"),
      dz: counter("dz"),
    };
    this.#out = v.out;
    this.#packets = v.packets;
    this.#lastUnit = v.lastUnit;
    this.#awaiting = v.awaiting ?? undefined;
    this.#id = v.id;
    this.#rate = v.rate;
    this.#resolution = v.resolution;
    this.#scaling21 = v.scaling === "2:1";
    this.#remote = v.remote;
    this.#wrap = v.wrap;
    this.#reporting = v.reporting;
    this.#buttons = v.buttons;
    this.#rates = v.rates;
    this.#dx = v.dx;
    this.#dy = v.dy;
    this.#dz = v.dz;
  }
}
