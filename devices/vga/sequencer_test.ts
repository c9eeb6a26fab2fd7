import { strictEqual } from "node:assert";
import {
  SEQ_CHAR_MAP_SELECT,
  SEQ_CLOCKING_MODE,
  SEQ_MAP_MASK,
  SEQ_MEMORY_MODE,
  Sequencer,
} from "./sequencer.ts";

function write(seq: Sequencer, index: number, value: number): void {
  seq.writeIndex(index);
  seq.writeData(value);
}

Deno.test("sequencer: reserved bits read as zero", () => {
  const seq = new Sequencer();
  const expected = [0x03, 0x3d, 0x0f, 0x3f, 0x0e];
  for (let i = 0; i < 5; i++) {
    write(seq, i, 0xff);
    strictEqual(seq.readData(), expected[i]);
  }
});

Deno.test("sequencer: mode 3 memory mode is odd/even, not chain-4", () => {
  const seq = new Sequencer();
  write(seq, SEQ_MEMORY_MODE, 0x02);
  strictEqual(seq.oddEvenWrites, true);
  strictEqual(seq.chain4, false);
  write(seq, SEQ_MEMORY_MODE, 0x0e); // mode 13h
  strictEqual(seq.oddEvenWrites, false);
  strictEqual(seq.chain4, true);
  write(seq, SEQ_MAP_MASK, 0x04);
  strictEqual(seq.mapMask, 4);
});

Deno.test("sequencer: clocking mode bits", () => {
  const seq = new Sequencer();
  write(seq, SEQ_CLOCKING_MODE, 0x00); // mode 3: 9-dot
  strictEqual(seq.eightDot, false);
  write(seq, SEQ_CLOCKING_MODE, 0x09); // mode 0Dh: 8-dot, half clock
  strictEqual(seq.eightDot, true);
  strictEqual(seq.halfDotClock, true);
  strictEqual(seq.screenOff, false);
  write(seq, SEQ_CLOCKING_MODE, 0x21);
  strictEqual(seq.screenOff, true);
});

Deno.test("sequencer: character map select decodes both maps", () => {
  const seq = new Sequencer();
  strictEqual(seq.charMapA, 0);
  strictEqual(seq.charMapB, 0);
  write(seq, SEQ_CHAR_MAP_SELECT, 0x04); // A = 1, B = 0
  strictEqual(seq.charMapA, 0x4000);
  strictEqual(seq.charMapB, 0);
  write(seq, SEQ_CHAR_MAP_SELECT, 0x23); // A = 4 (SAH), B = 3
  strictEqual(seq.charMapA, 0x2000);
  strictEqual(seq.charMapB, 0xc000);
  write(seq, SEQ_CHAR_MAP_SELECT, 0x3f); // A = 7, B = 7
  strictEqual(seq.charMapA, 0xe000);
  strictEqual(seq.charMapB, 0xe000);
});
