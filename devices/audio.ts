/**
 * What sound devices play into: mono signed 16-bit samples at one rate. The
 * host side (a WAV file, or nothing) lives in machine/.
 *
 * @module
 */

/** Sample rate of everything devices play, in Hz (QEMU's audio default). */
export const AUDIO_RATE = 44100;

/** Receives what a device plays, in order. */
export interface AudioOut {
  /** Mono signed 16-bit samples at {@link AUDIO_RATE}; the array may be reused after the call. */
  write(samples: Int16Array): void;
}

/** An output that drops everything (`--audio none`). */
export const SILENT_AUDIO: AudioOut = { write: () => {} };
