import { deepStrictEqual, strictEqual } from "node:assert";
import { AUDIO_RATE } from "../devices/audio.ts";
import { AudioMixer, MIX_HORIZON_NS } from "./audio_mixer.ts";

function setup() {
  const out: number[] = [];
  let closed = 0;
  const mixer = new AudioMixer({ write: (s) => out.push(...s), close: () => closed++ });
  return { mixer, out, closed: () => closed };
}

const ns = (sample: number) => (sample * 1e9) / AUDIO_RATE;
const fill = (n: number, v: number) => new Int16Array(n).fill(v);

Deno.test("audio mixer: one device's chunks come out in order, whole, on close", () => {
  const { mixer, out, closed } = setup();
  mixer.write(fill(441, 1), ns(1000));
  mixer.write(fill(441, 2), ns(1441));
  strictEqual(out.length, 0); // still open for other devices
  mixer.close();
  mixer.close();
  strictEqual(closed(), 1);
  deepStrictEqual(out, [...fill(441, 1), ...fill(441, 2)]);
});

Deno.test("audio mixer: devices playing at once are added; silence between is left out", () => {
  const { mixer, out } = setup();
  mixer.write(fill(100, 1000), ns(0));
  mixer.write(fill(100, 30000), ns(50)); // overlaps the second half, clips
  mixer.write(fill(10, 7), ns(AUDIO_RATE * 60)); // a minute later
  mixer.close();
  deepStrictEqual(out, [
    ...fill(50, 1000),
    ...fill(50, 31000),
    ...fill(50, 30000),
    ...fill(10, 7),
  ]);
});

Deno.test("audio mixer: samples older than the horizon are written as time goes on", () => {
  const { mixer, out } = setup();
  const horizon = Math.round((MIX_HORIZON_NS * AUDIO_RATE) / 1e9);
  for (let i = 0; i < 100; i++) mixer.write(fill(441, 1), ns(i * 441));
  strictEqual(out.length, 100 * 441 - horizon);
  mixer.close();
  strictEqual(out.length, 100 * 441);
});

Deno.test("audio mixer: a chunk older than what is final follows it", () => {
  const { mixer, out } = setup();
  mixer.write(fill(AUDIO_RATE, 1), ns(AUDIO_RATE));
  mixer.write(fill(5, 9), ns(0));
  mixer.close();
  strictEqual(out.length, AUDIO_RATE + 5);
  deepStrictEqual(out.slice(-5), [9, 9, 9, 9, 9]);
});
