import { deepStrictEqual, strictEqual } from "node:assert";
import type { BoardSnapshot } from "./board.ts";
import { checkSaveHeader, legacyOptionalStates, upgradeConfig } from "./saved_vm.ts";

const BASE = { memoryBytes: 1 << 20, cpus: 1, disks: [] };

Deno.test("a save from before the watchdog and cards were --devices reads in today's words", () => {
  const old = {
    ...BASE,
    devices: [{ name: "virtio-rng-pci", options: {} }],
    watchdog: { model: "i6300esb", action: "pause" },
    audio: { wavPath: "a.wav", model: "es1370" },
  };
  deepStrictEqual(upgradeConfig(old), {
    ...BASE,
    devices: [
      { name: "virtio-rng-pci", options: {} },
      { name: "i6300esb", options: {} },
      { name: "ES1370", options: {} },
    ],
    watchdogAction: "pause",
    audio: { wavPath: "a.wav" },
  });
  deepStrictEqual(upgradeConfig({ ...BASE, audio: { wavPath: "b.wav", model: null } }), {
    ...BASE,
    devices: [],
    audio: { wavPath: "b.wav" },
  });
  // Today's configurations pass as they are.
  const now = { ...BASE, devices: [{ name: "ib700", options: {} }], watchdogAction: "none" };
  strictEqual(upgradeConfig(now), now);
  const header = checkSaveHeader(
    { vmrunVersion: "0", savedAt: "", disks: [], config: { ...BASE, watchdog: old.watchdog } },
    true,
  );
  deepStrictEqual(header.config.devices, [{ name: "i6300esb", options: {} }]);
  strictEqual(header.config.watchdogAction, "pause");
});

Deno.test("their states follow the --devices' in the same order", () => {
  const s = (extra: Record<string, unknown>) =>
    ({ optional: [{ rng: 1 }], ...extra }) as unknown as BoardSnapshot;
  deepStrictEqual(legacyOptionalStates(s({})), [{ rng: 1 }]);
  deepStrictEqual(
    legacyOptionalStates(s({ watchdog: { w: 1 }, sb16: null, es1370: { e: 1 } })),
    [{ rng: 1 }, { w: 1 }, { e: 1 }],
  );
  deepStrictEqual(legacyOptionalStates(s({ watchdog: null, sb16: { s: 1 }, es1370: null })), [
    { rng: 1 },
    { s: 1 },
  ]);
});
