import { deepStrictEqual, strictEqual } from "node:assert";
import { DebugExit } from "./debug_exit.ts";
import { PostCode } from "./post_code.ts";
import { SeededRandom } from "./testing/seeded_random.ts";
import { assertRestoreIdentity, assertRestoreRejects } from "./testing/snapshot_check.ts";

Deno.test("PostCode keeps the last code and a history of distinct codes", () => {
  const post = new PostCode();
  strictEqual(post.read(0, 1), 0xff);
  for (const c of [0x01, 0x01, 0x02, 0x1ff]) post.write(0, 1, c);
  strictEqual(post.read(0, 1), 0xff & 0x1ff);
  deepStrictEqual(post.snapshot(), {
    version: 1,
    last: 0xff,
    history: [0x01, 0x02, 0xff],
    writes: 4,
  });
});

Deno.test("PostCode history is bounded", () => {
  const post = new PostCode();
  for (let i = 0; i < 40; i++) post.write(0, 1, i);
  const s = post.snapshot();
  strictEqual(s.history.length, 16);
  strictEqual(s.history[15], 39);
});

Deno.test("PostCode snapshot/restore: identity and the same reads and history afterwards", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rng = new SeededRandom(seed);
    const a = new PostCode();
    for (let i = rng.below(40); i > 0; i--) a.write(0, 1, rng.below(8));
    const b = new PostCode();
    const s = assertRestoreIdentity(a, b);
    for (let i = 0; i < 30; i++) {
      const code = rng.below(8);
      a.write(0, 1, code);
      b.write(0, 1, code);
      strictEqual(b.read(0, 1), a.read(0, 1));
    }
    deepStrictEqual(b.snapshot(), a.snapshot());
    assertRestoreRejects(new PostCode(), s, [
      { last: 0x100 },
      { history: new Array(17).fill(1) },
      { writes: -1 },
    ]);
  }
});

Deno.test("DebugExit: a value that fits 0-255 is the exit status, at any access width", () => {
  const exits: [number, string | undefined][] = [];
  const dev = new DebugExit((code, detail) => exits.push([code, detail]));
  dev.write(0, 1, 0x2a);
  dev.write(0, 2, 0x00ff);
  dev.write(0, 4, 0);
  deepStrictEqual(exits, [[0x2a, undefined], [0xff, undefined], [0, undefined]]);
  strictEqual(dev.read(0, 1), 0xff);
  strictEqual(dev.read(0, 4), 0xffffffff);
});

Deno.test("DebugExit: a wider value ends the run with status 1, never 0, and names the value", () => {
  const exits: [number, string | undefined][] = [];
  const dev = new DebugExit((code, detail) => exits.push([code, detail]));
  dev.write(0, 2, 0x100); // out dx, ax: would truncate to 0, read as success
  dev.write(0, 4, 0xdeadbe00); // out dx, eax
  deepStrictEqual(exits, [
    [1, "debug-exit value 0x100 does not fit an exit status"],
    [1, "debug-exit value 0xdeadbe00 does not fit an exit status"],
  ]);
  const s = dev.snapshot();
  deepStrictEqual(s, { version: 1, lastValue: 0xdeadbe00 });
  assertRestoreIdentity(dev, new DebugExit(() => {}));
  assertRestoreRejects(dev, s, [{ lastValue: -1 }, { lastValue: 2 ** 32 }]);
});
