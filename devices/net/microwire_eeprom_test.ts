import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { StateShape } from "../state_shape.ts";
import { StateError } from "../types.ts";
import { MicrowireEeprom } from "./microwire_eeprom.ts";

/** Clocks one bit in: SK low then high with CS held. */
function clock(e: MicrowireEeprom, di: boolean): void {
  e.drive(true, false, di);
  e.drive(true, true, di);
}

/** Selects the chip and sends the start bit, READ (10) and `addr`. */
function startRead(e: MicrowireEeprom, addr: number): void {
  e.drive(false, false, false);
  const cmd = (0b110 << 6) | addr;
  for (let i = 8; i >= 0; i--) clock(e, ((cmd >> i) & 1) === 1);
}

function readBits(e: MicrowireEeprom, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    clock(e, false);
    v = v * 2 + (e.dataOut ? 1 : 0);
  }
  return v;
}

Deno.test("microwire: READ shifts the word out MSB first and runs on into the next", () => {
  const e = new MicrowireEeprom();
  e.words[5] = 0xbeef;
  e.words[6] = 0x1234;
  startRead(e, 5);
  strictEqual(readBits(e, 16), 0xbeef);
  strictEqual(readBits(e, 16), 0x1234);
  e.drive(false, false, false);
  strictEqual(e.dataOut, false, "deselected: DO low");
  startRead(e, 63);
  e.words[63] = 0x8001;
  e.words[0] = 0x4000;
  strictEqual(readBits(e, 32), 0x80014000, "the last word wraps to the first");
});

Deno.test("microwire: another opcode shifts nothing out; SK held high clocks once", () => {
  const e = new MicrowireEeprom();
  e.words.fill(0xffff);
  e.drive(false, false, false);
  const erase = (0b111 << 6) | 3;
  for (let i = 8; i >= 0; i--) clock(e, ((erase >> i) & 1) === 1);
  strictEqual(readBits(e, 16), 0);
  startRead(e, 1);
  e.drive(true, true, false);
  e.drive(true, true, false);
  strictEqual(e.snapshot().wire.bitOut, 15, "no rising edge, no bit shifted");
  strictEqual(readBits(e, 16), 0xffff);
});

Deno.test("microwire: read validates and restore puts contents and wire back", () => {
  const a = new MicrowireEeprom();
  a.words[2] = 0xabcd;
  startRead(a, 2);
  readBits(a, 3);
  const saved = structuredClone(a.snapshot());
  const b = new MicrowireEeprom();
  b.restore(MicrowireEeprom.read(new StateShape("eeprom", saved)));
  deepStrictEqual(b.snapshot(), saved);
  strictEqual(readBits(b, 13), readBits(a, 13));
  for (const bad of [{ eeprom: [1] }, { wire: { ...saved.wire, bitsIn: 10 } }]) {
    throws(() => MicrowireEeprom.read(new StateShape("eeprom", { ...saved, ...bad })), StateError);
  }
});
