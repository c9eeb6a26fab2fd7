import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { SteppedClock } from "./clock.ts";
import { Hpet, HPET_CFG, HPET_PERIOD_FS, HPET_REG, HPET_TN, type HpetState } from "./hpet.ts";
import { SeededRandom } from "./testing/seeded_random.ts";
import {
  assertRestoreIdentity,
  assertRestoreRejects,
  assertSameBehaviour,
  type Twin,
} from "./testing/snapshot_check.ts";

const US = 1000;
const MS = 1_000_000;

interface HpetTwin extends Twin {
  readonly hpet: Hpet;
  readonly legacy: boolean[];
}

function twin(): HpetTwin {
  const clock = new SteppedClock();
  const events: string[] = [];
  const legacy: boolean[] = [];
  const hpet = new Hpet({
    clock,
    timer: clock.timer,
    irq: (route) => ({
      set: (level) => events.push(`irq${route}=${level ? 1 : 0}@${clock.nowNs()}`),
    }),
    onLegacyReplacement: (on) => {
      legacy.push(on);
      events.push(`pit-${on ? "off" : "on"}`);
    },
  });
  return { clock, events, hpet, legacy };
}

const tn = (n: number, reg: number) => HPET_REG.TIMER0 + n * HPET_REG.TIMER_STRIDE + reg;

function counter(h: Hpet): number {
  return h.read(HPET_REG.COUNTER, 4) + h.read(HPET_REG.COUNTER + 4, 4) * 2 ** 32;
}

Deno.test("hpet: capabilities are QEMU's: 0x8086a201, period 10 ns, timers with IRQ 2 route cap", () => {
  const { hpet } = twin();
  strictEqual(hpet.read(HPET_REG.ID, 4), 0x8086a201);
  strictEqual(hpet.read(HPET_REG.PERIOD, 4), 0x00989680);
  strictEqual(HPET_PERIOD_FS, 10_000_000);
  for (let n = 0; n < 3; n++) {
    // Periodic capable, 64-bit capable; routes: IRQ 2 only (QEMU's i440FX intcap).
    strictEqual(hpet.read(tn(n, 0), 4), 0x30);
    strictEqual(hpet.read(tn(n, 4), 4), 0x4);
    // Comparators reset to all ones.
    strictEqual(hpet.read(tn(n, 8), 4), 0xffffffff);
    strictEqual(hpet.read(tn(n, 12), 4), 0xffffffff);
  }
  // No fourth timer; bytes of a register read as its lanes.
  strictEqual(hpet.read(tn(3, 0), 4), 0);
  strictEqual(hpet.read(HPET_REG.ID + 2, 2), 0x8086);
  strictEqual(hpet.read(HPET_REG.ID + 1, 1), 0xa2);
});

Deno.test("hpet: the counter runs at 100 MHz only while enabled, and is writable while halted", () => {
  const t = twin();
  t.clock.advance(5 * MS);
  strictEqual(counter(t.hpet), 0);
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  t.clock.advance(1 * MS);
  strictEqual(counter(t.hpet), 100_000);
  t.hpet.write(HPET_REG.COUNTER, 4, 7); // lost: the counter runs
  t.clock.advance(25);
  strictEqual(counter(t.hpet), 100_002);
  t.hpet.write(HPET_REG.CONFIG, 4, 0);
  t.clock.advance(1 * MS);
  strictEqual(counter(t.hpet), 100_002);
  t.hpet.write(HPET_REG.COUNTER + 4, 4, 1);
  t.hpet.write(HPET_REG.COUNTER, 4, 0xfffffff0);
  strictEqual(counter(t.hpet), 2 ** 32 + 0xfffffff0);
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  t.clock.advance(200);
  strictEqual(counter(t.hpet), 2 * 2 ** 32 + 4);
  // Only ENABLE and LEGACY are writable.
  t.hpet.write(HPET_REG.CONFIG, 4, 0xfffffffc | HPET_CFG.ENABLE);
  strictEqual(t.hpet.read(HPET_REG.CONFIG, 4), HPET_CFG.ENABLE);
});

Deno.test("hpet: a one-shot edge timer pulses its route once at the comparator", () => {
  const t = twin();
  t.hpet.write(tn(2, 0), 4, HPET_TN.ENABLE | 2 << HPET_TN.ROUTE_SHIFT);
  t.hpet.write(tn(2, 8), 4, 500); // 5 µs
  t.hpet.write(tn(2, 12), 4, 0);
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  t.clock.advance(5 * US - 1);
  deepStrictEqual(t.events, []);
  t.clock.advance(1 * MS);
  deepStrictEqual(t.events, [`irq2=1@${5 * US}`, `irq2=0@${5 * US}`]);
  // Edge mode leaves no status bit.
  strictEqual(t.hpet.read(HPET_REG.STATUS, 4), 0);
});

Deno.test("hpet: a level timer holds its line and status bit until the status bit is written", () => {
  const t = twin();
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  t.hpet.write(tn(1, 0), 4, HPET_TN.ENABLE | HPET_TN.LEVEL | 5 << HPET_TN.ROUTE_SHIFT);
  t.hpet.write(tn(1, 8), 4, 100);
  t.hpet.write(tn(1, 12), 4, 0);
  t.clock.advance(10 * US);
  deepStrictEqual(t.events.splice(0), [`irq5=1@${1 * US}`]);
  strictEqual(t.hpet.read(HPET_REG.STATUS, 4), 0b10);
  t.hpet.write(HPET_REG.STATUS, 4, 0b01); // not its bit
  strictEqual(t.hpet.read(HPET_REG.STATUS, 4), 0b10);
  t.hpet.write(HPET_REG.STATUS, 1, 0b10);
  strictEqual(t.hpet.read(HPET_REG.STATUS, 4), 0);
  deepStrictEqual(t.events, [`irq5=0@${10 * US}`]);
});

Deno.test("hpet: a disabled timer still sets its level status bit but keeps its line low", () => {
  const t = twin();
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  t.hpet.write(tn(0, 0), 4, HPET_TN.LEVEL | 3 << HPET_TN.ROUTE_SHIFT);
  t.hpet.write(tn(0, 12), 4, 0);
  t.hpet.write(tn(0, 8), 4, 10);
  t.clock.advance(1 * US);
  strictEqual(t.hpet.read(HPET_REG.STATUS, 4), 1);
  deepStrictEqual(t.events, [`irq3=0@100`]);
});

Deno.test("hpet: periodic mode steps the comparator by the period; SETVAL sets the comparator", () => {
  const t = twin();
  const mode = HPET_TN.ENABLE | HPET_TN.PERIODIC | HPET_TN.MODE_32BIT | 2 << 9;
  t.hpet.write(tn(0, 0), 4, mode | HPET_TN.SETVAL);
  t.hpet.write(tn(0, 8), 4, 1000); // comparator and period (SETVAL)
  strictEqual(t.hpet.read(tn(0, 0), 4) & HPET_TN.SETVAL, 0, "SETVAL clears itself");
  t.hpet.write(tn(0, 8), 4, 2000); // the period only
  strictEqual(t.hpet.read(tn(0, 8), 4), 1000);
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  t.clock.advance(55 * US);
  const rises = t.events.filter((e) => e.includes("=1"));
  deepStrictEqual(rises, [`irq2=1@${10 * US}`, `irq2=1@${30 * US}`, `irq2=1@${50 * US}`]);
  strictEqual(t.hpet.read(tn(0, 8), 4), 7000);
});

Deno.test("hpet: legacy replacement routes timers 0 and 1 to IRQ 0 and 8, holds off the PIT and RTC", () => {
  const t = twin();
  t.hpet.rtcInput.set(true);
  deepStrictEqual(t.events.splice(0), ["irq8=1@0"]);
  for (const n of [0, 1]) {
    t.hpet.write(tn(n, 0), 4, HPET_TN.ENABLE | 2 << 9);
    t.hpet.write(tn(n, 8), 4, 100 * (n + 1));
    t.hpet.write(tn(n, 12), 4, 0);
  }
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE | HPET_CFG.LEGACY);
  deepStrictEqual(t.legacy, [true]);
  deepStrictEqual(t.events.splice(0), ["pit-off", "irq0=0@0", "irq8=0@0"]);
  t.hpet.rtcInput.set(false);
  t.hpet.rtcInput.set(true);
  deepStrictEqual(t.events, [], "the RTC is held off");
  t.clock.advance(3 * US);
  deepStrictEqual(t.events.splice(0), ["irq0=1@1000", "irq0=0@1000", "irq8=1@2000", "irq8=0@2000"]);
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  deepStrictEqual(t.legacy, [true, false]);
  // The RTC's level comes back on IRQ 8.
  deepStrictEqual(t.events, ["irq0=0@3000", "pit-on", "irq8=1@3000"]);
});

Deno.test("hpet: 32-bit mode truncates the comparator; a one-shot fires at the wrap too", () => {
  const t = twin();
  t.hpet.write(HPET_REG.COUNTER, 4, 0xffffff00);
  t.hpet.write(tn(2, 8), 4, 0x10);
  t.hpet.write(tn(2, 12), 4, 0x5);
  t.hpet.write(tn(2, 0), 4, HPET_TN.ENABLE | HPET_TN.MODE_32BIT | 2 << 9);
  strictEqual(t.hpet.read(tn(2, 12), 4), 0, "the upper half is gone");
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  // 0x100 ticks to the wrap, then 0x10 more to the comparator.
  t.clock.advance(0x200 * 10);
  const rises = t.events.filter((e) => e.includes("=1"));
  deepStrictEqual(rises, [`irq2=1@${0x100 * 10}`, `irq2=1@${0x110 * 10}`]);
});

Deno.test("hpet: a comparator in the past fires at the next tick; halting cancels the timers", () => {
  const t = twin();
  t.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  t.clock.advance(1 * MS);
  t.hpet.write(tn(2, 0), 4, HPET_TN.ENABLE | 2 << 9);
  t.hpet.write(tn(2, 12), 4, 0);
  t.hpet.write(tn(2, 8), 4, 5);
  t.clock.advance(10);
  deepStrictEqual(t.events.splice(0), [`irq2=1@${MS + 10}`, `irq2=0@${MS + 10}`]);
  t.hpet.write(tn(2, 8), 4, 200_000);
  t.hpet.write(HPET_REG.CONFIG, 4, 0);
  t.clock.advance(5 * MS);
  deepStrictEqual(t.events, []);
});

function step(rng: SeededRandom, t: HpetTwin): string {
  const h = t.hpet;
  switch (rng.below(9)) {
    case 0:
      h.write(HPET_REG.CONFIG, 4, rng.below(4));
      return "cfg";
    case 1: {
      const cfg = rng.below(0x4000) & ~1;
      h.write(tn(rng.below(3), 0), 4, cfg);
      return "tcfg";
    }
    case 2:
      h.write(tn(rng.below(3), 8 + 4 * rng.below(2)), 4, rng.chance(0.8) ? rng.int(1, 3000) : 0);
      return "cmp";
    case 3:
      h.write(HPET_REG.STATUS, 4, rng.below(8));
      return "status";
    case 4:
      h.write(HPET_REG.COUNTER + 4 * rng.below(2), 4, rng.next());
      return "counter";
    case 5:
      h.rtcInput.set(rng.chance(0.5));
      return "rtc";
    case 6: {
      const offsets = [0, 4, 0x10, 0x20, 0xf0, 0xf4, tn(0, 0), tn(1, 8), tn(2, 12), tn(2, 16)];
      const at = offsets[rng.below(offsets.length)];
      return `read ${at}=${h.read(at, 4)}`;
    }
    default:
      t.clock.advance(rng.int(0, 40) * US);
      return `t=${t.clock.nowNs()} n=${counter(h)}`;
  }
}

Deno.test("hpet: snapshot/restore property (seeded)", () => {
  let running = 0;
  let armed = 0;
  for (let seed = 1; seed <= 80; seed++) {
    const rng = new SeededRandom(seed);
    const a = twin();
    for (let i = rng.below(60); i > 0; i--) step(rng, a);
    const b = twin();
    b.clock.advanceTo(a.clock.nowNs());
    const s = assertRestoreIdentity(a.hpet, b.hpet);
    if (s.runningSinceNs !== null) running++;
    if (s.timers.some((x) => x.deadlineNs !== null)) armed++;
    b.events.length = 0;
    assertSameBehaviour(a, b, seed + 1000, 80, step);
  }
  ok(
    running > 10 && armed > 10,
    `the seeds cover running counters (${running}) and timers (${armed})`,
  );
});

Deno.test("hpet: restore refuses malformed states and re-drives a pending level line", () => {
  const a = twin();
  a.hpet.write(HPET_REG.CONFIG, 4, HPET_CFG.ENABLE);
  a.hpet.write(tn(2, 0), 4, HPET_TN.ENABLE | HPET_TN.LEVEL | 2 << 9);
  a.hpet.write(tn(2, 8), 4, 10);
  a.clock.advance(1 * US);
  const good = a.hpet.snapshot();
  strictEqual(good.status, 4);
  const b = twin();
  b.clock.advanceTo(a.clock.nowNs());
  b.hpet.restore(structuredClone(good));
  deepStrictEqual(b.events, [`irq2=1@${US}`]);
  const timer = good.timers[0];
  assertRestoreRejects<HpetState>(b.hpet, good, [
    { config: 4 },
    { status: 8 },
    { counter: "12" },
    { runningSinceNs: null },
    { timers: [timer, timer] },
    { timers: [{ ...timer, config: 0 }, timer, timer] },
    { timers: [{ ...timer, comparator: "0xFFFFFFFFFFFFFFFF" }, timer, timer] },
  ]);
});
