import assert from "node:assert/strict";
import { decodePlain, encodePlain, PlainCodecError } from "./plain_codec.ts";

Deno.test("plain data with byte arrays round-trips, bytes in a binary tail", () => {
  const value = {
    version: 1,
    regs: new Uint8Array([1, 2, 3, 255]),
    nested: [{ fifo: new Uint8Array(0), level: true }, null, "text", -0.5],
    big: new Uint8Array(100_000).fill(7),
  };
  const bytes = encodePlain(value);
  assert.ok(bytes.length < 100_000 + 200, `${bytes.length} bytes: blobs must not be inflated`);
  const back = decodePlain(bytes) as typeof value;
  assert.deepEqual(back, value);
  assert.ok(back.regs instanceof Uint8Array);
});

Deno.test("a subarray is encoded as its own bytes, not its buffer's", () => {
  const buf = new Uint8Array([9, 8, 7, 6, 5]);
  const back = decodePlain(encodePlain({ b: buf.subarray(1, 3) })) as { b: Uint8Array };
  assert.deepEqual([...back.b], [8, 7]);
});

Deno.test("values that are not plain data are refused when encoding", () => {
  assert.throws(() => encodePlain({ f: () => 1 }), TypeError);
  assert.throws(() => encodePlain({ d: new Date(0) }), TypeError);
  assert.throws(() => encodePlain({ n: NaN }), TypeError);
  assert.throws(() => encodePlain({ m: new Map() }), TypeError);
  assert.throws(() => encodePlain({ b: 1n }), TypeError);
});

Deno.test("truncated, padded or garbled bytes are a PlainCodecError", () => {
  const bytes = encodePlain({ a: new Uint8Array([1, 2, 3]) });
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => decodePlain(bytes.subarray(0, n)), PlainCodecError, `cut at ${n}`);
  }
  const padded = new Uint8Array(bytes.length + 1);
  padded.set(bytes);
  assert.throws(() => decodePlain(padded), PlainCodecError);
  const garbled = bytes.slice();
  garbled[4] = 0x7b + 1;
  assert.throws(() => decodePlain(garbled), PlainCodecError);
});
