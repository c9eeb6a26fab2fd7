/**
 * Test rigs shared by the NIC model tests: a NIC on guest RAM with a
 * recording interrupt line and a log of transmitted frames, test frames,
 * and the snapshot property test every model runs.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import type { AccessSize, BusDevice, DeviceState, Snapshotting } from "../types.ts";
import { ArrayGuestMemory } from "../testing/array_guest_memory.ts";
import { RecordingIrq } from "../testing/recording_irq.ts";
import { prng } from "../testing/seeded_random.ts";
import type { Nic, NicOptions } from "./nic.ts";

/** The MAC the rigs give their NIC. */
export const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
/** ff:ff:ff:ff:ff:ff */
export const BROADCAST: readonly number[] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

/** A NIC with 1 MiB of guest RAM, its interrupt line and what it sent. */
export interface NicRig<N extends Nic> {
  readonly memory: ArrayGuestMemory;
  readonly irq: RecordingIrq;
  /** Copies of the frames transmitted, oldest first. */
  readonly sent: Uint8Array[];
  readonly nic: N;
  /** How many times the NIC said the guest gave receive buffers. */
  rxReadyCount(): number;
}

/** A rig around the NIC `make` builds from the options it is given. */
export function nicRig<N extends Nic>(
  make: (options: NicOptions) => N,
  mac: Uint8Array = MAC,
): NicRig<N> {
  const memory = new ArrayGuestMemory(1 << 20);
  const irq = new RecordingIrq();
  const sent: Uint8Array[] = [];
  let rxReady = 0;
  const nic = make({ mac, memory, irq, transmit: (f) => sent.push(f.slice()) });
  nic.onRxReady = () => rxReady++;
  return { memory, irq, sent, nic, rxReadyCount: () => rxReady };
}

/** A frame of `length` bytes to `dst` whose other bytes follow from `seed`. */
export function testFrame(dst: ArrayLike<number>, length: number, seed: number): Uint8Array {
  const f = Uint8Array.from({ length }, (_, i) => (i * 37 + seed) & 0xff);
  f.set(dst);
  return f;
}

/**
 * One guest action or network event, as data so twin rigs replay it alike:
 * a register access (`size` bytes, the model's usual width when absent), a
 * write to guest RAM, or a frame from the network.
 */
export type RigStep =
  | { kind: "write"; reg: number; size?: AccessSize; value: number }
  | { kind: "read"; reg: number; size?: AccessSize }
  | { kind: "mem"; addr: number; data: Uint8Array }
  | { kind: "frame"; data: Uint8Array };

/**
 * Replays `steps` on `rig`, register accesses on `regs` (`size` bytes wide
 * unless a step says otherwise). Returns every value read, with the IRQ
 * level and the frames sent after each step.
 */
export function replay(
  rig: NicRig<Nic>,
  steps: readonly RigStep[],
  regs: BusDevice,
  size: AccessSize,
): unknown[] {
  const seen: unknown[] = [];
  for (const step of steps) {
    if (step.kind === "write") regs.write(step.reg, step.size ?? size, step.value);
    else if (step.kind === "read") seen.push(regs.read(step.reg, step.size ?? size));
    else if (step.kind === "mem") rig.memory.write(step.addr, step.data);
    else seen.push(rig.nic.receive(step.data));
    seen.push(rig.irq.level, rig.sent.splice(0).map((f) => [...f]));
  }
  return seen;
}

/**
 * The snapshot property test: for each seed, `drive` brings rig `a` up and
 * runs random guest activity on it, drawing its choices from `next`, and
 * returns the further activity both rigs will replay. The state `a` saves
 * is restored into a fresh rig `b` (with a copy of guest RAM); the restore
 * must be the identity, and `b` must then behave as `a` does.
 * Returns the saved states, for the caller to check what the seeds covered.
 */
export function assertSnapshotTwins<N extends Nic & Snapshotting<DeviceState>>(
  seeds: number,
  setup: () => NicRig<N>,
  drive: (a: NicRig<N>, next: (n: number) => number) => (rig: NicRig<N>) => unknown[],
): ReturnType<N["snapshot"]>[] {
  const saves: ReturnType<N["snapshot"]>[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const next = prng(seed);
    const a = setup();
    const more = drive(a, next);
    const saved = a.nic.snapshot() as ReturnType<N["snapshot"]>;
    saves.push(saved);

    const b = setup();
    b.memory.bytes.set(a.memory.bytes);
    b.nic.restore(structuredClone(saved));
    deepStrictEqual(b.nic.snapshot(), saved, `seed ${seed}: restore is not the identity`);
    strictEqual(b.irq.level, a.irq.level);
    deepStrictEqual(more(b), more(a), `seed ${seed}: the copy behaves differently`);
    deepStrictEqual(b.nic.snapshot(), a.nic.snapshot());
    ok(b.memory.bytes.every((v, i) => v === a.memory.bytes[i]), `seed ${seed}: memory differs`);
  }
  return saves;
}

/** How many of `saves` were taken after traffic both ways. */
export function savedAfterTraffic(saves: readonly { counters: Nic["counters"] }[]): number {
  return saves.filter((s) => s.counters.rxPackets > 0 && s.counters.txPackets > 0).length;
}
