/**
 * A 93C46-sized Microwire EEPROM (64 words of 16 bits) as NICs wire it to
 * a register the driver bit-bangs: the e1000's EECD and the RTL8139's
 * 9346CR. Only READ is decoded; drivers never write the NIC's EEPROM.
 *
 * @module
 */

import type { StateShape } from "../state_shape.ts";

/** Words of a 93C46 in 16-bit mode. */
export const MICROWIRE_WORDS = 64;

/** The serial state of the EEPROM, as saved. */
export interface MicrowireWire {
  /** Bits clocked in since CS went high (9 make a command). */
  bitsIn: number;
  /** Bits shifted in (start bit, opcode, address). */
  input: number;
  /** A READ is shifting data out. */
  reading: boolean;
  /** Index of the bit on DO: word * 16 + (15 - bit). */
  bitOut: number;
  lastSk: boolean;
}

/** What a NIC saves of its EEPROM, beside its other state. */
export interface MicrowireState {
  readonly eeprom: number[];
  readonly wire: MicrowireWire;
}

function idleWire(lastSk: boolean): MicrowireWire {
  return { bitsIn: 0, input: 0, reading: false, bitOut: 0, lastSk };
}

/** The EEPROM's contents and the state of its serial interface. */
export class MicrowireEeprom {
  /** The contents; the NIC model fills them in. */
  readonly words = new Uint16Array(MICROWIRE_WORDS);
  #wire = idleWire(false);

  /** The data bit on DO (low unless a READ is shifting out). */
  get dataOut(): boolean {
    const w = this.#wire;
    if (!w.reading) return false;
    const word = this.words[(w.bitOut >> 4) & (MICROWIRE_WORDS - 1)];
    return ((word >> (15 - (w.bitOut & 15))) & 1) !== 0;
  }

  /** The serial interface back to idle (power-on, or the chip deselected). */
  idle(lastSk = false): void {
    this.#wire = idleWire(lastSk);
  }

  /**
   * The pins the driver sets: with CS high each rising SK clocks DI in;
   * after the start bit, opcode 10 (READ) and a 6-bit address, each further
   * rising edge presents the next data bit on DO, 15 first, running on
   * into the following words. CS low deselects the chip.
   */
  drive(cs: boolean, sk: boolean, di: boolean): void {
    if (!cs) return this.idle(sk);
    const w = this.#wire;
    if (sk && !w.lastSk) {
      if (w.reading) w.bitOut = (w.bitOut + 1) & 0xffff;
      else if (w.bitsIn < 9) {
        w.input = ((w.input << 1) | (di ? 1 : 0)) & 0x1ff;
        if (++w.bitsIn === 9 && w.input >> 6 === 0b110) {
          w.reading = true;
          w.bitOut = (((w.input & 0x3f) << 4) - 1) & 0xffff;
        }
      }
    }
    w.lastSk = sk;
  }

  /** The contents and the serial state, for the NIC's snapshot. */
  snapshot(): MicrowireState {
    return { eeprom: [...this.words], wire: { ...this.#wire } };
  }

  /**
   * Validates the `eeprom` and `wire` fields of a NIC's saved state; apply
   * the result with {@link restore} once the whole state is known good.
   * @throws {StateError} when they are malformed
   */
  static read(s: StateShape): MicrowireState {
    const eeprom = s.ints("eeprom", 0, 0xffff, MICROWIRE_WORDS);
    const w = s.object("wire");
    const wire: MicrowireWire = {
      bitsIn: w.int("bitsIn", 0, 9),
      input: w.int("input", 0, 0x1ff),
      reading: w.bool("reading"),
      bitOut: w.int("bitOut", 0, 0xffff),
      lastSk: w.bool("lastSk"),
    };
    return { eeprom, wire };
  }

  /** Puts back a state {@link read} has validated. */
  restore(state: MicrowireState): void {
    this.words.set(state.eeprom);
    this.#wire = { ...state.wire };
  }
}
