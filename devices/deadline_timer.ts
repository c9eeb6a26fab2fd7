/**
 * A {@link Timer} that remembers its armed deadline, so a device can put the
 * deadline in its snapshot and arm the same one again on restore.
 *
 * @module
 */

import type { Timer, TimerFactory } from "./types.ts";

/** A one-shot timer from a {@link TimerFactory} that knows when it will fire. */
export class DeadlineTimer implements Timer {
  readonly #timer: Timer;
  #deadline: number | null = null;

  /** @param factory the injected timer factory, @param callback runs when the deadline is reached */
  constructor(factory: TimerFactory, callback: () => void) {
    this.#timer = factory(() => {
      this.#deadline = null;
      callback();
    });
  }

  /** The armed deadline in clock nanoseconds, or null when the timer is not armed. */
  get deadline(): number | null {
    return this.#deadline;
  }

  /** Arms (or re-arms) the timer for `deadlineNs`. */
  arm(deadlineNs: number): void {
    this.#deadline = deadlineNs;
    this.#timer.arm(deadlineNs);
  }

  /** Disarms the timer. */
  cancel(): void {
    this.#deadline = null;
    this.#timer.cancel();
  }

  /** Arms `deadlineNs`, or cancels for null: what a restore does with a saved deadline. */
  set(deadlineNs: number | null): void {
    if (deadlineNs === null) this.cancel();
    else this.arm(deadlineNs);
  }
}
