import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
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

Deno.test("dac: snapshot -> restore -> snapshot is the identity mid-triplet, and both answer alike", () => {
  let seed = 7;
  const next = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let round = 0; round < 30; round++) {
    const ops = Array.from({ length: 60 }, () => [next(5), next(256)] as const);
    const run = (dac: Dac, list: readonly (readonly [number, number])[]) =>
      list.map(([op, v]) => {
        if (op === 0) dac.setReadIndex(v);
        else if (op === 1) dac.setWriteIndex(v);
        else if (op === 2) dac.writeData(v);
        else if (op === 3) return dac.readData();
        else return dac.readState();
        return -1;
      });
    const a = new Dac();
    run(a, ops);
    a.writeData(next(64)); // leave a write part-way through its triplet now and then
    const saved = a.snapshot();
    const b = new Dac();
    b.restore(structuredClone(saved));
    deepStrictEqual(b.snapshot(), saved);
    deepStrictEqual(run(b, ops), run(a, ops));
    deepStrictEqual(b.snapshot(), a.snapshot());
  }
  const good = new Dac().snapshot();
  throws(() => new Dac().restore({ ...good, palette: new Uint8Array(768).fill(0x40) }), StateError);
  throws(() => new Dac().restore({ ...good, mode: "both" as "read" }), StateError);
});
