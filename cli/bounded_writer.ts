/**
 * Output that can never hold a run up or grow without bound: COM1 to
 * stdout, the serial log, vmrun's own lines to stderr. Writes queue up to a
 * limit and go out in order; what arrives while the queue is full is
 * dropped and counted (a pipe nobody reads must not stop --timeout,
 * Ctrl-a x or a signal, nor fill vmrun's memory).
 *
 * @module
 */

import { UsageError } from "./errors.ts";

/** Where bytes go: a Deno stream or file. */
export interface ByteSink {
  write(p: Uint8Array): Promise<number>;
}

/** The default queue limit: a few seconds of a fast guest's COM1 at terminal speeds. */
export const DEFAULT_QUEUE_BYTES = 4 << 20;
/** How long the final drain waits for a sink that takes nothing. */
export const DRAIN_IDLE_MS = 1_000;

/** An ordered, non-blocking, bounded writer. */
export class BoundedWriter {
  #queue: Uint8Array[] = [];
  #queued = 0;
  #dropped = 0;
  #writing = false;
  #broken = false;
  #progress: (() => void)[] = [];

  /**
   * @param sink where the bytes go
   * @param limit the most bytes queued; more are dropped
   */
  constructor(readonly sink: ByteSink, readonly limit: number = DEFAULT_QUEUE_BYTES) {}

  /** Bytes dropped so far: refused while the queue was full, or left when the sink failed. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Bytes waiting. */
  get queued(): number {
    return this.#queued;
  }

  /** Queues a copy of `bytes`, or drops it when the queue is full or the sink has failed. */
  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#broken || this.#queued + bytes.length > this.limit) {
      this.#dropped += bytes.length;
      return;
    }
    this.#queue.push(bytes.slice());
    this.#queued += bytes.length;
    if (!this.#writing) this.#pump();
  }

  /**
   * Waits until the queue is empty, or until the sink took nothing for
   * `idleMs`; what is left then counts as dropped and is never written.
   */
  async drain(idleMs: number = DRAIN_IDLE_MS): Promise<void> {
    while (this.#queued > 0 && !this.#broken) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const moved = await Promise.race([
        new Promise<boolean>((r) => this.#progress.push(() => r(true))),
        new Promise<boolean>((r) => timer = setTimeout(() => r(false), idleMs)),
      ]);
      clearTimeout(timer);
      if (!moved) {
        this.#giveUp();
        return;
      }
    }
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    while (this.#queue.length && !this.#broken) {
      const chunk = this.#queue[0];
      try {
        const n = await this.sink.write(chunk);
        if (this.#broken) break;
        if (n < chunk.length) this.#queue[0] = chunk.subarray(n);
        else this.#queue.shift();
        this.#queued -= n;
      } catch {
        this.#giveUp();
      }
      for (const f of this.#progress.splice(0)) f();
    }
    this.#writing = false;
  }

  #giveUp(): void {
    this.#broken = true;
    this.#dropped += this.#queued;
    this.#queue = [];
    this.#queued = 0;
    for (const f of this.#progress.splice(0)) f();
  }
}

/**
 * Opens (truncating) the --serial-log file.
 * @throws {UsageError} when it cannot be created
 */
export function openSerialLog(path: string): BoundedWriter {
  try {
    return new BoundedWriter(
      Deno.openSync(path, { write: true, create: true, truncate: true }),
      16 << 20,
    );
  } catch (e) {
    throw new UsageError(
      `cannot write --serial-log '${path}': ${e instanceof Error ? e.message : e}`,
    );
  }
}
