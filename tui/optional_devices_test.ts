import { deepStrictEqual } from "node:assert";
import type { BoardState } from "../machine/board.ts";
import { optionalDeviceSections } from "./optional_devices.ts";
import { boardState } from "./testing.ts";

Deno.test("optional devices: watchdog armed/remaining and what plays; none when absent", () => {
  deepStrictEqual(optionalDeviceSections(boardState()), []);
  const d = {
    ...boardState(),
    optional: [
      {
        name: "ib700",
        slot: null,
        device: { pets: 3, armed: true, remainingNs: 2.5e9, expirations: 1 },
      },
      { name: "sb16", slot: null, device: { playing: "8-bit mono 22050 Hz" } },
    ],
    pcSpeaker: { frequencyHz: 439.96 },
  } as unknown as BoardState;
  deepStrictEqual(optionalDeviceSections(d), [
    { title: "Watchdog ib700", rows: ["armed, 2.5 s left", "expired 1x"] },
    { title: "Sound", rows: ["speaker 440 Hz", "sb16 8-bit mono 22050 Hz"] },
  ]);
  const esb = {
    ...boardState(),
    optional: [{
      name: "i6300esb",
      slot: 3,
      device: { armed: false, remainingNs: null, expirations: 0, stage: 1, rebootFlag: true },
    }, { name: "ES1370", slot: 4, device: { playing: ["DAC2 16-bit stereo 44100 Hz"] } }],
  } as unknown as BoardState;
  deepStrictEqual(optionalDeviceSections(esb), [
    { title: "Watchdog i6300esb", rows: ["stopped", "expired 0x", "stage 1, timeout flag set"] },
    { title: "Sound", rows: ["es1370 DAC2 16-bit stereo 44100 Hz"] },
  ]);
});

Deno.test("optional devices: the balloon's target and actual size, and the guest's free memory", () => {
  const balloon = (stats: Record<string, number | null>, updated: number | null) =>
    ({
      ...boardState(),
      optional: [{
        name: "virtio-balloon-pci",
        slot: 3,
        device: { numPages: 8192, actual: 4096, stats, statsUpdatedNs: updated },
      }],
    }) as unknown as BoardState;
  deepStrictEqual(optionalDeviceSections(balloon({ freeMemory: null, totalMemory: null }, null)), [
    { title: "Balloon", rows: ["target 32 MiB out", "actual 16 MiB out", "no guest stats yet"] },
  ]);
  deepStrictEqual(
    optionalDeviceSections(balloon({ freeMemory: 18 * 2 ** 20, totalMemory: 2 ** 26 }, 5)),
    [{
      title: "Balloon",
      rows: ["target 32 MiB out", "actual 16 MiB out", "guest free 18 MiB of 64 MiB"],
    }],
  );
});
