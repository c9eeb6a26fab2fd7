import { strictEqual } from "node:assert";
import { HALTED_CPU_SHARE, shownRunState } from "./run_state.ts";

Deno.test("the vCPU's MP state decides halted when the machine reports it", () => {
  strictEqual(shownRunState("running", 0.9, false, true), "halted");
  strictEqual(shownRunState("running", 0.01, false, false), "running");
});

Deno.test("without an MP state, low CPU use stands in for halted", () => {
  strictEqual(shownRunState("running", HALTED_CPU_SHARE / 2, false), "halted");
  strictEqual(shownRunState("running", 0.5, false), "running");
  strictEqual(shownRunState("running", null, false), "running");
});

Deno.test("paused, stopped and a recent reset win over halted", () => {
  strictEqual(shownRunState("paused", 0, false, true), "paused");
  strictEqual(shownRunState("stopped", 0, false, true), "stopped");
  strictEqual(shownRunState("running", 0, true, true), "reset");
});
