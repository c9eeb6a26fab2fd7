import { deepStrictEqual, strictEqual } from "node:assert";
import { IndexedRegisters } from "./indexed_registers.ts";

Deno.test("indexed registers: index selects, data reads back through the mask", () => {
  const r = new IndexedRegisters([0xff, 0x0f, 0x03]);
  r.writeIndex(1);
  r.writeData(0xab);
  strictEqual(r.readData(), 0x0b);
  r.writeIndex(2);
  r.writeData(0xff);
  strictEqual(r.readData(), 0x03);
  r.writeIndex(1);
  strictEqual(r.readData(), 0x0b);
  strictEqual(r.index, 1);
});

Deno.test("indexed registers: indices past the bank read all ones and drop writes", () => {
  const r = new IndexedRegisters([0xff, 0xff]);
  r.writeIndex(0x12);
  r.writeData(0x55);
  strictEqual(r.readData(), 0xff);
  strictEqual(r.index, 0x12);
  deepStrictEqual([...r.regs], [0, 0]);
});

Deno.test("indexed registers: reset and state", () => {
  const r = new IndexedRegisters([0xff, 0xff]);
  r.writeIndex(1);
  r.writeData(7);
  deepStrictEqual(r.state(), { index: 1, regs: [0, 7] });
  r.reset();
  deepStrictEqual(r.state(), { index: 0, regs: [0, 0] });
});
