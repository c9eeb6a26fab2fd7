import { deepStrictEqual, ok } from "node:assert";
import { reportProblems, type RunReport, writeReport } from "./report.ts";

function sample(): RunReport {
  return {
    version: 1,
    image: "guest.img",
    startedAt: new Date(0).toISOString(),
    durationMs: 12,
    status: 1,
    exit: { reason: "stopped", code: 1, detail: "--fail-on matched" },
    steps: [
      { index: 1, kind: "expect", arg: "a", status: "ok", startMs: 0, durationMs: 3, matched: "a" },
      { index: 2, kind: "send", arg: "b", status: "not-run", startMs: null, durationMs: null },
    ],
    failure: { kind: "fail-on", message: "--fail-on 'panic' matched", line: "Kernel panic" },
    exitOnLine: null,
    serial: "a\r\nKernel panic\r\n",
    serialBytes: 16,
    screen: "",
    screenshotOnFail: null,
    watchdog: [{ model: "ib700", action: "exit", atMs: 5012 }],
    audio: { file: "out.wav", bytes: 88244, seconds: 1 },
  };
}

Deno.test("a well-formed report has no problems, also after a round trip through a file", async () => {
  deepStrictEqual(reportProblems(sample()), []);
  const path = Deno.makeTempFileSync({ suffix: ".json" });
  await writeReport(path, sample());
  deepStrictEqual(reportProblems(JSON.parse(Deno.readTextFileSync(path))), []);
});

Deno.test("reportProblems names missing, mistyped and unknown fields", () => {
  const r = sample() as unknown as Record<string, unknown>;
  delete r.serial;
  r.status = "1";
  r.extra = true;
  (r.steps as Record<string, unknown>[])[1].status = "skipped";
  deepStrictEqual(reportProblems(r), [
    'report.status is "1"',
    "report.serial is missing",
    "report.extra is unknown",
  ]);
  delete r.extra;
  r.status = 1;
  r.serial = "";
  deepStrictEqual(reportProblems(r), ['report.steps[1].status is "skipped"']);
  (r.exit as Record<string, unknown>).code = 1.5;
  ok(reportProblems(r).includes("report.exit.code is 1.5"));
  ok(reportProblems(null).length > 0);
});
