/**
 * The session core decides how a run ended exactly once: the first ending
 * wins, work registered before the stop runs while the machine still runs,
 * verdicts run before anyone hears of the ending, and every listener hears
 * the same one.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import type { VmExit } from "../machine/exit.ts";
import { RunSession } from "../machine/session.ts";
import { imageCopy } from "./api_fixtures.ts";
import { kvmTest } from "./kvm_available.ts";

function haltRun(timeoutMs: number | null = null): RunSession {
  return RunSession.start(
    {
      disks: [{ path: imageCopy("halt") }],
      firmware: "none",
      memory: "16M",
      snapshot: true,
    },
    {},
    { timeoutMs },
  );
}

async function serialSeen(run: RunSession, text: string): Promise<void> {
  let seen = "";
  await new Promise<void>((resolve) => {
    run.on((e) => {
      if (e.type !== "serial") return;
      seen += new TextDecoder().decode(e.bytes);
      if (seen.includes(text)) resolve();
    });
  });
}

kvmTest(
  "the first ending wins; later ones and the machine's own stop do not change it",
  async () => {
    const run = haltRun();
    await serialSeen(run, "halted");
    const heard: VmExit[] = [];
    run.on((e) => e.type === "exit" && heard.push(e.exit));
    const first = run.end({ reason: "fail-on", code: 1, detail: "first" });
    strictEqual(run.ending?.reason, "fail-on");
    const second = run.end({ reason: "signal", code: 143, detail: "SIGTERM" });
    const expected = { reason: "fail-on", code: 1, detail: "first" };
    deepStrictEqual(await first, expected);
    deepStrictEqual(await second, expected);
    deepStrictEqual(run.exit, expected);
    deepStrictEqual(heard, [expected]);
  },
);

kvmTest("the time limit ends the run through the same decision", async () => {
  const run = haltRun(300);
  deepStrictEqual(await run.exited, {
    reason: "timeout",
    code: 124,
    detail: "no exit within 300 ms",
  });
});

kvmTest(
  "work before the stop runs while the machine runs; verdicts run before listeners",
  async () => {
    const run = haltRun();
    await serialSeen(run, "halted");
    let snapshotTaken = false;
    run.beforeStop(async () => {
      snapshotTaken = (await run.machine.snapshot()).devices !== null;
    });
    run.verdict((exit) => exit.code === 0 ? { ...exit, reason: "incomplete", code: 1 } : exit);
    let heard: VmExit | null = null;
    run.on((e) => {
      if (e.type === "exit") heard = e.exit;
    });
    const exit = await run.end({ reason: "stopped", code: 0 });
    ok(snapshotTaken, "the machine still ran when the work before the stop did");
    deepStrictEqual(exit, { reason: "incomplete", code: 1 });
    deepStrictEqual(heard, exit);
  },
);
