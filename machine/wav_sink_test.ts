import { deepStrictEqual, strictEqual } from "node:assert";
import { AUDIO_RATE } from "../devices/audio.ts";
import { WavSink } from "./wav_sink.ts";

function parse(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer);
  const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  return {
    riff: text(0),
    riffSize: v.getUint32(4, true),
    wave: text(8),
    format: v.getUint16(20, true),
    channels: v.getUint16(22, true),
    rate: v.getUint32(24, true),
    bits: v.getUint16(34, true),
    data: text(36),
    dataSize: v.getUint32(40, true),
    samples: Array.from(
      { length: (bytes.length - 44) / 2 },
      (_, i) => v.getInt16(44 + i * 2, true),
    ),
  };
}

Deno.test("wav sink: a mono 16-bit PCM WAV whose header is right after every write", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/out.wav`;
    const sink = new WavSink(path);
    deepStrictEqual(parse(Deno.readFileSync(path)).dataSize, 0);
    sink.write(Int16Array.from([1, -1, 32767]));
    // Not closed yet: the file is already a complete WAV.
    let w = parse(Deno.readFileSync(path));
    strictEqual(w.dataSize, 6);
    strictEqual(w.riffSize, 42);
    deepStrictEqual(w.samples, [1, -1, 32767]);
    sink.write(Int16Array.from([-32768]));
    sink.close();
    sink.close();
    sink.write(Int16Array.from([5])); // after close: dropped
    w = parse(Deno.readFileSync(path));
    deepStrictEqual(
      { ...w, samples: undefined },
      {
        riff: "RIFF",
        riffSize: 44,
        wave: "WAVE",
        format: 1,
        channels: 1,
        rate: AUDIO_RATE,
        bits: 16,
        data: "data",
        dataSize: 8,
        samples: undefined,
      },
    );
    deepStrictEqual(w.samples, [1, -1, 32767, -32768]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
