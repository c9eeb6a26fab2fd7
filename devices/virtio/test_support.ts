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
import type { PciConfigSpace } from "../pci/config_space.ts";
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from "./virtqueue.ts";

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
