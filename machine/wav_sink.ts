/**
 * A WAV file that receives what the guest plays: RIFF/WAVE, PCM, mono,
 * signed 16-bit at {@link AUDIO_RATE}. The header's sizes are brought up to
 * date after every write, so the file is a complete WAV at any moment (a
 * killed vmrun leaves a playable file), and once more on {@link close}.
 *
 * @module
 */

import { AUDIO_RATE } from "../devices/audio.ts";
import type { PcmSink } from "./audio_mixer.ts";

const HEADER_BYTES = 44;
/** A WAV's data chunk is limited by its 32-bit sizes. */
const MAX_DATA_BYTES = 0xffffffff - HEADER_BYTES;

/** The 44-byte header of a mono 16-bit PCM WAV with `dataBytes` of samples. */
export function wavHeader(dataBytes: number, rate = AUDIO_RATE): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  const v = new DataView(h.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((c, i) => h[at + i] = c.charCodeAt(0));
  ascii(0, "RIFF");
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true); // bytes per second
  v.setUint16(32, 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  v.setUint32(40, dataBytes, true);
  return h;
}

/** A WAV file being written. */
export class WavSink implements PcmSink {
  readonly #file: Deno.FsFile;
  #dataBytes = 0;
  #closed = false;

  /**
   * Creates (truncating) `path` with an empty WAV.
   * @throws {Deno.errors.NotFound | Deno.errors.PermissionDenied} when it cannot be written
   */
  constructor(readonly path: string) {
    this.#file = Deno.openSync(path, { write: true, create: true, truncate: true });
    this.#file.writeSync(wavHeader(0));
  }

  /** Bytes of samples written so far. */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /** Appends samples and brings the header up to date. Past 4 GiB, samples are dropped. */
  write(samples: Int16Array): void {
    if (this.#closed || samples.length === 0) return;
    const bytes = new Uint8Array(samples.length * 2);
    const v = new DataView(bytes.buffer);
    samples.forEach((s, i) => v.setInt16(i * 2, s, true));
    const room = Math.min(bytes.length, MAX_DATA_BYTES - this.#dataBytes) & ~1;
    if (room <= 0) return;
    this.#file.seekSync(HEADER_BYTES + this.#dataBytes, Deno.SeekMode.Start);
    writeAll(this.#file, bytes.subarray(0, room));
    this.#dataBytes += room;
    this.#file.seekSync(0, Deno.SeekMode.Start);
    writeAll(this.#file, wavHeader(this.#dataBytes));
  }

  /** Finishes the header and closes the file; harmless twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#file.seekSync(0, Deno.SeekMode.Start);
      writeAll(this.#file, wavHeader(this.#dataBytes));
      this.#file.syncSync();
    } finally {
      this.#file.close();
    }
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
}

/** What a recorded WAV file holds, as the report states it. */
export interface WavFileInfo {
  readonly file: string;
  /** The file's size. */
  readonly bytes: number;
  /** How long its samples play. */
  readonly seconds: number;
}

/**
 * Reads the size and length of a WAV file vmrun wrote, from its header;
 * null when it cannot be read or is no WAV of vmrun's.
 */
export function wavFileInfo(path: string): WavFileInfo | null {
  let head: Uint8Array;
  try {
    const file = Deno.openSync(path, { read: true });
    try {
      head = new Uint8Array(HEADER_BYTES);
      let got = 0;
      while (got < HEADER_BYTES) {
        const n = file.readSync(head.subarray(got));
        if (n === null) return null;
        got += n;
      }
      const bytes = file.statSync().size;
      const v = new DataView(head.buffer);
      const byteRate = v.getUint32(28, true);
      const text = new TextDecoder().decode(head.subarray(0, 4));
      if (text !== "RIFF" || byteRate === 0) return null;
      return { file: path, bytes, seconds: v.getUint32(40, true) / byteRate };
    } finally {
      file.close();
    }
  } catch {
    return null;
  }
}
