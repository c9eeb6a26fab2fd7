import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
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

Deno.test("indexed registers: reset, snapshot and restore", () => {
  const r = new IndexedRegisters([0xff, 0x0f]);
  r.writeIndex(1);
  r.writeData(7);
  const saved = r.snapshot();
  deepStrictEqual(saved, { version: 1, index: 1, regs: new Uint8Array([0, 7]) });
  r.reset();
  deepStrictEqual(r.snapshot(), { version: 1, index: 0, regs: new Uint8Array([0, 0]) });
  r.restore(saved);
  strictEqual(r.readData(), 7);
  deepStrictEqual(r.snapshot(), saved);
  throws(() => r.restore({ ...saved, regs: new Uint8Array([0, 0x10]) }), StateError);
  throws(() => r.restore({ ...saved, regs: new Uint8Array(3) }), StateError);
  throws(() => r.restore({ ...saved, index: 256 }), StateError);
  throws(() => r.restore({ ...saved, version: 2 } as unknown as typeof saved), StateError);
  deepStrictEqual(r.snapshot(), saved);
});
