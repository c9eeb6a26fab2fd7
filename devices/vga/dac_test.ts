import { deepStrictEqual, strictEqual } from "node:assert";
import { Dac } from "./dac.ts";

Deno.test("dac: three writes fill one entry and advance the write index", () => {
  const dac = new Dac();
  dac.setWriteIndex(0x10);
  for (const v of [0x3f, 0x20, 0x01, 0x02, 0x03, 0x04]) dac.writeData(v);
  strictEqual(dac.writeIndex, 0x12);
  deepStrictEqual([...dac.palette.subarray(0x30, 0x36)], [0x3f, 0x20, 0x01, 0x02, 0x03, 0x04]);
});

Deno.test("dac: an entry is not stored until its third component", () => {
  const dac = new Dac();
  dac.setWriteIndex(5);
  dac.writeData(0x11);
  dac.writeData(0x22);
  deepStrictEqual([...dac.palette.subarray(15, 18)], [0, 0, 0]);
  dac.setWriteIndex(6); // restarts the triple
  dac.writeData(1);
  dac.writeData(2);
  dac.writeData(3);
  deepStrictEqual([...dac.palette.subarray(15, 21)], [0, 0, 0, 1, 2, 3]);
});

Deno.test("dac: components are 6 bits", () => {
  const dac = new Dac();
  dac.setWriteIndex(0);
  dac.writeData(0xff);
  dac.writeData(0x40);
  dac.writeData(0x7f);
  deepStrictEqual([...dac.palette.subarray(0, 3)], [0x3f, 0x00, 0x3f]);
});

Deno.test("dac: reads auto-increment and the state register follows the last index written", () => {
  const dac = new Dac();
  dac.setWriteIndex(0xff);
  for (const v of [1, 2, 3, 4, 5, 6]) dac.writeData(v); // wraps to entry 0
  strictEqual(dac.readState(), 0);
  dac.setReadIndex(0xff);
  strictEqual(dac.readState(), 3);
  deepStrictEqual([1, 2, 3, 4, 5, 6].map(() => dac.readData()), [1, 2, 3, 4, 5, 6]);
  strictEqual(dac.readIndex, 1);
});
