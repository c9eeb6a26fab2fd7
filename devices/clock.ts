/**
 * A clock with timers whose time is advanced explicitly. The machine drives
 * one from the host's monotonic clock; tests drive one by hand.
 *
 * @module
 */

import type { Clock, Timer, TimerFactory } from "./types.ts";

interface Armed {
  deadline: number;
  callback: () => void;
}

/** A {@link Clock} plus {@link TimerFactory} whose time moves only through {@link advanceTo}. */
export class SteppedClock implements Clock {
  #now = 0;
  #armed = new Set<Armed>();
  /** The earliest armed deadline; NaN when it must be recomputed. */
  #next = Infinity;
  #changes = 0;

  /**
   * Counts changes to the armed timers: while it stands still, so does
   * {@link nextDeadline} (a loop asking every time could skip the call).
   */
  get changes(): number {
    return this.#changes;
  }

  /** Current time in nanoseconds. */
  nowNs(): number {
    return this.#now;
  }

  /** Creates a timer; its callback runs inside {@link advanceTo}. */
  readonly timer: TimerFactory = (callback) => {
    const entry: Armed = { deadline: Infinity, callback };
    const t: Timer = {
      arm: (deadlineNs) => {
        this.#changes = (this.#changes + 1) | 0;
        // Re-arming may move a deadline later: recompute lazily then.
        if (this.#armed.has(entry) && entry.deadline <= this.#next) this.#next = NaN;
        entry.deadline = deadlineNs;
        this.#armed.add(entry);
        if (deadlineNs < this.#next) this.#next = deadlineNs;
      },
      cancel: () => {
        this.#changes = (this.#changes + 1) | 0;
        if (this.#armed.delete(entry) && entry.deadline <= this.#next) this.#next = NaN;
      },
    };
    return t;
  };

  /** The earliest armed deadline, or Infinity. Cached: the vCPU loop asks on every exit. */
  nextDeadline(): number {
    if (Number.isNaN(this.#next)) {
      let next = Infinity;
      for (const a of this.#armed) next = Math.min(next, a.deadline);
      this.#next = next;
    }
    return this.#next;
  }

  /**
   * Moves time forward to `ns`, firing due timers in deadline order with the
   * clock set to each deadline (so periodic timers re-arm from the right time).
   */
  advanceTo(ns: number): void {
    while (this.nextDeadline() <= ns) {
      let due: Armed | undefined;
      for (const a of this.#armed) {
        if (a.deadline <= ns && (!due || a.deadline < due.deadline)) due = a;
      }
      if (!due) break;
      this.#changes = (this.#changes + 1) | 0;
      this.#armed.delete(due);
      this.#next = NaN;
      this.#now = Math.max(this.#now, due.deadline);
      due.callback();
    }
    this.#now = Math.max(this.#now, ns);
  }

  /**
   * {@link advanceTo} the time in `source[0]`, for a caller on every vCPU
   * exit: a double passed to a call that is not inlined is a heap number, and
   * garbage on every exit brings the collector round.
   */
  advanceToFrom(source: Float64Array): void {
    const ns = source[0];
    const next = Number.isNaN(this.#next) ? this.nextDeadline() : this.#next;
    if (next <= ns) this.advanceTo(ns);
    else if (ns > this.#now) this.#now = ns;
  }

  /** Moves time forward by `ns`. */
  advance(ns: number): void {
    this.advanceTo(this.#now + ns);
  }
}
