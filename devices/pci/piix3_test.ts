import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { SteppedClock } from "../clock.ts";
import { pciConfigStep } from "../testing/pci_config_walk.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import {
  assertRestoreIdentity,
  assertRestoreRejects,
  assertSameBehaviour,
  type Twin,
} from "../testing/snapshot_check.ts";
import { Piix3 } from "./piix3.ts";

Deno.test("identity: 8086:7000, ISA bridge class, multi-function header", () => {
  const isa = new Piix3();
  strictEqual(isa.config.read(0x00, 4), 0x70008086);
  strictEqual(isa.config.read(0x08, 4) >>> 8, 0x060100);
  strictEqual(isa.config.read(0x0e, 1), 0x80);
  strictEqual(isa.config.read(0x04, 2), 0x0007);
  strictEqual(isa.config.read(0x06, 2), 0x0200);
});

Deno.test("PIRQRC[A-D] default to 0x80: routing disabled", () => {
  const isa = new Piix3();
  strictEqual(isa.config.read(0x60, 4), 0x80808080);
  deepStrictEqual([0, 1, 2, 3].map((p) => isa.pirqRoute(p)), [null, null, null, null]);
});

Deno.test("PIRQRC routes to valid ISA IRQs only; reserved bits read zero", () => {
  const isa = new Piix3();
  // SeaBIOS's PIIX setup: A and B to IRQ 10, C and D to IRQ 11.
  isa.config.write(0x60, 4, 0x0b0b0a0a);
  deepStrictEqual([0, 1, 2, 3].map((p) => isa.pirqRoute(p)), [10, 10, 11, 11]);
  for (const irq of [0, 1, 2, 8, 13]) {
    isa.config.write(0x60, 1, irq);
    strictEqual(isa.pirqRoute(0), null, `IRQ ${irq} is not routable`);
  }
  for (const irq of [3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15]) {
    isa.config.write(0x60, 1, irq);
    strictEqual(isa.pirqRoute(0), irq);
  }
  isa.config.write(0x61, 1, 0xfb);
  strictEqual(isa.config.read(0x61, 1), 0x8b);
  strictEqual(isa.pirqRoute(1), null);
});

Deno.test("route listeners hear changes only, including the one reset makes", () => {
  const isa = new Piix3();
  let calls = 0;
  isa.addRouteListener(() => calls++);
  isa.config.write(0x62, 1, 0x0b);
  strictEqual(calls, 1);
  isa.config.write(0x62, 1, 0x0b);
  strictEqual(calls, 1);
  isa.config.write(0x5c, 4, 0x12345678); // below PIRQRC
  strictEqual(calls, 1);
  isa.config.write(0x60, 2, 0x8080); // already the value
  strictEqual(calls, 1);
  isa.reset();
  strictEqual(calls, 2);
  strictEqual(isa.config.read(0x60, 4), 0x80808080);
  isa.reset();
  strictEqual(calls, 2);
});

Deno.test("other PIIX3 function-0 registers keep their defaults and stay writable", () => {
  const isa = new Piix3();
  strictEqual(isa.config.read(0x4c, 1), 0x4d);
  strictEqual(isa.config.read(0x4e, 2), 0x0003);
  strictEqual(isa.config.read(0x69, 1), 0x02);
  strictEqual(isa.config.read(0x70, 1), 0x80);
  strictEqual(isa.config.read(0x76, 2), 0x0c0c);
  strictEqual(isa.config.read(0x78, 2), 0x0002);
  strictEqual(isa.config.read(0xa0, 1), 0x08);
  strictEqual(isa.config.read(0xa8, 1), 0x0f);
  isa.config.write(0x4e, 2, 0x0301);
  isa.config.write(0xa0, 1, 0x19);
  strictEqual(isa.config.read(0x4e, 2), 0x0301);
  strictEqual(isa.config.read(0xa0, 1), 0x19);
  isa.reset();
  strictEqual(isa.config.read(0x4e, 2), 0x0003);
  strictEqual(isa.config.read(0xa0, 1), 0x08);
});

interface IsaTwin extends Twin {
  readonly isa: Piix3;
}

function isaTwin(): IsaTwin {
  const events: string[] = [];
  const isa = new Piix3();
  isa.addRouteListener(() => events.push(`routes ${[0, 1, 2, 3].map((p) => isa.pirqRoute(p))}`));
  return { clock: new SteppedClock(), events, isa };
}

const ROUTES = [0x80, 0x0a, 0x0b, 0x05, 0x0d, 0x8b, 0x0e];
const isaStep = (rng: SeededRandom, t: IsaTwin) =>
  pciConfigStep(rng, t.isa.config, [0, 1, 2, 3].map((i) => ({ offset: 0x60 + i, values: ROUTES })));

Deno.test("snapshot/restore: identity, routes reported again, identical behaviour afterwards", () => {
  let routed = 0;
  for (let seed = 1; seed <= 80; seed++) {
    const rng = new SeededRandom(seed);
    const a = isaTwin();
    for (let i = rng.below(80); i > 0; i--) isaStep(rng, a);
    const b = isaTwin();
    const s = assertRestoreIdentity(a.isa, b.isa);
    const changed = s.pirqrc.some((v) => v !== 0x80);
    deepStrictEqual(
      b.events.length,
      changed ? 1 : 0,
      "route listeners hear of a restore that changes routes",
    );
    if (s.routes.some((r) => r !== null)) routed++;
    assertSameBehaviour(a, b, seed + 1000, 100, isaStep);
  }
  ok(routed >= 20, `only ${routed} snapshots with a PIRQ routed`);
  const isa = new Piix3();
  assertRestoreRejects(isa, isa.snapshot(), [{
    config: { version: 1, bytes: new Uint8Array(256) },
  }]);
});
