/**
 * Reads PCM WAV files for the sound tests: format, the first channel's
 * samples, and the frequency of a tone in them.
 *
 * @module
 */

/** A PCM WAV's format and its first channel as numbers. */
export interface WavData {
  readonly rate: number;
  readonly channels: number;
  readonly bits: number;
  /** The first channel's samples, centred on 0 (8-bit samples are unsigned in WAV). */
  readonly samples: number[];
  /** Length in seconds. */
  readonly seconds: number;
}

/**
 * Parses a RIFF/WAVE file with a PCM fmt chunk (8- or 16-bit).
 * @throws {Error} for anything else
 */
export function readWav(bytes: Uint8Array): WavData {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a RIFF/WAVE file");
  let fmt: { channels: number; rate: number; bits: number } | null = null;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      if (v.getUint16(body, true) !== 1) throw new Error("not PCM");
      fmt = {
        channels: v.getUint16(body + 2, true),
        rate: v.getUint32(body + 4, true),
        bits: v.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!fmt) throw new Error("data before fmt");
      const frameBytes = fmt.channels * fmt.bits / 8;
      const end = Math.min(bytes.length, body + size);
      const samples: number[] = [];
      for (let p = body; p + frameBytes <= end; p += frameBytes) {
        samples.push(fmt.bits === 8 ? v.getUint8(p) - 128 : v.getInt16(p, true));
      }
      return { ...fmt, samples, seconds: samples.length / fmt.rate };
    }
    at = body + size + (size & 1);
  }
  throw new Error("no data chunk");
}

/**
 * The frequency of a square or sine tone: rising crossings through a band
 * around 0 (a quarter of the peak, so resampling ripple does not count) per
 * second of samples from the first crossing to the last.
 */
export function toneFrequency(samples: readonly number[], rate: number): number {
  const peak = Math.max(...samples.map(Math.abs));
  const band = peak / 4;
  const rises: number[] = [];
  let low = false;
  samples.forEach((s, i) => {
    if (s < -band) low = true;
    else if (s > band && low) {
      low = false;
      rises.push(i);
    }
  });
  if (rises.length < 2) return 0;
  return (rises.length - 1) / ((rises[rises.length - 1] - rises[0]) / rate);
}

/**
 * Runs `record` (a QEMU run that writes a WAV) until the recording lasts
 * within `fraction` of `seconds`, at most `tries` times, and returns the
 * last one. QEMU's wav backend drops audio when the host is too busy to run
 * its audio timer on time; such a run says nothing about the guest, so the
 * reference is recorded again.
 */
export async function steadyRecording(
  record: () => Promise<WavData>,
  seconds: number,
  fraction = 0.02,
  tries = 3,
): Promise<WavData> {
  let w = await record();
  for (let i = 1; i < tries && Math.abs(w.seconds - seconds) > seconds * fraction; i++) {
    console.log(`QEMU's recording lasted ${w.seconds.toFixed(3)} s, not ${seconds} s: again`);
    w = await record();
  }
  return w;
}
