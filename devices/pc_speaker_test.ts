import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { AUDIO_RATE } from "./audio.ts";
import { SteppedClock } from "./clock.ts";
import {
  PcSpeaker,
  type Pit2Status,
  PIT_HZ,
  type PitChannel2,
  pitOutput,
  POLL_NS,
  SPEAKER_AMPLITUDE,
} from "./pc_speaker.ts";
import type { SeededRandom } from "./testing/seeded_random.ts";
import {
  assertRestoreProperty,
  assertRestoreRejects,
  type Twin,
} from "./testing/snapshot_check.ts";

/** Channel 2 as a test drives it: the guest's PIT programming, without KVM. */
class FakePit implements PitChannel2 {
  mode = 3;
  count = 1193;
  gate = false;
  gateWrites = 0;
  status(): Pit2Status {
    return { mode: this.mode, count: this.count, gate: this.gate, out: this.gate };
  }
  setGate(level: boolean): void {
    this.gate = level;
    this.gateWrites++;
  }
}

interface SpeakerTwin extends Twin {
  readonly spk: PcSpeaker;
  readonly pit: FakePit;
  readonly samples: number[];
}

function twin(): SpeakerTwin {
  const clock = new SteppedClock();
  const pit = new FakePit();
  const samples: number[] = [];
  const events: string[] = [];
  const spk = new PcSpeaker({
    pit,
    clock,
    timer: clock.timer,
    audio: {
      write: (s) => {
        samples.push(...s);
        events.push(`audio ${s.length}@${clock.nowNs()}`);
      },
    },
  });
  return { clock, events, spk, pit, samples };
}

/** Zero crossings upward per second: the square wave's frequency. */
function frequency(samples: number[]): number {
  let rises = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1] < 0 && samples[i] > 0) rises++;
  return rises / (samples.length / AUDIO_RATE);
}

Deno.test("pc speaker: a 1 kHz tone for 1 s is 44100 samples of a 1 kHz square wave", () => {
  const t = twin();
  t.spk.write(0, 1, 0x03);
  t.clock.advanceTo(1e9);
  t.spk.write(0, 1, 0x00);
  strictEqual(t.samples.length, AUDIO_RATE);
  const f = frequency(t.samples);
  ok(Math.abs(f - PIT_HZ / 1193) < 2, `frequency ${f}`);
  ok(t.samples.every((s) => Math.abs(s) === SPEAKER_AMPLITUDE));
  // Silent afterwards: nothing more is played.
  t.clock.advanceTo(3e9);
  strictEqual(t.samples.length, AUDIO_RATE);
});

Deno.test("pc speaker: samples are handed on every poll while playing", () => {
  const t = twin();
  t.spk.write(0, 1, 0x03);
  t.clock.advanceTo(POLL_NS * 3);
  deepStrictEqual(t.events, [
    `audio 441@${POLL_NS}`,
    `audio 441@${2 * POLL_NS}`,
    `audio 441@${3 * POLL_NS}`,
  ]);
});

Deno.test("pc speaker: no sound without the speaker bit, the gate, or mode 3", () => {
  const t = twin();
  t.spk.write(0, 1, 0x01);
  t.clock.advanceTo(1e8);
  t.spk.write(0, 1, 0x02);
  t.clock.advanceTo(2e8);
  t.pit.mode = 2;
  t.spk.write(0, 1, 0x03);
  t.clock.advanceTo(3e8);
  t.spk.write(0, 1, 0x00);
  strictEqual(t.samples.length, 0);
});

Deno.test("pc speaker: a count changed while playing changes the tone at the next poll", () => {
  const t = twin();
  t.spk.write(0, 1, 0x03);
  t.clock.advanceTo(5e8);
  t.pit.count = 2386; // 500 Hz
  t.clock.advanceTo(1e9);
  t.spk.write(0, 1, 0x00);
  const half = AUDIO_RATE / 2;
  ok(Math.abs(frequency(t.samples.slice(0, half)) - 1000) < 5);
  ok(Math.abs(frequency(t.samples.slice(half + 441)) - 500) < 5);
});

Deno.test("pc speaker: port 0x61 reads gate, speaker bit, refresh toggle, OUT2", () => {
  const t = twin();
  strictEqual(t.spk.read(0, 1), 0x10);
  strictEqual(t.spk.read(0, 1), 0x00);
  t.spk.write(0, 1, 0x03);
  strictEqual(t.spk.read(0, 1), 0x33);
  strictEqual(t.pit.gateWrites, 1);
  t.spk.write(0, 1, 0x01); // same gate: the PIT is not touched
  strictEqual(t.pit.gateWrites, 1);
});

Deno.test("pc speaker: i8254 outputs by mode", () => {
  deepStrictEqual([0, 9, 10, 11].map((d) => pitOutput(0, 10, d)), [false, false, true, true]);
  deepStrictEqual([0, 9, 10].map((d) => pitOutput(1, 10, d)), [true, true, false]);
  deepStrictEqual([0, 5, 10, 20].map((d) => pitOutput(2, 10, d)), [true, true, false, false]);
  deepStrictEqual([0, 4, 5, 9, 10].map((d) => pitOutput(3, 10, d)), [
    true,
    true,
    false,
    false,
    true,
  ]);
  deepStrictEqual([0, 3, 4, 5].map((d) => pitOutput(3, 5, d)), [true, false, false, true]);
  deepStrictEqual([9, 10, 11].map((d) => pitOutput(4, 10, d)), [true, false, true]);
});

function step(rng: SeededRandom, t: SpeakerTwin): string {
  switch (rng.below(5)) {
    case 0:
      t.spk.write(0, 1, rng.below(4));
      return "write";
    case 1:
      return `read ${t.spk.read(0, 1)}`;
    case 2:
      t.pit.count = rng.pick([1193, 2386, 100]);
      return "count";
    default:
      t.clock.advance(rng.int(0, 30) * 1e6);
      return `t=${t.clock.nowNs()}`;
  }
}

Deno.test("pc speaker: snapshot/restore property (seeded)", () => {
  assertRestoreProperty({
    seeds: 60,
    twin,
    device: (t) => t.spk,
    carry: (a, b) =>
      Object.assign(b.pit, { mode: a.pit.mode, count: a.pit.count, gate: a.pit.gate }),
    stepsBefore: 40,
    stepsAfter: 60,
    step,
    busy: (s) => s.playing !== null,
    minBusy: 10,
  });
});

Deno.test("pc speaker: restore refuses malformed states", () => {
  const t = twin();
  t.spk.write(0, 1, 3);
  const good = t.spk.snapshot();
  assertRestoreRejects(twin().spk, good, [
    { dataOn: 1 },
    { pollDeadlineNs: null },
    { playing: { sinceNs: 0, count: 0, samples: 0 } },
    { samplesPlayed: -1 },
  ]);
});

Deno.test("pc speaker: flush hands on the samples since the last poll", () => {
  const t = twin();
  t.spk.write(0, 1, 0x03);
  t.clock.advanceTo(POLL_NS + POLL_NS / 2);
  strictEqual(t.samples.length, 441);
  t.spk.flush();
  strictEqual(t.samples.length, 661);
});
