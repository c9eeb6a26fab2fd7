import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { MemoryBackend } from "./memory_backend.ts";

Deno.test("memory backend: reads past the end are zero-filled", () => {
  const b = new MemoryBackend(new Uint8Array([1, 2, 3, 4]));
  const buf = new Uint8Array(6).fill(9);
  b.read(2, buf);
  deepStrictEqual([...buf], [3, 4, 0, 0, 0, 0]);
  b.read(10, buf);
  deepStrictEqual([...buf], [0, 0, 0, 0, 0, 0]);
});

Deno.test("memory backend: writes, readonly refusal, bounds and flush count", () => {
  const b = new MemoryBackend(8);
  b.write(2, new Uint8Array([7, 8]));
  deepStrictEqual([...b.bytes.subarray(0, 5)], [0, 0, 7, 8, 0]);
  throws(() => b.write(7, new Uint8Array(2)), RangeError);
  throws(() => new MemoryBackend(8, true).write(0, new Uint8Array(1)));
  b.flush();
  strictEqual(b.flushes, 1);
  strictEqual(b.size, 8);
});
