/**
 * The Intel 8042 keyboard controller of the PC/AT and PS/2, with its PS/2
 * keyboard and mouse attached, as a pure state machine.
 *
 * Port 0x60 is the data port and port 0x64 the status (read) and command
 * (write) port. They are not adjacent (0x61 is the PIT/speaker port), so the
 * controller exposes {@link I8042.dataPort} and {@link I8042.commandPort}
 * for the board to register separately, each at offset 0.
 *
 * One output buffer feeds the guest. Behind it wait, in priority order, the
 * controller's own replies, then the keyboard's bytes (while the keyboard
 * clock is enabled) and the mouse's bytes (while the aux clock is enabled).
 * IRQ 1 (keyboard byte) or IRQ 12 (mouse byte) is high while the buffer is
 * full and the command byte enables it; reading port 0x60 empties the buffer
 * and lowers the line, and the next byte, if any, raises it again.
 *
 * With command byte bit 6 set, keyboard bytes are translated from scan code
 * set 2 to set 1 through the 8042's fixed table, an F0 prefix turning into
 * bit 7 of the next code.
 *
 * The status register's system flag (bit 2) reports a passed self-test
 * (command 0xAA) until the next power-on reset, as QEMU's controller does;
 * SeaBIOS then writes a command byte with bit 2 clear, and the flag stays.
 *
 * Simplifications: the controller works instantly, so the input buffer is
 * never seen full (status bit 1) and no timeout or parity error (bits 6, 7)
 * ever happens; a pulsed reset line is reported once through `onSystemReset`.
 *
 * @module
 */

import { allOnes } from "./byte_lanes.ts";
import type { AccessSize, BusDevice, DeviceState, IrqLine, Snapshotting } from "./types.ts";
import { Ps2Keyboard, type Ps2KeyboardState } from "./ps2_keyboard.ts";
import { Ps2Mouse, type Ps2MouseState } from "./ps2_mouse.ts";
import { StateShape } from "./state_shape.ts";

// Status register bits.
const STATUS_OBF = 0x01;
const STATUS_SYSTEM = 0x04;
const STATUS_COMMAND = 0x08;
/** Keylock switch open: the keyboard is not inhibited. */
const STATUS_UNLOCKED = 0x10;
const STATUS_AUX = 0x20;

// Command byte bits.
const CB_KBD_INT = 0x01;
const CB_AUX_INT = 0x02;
const CB_KBD_DISABLE = 0x10;
const CB_AUX_DISABLE = 0x20;
const CB_TRANSLATE = 0x40;

/**
 * Command byte at power-on: keyboard interrupt and translation on, the way
 * firmware leaves it, so that guests started without firmware see set 1.
 */
export const I8042_POWER_ON_COMMAND_BYTE = CB_KBD_INT | CB_TRANSLATE;

/**
 * Input port (command 0xC0): bit 7 keyboard not inhibited, bit 5 no
 * manufacturing jumper. The other bits are board straps of no use to a VM.
 */
const INPUT_PORT = 0xa0;

// Output port bits.
const OUT_RESET = 0x01; // active low: 0 holds the CPU in reset
const OUT_A20 = 0x02;
const OUT_IRQ1 = 0x10;
const OUT_IRQ12 = 0x20;
/** Output-port bits that are just stored (aux and keyboard clock/data lines). */
const OUT_STORED = 0xcc;

/** Replies the controller holds for the guest; more are dropped. */
const CONTROLLER_QUEUE_LIMIT = 16;

/**
 * The 8042's set-2 to set-1 translation for codes 0x00-0x7F, as 8 rows of
 * 16. Codes from 0x80 up pass unchanged except 0x83 (F7) and 0x84 (SysRq).
 */
const TRANSLATE_LOW = [
  "ff 43 41 3f 3d 3b 3c 58 64 44 42 40 3e 0f 29 59",
  "65 38 2a 70 1d 10 02 5a 66 71 2c 1f 1e 11 03 5b",
  "67 2e 2d 20 12 05 04 5c 68 39 2f 21 14 13 06 5d",
  "69 31 30 23 22 15 07 5e 6a 72 32 24 16 08 09 5f",
  "6b 33 25 17 18 0b 0a 60 6c 34 35 26 27 19 0c 61",
  "6d 73 28 74 1a 0d 62 6e 3a 36 1c 1b 75 2b 63 76",
  "55 56 77 78 79 7a 0e 7b 7c 4f 7d 4b 47 7e 7f 6f",
  "52 53 50 4c 4d 48 01 45 57 4e 51 4a 37 49 46 54",
].flatMap((row) => row.split(" ").map((h) => parseInt(h, 16)));

/** Translates one keyboard byte (not an F0 prefix) from set 2 to set 1. */
export function translateSet2Byte(byte: number): number {
  if (byte < 0x80) return TRANSLATE_LOW[byte];
  if (byte === 0x83) return 0x41;
  if (byte === 0x84) return 0x54;
  return byte;
}

/** Options for {@link I8042}. */
export interface I8042Options {
  /** IRQ 1: a keyboard byte waits in the output buffer. */
  kbdIrq: IrqLine;
  /** IRQ 12: a mouse byte waits in the output buffer. */
  mouseIrq: IrqLine;
  /** The guest pulsed the CPU reset line (0xFE and friends, or 0xD1 with bit 0 clear). */
  onSystemReset: () => void;
  /** The A20 gate changed (output port bit 1, or 0xDD/0xDF). */
  onA20?: (enabled: boolean) => void;
}

/** A byte waiting for the output buffer, and whether it comes from the aux (mouse) port. */
export interface I8042OutByte {
  byte: number;
  aux: boolean;
}
type OutByte = I8042OutByte;

/**
 * Saved state of {@link I8042}, keyboard and mouse included. The derived
 * group is for readers and is not restored.
 */
export interface I8042State extends DeviceState {
  readonly version: 1;
  /** The 32 bytes of controller RAM; byte 0 is the command byte. */
  readonly ram: Uint8Array;
  /** The output buffer's byte (read again from port 0x60 once it is empty). */
  readonly output: number;
  /** Output buffer full (status bit 0). */
  readonly outputFull: boolean;
  /** The output buffer's byte came from the aux port. */
  readonly outputAux: boolean;
  /** Controller replies waiting for the output buffer, before device bytes. */
  readonly queue: I8042OutByte[];
  /** The last write went to port 0x64 (status bit 3). */
  readonly lastWasCommand: boolean;
  /** A command waiting for its data byte on port 0x60 (0x60-0x7F, 0xD1-0xD4), or null. */
  readonly pendingCommand: number | null;
  /** System flag (status bit 2): a passed self-test. */
  readonly systemFlag: boolean;
  /** Set-2 F0 prefix seen by the translator, waiting for its code. */
  readonly breakPrefix: boolean;
  /** A20 gate (output port bit 1). */
  readonly a20: boolean;
  /** Stored output port bits (keyboard and aux clock/data lines). */
  readonly outputPortLines: number;
  /** Levels of IRQ 1 and IRQ 12. */
  readonly irq1: boolean;
  readonly irq12: boolean;
  readonly keyboard: Ps2KeyboardState;
  readonly mouse: Ps2MouseState;
  // Derived, for readers.
  /** The status register as port 0x64 reads it. */
  readonly status: number;
  readonly commandByte: number;
  /** Translation to set 1 (command byte bit 6). */
  readonly translation: boolean;
  /** Bytes waiting behind the output buffer: replies, keyboard and mouse. */
  readonly queued: number;
}

/** The 8042 keyboard controller with a PS/2 keyboard and mouse. */
export class I8042 implements Snapshotting<I8042State> {
  /** The keyboard on the first port. */
  readonly keyboard: Ps2Keyboard;
  /** The mouse on the auxiliary port. */
  readonly mouse: Ps2Mouse;
  /** Port 0x60: reads the output buffer, writes to the keyboard or a command's argument. */
  readonly dataPort: BusDevice;
  /** Port 0x64: reads the status register, writes controller commands. */
  readonly commandPort: BusDevice;

  #kbdIrq: IrqLine;
  #mouseIrq: IrqLine;
  #onSystemReset: () => void;
  #onA20: (enabled: boolean) => void;

  // Internal RAM; byte 0 is the command byte.
  #ram = new Uint8Array(32);
  #lastWasCommand = false;
  #pendingCommand: number | undefined;
  #outputFull = false;
  #outputAux = false;
  #output = 0;
  #queue: OutByte[] = [];
  #breakPrefix = false;
  #systemFlag = false;
  #a20 = true;
  #outStored = OUT_STORED;
  #kbdLevel = false;
  #mouseLevel = false;

  /** @param options see {@link I8042Options} */
  constructor(options: I8042Options) {
    this.#kbdIrq = options.kbdIrq;
    this.#mouseIrq = options.mouseIrq;
    this.#onSystemReset = options.onSystemReset;
    this.#onA20 = options.onA20 ?? (() => {});
    this.keyboard = new Ps2Keyboard({ wake: () => this.#fill() });
    this.mouse = new Ps2Mouse({ wake: () => this.#fill() });
    this.dataPort = {
      read: (_offset, size) => widen(this.#readData(), size),
      write: (_offset, _size, value) => this.#writeData(value & 0xff),
    };
    this.commandPort = {
      read: (_offset, size) => widen(this.status, size),
      write: (_offset, _size, value) => this.#writeCommand(value & 0xff),
    };
    this.reset();
  }

  /**
   * Power-on reset of the controller, keyboard and mouse. A20 returns to
   * enabled (KVM cannot mask it; `onA20` hears of the change). A guest
   * reset through the reset line does not need this: a real 8042 keeps its
   * state across CPU resets.
   */
  reset(): void {
    this.#ram.fill(0);
    this.#ram[0] = I8042_POWER_ON_COMMAND_BYTE;
    this.#lastWasCommand = false;
    this.#pendingCommand = undefined;
    this.#outputFull = false;
    this.#outputAux = false;
    this.#output = 0;
    this.#queue = [];
    this.#breakPrefix = false;
    this.#systemFlag = false;
    this.#outStored = OUT_STORED;
    this.keyboard.reset();
    this.mouse.reset();
    this.#setA20(true);
    this.#updateIrq();
  }

  /** The status register as port 0x64 reads it. */
  get status(): number {
    return (this.#outputFull ? STATUS_OBF : 0) |
      (this.#systemFlag ? STATUS_SYSTEM : 0) |
      (this.#lastWasCommand ? STATUS_COMMAND : 0) | STATUS_UNLOCKED |
      (this.#outputFull && this.#outputAux ? STATUS_AUX : 0);
  }

  /** The command byte (controller RAM byte 0). */
  get commandByte(): number {
    return this.#ram[0];
  }

  /** True while the A20 gate is open. */
  get a20(): boolean {
    return this.#a20;
  }

  #readData(): number {
    const byte = this.#output;
    if (this.#outputFull) {
      this.#outputFull = false;
      this.#updateIrq();
      this.#fill();
    }
    return byte;
  }

  #writeData(value: number): void {
    this.#lastWasCommand = false;
    const cmd = this.#pendingCommand;
    this.#pendingCommand = undefined;
    if (cmd === undefined) {
      // Transmitting needs the clock line, so this re-enables the port.
      this.#setCommandByte(this.commandByte & ~CB_KBD_DISABLE);
      this.keyboard.receive(value);
    } else if (cmd >= 0x60 && cmd <= 0x7f) {
      if (cmd === 0x60) this.#setCommandByte(value);
      else this.#ram[cmd & 0x1f] = value;
    } else if (cmd === 0xd1) {
      this.#writeOutputPort(value);
    } else if (cmd === 0xd2) {
      this.#reply(value, false);
    } else if (cmd === 0xd3) {
      this.#reply(value, true);
    } else if (cmd === 0xd4) {
      this.#setCommandByte(this.commandByte & ~CB_AUX_DISABLE);
      this.mouse.receive(value);
    }
    this.#fill();
  }

  #writeCommand(cmd: number): void {
    this.#lastWasCommand = true;
    this.#pendingCommand = undefined;
    if (cmd >= 0x20 && cmd <= 0x3f) {
      this.#reply(this.#ram[cmd & 0x1f], false); // read RAM; 0x20 is the command byte
    } else if (cmd >= 0x60 && cmd <= 0x7f) {
      this.#pendingCommand = cmd; // write RAM; 0x60 is the command byte
    } else if (cmd >= 0xf0) {
      // Pulse output port lines 0-3 for each clear bit; only line 0 (reset) matters.
      if ((cmd & OUT_RESET) === 0) this.#onSystemReset();
    } else {
      switch (cmd) {
        case 0xa4: // password installed? no
          this.#reply(0xf1, false);
          break;
        case 0xa7: // disable aux port
          this.#setCommandByte(this.commandByte | CB_AUX_DISABLE);
          break;
        case 0xa8: // enable aux port
          this.#setCommandByte(this.commandByte & ~CB_AUX_DISABLE);
          break;
        case 0xa9: // test aux port: no error
          this.#reply(0x00, false);
          break;
        case 0xaa: // self-test: passed; the system flag now marks a warm boot for POST
          this.#systemFlag = true;
          this.#reply(0x55, false);
          break;
        case 0xab: // test keyboard port: no error
          this.#reply(0x00, false);
          break;
        case 0xad: // disable keyboard port
          this.#setCommandByte(this.commandByte | CB_KBD_DISABLE);
          break;
        case 0xae: // enable keyboard port
          this.#setCommandByte(this.commandByte & ~CB_KBD_DISABLE);
          break;
        case 0xc0: // read input port
          this.#reply(INPUT_PORT, false);
          break;
        case 0xd0: // read output port
          this.#reply(this.#outputPort(), false);
          break;
        case 0xd1: // write output port
        case 0xd2: // write keyboard output buffer
        case 0xd3: // write aux output buffer
        case 0xd4: // write to aux device
          this.#pendingCommand = cmd;
          break;
        case 0xdd: // A20 off
          this.#setA20(false);
          break;
        case 0xdf: // A20 on
          this.#setA20(true);
          break;
        default: // anything else is ignored, as by a real 8042
      }
    }
    this.#fill();
  }

  #setCommandByte(value: number): void {
    this.#ram[0] = value;
    this.#updateIrq();
  }

  #outputPort(): number {
    return (this.#outStored & OUT_STORED) | OUT_RESET | (this.#a20 ? OUT_A20 : 0) |
      (this.#kbdLevel ? OUT_IRQ1 : 0) | (this.#mouseLevel ? OUT_IRQ12 : 0);
  }

  #writeOutputPort(value: number): void {
    this.#outStored = value & OUT_STORED;
    this.#setA20((value & OUT_A20) !== 0);
    if ((value & OUT_RESET) === 0) this.#onSystemReset();
  }

  #setA20(enabled: boolean): void {
    if (this.#a20 === enabled) return;
    this.#a20 = enabled;
    this.#onA20(enabled);
  }

  #reply(byte: number, aux: boolean): void {
    if (this.#queue.length < CONTROLLER_QUEUE_LIMIT) this.#queue.push({ byte, aux });
  }

  /** Loads the output buffer from whoever has a byte, if it is empty. */
  #fill(): void {
    if (!this.#outputFull) {
      const next = this.#next();
      if (next) {
        this.#output = next.byte;
        this.#outputAux = next.aux;
        this.#outputFull = true;
      }
    }
    this.#updateIrq();
  }

  #next(): OutByte | undefined {
    const queued = this.#queue.shift();
    if (queued) return queued;
    const cb = this.commandByte;
    if (!(cb & CB_KBD_DISABLE)) {
      const byte = this.#pullKeyboard();
      if (byte !== undefined) return { byte, aux: false };
    }
    if (!(cb & CB_AUX_DISABLE)) {
      const byte = this.mouse.pull();
      if (byte !== undefined) return { byte, aux: true };
    }
    return undefined;
  }

  #pullKeyboard(): number | undefined {
    for (;;) {
      const byte = this.keyboard.pull();
      if (byte === undefined || !(this.commandByte & CB_TRANSLATE)) return byte;
      if (byte === 0xf0) {
        this.#breakPrefix = true;
        continue;
      }
      const code = translateSet2Byte(byte) | (this.#breakPrefix ? 0x80 : 0);
      this.#breakPrefix = false;
      return code;
    }
  }

  /** IRQ 1 and IRQ 12 levels: a full output buffer whose port's interrupt is enabled. */
  #wantedLevels(): [boolean, boolean] {
    const cb = this.commandByte;
    return [
      this.#outputFull && !this.#outputAux && (cb & CB_KBD_INT) !== 0,
      this.#outputFull && this.#outputAux && (cb & CB_AUX_INT) !== 0,
    ];
  }

  #updateIrq(): void {
    const [kbd, mouse] = this.#wantedLevels();
    if (kbd !== this.#kbdLevel) {
      this.#kbdLevel = kbd;
      this.#kbdIrq.set(kbd);
    }
    if (mouse !== this.#mouseLevel) {
      this.#mouseLevel = mouse;
      this.#mouseIrq.set(mouse);
    }
  }

  /** The controller, keyboard and mouse, queued bytes and a half-done command included. */
  snapshot(): I8042State {
    const cb = this.commandByte;
    return {
      version: 1,
      ram: this.#ram.slice(),
      output: this.#output,
      outputFull: this.#outputFull,
      outputAux: this.#outputAux,
      queue: this.#queue.map((q) => ({ ...q })),
      lastWasCommand: this.#lastWasCommand,
      pendingCommand: this.#pendingCommand ?? null,
      systemFlag: this.#systemFlag,
      breakPrefix: this.#breakPrefix,
      a20: this.#a20,
      outputPortLines: this.#outStored,
      irq1: this.#kbdLevel,
      irq12: this.#mouseLevel,
      keyboard: this.keyboard.snapshot(),
      mouse: this.mouse.snapshot(),
      status: this.status,
      commandByte: cb,
      translation: (cb & CB_TRANSLATE) !== 0,
      queued: this.#queue.length + this.keyboard.pendingBytes + this.mouse.pendingBytes,
    };
  }

  /**
   * Puts the controller, keyboard and mouse back into `state`, reports an A20
   * change through `onA20`, and drives IRQ 1 and 12 to the levels the output
   * buffer and command byte give.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: I8042State): void {
    const r = StateShape.versioned("i8042", state, 1);
    const pending = r.intOrNull("pendingCommand", 0, 0xff);
    if (
      pending !== null && !(pending >= 0x60 && pending <= 0x7f) &&
      !(pending >= 0xd1 && pending <= 0xd4)
    ) {
      r.fail("pendingCommand", `0x${pending.toString(16)} takes no data byte`);
    }
    const queue = r.objects("queue", CONTROLLER_QUEUE_LIMIT).map((q) => ({
      byte: q.int("byte", 0, 0xff),
      aux: q.bool("aux"),
    }));
    const v = {
      ram: r.bytes("ram", 32),
      output: r.int("output", 0, 0xff),
      outputFull: r.bool("outputFull"),
      outputAux: r.bool("outputAux"),
      lastWasCommand: r.bool("lastWasCommand"),
      systemFlag: r.bool("systemFlag"),
      breakPrefix: r.bool("breakPrefix"),
      a20: r.bool("a20"),
      lines: r.int("outputPortLines", 0, 0xff),
    };
    if (v.lines & ~OUT_STORED) r.fail("outputPortLines", "bits outside the stored lines");
    // The keyboard and mouse check their own states; restore them only if both are good.
    const keyboard = new Ps2Keyboard();
    keyboard.restore(r.raw("keyboard") as Ps2KeyboardState);
    const mouse = new Ps2Mouse();
    mouse.restore(r.raw("mouse") as Ps2MouseState);
    this.keyboard.restore(keyboard.snapshot());
    this.mouse.restore(mouse.snapshot());
    this.#ram = v.ram;
    this.#output = v.output;
    this.#outputFull = v.outputFull;
    this.#outputAux = v.outputAux;
    this.#queue = queue;
    this.#lastWasCommand = v.lastWasCommand;
    this.#pendingCommand = pending ?? undefined;
    this.#systemFlag = v.systemFlag;
    this.#breakPrefix = v.breakPrefix;
    this.#outStored = v.lines;
    this.#setA20(v.a20);
    [this.#kbdLevel, this.#mouseLevel] = this.#wantedLevels();
    this.#kbdIrq.set(this.#kbdLevel);
    this.#mouseIrq.set(this.#mouseLevel);
  }
}

/** A byte register read wider than a byte: the bytes above read as all ones. */
function widen(byte: number, size: AccessSize): number {
  return ((allOnes(size) & ~0xff) | byte) >>> 0;
}
