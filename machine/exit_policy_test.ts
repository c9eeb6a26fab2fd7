import assert from "node:assert/strict";
import { SYSTEM_EVENT } from "../kvm/exits.ts";
import { exitAction } from "./exit_policy.ts";

Deno.test("exits that are not guest events carry on", () => {
  for (const kind of ["interrupted", "intr", "hlt", "irq-window-open"] as const) {
    assert.deepEqual(exitAction({ kind }), { kind: "continue" });
  }
});

Deno.test("a triple fault ends the run as a fault with status 1", () => {
  const a = exitAction({ kind: "shutdown" });
  assert.equal(a.kind, "end");
  if (a.kind !== "end") return;
  assert.equal(a.fault, true);
  assert.equal(a.exit.reason, "triple-fault");
  assert.equal(a.exit.code, 1);
});

Deno.test("an emulation failure names the suberror and its data", () => {
  const a = exitAction({
    kind: "internal-error",
    suberror: 1,
    description: "emulation failure",
    data: [0x0f, 0xc7],
  });
  assert.equal(a.kind, "end");
  if (a.kind !== "end") return;
  assert.match(a.exit.detail ?? "", /emulation failure, data 0xf 0xc7/);
  assert.equal(a.exit.code, 1);
});

Deno.test("system events: reset resets, shutdown ends with 0, crash is a failure", () => {
  assert.deepEqual(exitAction({ kind: "system-event", type: SYSTEM_EVENT.RESET, data: [] }), {
    kind: "reset",
  });
  const off = exitAction({ kind: "system-event", type: SYSTEM_EVENT.SHUTDOWN, data: [] });
  assert.ok(off.kind === "end" && off.exit.reason === "shutdown" && off.exit.code === 0);
  assert.ok(off.kind === "end" && !off.fault);
  const crash = exitAction({ kind: "system-event", type: SYSTEM_EVENT.CRASH, data: [] });
  assert.ok(crash.kind === "end" && crash.exit.code === 1 && crash.fault);
});

Deno.test("a failed entry and an unknown exit are failures, never success", () => {
  const entry = exitAction({ kind: "fail-entry", hardwareReason: 0x21, cpu: 0 });
  assert.ok(entry.kind === "end" && entry.exit.code === 1);
  assert.match(entry.kind === "end" ? entry.exit.detail ?? "" : "", /0x21/);
  const unknown = exitAction({ kind: "unknown", reason: 99 });
  assert.ok(
    unknown.kind === "end" && unknown.exit.reason === "vmm-error" && unknown.exit.code === 1,
  );
});
