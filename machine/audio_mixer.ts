/**
 * Mixes what the sound devices play onto one timeline for the WAV file.
 * Devices hand on their samples with the clock time of the first one (see
 * {@link AudioOut}); samples of devices playing at once are added (and
 * clipped), and stretches where nothing plays are left out, as QEMU's
 * `-audiodev wav` records only while a voice plays.
 *
 * A sample is final once it is {@link MIX_HORIZON_NS} older than the
 * latest time a device wrote at: every playing device hands on its samples
 * at least every 10 ms, so nothing can still arrive for it. {@link close}
 * writes the rest.
 *
 * @module
 */

import { AUDIO_RATE, type AudioOut } from "../devices/audio.ts";

/** How far behind the newest write samples stay open for other devices. */
export const MIX_HORIZON_NS = 40_000_000;

/** Where mixed samples go (a WAV file). */
export interface PcmSink {
  write(samples: Int16Array): void;
  close(): void;
}

/** The timeline of every sound device, written to a {@link PcmSink}. */
export class AudioMixer implements AudioOut {
  readonly #sink: PcmSink;
  /** Timeline index (samples at AUDIO_RATE since clock 0) of `#acc[0]`. */
  #base = 0;
  #acc = new Float64Array(AUDIO_RATE);
  #covered = new Uint8Array(AUDIO_RATE);
  /** Entries of `#covered` set. */
  #pending = 0;
  #closed = false;

  /** @param sink where the mixed samples go */
  constructor(sink: PcmSink) {
    this.#sink = sink;
  }

  /** Adds `samples` at the timeline position of `startNs`; writes what became final. */
  write(samples: Int16Array, startNs: number): void {
    if (this.#closed || samples.length === 0) return;
    const start = Math.round((startNs * AUDIO_RATE) / 1e9);
    this.#flushBefore(start + samples.length - Math.round((MIX_HORIZON_NS * AUDIO_RATE) / 1e9));
    // Nothing open: the timeline may jump ahead (a silence is not recorded).
    if (this.#pending === 0) this.#base = Math.max(this.#base, start);
    let from = start - this.#base;
    // Older than what is already final (a device far behind): it follows what is there.
    if (from < 0) from = this.#firstOpen();
    this.#reserve(from + samples.length);
    for (let i = 0; i < samples.length; i++) {
      const at = from + i;
      if (!this.#covered[at]) {
        this.#covered[at] = 1;
        this.#pending++;
      }
      this.#acc[at] += samples[i];
    }
  }

  /** The first index after the last covered one (where a late device's samples go). */
  #firstOpen(): number {
    let i = this.#covered.length;
    while (i > 0 && !this.#covered[i - 1]) i--;
    return i;
  }

  #reserve(length: number): void {
    if (length <= this.#acc.length) return;
    const size = Math.max(length, this.#acc.length * 2);
    const acc = new Float64Array(size);
    acc.set(this.#acc);
    const covered = new Uint8Array(size);
    covered.set(this.#covered);
    this.#acc = acc;
    this.#covered = covered;
  }

  /** Writes the covered samples before timeline index `end` and drops the rest before it. */
  #flushBefore(end: number): void {
    const n = Math.min(end - this.#base, this.#acc.length);
    if (n <= 0) return;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      if (!this.#covered[i]) continue;
      out.push(Math.max(-32768, Math.min(32767, Math.round(this.#acc[i]))));
    }
    this.#pending -= out.length;
    this.#acc.copyWithin(0, n);
    this.#acc.fill(0, this.#acc.length - n);
    this.#covered.copyWithin(0, n);
    this.#covered.fill(0, this.#covered.length - n);
    this.#base += n;
    if (out.length) this.#sink.write(Int16Array.from(out));
  }

  /** Writes everything still open and closes the sink; harmless twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#flushBefore(this.#base + this.#acc.length);
    } finally {
      this.#sink.close();
    }
  }
}
