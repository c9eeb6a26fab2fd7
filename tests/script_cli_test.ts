/**
 * Scripted headless runs of the vmrun command against fixture guests:
 * steps in command-line order, --exit-on, --fail-on, timeouts, reports,
 * screenshots and --no-reboot.
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { reportProblems, type RunReport } from "../api/report.ts";
import { imageCopy, pngSize } from "./api_fixtures.ts";
import { kvmTest } from "./kvm_available.ts";
import { runVmrun } from "./vmrun_process.ts";

const NONE = ["--firmware", "none", "--headless", "--snapshot", "-m", "16M"];
const LONG = { killAfterMs: 120_000 };

function tempPath(suffix: string): string {
  return `${Deno.makeTempDirSync()}/out${suffix}`;
}

function readReport(path: string): RunReport {
  const report = JSON.parse(Deno.readTextFileSync(path));
  deepStrictEqual(reportProblems(report), []);
  return report;
}

kvmTest("steps run in command-line order and --report records them", async () => {
  const report = tempPath(".json");
  const r = await runVmrun([
    ...NONE,
    imageCopy("echo"),
    "--expect",
    "ready",
    "--send",
    "one\\n",
    "--expect=one\\n",
    "--send",
    "two",
    "--expect",
    "t(w)o",
    "--send",
    "q",
    "--report",
    report,
  ]);
  strictEqual(r.code, 0, r.stderr);
  match(r.stdout, /^ready.*one\ntwo$/s);
  const rep = readReport(report);
  strictEqual(rep.status, 0);
  deepStrictEqual(rep.exit, { reason: "debug-exit", code: 0 });
  deepStrictEqual(
    rep.steps.map((s) => [s.index, s.kind, s.arg, s.status, s.matched]),
    [
      [1, "expect", "ready", "ok", "ready"],
      [2, "send", "one\\n", "ok", undefined],
      [3, "expect", "one\\n", "ok", "one\n"],
      [4, "send", "two", "ok", undefined],
      [5, "expect", "t(w)o", "ok", "two"],
      [6, "send", "q", "ok", undefined],
    ],
  );
  for (let i = 1; i < rep.steps.length; i++) {
    // One after the other (each figure rounded to a whole ms).
    const prev = rep.steps[i - 1];
    ok(rep.steps[i].startMs! >= prev.startMs! + prev.durationMs! - 1, JSON.stringify(rep.steps));
  }
  strictEqual(rep.serial, r.stdout);
  strictEqual(rep.failure, null);
});

kvmTest("--exit-on ends the run with status 0 at the matching line", async () => {
  const report = tempPath(".json");
  const r = await runVmrun([
    ...NONE,
    imageCopy("spin"),
    "--exit-on",
    "spin+ing",
    "--report",
    report,
  ]);
  strictEqual(r.code, 0);
  match(r.stderr, /^vmrun: --exit-on 'spin\+ing' matched: spinning\n$/);
  strictEqual(readReport(report).exitOnLine, "spinning");
});

kvmTest("--fail-on ends with status 1, the line on stderr and a screenshot", async () => {
  const shot = tempPath(".png");
  const report = tempPath(".json");
  const r = await runVmrun([
    ...NONE,
    imageCopy("spin"),
    "--fail-on",
    "spinn",
    "--screenshot-on-fail",
    shot,
    "--report",
    report,
  ]);
  strictEqual(r.code, 1);
  match(r.stderr, /^vmrun: --fail-on 'spinn' matched: spinning\n/);
  deepStrictEqual(pngSize(Deno.readFileSync(shot)), { width: 720, height: 400 });
  const rep = readReport(report);
  deepStrictEqual(rep.failure, {
    kind: "fail-on",
    message: "--fail-on 'spinn' matched",
    line: "spinning",
  });
  strictEqual(rep.screenshotOnFail, shot);
  strictEqual(rep.status, 1);
  // The guest exits 0 right after its line; --fail-on still fails the run.
  const hello = await runVmrun([...NONE, imageCopy("hello"), "--fail-on", "from vmrun"]);
  strictEqual(hello.code, 1);
  match(hello.stderr, /--fail-on 'from vmrun' matched: Hello from vmrun!/);
});

kvmTest("--timeout: a run that times out reports the last serial lines and exits 124", async () => {
  const report = tempPath(".json");
  const r = await runVmrun(
    [...NONE, imageCopy("spin"), "--timeout", "8", "--expect", "never", "--report", report],
    LONG,
  );
  strictEqual(r.code, 124);
  match(r.stderr, /^vmrun: timed out: no exit within 8 s\n/);
  match(r.stderr, /vmrun: last serial lines:\n {2}\| spinning\n/);
  const rep = readReport(report);
  strictEqual(rep.status, 124);
  strictEqual(rep.exit.reason, "timeout");
  strictEqual(rep.failure?.kind, "timeout");
  strictEqual(rep.steps[0].status, "failed");
});

kvmTest("--step-timeout fails a step that takes too long with 124", async () => {
  const r = await runVmrun(
    [
      ...NONE,
      imageCopy("spin"),
      "--step-timeout",
      "8",
      "--expect",
      "spinning",
      "--expect",
      "never",
    ],
    LONG,
  );
  strictEqual(r.code, 124);
  match(r.stderr, /^vmrun: timed out: step 2 \(--expect 'never'\) not done within 8 s/);
  match(r.stderr, /last serial lines:\n {2}\| spinning\n/);
});

kvmTest("a step left undone when the guest exits by itself fails the run", async () => {
  const r = await runVmrun([...NONE, imageCopy("hello"), "--expect", "Hello", "--expect", "more"]);
  strictEqual(r.code, 1);
  match(
    r.stderr,
    /^vmrun: the run ended \(debug-exit\) before step 2 \(--expect 'more'\) was done\n/,
  );
  match(r.stderr, /\| Hello from vmrun!/);
});

kvmTest("a screenshot step that cannot write fails the run with status 1", async () => {
  const report = tempPath(".json");
  const r = await runVmrun([
    ...NONE,
    imageCopy("halt"),
    "--expect",
    "halted",
    "--screenshot",
    "/nonexistent/dir/shot.png",
    "--report",
    report,
  ]);
  strictEqual(r.code, 1);
  match(r.stderr, /^vmrun: step 2 \(--screenshot '\/nonexistent\/dir\/shot.png'\) failed: /);
  strictEqual(readReport(report).failure?.kind, "step");
});

kvmTest("--no-reboot: a guest reset ends the run with status 0", async () => {
  const r = await runVmrun([...NONE, imageCopy("resets"), "--no-reboot"]);
  strictEqual(r.stdout, "boots: 1\r\n");
  strictEqual(r.code, 0);
  match(r.stderr, /reset/);
});

kvmTest("keyboard, screen and screenshot steps with SeaBIOS", async () => {
  const shot = tempPath(".png");
  const report = tempPath(".json");
  const r = await runVmrun([
    imageCopy("keys"),
    "--headless",
    "--snapshot",
    "--timeout",
    "100",
    "--expect-screen",
    "keys\\?",
    "--type",
    "hi\\n",
    "--expect",
    "68:23 69:17 0d:1c",
    "--key",
    "Shift+A",
    "--expect",
    "41:1e",
    "--screenshot",
    shot,
    "--key",
    "Esc",
    "--report",
    report,
  ], LONG);
  strictEqual(r.code, 0, r.stderr);
  strictEqual(r.stdout, "keys?\r\n68:23 69:17 0d:1c 41:1e 1b:01 ");
  deepStrictEqual(pngSize(Deno.readFileSync(shot)), { width: 720, height: 400 });
  const rep = readReport(report);
  match(rep.screen, /^SeaBIOS.*\nkeys\?/s);
  strictEqual(rep.steps[0].matched, "keys?");
  ok(rep.steps.every((s) => s.status === "ok"));
});
