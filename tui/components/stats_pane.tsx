/**
 * The stats pane: exits per second by reason with sparklines, the share of
 * time in the guest, the busiest ports and the last POST code.
 *
 * @module
 */

import { Text } from "../../deps/ink.ts";
import type { ReactElement } from "../../deps/react.ts";
import { formatRate, hex, sparkline } from "../format.ts";
import type { StatsView } from "../stats_tracker.ts";
import { Pane } from "./pane.tsx";

/** Props of {@link StatsPane}. */
export interface StatsPaneProps {
  readonly width: number;
  readonly height: number;
  readonly stats: StatsView | null;
  readonly postCode: number | null;
}

/** The rows of the stats pane as text (label, figure, sparkline). */
export function statsRows(stats: StatsView | null, postCode: number | null): string[] {
  if (!stats) return ["waiting for the first snapshot"];
  const rows = [
    `vCPU 0  ${formatRate(stats.exitsPerSec).padStart(6)} exits/s ${sparkline(stats.totalHistory)}`,
    `in guest ${(stats.guestShare * 100).toFixed(0).padStart(3)}%  total ${stats.exits} exits`,
  ];
  // SMP: a row per vCPU (vCPU 0's figures above are its own).
  stats.vcpus.forEach((v, i) => {
    const state = v.halted === undefined ? "" : v.halted ? "  halted" : "  running";
    rows.push(
      `  cpu${String(i).padEnd(3)}${formatRate(v.exitsPerSec).padStart(6)} exits/s${state}`,
    );
  });
  for (const k of stats.kinds.slice(0, 6)) {
    rows.push(
      `  ${k.kind.toUpperCase().padEnd(11)}${formatRate(k.perSec).padStart(6)}/s ${
        sparkline(k.history)
      }`,
    );
  }
  const ports = stats.busiestPorts.slice(0, 3).map((p) =>
    `${hex(p.port, 3)}×${formatRate(p.exits)}`
  );
  rows.push(`ports ${ports.join(" ") || "none"}`);
  rows.push(`POST ${postCode === null ? "--" : hex(postCode, 2)}`);
  return rows;
}

/** The stats pane. */
export function StatsPane(p: StatsPaneProps): ReactElement {
  return (
    <Pane title="Stats" width={p.width} height={p.height}>
      {statsRows(p.stats, p.postCode).slice(0, Math.max(0, p.height - 2)).map((row, i) => (
        <Text key={i} wrap="truncate-end" bold={i === 0}>{row}</Text>
      ))}
    </Pane>
  );
}
