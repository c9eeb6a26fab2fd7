import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { AUDIO_RATE } from "./audio.ts";
import { SteppedClock } from "./clock.ts";
import { DMA_PAGE_BASE, IsaDma } from "./isa_dma.ts";
import { Sb16 } from "./sb16.ts";
import { ArrayGuestMemory } from "./testing/array_guest_memory.ts";
import { RecordingIrq } from "./testing/recording_irq.ts";
import type { SeededRandom } from "./testing/seeded_random.ts";
import {
  assertRestoreProperty,
  assertRestoreRejects,
  type Twin,
} from "./testing/snapshot_check.ts";

const RESET = 0x6, READ = 0xa, WRITE = 0xc, STATUS = 0xe, ACK16 = 0xf, MIX_INDEX = 0x4;
const MIX_DATA = 0x5;

interface SbTwin extends Twin {
  readonly sb: Sb16;
  readonly dma: IsaDma;
  readonly mem: ArrayGuestMemory;
  readonly irq: RecordingIrq;
  readonly samples: number[];
}

function twin(): SbTwin {
  const clock = new SteppedClock();
  const mem = new ArrayGuestMemory(0x40000);
  const dma = new IsaDma(mem);
  const events: string[] = [];
  const samples: number[] = [];
  const irq = new RecordingIrq();
  const line = {
    set: (level: boolean) => {
      irq.set(level);
      events.push(`irq=${level}@${clock.nowNs()}`);
    },
  };
  const sb = new Sb16({
    irq: line,
    dma,
    clock,
    timer: clock.timer,
    audio: {
      write: (s) => {
        samples.push(...s);
        events.push(`audio ${s.length}`);
      },
    },
  });
  return { clock, events, sb, dma, mem, irq, samples };
}

function dsp(t: SbTwin, ...bytes: number[]): void {
  for (const b of bytes) t.sb.write(WRITE, 1, b);
}

function reply(t: SbTwin, n: number): number[] {
  return Array.from({ length: n }, () => t.sb.read(READ, 1));
}

/** Channel 1 reads `length` bytes at `addr` (single-cycle or auto-init). */
function dma8(t: SbTwin, addr: number, length: number, autoInit: boolean): void {
  const d = t.dma.first;
  d.write(0x0a, 1, 4 | 1);
  d.write(0x0c, 1, 0);
  d.write(0x0b, 1, (autoInit ? 0x58 : 0x48) | 1);
  d.write(2, 1, addr & 0xff);
  d.write(2, 1, (addr >> 8) & 0xff);
  d.write(3, 1, (length - 1) & 0xff);
  d.write(3, 1, (length - 1) >> 8);
  t.dma.pages.write(0x83 - DMA_PAGE_BASE, 1, addr >> 16);
  d.write(0x0a, 1, 1);
}

function rises(samples: number[]): number {
  let n = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1] < 0 && samples[i] >= 0) n++;
  return n;
}

Deno.test("sb16: reset answers 0xAA; version 4.05; identification and test register", () => {
  const t = twin();
  t.sb.write(RESET, 1, 1);
  t.sb.write(RESET, 1, 0);
  strictEqual(t.sb.read(STATUS, 1) & 0x80, 0x80);
  deepStrictEqual(reply(t, 1), [0xaa]);
  strictEqual(t.sb.read(STATUS, 1) & 0x80, 0);
  dsp(t, 0xe1);
  deepStrictEqual(reply(t, 2), [4, 5]);
  dsp(t, 0xe0, 0x5a);
  deepStrictEqual(reply(t, 1), [0xa5]);
  dsp(t, 0xe4, 0x33, 0xe8);
  deepStrictEqual(reply(t, 1), [0x33]);
  strictEqual(t.sb.read(WRITE, 1), 0); // never busy
  dsp(t, 0xe3);
  const text = String.fromCharCode(...reply(t, 44));
  strictEqual(text, "COPYRIGHT (C) CREATIVE TECHNOLOGY LTD, 1992.");
});

Deno.test("sb16: mixer: IRQ 5 and DMA 1/5 selection, storage, reset", () => {
  const t = twin();
  t.sb.write(MIX_INDEX, 1, 0x80);
  strictEqual(t.sb.read(MIX_DATA, 1), 0x02);
  t.sb.write(MIX_INDEX, 1, 0x81);
  strictEqual(t.sb.read(MIX_DATA, 1), 0x22);
  t.sb.write(MIX_INDEX, 1, 0x30);
  t.sb.write(MIX_DATA, 1, 0xf8);
  strictEqual(t.sb.read(MIX_DATA, 1), 0xf8);
  t.sb.write(MIX_INDEX, 1, 0x00);
  t.sb.write(MIX_DATA, 1, 0x00);
  t.sb.write(MIX_INDEX, 1, 0x30);
  strictEqual(t.sb.read(MIX_DATA, 1), 0);
});

Deno.test("sb16: 8-bit single-cycle DMA plays the buffer at its rate, then IRQ 5 once", () => {
  const t = twin();
  // 22050 unsigned 8-bit samples: a square wave of period 50 samples (441 Hz).
  const n = 22050;
  for (let i = 0; i < n; i++) t.mem.writeU8(0x10000 + i, i % 50 < 25 ? 0xc0 : 0x40);
  dma8(t, 0x10000, n, false);
  dsp(t, 0x41, 22050 >> 8, 22050 & 0xff);
  dsp(t, 0x14, (n - 1) & 0xff, (n - 1) >> 8);
  t.clock.advanceTo(999_000_000);
  strictEqual(t.irq.level, false);
  t.clock.advanceTo(1_000_000_000);
  strictEqual(t.irq.level, true);
  strictEqual(t.sb.read(STATUS, 1) & 0x80, 0); // the read acknowledges it
  strictEqual(t.irq.level, false);
  ok(Math.abs(t.samples.length - AUDIO_RATE) <= 2, `${t.samples.length} samples`);
  strictEqual(rises(t.samples), 440); // 441 periods, starting high
  strictEqual(Math.max(...t.samples), 0x40 * 256);
  t.clock.advanceTo(3e9);
  strictEqual(t.irq.rises, 1);
  ok(t.sb.snapshot().playback === null);
});

Deno.test("sb16: 8-bit auto-init (0x48 + 0x1C) interrupts every block until 0xDA", () => {
  const t = twin();
  dma8(t, 0x20000, 1000, true);
  dsp(t, 0x40, 256 - 100); // time constant: 10 kHz
  dsp(t, 0x48, 499 & 0xff, 499 >> 8, 0x1c);
  for (let block = 1; block <= 3; block++) {
    t.clock.advanceTo(block * 50_000_000);
    strictEqual(t.irq.level, true, `block ${block}`);
    t.sb.read(STATUS, 1);
  }
  dsp(t, 0xda);
  t.clock.advanceTo(200_000_000);
  strictEqual(t.irq.rises, 4);
  t.sb.read(STATUS, 1);
  t.clock.advanceTo(400_000_000);
  strictEqual(t.irq.rises, 4);
});

Deno.test("sb16: 16-bit signed stereo DMA on channel 5 mixes down to mono; 0x22F acks", () => {
  const t = twin();
  const frames = 441;
  for (let f = 0; f < frames; f++) {
    t.mem.writeU16(0x30000 + f * 4, 1000); // left
    t.mem.writeU16(0x30000 + f * 4 + 2, 3000); // right
  }
  const d = t.dma.second;
  d.write(0x14, 1, 4 | 1);
  d.write(0x18, 1, 0);
  d.write(0x16, 1, 0x48 | 1);
  d.write(0x04, 1, 0); // word address 0x8000 on page 2 (0x20000 + 0x10000)
  d.write(0x04, 1, 0x80);
  d.write(0x06, 1, (frames * 2 - 1) & 0xff);
  d.write(0x06, 1, (frames * 2 - 1) >> 8);
  t.dma.pages.write(0x8b - DMA_PAGE_BASE, 1, 2);
  d.write(0x14, 1, 1);
  dsp(t, 0x41, 44100 >> 8, 44100 & 0xff);
  dsp(t, 0xb0, 0x30, (frames * 2 - 1) & 0xff, (frames * 2 - 1) >> 8);
  t.clock.advanceTo(20_000_000);
  strictEqual(t.samples.length, frames);
  ok(t.samples.every((s) => s === 2000));
  strictEqual(t.irq.level, true);
  t.sb.read(STATUS, 1); // the 8-bit ack leaves the 16-bit interrupt
  strictEqual(t.irq.level, true);
  t.sb.read(ACK16, 1);
  strictEqual(t.irq.level, false);
});

Deno.test("sb16: pause (0xD0) holds the block; continue (0xD4) finishes it", () => {
  const t = twin();
  dma8(t, 0x10000, 1000, false);
  dsp(t, 0x40, 256 - 100, 0x14, 999 & 0xff, 999 >> 8); // 100 ms at 10 kHz
  t.clock.advanceTo(50_000_000);
  dsp(t, 0xd0);
  t.clock.advanceTo(500_000_000);
  strictEqual(t.irq.level, false);
  dsp(t, 0xd4);
  t.clock.advanceTo(549_000_000);
  strictEqual(t.irq.level, false);
  t.clock.advanceTo(551_000_000);
  strictEqual(t.irq.level, true);
});

function step(rng: SeededRandom, t: SbTwin): string {
  switch (rng.below(7)) {
    case 0:
      dma8(t, 0x10000 + rng.below(0x8000), rng.int(1, 4000), rng.chance(0.5));
      return "dma";
    case 1:
      dsp(t, 0x40, rng.int(100, 240));
      return "rate";
    case 2:
      dsp(t, rng.pick([0x14, 0x1c, 0x48]), rng.byte(), rng.below(8));
      return "cmd";
    case 3:
      dsp(t, rng.pick([0xd0, 0xd4, 0xda, 0xe1, 0xf2, 0xd8]));
      return `out ${t.sb.read(READ, 1)}`;
    case 4:
      return `status ${t.sb.read(STATUS, 1)}`;
    default:
      t.clock.advance(rng.int(0, 40) * 1e6);
      return `t=${t.clock.nowNs()}`;
  }
}

Deno.test("sb16: snapshot/restore property (seeded)", () => {
  assertRestoreProperty({
    seeds: 50,
    twin,
    device: (t) => t.sb,
    prepare: (a) => {
      for (let i = 0; i < 0x10000; i++) a.mem.writeU8(0x10000 + i, (i * 7) & 0xff);
    },
    carry: (a, b) => {
      b.mem.write(0x10000, a.mem.read(0x10000, 0x10000));
      b.dma.restore(structuredClone(a.dma.snapshot()));
    },
    stepsBefore: 40,
    stepsAfter: 60,
    step,
    busy: (s) => s.playback !== null,
    minBusy: 10,
  });
});

Deno.test("sb16: restore refuses malformed states", () => {
  const t = twin();
  const good = t.sb.snapshot();
  assertRestoreRejects(twin().sb, good, [
    { mixer: new Uint8Array(10) },
    { rate: 0 },
    { output: [256] },
    { playback: { bits: 12 } },
  ]);
});
