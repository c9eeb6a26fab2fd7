import { deepStrictEqual, ok, strictEqual } from "node:assert";
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

Deno.test("small writes go out packed in few sink writes, in order, while one is in flight", async () => {
  const lengths: number[] = [];
  const out: number[] = [];
  const w = new BoundedWriter({
    async write(p: Uint8Array): Promise<number> {
      lengths.push(p.length);
      const copy = [...p]; // what the sink saw when the write was asked
      await new Promise((r) => setTimeout(r, 1));
      out.push(...copy);
      return p.length;
    },
  }, 1 << 20);
  const sent: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const chunk = Uint8Array.from({ length: 100 }, (_, j) => (i + j) & 0xff);
    sent.push(...chunk);
    w.write(chunk);
    // More arrives while the first write is in flight.
    if (i === 10) await new Promise((r) => setTimeout(r, 0));
  }
  await w.drain();
  deepStrictEqual(out, sent);
  ok(lengths.length <= 6, `${lengths.length} sink writes for 2000 chunks`);
});
