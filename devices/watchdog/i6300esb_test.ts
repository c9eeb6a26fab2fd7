import { deepStrictEqual, strictEqual } from "node:assert";
import { SteppedClock } from "../clock.ts";
import type { SeededRandom } from "../testing/seeded_random.ts";
import {
  assertRestoreProperty,
  assertRestoreRejects,
  type Twin,
} from "../testing/snapshot_check.ts";
import {
  ESB_CONFIG,
  ESB_CONFIG_REG,
  ESB_LOCK,
  ESB_LOCK_REG,
  ESB_REG,
  ESB_RELOAD,
  I6300esb,
} from "./i6300esb.ts";

/** One 1 kHz tick of the timer: 2^15 PCI clocks of 30 ns. */
const TICK_1K = (1 << 15) * 30;
const TICK_1M = (1 << 5) * 30;

interface EsbTwin extends Twin {
  readonly wdt: I6300esb;
}

function twin(): EsbTwin {
  const clock = new SteppedClock();
  const events: string[] = [];
  const wdt = new I6300esb({
    clock,
    timer: clock.timer,
    onExpire: () => events.push(`expire@${clock.nowNs()}`),
  });
  return { clock, events, wdt };
}

function unlock(w: I6300esb): void {
  w.mmio.write(ESB_REG.RELOAD, 1, 0x80);
  w.mmio.write(ESB_REG.RELOAD, 1, 0x86);
}

function setPreloads(w: I6300esb, t1: number, t2: number): void {
  unlock(w);
  w.mmio.write(ESB_REG.TIMER1, 4, t1);
  unlock(w);
  w.mmio.write(ESB_REG.TIMER2, 4, t2);
}

function pet(w: I6300esb): void {
  unlock(w);
  w.mmio.write(ESB_REG.RELOAD, 2, ESB_RELOAD.RELOAD);
}

Deno.test("i6300esb: identity 8086:25ab, class 0880, a 16-byte memory BAR, no INTx", () => {
  const { wdt } = twin();
  strictEqual(wdt.config.read(0x00, 4), 0x25ab8086);
  strictEqual(wdt.config.read(0x08, 4) >>> 8, 0x088000);
  strictEqual(wdt.config.read(0x3d, 1), 0);
  wdt.config.write(0x10, 4, 0xffffffff);
  strictEqual(wdt.config.read(0x10, 4), 0xfffffff0);
});

Deno.test("i6300esb: power-on registers; WDT_CONFIG decodes only as a word, LOCK as a byte", () => {
  const { wdt } = twin();
  strictEqual(wdt.config.read(ESB_CONFIG_REG, 2), 0);
  strictEqual(wdt.config.read(ESB_LOCK_REG, 1), 0);
  wdt.config.write(ESB_CONFIG_REG, 2, 0xffff);
  strictEqual(wdt.config.read(ESB_CONFIG_REG, 2), 0x20 | 0x04 | 0x11);
  const s = wdt.snapshot();
  strictEqual(s.rebootEnabled, false);
  strictEqual(s.clock1MHz, true);
  // A dword write is plain storage (QEMU's default config write) and changes nothing.
  wdt.config.write(ESB_CONFIG_REG, 4, 0);
  strictEqual(wdt.snapshot().rebootEnabled, false);
  strictEqual(wdt.config.read(ESB_CONFIG_REG, 2), 0x35);
  strictEqual(wdt.config.read(ESB_CONFIG_REG, 4), 0);
});

Deno.test("i6300esb: enabling starts stage 1; stage 2 follows; the action fires at the end", () => {
  const t = twin();
  setPreloads(t.wdt, 100, 50);
  t.wdt.config.write(ESB_LOCK_REG, 1, ESB_LOCK.ENABLE);
  strictEqual(t.wdt.snapshot().deadlineNs, 100 * TICK_1K);
  t.clock.advanceTo(100 * TICK_1K);
  const s = t.wdt.snapshot();
  strictEqual(s.stage, 2);
  strictEqual(s.firstStageExpirations, 1);
  strictEqual(s.deadlineNs, 150 * TICK_1K);
  deepStrictEqual(t.events, []);
  t.clock.advanceTo(150 * TICK_1K);
  deepStrictEqual(t.events, [`expire@${150 * TICK_1K}`]);
  // The watchdog reset itself: stopped, default preloads; the flag is set.
  const after = t.wdt.snapshot();
  strictEqual(after.enabled, false);
  strictEqual(after.armed, false);
  strictEqual(after.timer1Preload, 0xfffff);
  strictEqual(after.rebootFlag, true);
  strictEqual(t.wdt.mmio.read(ESB_REG.RELOAD, 2), 0x1200);
  strictEqual(t.wdt.mmio.read(ESB_REG.RELOAD, 4), 0); // only a word read shows it
  t.clock.advanceTo(10_000 * TICK_1K);
  strictEqual(t.events.length, 1);
});

Deno.test("i6300esb: a pet needs the unlock sequence and restarts stage 1", () => {
  const t = twin();
  setPreloads(t.wdt, 10, 10);
  t.wdt.config.write(ESB_LOCK_REG, 1, ESB_LOCK.ENABLE);
  t.clock.advanceTo(15 * TICK_1K); // in stage 2
  strictEqual(t.wdt.snapshot().stage, 2);
  t.wdt.mmio.write(ESB_REG.RELOAD, 2, ESB_RELOAD.RELOAD); // locked: ignored
  strictEqual(t.wdt.snapshot().deadlineNs, 20 * TICK_1K);
  pet(t.wdt);
  strictEqual(t.wdt.snapshot().stage, 1);
  strictEqual(t.wdt.snapshot().deadlineNs, 25 * TICK_1K);
  // The sequence must be 0x80 then 0x86; the write after it is used up.
  t.wdt.mmio.write(ESB_REG.RELOAD, 4, 0x86);
  t.wdt.mmio.write(ESB_REG.RELOAD, 2, ESB_RELOAD.RELOAD);
  strictEqual(t.wdt.snapshot().deadlineNs, 25 * TICK_1K);
  strictEqual(t.wdt.snapshot().unlockState, 0);
  deepStrictEqual(t.events, []);
});

Deno.test("i6300esb: the 1 MHz clock scale, and preloads written only unlocked as dwords", () => {
  const t = twin();
  t.wdt.config.write(ESB_CONFIG_REG, 2, ESB_CONFIG.FREQ_1MHZ);
  t.wdt.mmio.write(ESB_REG.TIMER1, 4, 5); // locked
  strictEqual(t.wdt.snapshot().timer1Preload, 0xfffff);
  unlock(t.wdt);
  t.wdt.mmio.write(ESB_REG.TIMER1, 2, 5); // a word write to TIMER1 uses up the unlock
  strictEqual(t.wdt.snapshot().timer1Preload, 0xfffff);
  setPreloads(t.wdt, 0x123456, 7);
  strictEqual(t.wdt.snapshot().timer1Preload, 0x23456);
  t.wdt.config.write(ESB_LOCK_REG, 1, ESB_LOCK.ENABLE);
  strictEqual(t.wdt.snapshot().deadlineNs, 0x23456 * TICK_1M);
});

Deno.test("i6300esb: reboot disabled: no action; free-running restarts stage 1", () => {
  const t = twin();
  setPreloads(t.wdt, 4, 4);
  t.wdt.config.write(ESB_CONFIG_REG, 2, ESB_CONFIG.REBOOT_DISABLE);
  t.wdt.config.write(ESB_LOCK_REG, 1, ESB_LOCK.ENABLE | ESB_LOCK.FREE_RUN);
  t.clock.advanceTo(8 * TICK_1K);
  deepStrictEqual(t.events, []);
  const s = t.wdt.snapshot();
  strictEqual(s.stage, 1);
  strictEqual(s.deadlineNs, 12 * TICK_1K);
  strictEqual(s.rebootFlag, false);
});

Deno.test("i6300esb: the lock bit freezes WDT_LOCK; disabling stops the timer", () => {
  const t = twin();
  t.wdt.config.write(ESB_LOCK_REG, 1, ESB_LOCK.ENABLE);
  strictEqual(t.wdt.armed, true);
  t.wdt.config.write(ESB_LOCK_REG, 1, 0);
  strictEqual(t.wdt.armed, false);
  t.wdt.config.write(ESB_LOCK_REG, 1, ESB_LOCK.ENABLE | ESB_LOCK.LOCK);
  t.wdt.config.write(ESB_LOCK_REG, 1, 0);
  strictEqual(t.wdt.armed, true);
  strictEqual(t.wdt.config.read(ESB_LOCK_REG, 1), ESB_LOCK.ENABLE | ESB_LOCK.LOCK);
});

Deno.test("i6300esb: clearing the flag (bit 9 or Linux's bit 12); reset keeps it", () => {
  const t = twin();
  setPreloads(t.wdt, 1, 1);
  t.wdt.config.write(ESB_LOCK_REG, 1, ESB_LOCK.ENABLE);
  t.clock.advanceTo(2 * TICK_1K);
  strictEqual(t.wdt.rebootFlag, true);
  t.wdt.reset();
  strictEqual(t.wdt.rebootFlag, true);
  unlock(t.wdt);
  t.wdt.mmio.write(ESB_REG.RELOAD, 2, ESB_RELOAD.FLAG_LINUX);
  strictEqual(t.wdt.rebootFlag, false);
});

function step(rng: SeededRandom, t: EsbTwin): string {
  const w = t.wdt;
  switch (rng.below(8)) {
    case 0:
      w.config.write(ESB_CONFIG_REG, 2, rng.pick([0, 0x04, 0x20, 0x24, 0x11]));
      return "config";
    case 1:
      w.config.write(ESB_LOCK_REG, 1, rng.pick([0, 2, 2, 6, 3]));
      return `lock ${w.config.read(ESB_LOCK_REG, 1)}`;
    case 2:
      setPreloads(w, rng.int(0, 40), rng.int(0, 40));
      return "preload";
    case 3:
      pet(w);
      return "pet";
    case 4:
      w.mmio.write(rng.pick([0, 4, 8, 12]), rng.pick([1, 2, 4] as const), rng.pick([0x80, 0x86]));
      return "poke";
    case 5:
      return `read ${w.mmio.read(ESB_REG.RELOAD, 2)}`;
    default:
      t.clock.advance(rng.int(0, 30) * TICK_1K);
      return `t=${t.clock.nowNs()} armed=${w.armed}`;
  }
}

Deno.test("i6300esb: snapshot/restore property (seeded)", () => {
  assertRestoreProperty({
    seeds: 60,
    twin,
    device: (t) => t.wdt,
    prepare: (a) => {
      a.wdt.config.write(0x10, 4, 0xfebf0000);
      a.wdt.config.write(0x04, 2, 0x2);
    },
    restored: (b) => strictEqual(b.wdt.config.barBase(0), 0xfebf0000),
    stepsBefore: 40,
    stepsAfter: 80,
    step,
    busy: (s) => s.armed,
    minBusy: 10,
  });
});

Deno.test("i6300esb: restore refuses malformed states", () => {
  const t = twin();
  t.wdt.config.write(ESB_LOCK_REG, 1, ESB_LOCK.ENABLE);
  const good = t.wdt.snapshot();
  assertRestoreRejects(twin().wdt, good, [
    { stage: 3 },
    { intType: 2 },
    { timer1Preload: 0x100000 },
    { unlockState: 3 },
    { enabled: false },
    { rebootFlag: 1 },
    { config: { ...good.config, bytes: new Uint8Array(256) } },
  ]);
});
