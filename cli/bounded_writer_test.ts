import { deepStrictEqual, strictEqual } from "node:assert";
import { BoundedWriter } from "./bounded_writer.ts";

/** A sink that takes up to `n` bytes a write and can be stuck. */
function sink(stuck = false) {
  const written: number[] = [];
  return {
    written,
    write(p: Uint8Array): Promise<number> {
      if (stuck) return new Promise(() => {});
      const n = Math.min(p.length, 3);
      written.push(...p.subarray(0, n));
      return Promise.resolve(n);
    },
  };
}

Deno.test("bytes go out in order, whatever the sink takes a write", async () => {
  const s = sink();
  const w = new BoundedWriter(s, 100);
  w.write(Uint8Array.of(1, 2, 3, 4, 5));
  w.write(Uint8Array.of(6, 7));
  await w.drain();
  deepStrictEqual(s.written, [1, 2, 3, 4, 5, 6, 7]);
  strictEqual(w.dropped, 0);
});

Deno.test("a sink that takes nothing never holds more than the limit; the rest is counted", async () => {
  const w = new BoundedWriter(sink(true), 1000);
  for (let i = 0; i < 100; i++) w.write(new Uint8Array(100));
  strictEqual(w.queued, 1000);
  strictEqual(w.dropped, 9000);
  // The drain gives up on a sink that takes nothing, and what was left counts as dropped.
  await w.drain(50);
  strictEqual(w.dropped, 10_000);
  strictEqual(w.queued, 0);
  w.write(new Uint8Array(5));
  strictEqual(w.dropped, 10_005);
});

Deno.test("a sink that fails drops what is queued and all that follows", async () => {
  const w = new BoundedWriter({ write: () => Promise.reject(new Error("EPIPE")) }, 100);
  w.write(new Uint8Array(10));
  await w.drain();
  w.write(new Uint8Array(4));
  strictEqual(w.dropped, 14);
});
