import { deepStrictEqual, notStrictEqual, strictEqual } from "node:assert/strict";
import { SteppedClock } from "./clock.ts";

Deno.test("advanceToFrom moves time as advanceTo does, firing due timers in order", () => {
  const a = new SteppedClock();
  const b = new SteppedClock();
  const fired: string[] = [];
  for (const [clock, name] of [[a, "a"], [b, "b"]] as const) {
    clock.timer(() => fired.push(`${name}1@${clock.nowNs()}`)).arm(100);
    clock.timer(() => fired.push(`${name}2@${clock.nowNs()}`)).arm(50);
  }
  const feed = new Float64Array(1);
  for (const ns of [10, 75, 75, 60, 500]) {
    a.advanceTo(ns);
    feed[0] = ns;
    b.advanceToFrom(feed);
    strictEqual(b.nowNs(), a.nowNs());
  }
  deepStrictEqual(fired, ["a2@50", "b2@50", "a1@100", "b1@100"]);
  strictEqual(b.nowNs(), 500);
});

Deno.test("changes moves with every arm, cancel and firing, and only then", () => {
  const clock = new SteppedClock();
  const t = clock.timer(() => {});
  const seen = [clock.changes];
  clock.advanceTo(10);
  strictEqual(clock.changes, seen[0], "no timer, no change");
  t.arm(20);
  notStrictEqual(clock.changes, seen[0]);
  seen.push(clock.changes);
  clock.advanceTo(15);
  strictEqual(clock.changes, seen[1], "nothing due");
  clock.advanceTo(25);
  notStrictEqual(clock.changes, seen[1], "fired");
  seen.push(clock.changes);
  t.arm(40);
  t.cancel();
  notStrictEqual(clock.changes, seen[2]);
  strictEqual(clock.nextDeadline(), Infinity);
});
