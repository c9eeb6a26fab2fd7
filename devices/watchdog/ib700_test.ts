import { deepStrictEqual, strictEqual } from "node:assert";
import { SteppedClock } from "../clock.ts";
import type { SeededRandom } from "../testing/seeded_random.ts";
import {
  assertRestoreProperty,
  assertRestoreRejects,
  type Twin,
} from "../testing/snapshot_check.ts";
import { Ib700, IB700_TIMEOUTS_S } from "./ib700.ts";

const S = 1_000_000_000;
const STOP = 0; // port 0x441
const START = 2; // port 0x443

interface Ib700Twin extends Twin {
  readonly wdt: Ib700;
}

function twin(): Ib700Twin {
  const clock = new SteppedClock();
  const events: string[] = [];
  const wdt = new Ib700({
    clock,
    timer: clock.timer,
    onExpire: () => events.push(`expire@${clock.nowNs()}`),
  });
  return { clock, events, wdt };
}

Deno.test("ib700: the timeout table is QEMU's: 30 s down to 0 s in 2 s steps", () => {
  deepStrictEqual(IB700_TIMEOUTS_S, Array.from({ length: 16 }, (_, i) => 30 - 2 * i));
  for (let nibble = 0; nibble < 16; nibble++) {
    const t = twin();
    t.clock.advanceTo(5 * S);
    t.wdt.write(START, 1, 0xa0 | nibble); // only the low nibble counts
    strictEqual(t.wdt.snapshot().deadlineNs, 5 * S + IB700_TIMEOUTS_S[nibble] * S);
  }
});

Deno.test("ib700: it fires once, one timeout after the last pet", () => {
  const t = twin();
  t.wdt.write(START, 1, 0x0d); // 4 s
  t.clock.advanceTo(3 * S);
  t.wdt.write(START, 1, 0x0d); // pet: now due at 7 s
  t.clock.advanceTo(7 * S - 1);
  deepStrictEqual(t.events, []);
  t.clock.advanceTo(7 * S);
  deepStrictEqual(t.events, [`expire@${7 * S}`]);
  t.clock.advanceTo(100 * S);
  strictEqual(t.events.length, 1);
  const s = t.wdt.snapshot();
  strictEqual(s.armed, false);
  strictEqual(s.expirations, 1);
  strictEqual(s.pets, 2);
});

Deno.test("ib700: a write to 0x441 or 0x442 stops it; 0x444 starts it like 0x443", () => {
  const t = twin();
  t.wdt.write(START, 1, 0x0e); // 2 s
  t.wdt.write(STOP, 1, 0x00);
  t.clock.advanceTo(10 * S);
  deepStrictEqual(t.events, []);
  t.wdt.write(START + 1, 1, 0x0e);
  strictEqual(t.wdt.armed, true);
  t.wdt.write(STOP + 1, 1, 0x55);
  strictEqual(t.wdt.armed, false);
  // A word write to 0x442 is two byte cycles: 0x442 stops, 0x443 starts with the high byte.
  t.wdt.write(1, 2, 0x0e00);
  strictEqual(t.wdt.snapshot().deadlineNs, 12 * S);
});

Deno.test("ib700: nibble 15 (0 s) fires at the next clock step; reads are all ones", () => {
  const t = twin();
  t.wdt.write(START, 1, 0x0f);
  t.clock.advanceTo(0);
  deepStrictEqual(t.events, ["expire@0"]);
  strictEqual(t.wdt.read(STOP, 1), 0xff);
  strictEqual(t.wdt.read(START, 2), 0xffff);
});

Deno.test("ib700: the snapshot shows armed and remaining", () => {
  const t = twin();
  strictEqual(t.wdt.snapshot().remainingNs, null);
  t.wdt.write(START, 1, 0x00); // 30 s
  t.clock.advanceTo(10 * S);
  const s = t.wdt.snapshot();
  strictEqual(s.armed, true);
  strictEqual(s.remainingNs, 20 * S);
  strictEqual(s.timeoutS, 30);
});

function step(rng: SeededRandom, t: Ib700Twin): string {
  switch (rng.below(4)) {
    case 0:
      t.wdt.write(START + rng.below(2), 1, rng.byte());
      return "start";
    case 1:
      t.wdt.write(STOP + rng.below(2), 1, rng.byte());
      return "stop";
    case 2:
      return `read ${t.wdt.read(rng.below(4), 1)}`;
    default:
      t.clock.advance(rng.int(0, 8) * S / 2);
      return `t=${t.clock.nowNs()} armed=${t.wdt.armed}`;
  }
}

Deno.test("ib700: snapshot/restore property (seeded)", () => {
  assertRestoreProperty({
    seeds: 60,
    twin,
    device: (t) => t.wdt,
    stepsBefore: 40,
    stepsAfter: 60,
    step,
    busy: (s) => s.armed,
    minBusy: 10,
  });
});

Deno.test("ib700: restore refuses malformed states", () => {
  const t = twin();
  t.wdt.write(START, 1, 3);
  const good = t.wdt.snapshot();
  assertRestoreRejects(twin().wdt, good, [
    { deadlineNs: "soon" },
    { timeoutS: 3 },
    { timeoutS: 40 },
    { pets: -1 },
    { expirations: 1.5 },
  ]);
});
