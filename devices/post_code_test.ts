import { deepStrictEqual, strictEqual } from "node:assert";
import { DebugExit } from "./debug_exit.ts";
import { PostCode } from "./post_code.ts";

Deno.test("PostCode keeps the last code and a history of distinct codes", () => {
  const post = new PostCode();
  strictEqual(post.read(0, 1), 0xff);
  for (const c of [0x01, 0x01, 0x02, 0x1ff]) post.write(0, 1, c);
  strictEqual(post.read(0, 1), 0xff & 0x1ff);
  deepStrictEqual(post.state(), { last: 0xff, history: [0x01, 0x02, 0xff], writes: 4 });
});

Deno.test("PostCode history is bounded", () => {
  const post = new PostCode();
  for (let i = 0; i < 40; i++) post.write(0, 1, i);
  const s = post.state() as { history: number[] };
  strictEqual(s.history.length, 16);
  strictEqual(s.history[15], 39);
});

Deno.test("DebugExit passes the written value through unchanged", () => {
  const codes: number[] = [];
  const dev = new DebugExit((c) => codes.push(c));
  dev.write(0, 1, 0x2a);
  dev.write(0, 4, 0x12345678);
  deepStrictEqual(codes, [0x2a, 0x12345678]);
  strictEqual(dev.read(0, 1), 0xff);
  deepStrictEqual(dev.state(), { lastValue: 0x12345678 });
});
