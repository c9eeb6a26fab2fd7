import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { AUDIO_RATE } from "./audio.ts";
import { SteppedClock } from "./clock.ts";
import { Es1370, ES_CTRL, ES_DAC_PAGE, ES_REG, ES_SCTRL, ES_STAT } from "./es1370.ts";
import { ArrayGuestMemory } from "./testing/array_guest_memory.ts";
import { RecordingIrq } from "./testing/recording_irq.ts";
import type { SeededRandom } from "./testing/seeded_random.ts";
import {
  assertRestoreProperty,
  assertRestoreRejects,
  type Twin,
} from "./testing/snapshot_check.ts";

interface EsTwin extends Twin {
  readonly es: Es1370;
  readonly mem: ArrayGuestMemory;
  readonly irq: RecordingIrq;
  readonly samples: number[];
}

function twin(): EsTwin {
  const clock = new SteppedClock();
  const mem = new ArrayGuestMemory(0x40000);
  const events: string[] = [];
  const samples: number[] = [];
  const irq = new RecordingIrq();
  const es = new Es1370({
    irq: {
      set: (level) => {
        irq.set(level);
        events.push(`irq=${level}@${clock.nowNs()}`);
      },
    },
    memory: mem,
    clock,
    timer: clock.timer,
    audio: {
      write: (s) => {
        samples.push(...s);
        events.push(`audio ${s.length}`);
      },
    },
  });
  return { clock, events, es, mem, irq, samples };
}

const w = (t: EsTwin, reg: number, v: number) => t.es.io.write(reg, 4, v);
const r = (t: EsTwin, reg: number) => t.es.io.read(reg, 4);

/** DAC2 on a buffer of `longwords` at 0x10000, 8-bit mono at 1411200 / (div + 2) Hz. */
function dac2(t: EsTwin, longwords: number, div: number, intFrames: number): void {
  w(t, ES_REG.MEMPAGE, ES_DAC_PAGE);
  w(t, 0x38, 0x10000);
  w(t, 0x3c, longwords - 1);
  w(t, ES_REG.DAC2_SCOUNT, intFrames - 1);
  w(t, ES_REG.SERIAL_CONTROL, ES_SCTRL.P2INTEN);
  w(t, ES_REG.CONTROL, (div << 16) | ES_CTRL.DAC2_EN);
}

Deno.test("es1370: identity 1274:5000, audio class, INTA#, 256-byte I/O BAR", () => {
  const { es } = twin();
  strictEqual(es.config.read(0, 4), 0x50001274);
  strictEqual(es.config.read(0x08, 4) >>> 8, 0x040100);
  strictEqual(es.config.read(0x3d, 1), 1);
  es.config.write(0x10, 4, 0xffffffff);
  strictEqual(es.config.read(0x10, 4), 0xffffff01);
});

Deno.test("es1370: DAC2 plays its buffer round and round at 1411200 / (div + 2) Hz", () => {
  const t = twin();
  // 5500 longwords = 22000 bytes: 440 periods of 50 samples.
  for (let i = 0; i < 22000; i++) t.mem.writeU8(0x10000 + i, i % 50 < 25 ? 0xc0 : 0x40);
  dac2(t, 5500, 62, 22050); // 22050 Hz, an interrupt a second
  t.clock.advanceTo(2e9);
  ok(Math.abs(t.samples.length - 2 * AUDIO_RATE) <= 2, `${t.samples.length} samples`);
  let rises = 0;
  for (let i = 1; i < t.samples.length; i++) if (t.samples[i - 1] < 0 && t.samples[i] > 0) rises++;
  strictEqual(rises, 881); // 882 periods, starting high
  strictEqual(t.irq.rises, 1); // the first interrupt, still pending
  strictEqual(r(t, ES_REG.STATUS) >>> 0, (ES_STAT.INTR | ES_STAT.DAC2) >>> 0);
  // Clearing the enable acknowledges it.
  w(t, ES_REG.SERIAL_CONTROL, 0);
  strictEqual(t.irq.level, false);
  strictEqual(r(t, ES_REG.STATUS), 0);
  // The current longword moved on: 44100 bytes played of a 22000-byte buffer.
  w(t, ES_REG.MEMPAGE, ES_DAC_PAGE);
  strictEqual(r(t, 0x3c) >>> 16, (44100 % 22000) / 4);
  // Disabled: silent.
  w(t, ES_REG.CONTROL, 0);
  const n = t.samples.length;
  t.clock.advanceTo(3e9);
  strictEqual(t.samples.length, n);
});

Deno.test("es1370: DAC1's fixed rates, 16-bit stereo mixed down, pause", () => {
  const t = twin();
  for (let f = 0; f < 100; f++) {
    t.mem.writeU16(0x20000 + f * 4, 1000);
    t.mem.writeU16(0x20000 + f * 4 + 2, 3000);
  }
  w(t, ES_REG.MEMPAGE, ES_DAC_PAGE);
  w(t, 0x30, 0x20000);
  w(t, 0x34, 99);
  w(t, ES_REG.DAC1_SCOUNT, 0xffff);
  w(t, ES_REG.SERIAL_CONTROL, 0x3 | ES_SCTRL.P1PAUSE); // 16-bit stereo, paused
  w(t, ES_REG.CONTROL, (3 << 12) | ES_CTRL.DAC1_EN); // 44100 Hz
  t.clock.advanceTo(1e8);
  strictEqual(t.samples.length, 0);
  w(t, ES_REG.SERIAL_CONTROL, 0x3);
  t.clock.advanceTo(2e8);
  strictEqual(t.samples.length, 4410);
  ok(t.samples.every((s) => s === 2000));
  deepStrictEqual(t.es.snapshot().playing, ["dac1 16-bit stereo 44100 Hz"]);
});

Deno.test("es1370: byte access to CONTROL and the paged registers", () => {
  const t = twin();
  t.es.io.write(ES_REG.MEMPAGE, 1, ES_DAC_PAGE);
  t.es.io.write(0x38, 2, 0x1234);
  t.es.io.write(0x3a, 2, 0x0002);
  strictEqual(r(t, 0x38), 0x21234);
  w(t, ES_REG.MEMPAGE, 3);
  w(t, 0x30, 0xdeadbeef);
  strictEqual(r(t, 0x30) >>> 0, 0xdeadbeef);
  w(t, ES_REG.MEMPAGE, ES_DAC_PAGE);
  strictEqual(r(t, 0x38), 0x21234);
  strictEqual(t.es.io.read(ES_REG.MEMPAGE + 1, 1), 0);
});

function step(rng: SeededRandom, t: EsTwin): string {
  switch (rng.below(6)) {
    case 0:
      dac2(t, rng.int(1, 3000), rng.int(30, 200), rng.int(1, 5000));
      return "dac2";
    case 1:
      w(t, ES_REG.SERIAL_CONTROL, rng.pick([0, ES_SCTRL.P2INTEN, ES_SCTRL.P2PAUSE, 0x20f]));
      return "sctl";
    case 2:
      w(t, ES_REG.CONTROL, rng.pick([0, ES_CTRL.DAC1_EN, ES_CTRL.DAC2_EN | (50 << 16)]));
      return "ctl";
    case 3:
      return `status ${r(t, ES_REG.STATUS)} sc ${r(t, ES_REG.DAC2_SCOUNT)}`;
    default:
      t.clock.advance(rng.int(0, 40) * 1e6);
      return `t=${t.clock.nowNs()}`;
  }
}

Deno.test("es1370: snapshot/restore property (seeded)", () => {
  assertRestoreProperty({
    seeds: 40,
    twin,
    device: (t) => t.es,
    prepare: (a) => {
      for (let i = 0; i < 0x8000; i++) a.mem.writeU8(0x10000 + i, (i * 13) & 0xff);
    },
    carry: (a, b) => b.mem.write(0x10000, a.mem.read(0x10000, 0x8000)),
    stepsBefore: 30,
    stepsAfter: 50,
    step,
    busy: (s) => s.playing.length > 0,
    minBusy: 8,
  });
});

Deno.test("es1370: restore refuses malformed states", () => {
  const good = twin().es.snapshot();
  assertRestoreRejects(twin().es, good, [
    { memPage: 16 },
    { codec: [1] },
    { dacs: [] },
    { control: -1 },
  ]);
});
