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

/**
 * Queued bytes are packed into blocks of this size: a flooding guest's COM1
 * comes in small chunks, and a copy and a write per chunk would leave the
 * collector a buffer for each (memory that returns only at a full collection).
 */
export const WRITE_BLOCK = 64 << 10;

/** Queued bytes: `buf[start, end)` waits; more may be appended after `end`. */
interface Block {
  readonly buf: Uint8Array;
  start: number;
  end: number;
}

/** An ordered, non-blocking, bounded writer. */
export class BoundedWriter {
  #queue: Block[] = [];
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
    // Appended after what the last block holds (a write in flight reads only before it).
    let last = this.#queue.at(-1);
    if (!last || last.buf.length - last.end < bytes.length) {
      last = { buf: new Uint8Array(Math.max(WRITE_BLOCK, bytes.length)), start: 0, end: 0 };
      this.#queue.push(last);
    }
    last.buf.set(bytes, last.end);
    last.end += bytes.length;
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
    while (this.#queued > 0 && !this.#broken) {
      const block = this.#queue[0];
      try {
        const n = await this.sink.write(block.buf.subarray(block.start, block.end));
        if (this.#broken) break;
        block.start += n;
        this.#queued -= n;
        if (block.start === block.end) {
          // Written out: the last block is filled again from its start, an earlier one goes.
          if (this.#queue.length > 1) this.#queue.shift();
          else block.start = block.end = 0;
        }
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
