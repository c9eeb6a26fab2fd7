import { deepStrictEqual } from "node:assert";
import { statsRows } from "./stats_pane.tsx";
import type { StatsView } from "../stats_tracker.ts";

const VIEW: StatsView = {
  uptimeMs: 1000,
  exits: 5,
  exitsPerSec: 5,
  totalHistory: [5],
  kinds: [],
  guestShare: 0.5,
  busiestPorts: [],
  vcpus: [],
};

Deno.test("the stats pane has a row per vCPU on an SMP machine only", () => {
  const one = statsRows(VIEW, null);
  const smp = statsRows({
    ...VIEW,
    vcpus: [
      { exits: 5, exitsPerSec: 5, halted: false },
      { exits: 9, exitsPerSec: 1500, halted: true },
    ],
  }, null);
  deepStrictEqual(smp.slice(2, 4), [
    "  cpu0       5 exits/s  running",
    "  cpu1    1.5k exits/s  halted",
  ]);
  deepStrictEqual([...smp.slice(0, 2), ...smp.slice(4)], one);
});
