/**
 * An in-memory {@link BlockBackend} for tests: a disk image held in a
 * Uint8Array, with counters for flushes.
 *
 * @module
 */

import type { BlockBackend } from "../types.ts";

/** A BlockBackend over a Uint8Array; test helper, not a production store. */
export class MemoryBackend implements BlockBackend {
  /** The image bytes; tests inspect and seed it directly. */
  readonly bytes: Uint8Array;
  /** Number of {@link flush} calls. */
  flushes = 0;

  /**
   * @param image the image contents, or its size in bytes (zero-filled)
   * @param readonly refuse writes
   */
  constructor(image: Uint8Array | number, readonly readonly = false) {
    this.bytes = typeof image === "number" ? new Uint8Array(image) : image;
  }

  /** Size in bytes. */
  get size(): number {
    return this.bytes.length;
  }

  /** Fills `buf` from `offset`; bytes past the end read as zero. */
  read(offset: number, buf: Uint8Array): void {
    const end = Math.min(offset + buf.length, this.bytes.length);
    const n = Math.max(0, end - offset);
    if (n > 0) buf.set(this.bytes.subarray(offset, end));
    buf.fill(0, n);
  }

  /** Copies `data` to `offset`; throws when readonly or past the end. */
  write(offset: number, data: Uint8Array): void {
    if (this.readonly) throw new Error("backend is readonly");
    if (offset < 0 || offset + data.length > this.bytes.length) {
      throw new RangeError(`write past end: ${offset}+${data.length} > ${this.bytes.length}`);
    }
    this.bytes.set(data, offset);
  }

  /** Counts the call; memory needs no flushing. */
  flush(): void {
    this.flushes++;
  }
}
