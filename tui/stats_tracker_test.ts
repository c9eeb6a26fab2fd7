import { deepStrictEqual, strictEqual } from "node:assert";
import type { VcpuStats } from "../machine/vcpu_worker.ts";
import { StatsTracker } from "./stats_tracker.ts";
import { formatBytes, formatRate, formatUptime, sparkline } from "./format.ts";

function sample(uptimeMs: number, byKind: Record<string, number>, guestMs = 0): VcpuStats {
  const exits = Object.values(byKind).reduce((a, b) => a + b, 0);
  return { exits, byKind, guestMs, uptimeMs, busiestPorts: [{ port: 0x3f8, exits: 9 }] };
}

Deno.test("rates per reason over each interval of a second or more, busiest first", () => {
  const t = new StatsTracker();
  strictEqual(t.add(sample(1000, { io: 100, mmio: 10 })), false);
  strictEqual(t.add(sample(1500, { io: 150, mmio: 10 })), false);
  strictEqual(t.add(sample(2000, { io: 300, mmio: 30, hlt: 5 }, 500)), true);
  const v = t.view();
  strictEqual(v.exitsPerSec, 225);
  deepStrictEqual(v.kinds.map((k) => [k.kind, k.perSec]), [["io", 200], ["mmio", 20], ["hlt", 5]]);
  strictEqual(v.guestShare, 0.5);
  strictEqual(v.uptimeMs, 2000);
  deepStrictEqual(v.busiestPorts, [{ port: 0x3f8, exits: 9 }]);
});

Deno.test("counters going backwards (a new machine) start over rather than show negative rates", () => {
  const t = new StatsTracker();
  t.add(sample(5000, { io: 1000 }));
  strictEqual(t.add(sample(100, { io: 1 })), false);
  strictEqual(t.add(sample(1100, { io: 11 })), true);
  strictEqual(t.view().kinds[0].perSec, 10);
});

Deno.test("formatters", () => {
  strictEqual(formatUptime(62_000), "1:02");
  strictEqual(formatUptime(3_723_000), "1:02:03");
  strictEqual(formatBytes(256 * 1024 * 1024), "256 MiB");
  strictEqual(formatBytes(1536), "1.5 KiB");
  strictEqual(formatBytes(12), "12 B");
  strictEqual(formatRate(999), "999");
  strictEqual(formatRate(12_345), "12.3k");
  strictEqual(sparkline([0, 1, 2, 4, 8]), "▁▁▂▄█");
  strictEqual(sparkline([0, 0]), "▁▁");
});

Deno.test("an SMP machine's snapshots give a rate and HLT state per vCPU", () => {
  const t = new StatsTracker();
  const bsp = (uptime: number, io: number) => sample(uptime, { io });
  const ap = (uptime: number, io: number, halted?: boolean) => ({
    ...sample(uptime, { io }),
    halted,
  });
  t.add(bsp(1000, 10), [bsp(1000, 10), ap(1000, 0), ap(1000, 100)]);
  strictEqual(t.add(bsp(2000, 30), [bsp(2000, 30), ap(2000, 0, true), ap(2000, 600, false)]), true);
  deepStrictEqual(t.view().vcpus, [
    { exits: 30, exitsPerSec: 20, halted: undefined },
    { exits: 0, exitsPerSec: 0, halted: true },
    { exits: 600, exitsPerSec: 500, halted: false },
  ]);
  const one = new StatsTracker();
  one.add(bsp(1000, 1), [bsp(1000, 1)]);
  one.add(bsp(2000, 2), [bsp(2000, 2)]);
  deepStrictEqual(one.view().vcpus, [], "no per-vCPU rows for one vCPU");
});
