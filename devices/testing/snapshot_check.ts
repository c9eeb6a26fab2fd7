/**
 * Checks shared by the devices' snapshot property tests: restore into a
 * fresh instance gives back the same snapshot, a snapshot is a deep copy,
 * the state survives structured clone (the save file and worker messages),
 * and restore refuses unknown versions and malformed states.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import type { SteppedClock } from "../clock.ts";
import { type DeviceState, type Snapshotting, StateError } from "../types.ts";
import { SeededRandom } from "./seeded_random.ts";

/**
 * Snapshots `original`, restores a structured clone of it into `fresh`, and
 * asserts that `fresh` snapshots the same. Also asserts that scribbling over
 * the snapshot leaves `original` untouched. Returns the snapshot.
 */
export function assertRestoreIdentity<S extends DeviceState>(
  original: Snapshotting<S>,
  fresh: Snapshotting<S>,
): S {
  const state = original.snapshot();
  const saved = structuredClone(state);
  fresh.restore(structuredClone(saved));
  deepStrictEqual(fresh.snapshot(), saved, "snapshot -> restore -> snapshot is not the identity");
  scribble(state);
  deepStrictEqual(original.snapshot(), saved, "a snapshot shares memory with the device");
  return saved;
}

/** Asserts that `device.restore` throws {@link StateError} for each bad state and for a wrong version. */
export function assertRestoreRejects<S extends DeviceState>(
  device: Snapshotting<S>,
  good: S,
  bad: readonly Record<string, unknown>[],
): void {
  const before = structuredClone(device.snapshot());
  const attempts: unknown[] = [
    null,
    42,
    { ...good, version: good.version + 1 },
    ...bad.map((patch) => ({ ...good, ...patch })),
  ];
  for (const attempt of attempts) {
    throws(
      () => device.restore(attempt as S),
      (e: unknown) => e instanceof StateError,
      `restore accepted ${JSON.stringify(attempt, replacer)}`,
    );
  }
  deepStrictEqual(device.snapshot(), before, "a refused restore changed the device");
}

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? `Uint8Array(${value.length})` : value;
}

/** Overwrites every number, boolean and byte reachable from `value`, in place. */
function scribble(value: unknown): void {
  if (value instanceof Uint8Array) {
    value.fill(0xa5);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (typeof v === "number") obj[key] = v + 1;
    else if (typeof v === "boolean") obj[key] = !v;
    else scribble(v);
  }
}

/** One of two identical test rigs: a device with its clock and a log of its outward effects. */
export interface Twin {
  /** The rig's own clock (each twin has one). */
  readonly clock: SteppedClock;
  /** Effects since the last step: IRQ levels, bytes sent, callbacks, with clock times. */
  readonly events: string[];
}

/**
 * Runs `steps` random steps on both twins with the same seed and asserts
 * they behave alike: every step's result (what it read) and every effect it
 * caused (IRQ edges, timers firing, callbacks) must match. `step` draws its
 * choices from the generator it is given, never from device results, so
 * both twins see the same accesses.
 */
export function assertSameBehaviour<T extends Twin>(
  a: T,
  b: T,
  seed: number,
  steps: number,
  step: (rng: SeededRandom, twin: T) => string | void,
): void {
  const ra = new SeededRandom(seed);
  const rb = new SeededRandom(seed);
  a.events.length = 0;
  b.events.length = 0;
  for (let i = 0; i < steps; i++) {
    const outA = [step(ra, a) ?? "", ...a.events.splice(0)].join(" ");
    const outB = [step(rb, b) ?? "", ...b.events.splice(0)].join(" ");
    strictEqual(outB, outA, `restored twin diverged at step ${i} (seed ${seed})`);
  }
}

/** How {@link assertRestoreProperty} builds and drives a device's twins. */
export interface RestoreProperty<T extends Twin, S extends DeviceState> {
  /** Seeds 1..seeds, one round each. */
  readonly seeds: number;
  /** A fresh rig. */
  readonly twin: () => T;
  /** The device under test in a rig. */
  readonly device: (t: T) => Snapshotting<S>;
  /** Sets up the first twin's world (guest memory) before its steps. */
  readonly prepare?: (t: T) => void;
  /** Carries what is not the device's own state (guest memory, a DMA controller) from a to b. */
  readonly carry?: (a: T, b: T) => void;
  /** At most this many random steps before the snapshot. */
  readonly stepsBefore: number;
  /** Steps both twins take after the restore, compared one by one. */
  readonly stepsAfter: number;
  readonly step: (rng: SeededRandom, t: T) => string | void;
  /** Checks the restored twin before the steps (what the restore must have brought back). */
  readonly restored?: (b: T) => void;
  /** Whether a snapshot caught the device busy (playing, armed): at least `minBusy` must. */
  readonly busy?: (s: S) => boolean;
  readonly minBusy?: number;
}

/**
 * The seeded snapshot/restore property: for each seed, random steps on one
 * twin, its snapshot restored into a fresh twin (see
 * {@link assertRestoreIdentity}), then both must behave alike (see
 * {@link assertSameBehaviour}). Enough snapshots must catch the device busy,
 * or the property proved little.
 */
export function assertRestoreProperty<T extends Twin, S extends DeviceState>(
  p: RestoreProperty<T, S>,
): void {
  let busy = 0;
  for (let seed = 1; seed <= p.seeds; seed++) {
    const rng = new SeededRandom(seed);
    const a = p.twin();
    p.prepare?.(a);
    for (let i = rng.below(p.stepsBefore); i > 0; i--) p.step(rng, a);
    const b = p.twin();
    b.clock.advanceTo(a.clock.nowNs());
    p.carry?.(a, b);
    const s = assertRestoreIdentity(p.device(a), p.device(b));
    if (p.busy?.(s)) busy++;
    p.restored?.(b);
    assertSameBehaviour(a, b, seed + 1000, p.stepsAfter, p.step);
  }
  const min = p.minBusy ?? 0;
  ok(busy >= min, `only ${busy} snapshots caught the device busy (want ${min})`);
}
