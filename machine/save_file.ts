/**
 * The save file of a running VM: a header (format version, vmrun version,
 * machine configuration, disk identities), the machine state (devices, vCPUs,
 * the in-kernel irqchip, PIT and clock) as plain data, memory regions (guest
 * RAM, video RAM) with all-zero pages skipped, and the copy-on-write overlays
 * of a `--snapshot` run.
 *
 * Layout, little-endian: the 8-byte magic, u32 format version, then sections,
 * each a 4-byte tag, a u32 name length, the name, a u64 payload length and
 * the payload; an `END ` section closes the file (a file without one is
 * truncated). Memory payloads are u64 region size, then per 4 MiB chunk a
 * bitmap of its non-zero pages followed by those pages, so a restore reads
 * straight into guest memory with few large reads.
 *
 * @module
 */

import { decodePlain, encodePlain, PlainCodecError } from "./plain_codec.ts";

/** The first bytes of every save file. */
export const SAVE_MAGIC = "VMRUNSAV";
/** The newest format this build writes and reads. */
export const SAVE_FORMAT_VERSION = 1;
/** Memory is compared and written in pages of this size. */
export const SAVE_PAGE_SIZE = 4096;
const PAGES_PER_CHUNK = 1024;
const BITMAP_BYTES = PAGES_PER_CHUNK / 8;

const TAG = {
  HEADER: "HEAD",
  STATE: "STAT",
  MEMORY: "MEM ",
  OVERLAY: "OVLY",
  END: "END ",
} as const;

/** A save file that cannot be read: truncated, foreign or from a newer vmrun. */
export class SaveFileError extends Error {
  /** @param message one line saying what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "SaveFileError";
  }
}

/** Where save-file bytes go (a file opened for writing, or memory in tests). */
export interface SyncWriter {
  writeSync(p: Uint8Array): number;
}

/** Where save-file bytes come from. */
export interface SyncReader {
  /** Reads into `p`; null at the end of the file. */
  readSync(p: Uint8Array): number | null;
}

/** A copy-on-write overlay: changed chunks of one disk, by chunk index. */
export interface OverlayImage {
  /** Index of the disk in the machine configuration. */
  readonly disk: number;
  readonly chunkSize: number;
  readonly chunks: ReadonlyMap<number, Uint8Array>;
}

/** What {@link writeSaveFile} writes. */
export interface SaveContents {
  /** Plain data: format details, configuration, disk identities. */
  readonly header: unknown;
  /** Plain data: every device's and vCPU's state. */
  readonly state: unknown;
  /**
   * Named memory regions, written with zero pages skipped. `resident`, when
   * given, says which pages the host ever backed (one byte a page, bit 0);
   * the others are known zero and not even read.
   */
  readonly memory: readonly {
    readonly name: string;
    readonly bytes: Uint8Array;
    readonly resident?: Uint8Array | null;
  }[];
  readonly overlays: readonly OverlayImage[];
}

/** What {@link readSaveFile} read (memory went straight into the caller's buffers). */
export interface SavedVm {
  readonly header: unknown;
  readonly state: unknown;
  readonly overlays: OverlayImage[];
  /** Bytes of non-zero memory pages restored. */
  readonly memoryBytes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes a complete save file; returns the number of bytes written. */
export function writeSaveFile(out: SyncWriter, contents: SaveContents): number {
  const w = new SectionWriter(out);
  w.raw(encoder.encode(SAVE_MAGIC));
  w.raw(u32(SAVE_FORMAT_VERSION));
  w.section(TAG.HEADER, "", [encodePlain(contents.header)]);
  w.section(TAG.STATE, "", [encodePlain(contents.state)]);
  for (const m of contents.memory) w.memory(m.name, m.bytes, m.resident ?? null);
  for (const o of contents.overlays) w.section(TAG.OVERLAY, String(o.disk), [encodeOverlay(o)]);
  w.section(TAG.END, "", []);
  w.flush();
  return w.written;
}

/**
 * Reads a save file. The header is passed to `checkHeader` as soon as it is
 * read, so a caller can refuse a file (and size its memory) before anything
 * large is read; `memoryTarget` names the buffer each memory region is read
 * into (null skips it with an error).
 * @throws {SaveFileError} for a truncated, foreign or newer file, or a region
 *   whose size does not match its target
 */
export function readSaveFile(
  input: SyncReader,
  options: {
    readonly checkHeader?: (header: unknown) => void;
    /** Called with the state as soon as it is read, before any memory. */
    readonly onState?: (state: unknown) => void;
    readonly memoryTarget: (name: string) => Uint8Array | null;
    /**
     * Which pages of a target may hold data now (one byte a page, bit 0), so
     * only those are cleared where the file has a zero page; null: all may.
     */
    readonly targetResident?: (name: string) => Uint8Array | null;
  },
): SavedVm {
  const r = new ExactReader(input);
  readPreamble(r);
  let header: unknown = undefined;
  let state: unknown = undefined;
  const overlays: OverlayImage[] = [];
  let memoryBytes = 0;
  for (;;) {
    const tag = decoder.decode(r.bytes(4));
    const name = decoder.decode(r.bytes(r.u32()));
    const length = r.u64();
    switch (tag) {
      case TAG.HEADER:
        header = plain(r.bytes(length));
        options.checkHeader?.(header);
        break;
      case TAG.STATE:
        state = plain(r.bytes(length));
        options.onState?.(state);
        break;
      case TAG.MEMORY: {
        const target = options.memoryTarget(name);
        if (!target) throw new SaveFileError(`the save file holds unknown memory '${name}'`);
        memoryBytes += readMemory(r, length, target, name, options.targetResident?.(name) ?? null);
        break;
      }
      case TAG.OVERLAY:
        overlays.push(decodeOverlay(Number(name), r.bytes(length)));
        break;
      case TAG.END:
        if (header === undefined || state === undefined) {
          throw new SaveFileError("the save file has no header or no state");
        }
        return { header, state, overlays, memoryBytes };
      default:
        throw new SaveFileError(`the save file has an unknown section '${tag.trim()}'`);
    }
  }
}

/**
 * Reads only the magic, the format version and the header section: what a
 * caller needs to know before it commits to a restore.
 * @throws {SaveFileError} for a truncated, foreign or newer file
 */
export function readSaveHeader(input: SyncReader): unknown {
  const r = new ExactReader(input);
  readPreamble(r);
  const tag = decoder.decode(r.bytes(4));
  const name = r.bytes(r.u32());
  const length = r.u64();
  if (tag !== TAG.HEADER || name.length !== 0) throw new SaveFileError("damaged save file: header");
  return plain(r.bytes(length));
}

/** A reader that can skip ahead (a file). */
export interface SeekableReader extends SyncReader {
  seekSync(offset: number, whence: Deno.SeekMode): number;
}

/**
 * Walks every section header, skipping payloads, to the end marker: a cheap
 * check that a file is whole before a restore starts on it.
 * @throws {SaveFileError} for a truncated, foreign or newer file
 */
export function checkSaveFileComplete(input: SeekableReader, fileSize: number): void {
  const r = new ExactReader(input);
  readPreamble(r);
  let at = SAVE_MAGIC.length + 4;
  for (;;) {
    const tag = decoder.decode(r.bytes(4));
    const nameLength = r.u32();
    r.bytes(nameLength);
    const length = r.u64();
    at += 16 + nameLength;
    if (tag === TAG.END) return;
    if (!Object.values(TAG).includes(tag as typeof TAG[keyof typeof TAG])) {
      throw new SaveFileError(`the save file has an unknown section '${tag.trim()}'`);
    }
    if (at + length > fileSize) throw new SaveFileError("the save file is truncated");
    at += length;
    input.seekSync(at, 0);
  }
}

function readPreamble(r: ExactReader): void {
  const magic = decoder.decode(r.bytes(SAVE_MAGIC.length, "the file is empty"));
  if (magic !== SAVE_MAGIC) throw new SaveFileError("not a vmrun save file");
  const version = r.u32();
  if (version > SAVE_FORMAT_VERSION) {
    throw new SaveFileError(
      `save format ${version} is newer than this vmrun reads (${SAVE_FORMAT_VERSION})`,
    );
  }
  if (version < 1) throw new SaveFileError(`save format ${version} is not one vmrun wrote`);
}

function plain(bytes: Uint8Array): unknown {
  try {
    return decodePlain(bytes);
  } catch (e) {
    if (e instanceof PlainCodecError) throw new SaveFileError(`damaged save file: ${e.message}`);
    throw e;
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/** True when the page at `offset` of `words` (32-bit view) is all zero. */
function zeroPage(words: Int32Array, offset: number): boolean {
  const end = offset + SAVE_PAGE_SIZE / 4;
  // Eight words a step: the loop's own cost, not memory, bounds a plain scan.
  for (let i = offset; i < end; i += 8) {
    if (
      (words[i] | words[i + 1] | words[i + 2] | words[i + 3] | words[i + 4] | words[i + 5] |
        words[i + 6] | words[i + 7]) !== 0
    ) return false;
  }
  return true;
}

/** Buffers small writes and passes large ones straight through. */
class SectionWriter {
  written = 0;
  readonly #out: SyncWriter;
  readonly #buf = new Uint8Array(1 << 16);
  #fill = 0;

  constructor(out: SyncWriter) {
    this.#out = out;
  }

  raw(bytes: Uint8Array): void {
    if (bytes.length > this.#buf.length - this.#fill) {
      this.flush();
      if (bytes.length >= this.#buf.length) return this.#writeAll(bytes);
    }
    this.#buf.set(bytes, this.#fill);
    this.#fill += bytes.length;
  }

  flush(): void {
    if (this.#fill === 0) return;
    const n = this.#fill;
    this.#fill = 0;
    this.#writeAll(this.#buf.subarray(0, n));
  }

  #writeAll(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += this.#out.writeSync(bytes.subarray(done));
    this.written += bytes.length;
  }

  section(tag: string, name: string, parts: Uint8Array[]): void {
    const nameBytes = encoder.encode(name);
    this.raw(encoder.encode(tag));
    this.raw(u32(nameBytes.length));
    this.raw(nameBytes);
    this.raw(u64(parts.reduce((n, p) => n + p.length, 0)));
    for (const p of parts) this.raw(p);
  }

  /** A memory region: each chunk's bitmap, then runs of its non-zero pages. */
  memory(name: string, bytes: Uint8Array, resident: Uint8Array | null): void {
    if (bytes.byteOffset % 4 !== 0 || bytes.length % SAVE_PAGE_SIZE !== 0) {
      throw new RangeError(`memory '${name}' is not whole aligned pages`);
    }
    const words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const pages = bytes.length / SAVE_PAGE_SIZE;
    const bitmaps: Uint8Array[] = [];
    let payload = 8;
    for (let first = 0; first < pages; first += PAGES_PER_CHUNK) {
      const bitmap = new Uint8Array(BITMAP_BYTES);
      const last = Math.min(pages, first + PAGES_PER_CHUNK);
      for (let p = first; p < last; p++) {
        if (resident && !(resident[p] & 1)) continue;
        if (!zeroPage(words, (p * SAVE_PAGE_SIZE) / 4)) {
          bitmap[(p - first) >> 3] |= 1 << ((p - first) & 7);
          payload += SAVE_PAGE_SIZE;
        }
      }
      bitmaps.push(bitmap);
      payload += BITMAP_BYTES;
    }
    const nameBytes = encoder.encode(name);
    this.raw(encoder.encode(TAG.MEMORY));
    this.raw(u32(nameBytes.length));
    this.raw(nameBytes);
    this.raw(u64(payload));
    this.raw(u64(bytes.length));
    bitmaps.forEach((bitmap, c) => {
      this.raw(bitmap);
      const first = c * PAGES_PER_CHUNK;
      forEachRun(bitmap, Math.min(PAGES_PER_CHUNK, pages - first), (start, count) => {
        const from = (first + start) * SAVE_PAGE_SIZE;
        this.raw(bytes.subarray(from, from + count * SAVE_PAGE_SIZE));
      });
    });
  }
}

/** Calls `run(start, count)` for each run of set bits among the first `pages` bits. */
function forEachRun(
  bitmap: Uint8Array,
  pages: number,
  run: (start: number, count: number) => void,
): void {
  let start = -1;
  for (let p = 0; p <= pages; p++) {
    const set = p < pages && (bitmap[p >> 3] & (1 << (p & 7))) !== 0;
    if (set && start < 0) start = p;
    else if (!set && start >= 0) {
      run(start, p - start);
      start = -1;
    }
  }
}

/** Reads exactly what is asked for, or says the file is truncated. */
class ExactReader {
  readonly #in: SyncReader;
  readonly #scratch = new DataView(new ArrayBuffer(8));

  constructor(input: SyncReader) {
    this.#in = input;
  }

  into(target: Uint8Array, what = "the save file is truncated"): void {
    let done = 0;
    while (done < target.length) {
      const n = this.#in.readSync(target.subarray(done));
      if (n === null || n === 0) throw new SaveFileError(what);
      done += n;
    }
  }

  bytes(n: number, what?: string): Uint8Array {
    const b = new Uint8Array(n);
    this.into(b, what);
    return b;
  }

  u32(): number {
    const b = new Uint8Array(this.#scratch.buffer, 0, 4);
    this.into(b);
    return this.#scratch.getUint32(0, true);
  }

  u64(): number {
    const b = new Uint8Array(this.#scratch.buffer, 0, 8);
    this.into(b);
    const v = this.#scratch.getBigUint64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new SaveFileError("damaged save file");
    return Number(v);
  }
}

function readMemory(
  r: ExactReader,
  length: number,
  target: Uint8Array,
  name: string,
  resident: Uint8Array | null,
): number {
  const size = r.u64();
  if (size !== target.length) {
    throw new SaveFileError(
      `memory '${name}' is ${size} bytes in the save file, ${target.length} here`,
    );
  }
  const pages = size / SAVE_PAGE_SIZE;
  let consumed = 8;
  let restored = 0;
  for (let first = 0; first < pages; first += PAGES_PER_CHUNK) {
    const bitmap = r.bytes(BITMAP_BYTES);
    consumed += BITMAP_BYTES;
    const count = Math.min(PAGES_PER_CHUNK, pages - first);
    const chunk = target.subarray(first * SAVE_PAGE_SIZE, (first + count) * SAVE_PAGE_SIZE);
    // Pages the file skips are zero; the target may not be fresh memory. Pages never
    // backed are zero already (clearing them would back every page of a big guest).
    for (let p = 0; p < count; p++) {
      const saved = (bitmap[p >> 3] & (1 << (p & 7))) !== 0;
      if (!saved && (!resident || resident[first + p] & 1)) {
        chunk.fill(0, p * SAVE_PAGE_SIZE, (p + 1) * SAVE_PAGE_SIZE);
      }
    }
    forEachRun(bitmap, count, (start, n) => {
      r.into(chunk.subarray(start * SAVE_PAGE_SIZE, (start + n) * SAVE_PAGE_SIZE));
      consumed += n * SAVE_PAGE_SIZE;
      restored += n * SAVE_PAGE_SIZE;
    });
  }
  if (consumed !== length) throw new SaveFileError(`damaged save file: memory '${name}'`);
  return restored;
}

function encodeOverlay(o: OverlayImage): Uint8Array {
  const indices = [...o.chunks.keys()].sort((a, b) => a - b);
  const out = new Uint8Array(8 + indices.length * (8 + o.chunkSize));
  const view = new DataView(out.buffer);
  view.setUint32(0, o.chunkSize, true);
  view.setUint32(4, indices.length, true);
  let at = 8;
  for (const i of indices) {
    const chunk = o.chunks.get(i)!;
    if (chunk.length !== o.chunkSize) throw new RangeError("overlay chunk of the wrong size");
    view.setBigUint64(at, BigInt(i), true);
    out.set(chunk, at + 8);
    at += 8 + o.chunkSize;
  }
  return out;
}

function decodeOverlay(disk: number, bytes: Uint8Array): OverlayImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!Number.isInteger(disk) || disk < 0 || bytes.length < 8) {
    throw new SaveFileError("damaged save file: disk overlay");
  }
  const chunkSize = view.getUint32(0, true);
  const count = view.getUint32(4, true);
  if (chunkSize === 0 || bytes.length !== 8 + count * (8 + chunkSize)) {
    throw new SaveFileError("damaged save file: disk overlay");
  }
  const chunks = new Map<number, Uint8Array>();
  for (let k = 0, at = 8; k < count; k++, at += 8 + chunkSize) {
    chunks.set(Number(view.getBigUint64(at, true)), bytes.slice(at + 8, at + 8 + chunkSize));
  }
  return { disk, chunkSize, chunks };
}
