/**
 * Turns the vCPU's cumulative counters from successive snapshots into rates:
 * exits per second by reason with a short history for sparklines, and the
 * share of wall time spent inside KVM_RUN.
 *
 * @module
 */

import type { VcpuStats } from "../machine/vcpu_worker.ts";

/** Rates samples over at least this long. */
export const STATS_INTERVAL_MS = 1000;
/** Samples kept for sparklines. */
export const HISTORY = 16;

/** One exit reason's rate. */
export interface KindRate {
  readonly kind: string;
  readonly perSec: number;
  /** Oldest first, at most {@link HISTORY}. */
  readonly history: readonly number[];
}

/** What the stats pane shows. */
export interface StatsView {
  readonly uptimeMs: number;
  readonly exits: number;
  readonly exitsPerSec: number;
  readonly totalHistory: readonly number[];
  /** Busiest first. */
  readonly kinds: readonly KindRate[];
  /** Share of wall time inside KVM_RUN over the last interval, 0..1 (halted time counts). */
  readonly guestShare: number;
  readonly busiestPorts: readonly { port: number; exits: number }[];
  /** Every vCPU (vCPU 0 first) when the machine has more than one; empty otherwise. */
  readonly vcpus: readonly VcpuRate[];
}

/** One vCPU's row: its exit rate over the last interval and whether it sat in HLT. */
export interface VcpuRate {
  readonly exits: number;
  readonly exitsPerSec: number;
  readonly halted?: boolean;
}

/** Accumulates samples; feed it every snapshot's vCPU figures. */
export class StatsTracker {
  #last: VcpuStats | null = null;
  #rates = new Map<string, number[]>();
  #total: number[] = [];
  #share = 0;
  #latest: VcpuStats | null = null;
  #vcpus: VcpuRate[] = [];
  #lastAll: readonly VcpuStats[] = [];

  /**
   * Adds a sample (vCPU 0's figures, and every vCPU's on an SMP machine);
   * returns true when it closed an interval (rates changed).
   */
  add(s: VcpuStats, all: readonly VcpuStats[] = []): boolean {
    this.#latest = s;
    const last = this.#last;
    if (last === null || s.uptimeMs < last.uptimeMs || s.exits < last.exits) {
      this.#last = s;
      this.#lastAll = all;
      return false;
    }
    const dt = s.uptimeMs - last.uptimeMs;
    if (dt < STATS_INTERVAL_MS) return false;
    const kinds = new Set([...Object.keys(s.byKind), ...this.#rates.keys()]);
    for (const k of kinds) {
      const rate = (((s.byKind[k] ?? 0) - (last.byKind[k] ?? 0)) * 1000) / dt;
      const h = this.#rates.get(k) ?? [];
      push(h, Math.max(0, rate));
      this.#rates.set(k, h);
    }
    push(this.#total, ((s.exits - last.exits) * 1000) / dt);
    this.#vcpus = all.length < 2 ? [] : all.map((v, i) => ({
      exits: v.exits,
      exitsPerSec: Math.max(0, ((v.exits - (this.#lastAll[i]?.exits ?? v.exits)) * 1000) / dt),
      halted: v.halted,
    }));
    this.#lastAll = all;
    this.#share = Math.max(0, Math.min(1, (s.guestMs - last.guestMs) / dt));
    this.#last = s;
    return true;
  }

  /** The current figures. */
  view(): StatsView {
    const s = this.#latest;
    const kinds = [...this.#rates].map(([kind, history]) => ({
      kind,
      perSec: history.at(-1) ?? 0,
      history,
    })).sort((a, b) => b.perSec - a.perSec || a.kind.localeCompare(b.kind));
    return {
      uptimeMs: s?.uptimeMs ?? 0,
      exits: s?.exits ?? 0,
      exitsPerSec: this.#total.at(-1) ?? 0,
      totalHistory: this.#total,
      kinds,
      guestShare: this.#share,
      busiestPorts: s?.busiestPorts ?? [],
      vcpus: this.#vcpus,
    };
  }
}

function push(h: number[], v: number): void {
  h.push(v);
  if (h.length > HISTORY) h.shift();
}
