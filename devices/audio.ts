/**
 * What sound devices play into: mono signed 16-bit samples at one rate. The
 * host side (a WAV file, or nothing) lives in machine/.
 *
 * @module
 */

/** Sample rate of everything devices play, in Hz (QEMU's audio default). */
export const AUDIO_RATE = 44100;

/**
 * Receives what a device plays. Each device's samples come in order; the
 * start time lets the host mix devices that play at once.
 */
export interface AudioOut {
  /**
   * Mono signed 16-bit samples at {@link AUDIO_RATE}, the first of them
   * due at `startNs` on the device's clock. The array is the receiver's.
   */
  write(samples: Int16Array, startNs: number): void;
}

/** An output that drops everything (`--audio none`). */
export const SILENT_AUDIO: AudioOut = { write: () => {} };

/** The clock time of output sample `index` of a stream that started at `sinceNs`. */
export function sampleTimeNs(sinceNs: number, index: number): number {
  return sinceNs + (index * 1e9) / AUDIO_RATE;
}
