/**
 * Test doubles for the virtio tests: guest RAM over a Uint8Array, an
 * in-memory disk, a recording interrupt line, a driver-side split ring
 * builder and a capability walker that reads configuration space the way a
 * guest driver does.
 *
 * @module
 */

import { ArrayGuestMemory as ArrayMemory } from "../testing/array_guest_memory.ts";
export { ArrayMemory };
export { MemoryBackend as MemoryDisk } from "../testing/memory_backend.ts";
export { RecordingIrq } from "../testing/recording_irq.ts";
export { prng } from "../testing/seeded_random.ts";
import type { PciConfigSpace } from "../pci/config_space.ts";
import type { AccessSize, BusDevice } from "../types.ts";
import type { RecordingIrq } from "../testing/recording_irq.ts";
import {
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  type VirtqueueState,
} from "./virtqueue.ts";

/** One buffer of a chain as a driver describes it. */
export interface DriverBuffer {
  addr: number;
  len: number;
  write?: boolean;
}

/** The driver's side of a split ring: fills descriptors and the available ring, reads the used ring. */
export class DriverRing {
  #nextDesc = 0;
  #availIdx = 0;

  /**
   * @param memory guest RAM
   * @param size queue size
   * @param desc descriptor table address
   * @param avail available ring address
   * @param used used ring address
   */
  constructor(
    readonly memory: ArrayMemory,
    readonly size: number,
    readonly desc: number,
    readonly avail: number,
    readonly used: number,
  ) {}

  /** Ring addresses of the legacy layout for `pfn`. */
  static legacy(memory: ArrayMemory, size: number, pfn: number): DriverRing {
    const desc = pfn * 4096;
    const avail = desc + 16 * size;
    const used = Math.ceil((avail + 6 + 2 * size) / 4096) * 4096;
    return new DriverRing(memory, size, desc, avail, used);
  }

  /** Writes descriptor `index` of the table at `table`. */
  writeDesc(table: number, index: number, addr: number, len: number, flags: number, next: number) {
    const at = table + 16 * index;
    this.memory.writeU64(at, addr);
    this.memory.writeU32(at + 8, len);
    this.memory.writeU16(at + 12, flags);
    this.memory.writeU16(at + 14, next);
  }

  /** Places `buffers` as a chain of consecutive descriptors and returns its head. */
  chain(buffers: DriverBuffer[]): number {
    const head = this.#nextDesc;
    buffers.forEach((b, i) => {
      const index = (head + i) % this.size;
      const last = i === buffers.length - 1;
      const flags = (b.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
      this.writeDesc(this.desc, index, b.addr, b.len, flags, (index + 1) % this.size);
    });
    this.#nextDesc = (head + buffers.length) % this.size;
    return head;
  }

  /** Places `buffers` in an indirect table at `table`, referenced by one ring descriptor. */
  indirect(table: number, buffers: DriverBuffer[]): number {
    buffers.forEach((b, i) => {
      const last = i === buffers.length - 1;
      const flags = (b.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
      this.writeDesc(table, i, b.addr, b.len, flags, i + 1);
    });
    const head = this.#nextDesc;
    this.writeDesc(this.desc, head, table, 16 * buffers.length, VIRTQ_DESC_F_INDIRECT, 0);
    this.#nextDesc = (head + 1) % this.size;
    return head;
  }

  /** Makes chain `head` available and publishes the new index. */
  publish(head: number): void {
    this.memory.writeU16(this.avail + 4 + 2 * (this.#availIdx % this.size), head);
    this.#availIdx = (this.#availIdx + 1) & 0xffff;
    this.memory.writeU16(this.avail + 2, this.#availIdx);
  }

  /** Sets the available ring's flags (NO_INTERRUPT). */
  set availFlags(flags: number) {
    this.memory.writeU16(this.avail, flags);
  }

  /** Sets used_event (EVENT_IDX). */
  set usedEvent(value: number) {
    this.memory.writeU16(this.avail + 4 + 2 * this.size, value);
  }

  /** The used ring's flags (NO_NOTIFY). */
  get usedFlags(): number {
    return this.memory.readU16(this.used);
  }

  /** The device's used index. */
  get usedIdx(): number {
    return this.memory.readU16(this.used + 2);
  }

  /** avail_event (EVENT_IDX). */
  get availEvent(): number {
    return this.memory.readU16(this.used + 4 + 8 * this.size);
  }

  /** Used element `i` (ring position i mod size). */
  usedElem(i: number): { id: number; len: number } {
    const at = this.used + 4 + 8 * (i % this.size);
    return { id: this.memory.readU32(at), len: this.memory.readU32(at + 4) };
  }
}

/** A virtio capability as a driver decodes it from configuration space. */
export interface FoundCap {
  at: number;
  bar: number;
  offset: number;
  length: number;
  /** notify_off_multiplier, for the notify capability. */
  multiplier?: number;
}

/** Walks the capability list from the pointer at 0x34 and returns the virtio ones by cfg_type. */
export function findVirtioCaps(config: PciConfigSpace): Map<number, FoundCap> {
  const caps = new Map<number, FoundCap>();
  if (!(config.read(0x06, 2) & 0x10)) return caps;
  let at = config.read(0x34, 1) & 0xfc;
  for (let guard = 0; at !== 0 && guard < 48; guard++) {
    const id = config.read(at, 1);
    const next = config.read(at + 1, 1);
    if (id === 0x09) {
      const type = config.read(at + 3, 1);
      if (!caps.has(type)) {
        caps.set(type, {
          at,
          bar: config.read(at + 4, 1),
          offset: config.read(at + 8, 4),
          length: config.read(at + 12, 4),
          multiplier: type === 2 ? config.read(at + 16, 4) : undefined,
        });
      }
    }
    at = next & 0xfc;
  }
  return caps;
}

/**
 * Whether a saved queue has requests the driver made available and the device
 * has not taken yet (its available index in `memory` is past lastAvailIdx).
 */
export function hasPendingRequests(q: VirtqueueState, memory: ArrayMemory): boolean {
  const inRam = q.driverAddr + 4 <= memory.bytes.length;
  return q.ready && inRam && memory.readU16(q.driverAddr + 2) !== q.lastAvailIdx;
}

/** One guest access to a virtio PCI function, as data so it can be replayed. */
export type VirtioOp =
  | {
    kind: "legacy" | "modern" | "config";
    write: boolean;
    offset: number;
    size: AccessSize;
    value: number;
  }
  | { kind: "mem"; addr: number; data: Uint8Array };

/** What a virtio function under test exposes to {@link runVirtioOps}. */
export interface VirtioTarget {
  readonly legacyIo: BusDevice;
  readonly modernMmio: BusDevice;
  readonly config: PciConfigSpace;
}

/** Applies `ops`; returns every value read and the IRQ level after each access. */
export function runVirtioOps(
  t: VirtioTarget,
  memory: ArrayMemory,
  irq: RecordingIrq,
  ops: readonly VirtioOp[],
): unknown[] {
  const out: unknown[] = [];
  for (const op of ops) {
    if (op.kind === "mem") {
      memory.write(op.addr, op.data);
    } else {
      const dev = op.kind === "legacy"
        ? t.legacyIo
        : op.kind === "modern"
        ? t.modernMmio
        : t.config;
      if (op.write) dev.write(op.offset, op.size, op.value);
      else out.push(dev.read(op.offset, op.size));
    }
    out.push(irq.level);
  }
  return out;
}

/** A request's buffers: device-readable contents, then device-writable lengths. */
export interface RandomRequest {
  readable: Uint8Array[];
  writable: number[];
}

interface QueueLayout {
  size: number;
  desc: number;
  avail: number;
  used: number;
}

const le = (value: number, bytes: number) => {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  return data;
};

/**
 * A driver that brings the device up through the legacy or the modern
 * interface (chosen by `next`), then makes requests available on its queues,
 * sometimes notifying, reads ISR and registers, toggles INTx disable, and now
 * and then writes a register at random. Buffers live from 0x40000 up.
 */
export class RandomVirtioDriver {
  readonly #next: (n: number) => number;
  readonly #request: (next: (n: number) => number, queue: number) => RandomRequest;
  readonly #queues: QueueLayout[] = [];
  readonly #availIdx: number[] = [];
  readonly #nextDesc: number[] = [];
  readonly legacy: boolean;
  #buffer = 0;

  /**
   * @param next the PRNG
   * @param queueSizes the device's queue sizes
   * @param features feature bits to accept from those offered
   * @param request builds one request's buffers for a queue
   * @param queueBase where queue 0's rings go; each further queue 64 KiB higher
   */
  constructor(
    next: (n: number) => number,
    queueSizes: readonly number[],
    readonly features: bigint,
    request: (next: (n: number) => number, queue: number) => RandomRequest,
    queueBase = 0x10000,
  ) {
    this.#next = next;
    this.#request = request;
    this.legacy = next(2) === 0;
    queueSizes.forEach((size, q) => {
      const base = queueBase + 0x10000 * q;
      if (this.legacy) {
        const desc = base;
        const avail = desc + 16 * size;
        this.#queues.push({
          size,
          desc,
          avail,
          used: Math.ceil((avail + 6 + 2 * size) / 4096) * 4096,
        });
      } else {
        this.#queues.push({ size, desc: base, avail: base + 0x3000, used: base + 0x5000 });
      }
      this.#availIdx.push(0);
      this.#nextDesc.push(0);
    });
  }

  /** Bring-up accesses. */
  bringUp(): VirtioOp[] {
    const ops: VirtioOp[] = [];
    const reg = (kind: "legacy" | "modern", offset: number, size: AccessSize, value: number) =>
      ops.push({ kind, write: true, offset, size, value });
    ops.push({ kind: "config", write: true, offset: 0x04, size: 2, value: 0x0007 });
    const ackDriver = 3;
    if (this.legacy) {
      reg("legacy", 0x12, 1, 0);
      reg("legacy", 0x12, 1, ackDriver);
      reg("legacy", 0x04, 4, Number(this.features & 0xffffffffn));
      this.#queues.forEach((q, i) => {
        reg("legacy", 0x0e, 2, i);
        reg("legacy", 0x08, 4, q.desc / 4096);
      });
      reg("legacy", 0x12, 1, ackDriver | 4);
    } else {
      const f = this.features | (1n << 32n);
      reg("modern", 0x14, 1, 0);
      reg("modern", 0x14, 1, ackDriver);
      reg("modern", 0x08, 4, 0);
      reg("modern", 0x0c, 4, Number(f & 0xffffffffn));
      reg("modern", 0x08, 4, 1);
      reg("modern", 0x0c, 4, Number(f >> 32n));
      reg("modern", 0x14, 1, ackDriver | 8);
      this.#queues.forEach((q, i) => {
        reg("modern", 0x16, 2, i);
        reg("modern", 0x18, 2, q.size);
        reg("modern", 0x20, 4, q.desc);
        reg("modern", 0x28, 4, q.avail);
        reg("modern", 0x30, 4, q.used);
        reg("modern", 0x1c, 2, 1);
      });
      reg("modern", 0x14, 1, ackDriver | 8 | 4);
    }
    return ops;
  }

  /** `count` random accesses. */
  ops(count: number): VirtioOp[] {
    const next = this.#next;
    const ops: VirtioOp[] = [];
    const kind = this.legacy ? "legacy" : "modern";
    while (ops.length < count) {
      const r = next(100);
      const q = next(this.#queues.length);
      if (r < 45) {
        ops.push(...this.#publish(q));
      } else if (r < 65) {
        ops.push({
          kind,
          write: true,
          offset: this.legacy ? 0x10 : 0x3000 + 4 * q,
          size: 2,
          value: q,
        });
      } else if (r < 75) {
        ops.push({ kind, write: false, offset: this.legacy ? 0x13 : 0x1000, size: 1, value: 0 });
      } else if (r < 83) {
        const size = ([1, 2, 4] as const)[next(3)];
        ops.push({ kind, write: false, offset: next(this.legacy ? 0x20 : 0x38), size, value: 0 });
      } else if (r < 88) {
        ops.push({
          kind: "config",
          write: true,
          offset: 0x04,
          size: 2,
          value: next(2) ? 0x0407 : 0x0007,
        });
      } else if (r < 93) {
        const layout = this.#queues[q];
        // Avail flags (NO_INTERRUPT) or used_event.
        ops.push(
          next(2)
            ? { kind: "mem", addr: layout.avail, data: le(next(2), 2) }
            : { kind: "mem", addr: layout.avail + 4 + 2 * layout.size, data: le(next(8), 2) },
        );
      } else if (r < 96) {
        ops.push({ kind: "config", write: false, offset: next(0x100) & ~3, size: 4, value: 0 });
      } else {
        const size = ([1, 2, 4] as const)[next(3)];
        const offset = next(this.legacy ? 0x14 : 0x20) & ~(size - 1);
        // Never status 0 by accident every time: keep the run interesting.
        ops.push({ kind, write: true, offset, size, value: next(0x10000) | 1 });
      }
    }
    return ops;
  }

  #publish(q: number): VirtioOp[] {
    const layout = this.#queues[q];
    const req = this.#request(this.#next, q);
    const ops: VirtioOp[] = [];
    const parts = [
      ...req.readable.map((data) => ({ data, len: data.length, write: false })),
      ...req.writable.map((len) => ({ data: null, len, write: true })),
    ];
    const head = this.#nextDesc[q];
    parts.forEach((p, i) => {
      const index = (head + i) % layout.size;
      const addr = 0x40000 + (this.#buffer++ % 512) * 0x200;
      if (p.data) ops.push({ kind: "mem", addr, data: p.data });
      const desc = new Uint8Array(16);
      desc.set(le(addr, 8));
      desc.set(le(p.len, 4), 8);
      const last = i === parts.length - 1;
      desc.set(le((p.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT), 2), 12);
      desc.set(le((index + 1) % layout.size, 2), 14);
      ops.push({ kind: "mem", addr: layout.desc + 16 * index, data: desc });
    });
    this.#nextDesc[q] = (head + parts.length) % layout.size;
    const idx = this.#availIdx[q];
    ops.push({ kind: "mem", addr: layout.avail + 4 + 2 * (idx % layout.size), data: le(head, 2) });
    this.#availIdx[q] = (idx + 1) & 0xffff;
    ops.push({ kind: "mem", addr: layout.avail + 2, data: le(this.#availIdx[q], 2) });
    return ops;
  }
}
