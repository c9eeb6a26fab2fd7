/**
 * The watchdog expiries of a run, for `vm.watchdogEvents` and
 * `vm.waitForWatchdog()`: each wait takes the next expiry after the one the
 * previous wait returned, whether it happened already or is still to come.
 *
 * @module
 */

import type { VmExit } from "../machine/exit.ts";
import type { WatchdogExpiry } from "../machine/watchdog.ts";
import { VmExitedError, WaitTimeoutError } from "./errors.ts";
import type { WaitOptions } from "./serial_log.ts";

const DEFAULT_WAIT_MS = 30_000;

interface Waiter {
  settle(expiry: WatchdogExpiry | null, error?: unknown): void;
}

/** Watchdog expiries in order, and waits for the next one. */
export class WatchdogLog {
  readonly #expiries: WatchdogExpiry[] = [];
  readonly #waiters: Waiter[] = [];
  #cursor = 0;
  #exit: VmExit | null = null;

  /**
   * @param lastLines the run's last serial lines, for the errors' context
   */
  constructor(readonly lastLines: () => readonly string[] = () => []) {}

  /** Every expiry so far, oldest first. */
  get expiries(): readonly WatchdogExpiry[] {
    return this.#expiries;
  }

  /** Records an expiry and hands it to the oldest wait. */
  push(expiry: WatchdogExpiry): void {
    this.#expiries.push(expiry);
    this.#serve();
  }

  /** The run ended: waits with nothing left to take fail with {@link VmExitedError}. */
  end(exit: VmExit): void {
    this.#exit = exit;
    this.#serve();
  }

  /**
   * The next expiry after the one the previous wait returned.
   * @throws {WaitTimeoutError} when none comes in time
   * @throws {VmExitedError} when the run ends first
   */
  next(options: WaitOptions = {}): Promise<WatchdogExpiry> {
    const timeout = options.timeout ?? DEFAULT_WAIT_MS;
    return new Promise((resolve, reject) => {
      options.signal?.throwIfAborted();
      const onAbort = () => waiter.settle(null, options.signal!.reason);
      const timer = Number.isFinite(timeout)
        ? setTimeout(
          () =>
            waiter.settle(
              null,
              new WaitTimeoutError("watchdog expiry", timeout, this.lastLines(), "watchdog"),
            ),
          timeout,
        )
        : undefined;
      const waiter: Waiter = {
        settle: (expiry, error) => {
          const at = this.#waiters.indexOf(waiter);
          if (at < 0) return;
          this.#waiters.splice(at, 1);
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          if (expiry) resolve(expiry);
          else reject(error);
        },
      };
      this.#waiters.push(waiter);
      options.signal?.addEventListener("abort", onAbort);
      this.#serve();
    });
  }

  #serve(): void {
    while (this.#waiters.length && this.#cursor < this.#expiries.length) {
      this.#waiters[0].settle(this.#expiries[this.#cursor++]);
    }
    if (this.#exit) {
      const exit = this.#exit;
      for (const w of [...this.#waiters]) {
        w.settle(null, new VmExitedError(exit, this.lastLines(), "watchdog expiry"));
      }
    }
  }
}
