import { ok, strictEqual } from "node:assert/strict";
import { ControlViews, createControlBuffers, CTRL_BIG, CTRL_F64 } from "./control.ts";
import { DeadlineKicker, deleteDeadlineTimer } from "./kick.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("a deadline kicker signals its thread at the deadline and repeats until re-armed", async () => {
  const ctl = new ControlViews(createControlBuffers());
  let kicks = 0;
  const listener = () => kicks++;
  Deno.addSignalListener("SIGUSR2", listener);
  const kicker = new DeadlineKicker(ctl);
  try {
    ok(Atomics.load(ctl.bigs, CTRL_BIG.DEADLINE_TIMER) !== 0n, "timer id published");
    kicker.set(1030, 1000); // 30 ms from "now"
    strictEqual(ctl.floats[CTRL_F64.DEADLINE], 1030);
    await sleep(10);
    strictEqual(kicks, 0, "kicked before the deadline");
    for (let i = 0; i < 100 && kicks < 3; i++) await sleep(10);
    ok(kicks >= 3, `an unanswered deadline repeats (${kicks} kicks)`);
    kicker.set(Infinity, 0);
    await sleep(20);
    const settled = kicks;
    await sleep(60);
    strictEqual(kicks, settled, "kicked with no deadline");
    kicker.set(5, 0);
    kicker.suspend();
    await sleep(40);
    strictEqual(kicks, settled, "kicked while suspended");
  } finally {
    kicker.dispose();
    Deno.removeSignalListener("SIGUSR2", listener);
  }
  strictEqual(Atomics.load(ctl.bigs, CTRL_BIG.DEADLINE_TIMER), 0n, "timer id withdrawn");
  deleteDeadlineTimer(ctl); // a second delete finds nothing to do
  kicker.set(1, 0); // a no-op once disposed
});

Deno.test("the main thread can delete a deadline timer a worker left behind", () => {
  const ctl = new ControlViews(createControlBuffers());
  const kicker = new DeadlineKicker(ctl);
  deleteDeadlineTimer(ctl);
  strictEqual(Atomics.load(ctl.bigs, CTRL_BIG.DEADLINE_TIMER), 0n);
  kicker.dispose(); // finds the slot empty and deletes nothing
});
