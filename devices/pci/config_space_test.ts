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
import { PciConfigSpace } from "./config_space.ts";

interface ConfigTwin extends Twin {
  readonly config: PciConfigSpace;
}

function configTwin(): ConfigTwin {
  const events: string[] = [];
  const config = new PciConfigSpace({
    vendorId: 0x1af4,
    deviceId: 0x1001,
    classCode: 0x010000,
    interruptPin: 1,
    status: 0x0010,
    bars: [
      { kind: "io", size: 64 },
      { kind: "mem32", size: 4096 },
      undefined,
      undefined,
      { kind: "mem64", size: 0x4000, prefetchable: true },
    ],
    romSize: 0x10000,
  });
  config.setWritable(0x40, 16);
  config.onBarChange = (c) => events.push(`bar${c.index} ${c.kind} ${c.base} ${c.size}`);
  config.onWrite = (offset, size, value) => events.push(`write ${offset}/${size}=${value}`);
  return { clock: new SteppedClock(), events, config };
}

const step = (rng: SeededRandom, t: ConfigTwin) => pciConfigStep(rng, t.config);

Deno.test("PciConfigSpace: the status register's power-on value comes from the identity", () => {
  const { config } = configTwin();
  strictEqual(config.read(0x06, 2), 0x0010);
  config.write(0x06, 2, 0xffff);
  strictEqual(config.read(0x06, 2), 0x0010);
  config.reset();
  strictEqual(config.snapshot().status, 0x0010);
});

Deno.test("PciConfigSpace snapshot/restore: identity and the same BAR mappings with BARs programmed", () => {
  let mapped = 0;
  for (let seed = 1; seed <= 120; seed++) {
    const rng = new SeededRandom(seed);
    const a = configTwin();
    for (let i = rng.below(60); i > 0; i--) step(rng, a);
    const b = configTwin();
    const s = assertRestoreIdentity(a.config, b.config);
    // Restoring reports exactly the BARs that decode, so the board maps them again.
    const decoding = s.bars.filter((bar) => bar.base !== null);
    deepStrictEqual(
      b.events,
      decoding.map((bar) => `bar${bar.index} ${bar.kind} ${bar.base} ${bar.size}`),
    );
    for (let i = 0; i <= 6; i++) strictEqual(b.config.barBase(i), a.config.barBase(i));
    if (decoding.length >= 2) mapped++;
    assertSameBehaviour(a, b, seed + 1000, 100, step);
  }
  ok(mapped >= 10, `only ${mapped} snapshots with two or more BARs decoding`);
});

Deno.test("PciConfigSpace restore refuses another function's state and bad shapes", () => {
  const a = configTwin();
  const s = a.config.snapshot();
  const other = new PciConfigSpace({ vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000 });
  assertRestoreRejects(other, other.snapshot(), [{ bytes: s.bytes }]);
  assertRestoreRejects(a.config, s, [{ bytes: new Uint8Array(255) }, { bytes: [...s.bytes] }]);
});
