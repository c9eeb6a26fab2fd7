import { deepStrictEqual, strictEqual, throws } from "node:assert";
import type { BoardState } from "./board.ts";
import type { MachineConfig } from "./config.ts";
import {
  BalloonError,
  type BalloonInfo,
  balloonInfo,
  balloonStepTarget,
  balloonTargetPages,
} from "./balloon.ts";

const MiB = 2 ** 20;
const config = (devices: string[]) =>
  ({
    memoryBytes: 128 * MiB,
    devices: devices.map((name) => ({ name, options: {} })),
  }) as unknown as MachineConfig;
const withBalloon = config(["virtio-rng-pci", "virtio-balloon-pci"]);

function refused(target: unknown, pattern: RegExp, c = withBalloon): void {
  throws(() => balloonTargetPages(c, target), (e: unknown) => {
    if (!(e instanceof BalloonError)) return false;
    strictEqual(e.message.includes("\n"), false, "one line");
    return pattern.test(e.message);
  });
}

Deno.test("balloon targets are QEMU's: the MiB the guest keeps, from 1 to its RAM", () => {
  strictEqual(balloonTargetPages(withBalloon, 96), 32 * 256);
  strictEqual(balloonTargetPages(withBalloon, 128), 0);
  strictEqual(balloonTargetPages(withBalloon, 1), 127 * 256);
  refused(0, /whole number of MiB from 1 to 128, not 0/);
  refused(-5, /from 1 to 128, not -5/);
  refused(1.5, /not 1\.5/);
  refused("64", /not 64/);
  refused(129, /129 MiB is more than the guest's RAM \(128 MiB\)/);
  refused(96, /no balloon \(start it with --device virtio-balloon-pci\)/, config([]));
});

Deno.test("balloonInfo reads the device's snapshot; the console steps by an eighth of RAM", () => {
  const devices = {
    optional: [{
      name: "virtio-balloon-pci",
      slot: 3,
      device: {
        numPages: 8192,
        actual: 4096,
        stats: { freeMemory: 5 },
        statsUpdatedNs: null,
        counters: { inflated: 5000, deflated: 904, statsReports: 0 },
      },
    }],
  } as unknown as BoardState;
  const info = balloonInfo(withBalloon, devices)!;
  deepStrictEqual(info, {
    ramBytes: 128 * MiB,
    targetBytes: 96 * MiB,
    actualBytes: 112 * MiB,
    targetPages: 8192,
    actualPages: 4096,
    stats: null,
    inflatedPages: 5000,
    deflatedPages: 904,
  });
  strictEqual(balloonInfo(withBalloon, { optional: [] } as unknown as BoardState), null);
  const at = (targetMiB: number) => ({ ...info, targetBytes: targetMiB * MiB }) as BalloonInfo;
  strictEqual(balloonStepTarget(at(96), 1), 80);
  strictEqual(balloonStepTarget(at(96), -1), 112);
  strictEqual(balloonStepTarget(at(120), -1), 128);
  strictEqual(balloonStepTarget(at(20), 1), 16);
  strictEqual(balloonStepTarget(at(16), 1), 16);
});
