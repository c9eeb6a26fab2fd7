/**
 * Disk images behind the block devices: a raw file read and written in
 * place, or a copy-on-write overlay that keeps every write in memory
 * (`--snapshot`) and never touches the file.
 *
 * @module
 */

import type { BlockBackend } from "../devices/types.ts";

/** A raw image file, opened read-write unless `readonly`. */
export class FileBackend implements BlockBackend {
  readonly size: number;
  readonly #file: Deno.FsFile;
  #dirty = false;

  /** @param path the image; opened once for the life of the backend */
  constructor(readonly path: string, readonly readonly: boolean) {
    this.#file = Deno.openSync(path, { read: true, write: !readonly });
    this.size = this.#file.statSync().size;
  }

  /** Reads at `offset`; the part past the end of the file reads as zeros. */
  read(offset: number, buf: Uint8Array): void {
    buf.fill(0);
    const n = Math.max(0, Math.min(buf.length, this.size - offset));
    if (n === 0) return;
    this.#file.seekSync(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < n) {
      const got = this.#file.readSync(buf.subarray(done, n));
      if (got === null) break;
      done += got;
    }
  }

  /** Writes at `offset`; refused when readonly or past the end. */
  write(offset: number, data: Uint8Array): void {
    if (this.readonly) throw new Error(`${this.path} is read-only`);
    if (offset < 0 || offset + data.length > this.size) {
      throw new RangeError(`write past the end of ${this.path}`);
    }
    this.#file.seekSync(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < data.length) done += this.#file.writeSync(data.subarray(done));
    this.#dirty = true;
  }

  /** fdatasync(2) when anything was written since the last flush. */
  flush(): void {
    if (!this.#dirty) return;
    this.#file.syncDataSync();
    this.#dirty = false;
  }

  /** Flushes and closes the file. */
  close(): void {
    this.flush();
    this.#file.close();
  }
}

/** The overlay's unit: a write copies in whole chunks of this many bytes. */
export const OVERLAY_CHUNK = 4096;
const CHUNK = OVERLAY_CHUNK;

/** Copy-on-write over another backend: writes stay in memory, reads see them. */
export class SnapshotBackend implements BlockBackend {
  readonly size: number;
  readonly readonly = false;
  readonly #chunks = new Map<number, Uint8Array>();

  /** @param base the image underneath; never written */
  constructor(readonly base: BlockBackend) {
    this.size = base.size;
  }

  /** Reads, taking changed chunks from memory. */
  read(offset: number, buf: Uint8Array): void {
    this.base.read(offset, buf);
    if (this.#chunks.size === 0) return;
    const end = offset + buf.length;
    for (let c = Math.floor(offset / CHUNK); c * CHUNK < end; c++) {
      const chunk = this.#chunks.get(c);
      if (!chunk) continue;
      const from = Math.max(offset, c * CHUNK);
      const to = Math.min(end, (c + 1) * CHUNK);
      buf.set(chunk.subarray(from - c * CHUNK, to - c * CHUNK), from - offset);
    }
  }

  /** Writes into memory only. */
  write(offset: number, data: Uint8Array): void {
    if (offset < 0 || offset + data.length > this.size) throw new RangeError("write past the end");
    const end = offset + data.length;
    for (let c = Math.floor(offset / CHUNK); c * CHUNK < end; c++) {
      let chunk = this.#chunks.get(c);
      if (!chunk) {
        chunk = new Uint8Array(CHUNK);
        this.base.read(c * CHUNK, chunk);
        this.#chunks.set(c, chunk);
      }
      const from = Math.max(offset, c * CHUNK);
      const to = Math.min(end, (c + 1) * CHUNK);
      chunk.set(data.subarray(from - offset, to - offset), from - c * CHUNK);
    }
  }

  /** Nothing to make durable: the writes are meant to vanish. */
  flush(): void {}

  /** Bytes held in memory. */
  get overlayBytes(): number {
    return this.#chunks.size * CHUNK;
  }

  /** The changed chunks by index (live: for a save taken while the guest is paused). */
  overlay(): ReadonlyMap<number, Uint8Array> {
    return this.#chunks;
  }

  /**
   * Replaces the overlay with saved chunks.
   * @throws {RangeError} for a chunk of the wrong size or past the end of the disk
   */
  loadOverlay(chunks: ReadonlyMap<number, Uint8Array>): void {
    for (const [index, chunk] of chunks) {
      if (chunk.length !== CHUNK || index < 0 || index * CHUNK >= this.size) {
        throw new RangeError(`overlay chunk ${index} does not fit this disk`);
      }
    }
    this.#chunks.clear();
    for (const [index, chunk] of chunks) this.#chunks.set(index, chunk.slice());
  }
}
