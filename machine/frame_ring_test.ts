import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { FrameRing, MAX_FRAME } from "./frame_ring.ts";
import { SeededRandom } from "../devices/testing/seeded_random.ts";

Deno.test("FrameRing: frames come out in order, whole, across many wraps", () => {
  const ring = new FrameRing(FrameRing.create(1 << 15));
  const rnd = new SeededRandom(7);
  const sent: Uint8Array[] = [];
  let received = 0;
  for (let round = 0; round < 2000; round++) {
    const n = rnd.int(0, 4);
    for (let i = 0; i < n; i++) {
      const f = new Uint8Array(rnd.int(1, 1600)).map(() => rnd.int(0, 255));
      if (ring.push(f)) sent.push(f);
    }
    const m = rnd.int(0, 4);
    for (let i = 0; i < m; i++) {
      const f = ring.peek();
      if (!f) break;
      deepStrictEqual(f, sent[received++]);
      ring.pop();
    }
  }
  for (let f = ring.peek(); f; f = ring.peek()) {
    deepStrictEqual(f, sent[received++]);
    ring.pop();
  }
  strictEqual(received, sent.length);
  strictEqual(ring.empty, true);
});

Deno.test("FrameRing: a full ring drops and counts; oversized frames are refused", () => {
  const ring = new FrameRing(FrameRing.create(1 << 15));
  let accepted = 0;
  while (ring.push(new Uint8Array(1500))) accepted++;
  strictEqual(accepted, Math.floor((1 << 15) / 1504));
  strictEqual(ring.dropped, 1);
  strictEqual(ring.push(new Uint8Array(MAX_FRAME + 1)), false);
  strictEqual(ring.dropped, 2);
  ring.pop();
  strictEqual(ring.push(new Uint8Array(1500)), true);
  throws(() => FrameRing.create(1000), RangeError);
});
