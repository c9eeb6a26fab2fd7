import { deepStrictEqual } from "node:assert";
import { EXIT_WATCHDOG, WATCHDOG_ACTIONS, watchdogOutcome } from "./watchdog.ts";

Deno.test("watchdog outcomes: reset, pause and none go on; poweroff and exit end the run", () => {
  const got = WATCHDOG_ACTIONS.map((action) => watchdogOutcome({ model: "ib700", action }));
  deepStrictEqual(got, [
    { kind: "reset" },
    {
      kind: "end",
      exit: {
        reason: "shutdown",
        code: 0,
        detail: "the ib700 watchdog expired (action poweroff)",
      },
    },
    { kind: "pause" },
    {
      kind: "end",
      exit: {
        reason: "watchdog",
        code: EXIT_WATCHDOG,
        detail: "the ib700 watchdog expired (action exit)",
      },
    },
    { kind: "none" },
  ]);
});
