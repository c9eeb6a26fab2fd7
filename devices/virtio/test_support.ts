/**
 * Test doubles for the virtio tests: guest RAM over a Uint8Array, an
 * in-memory disk, a recording interrupt line, a driver-side split ring
 * builder and a capability walker that reads configuration space the way a
 * guest driver does.
 *
 * @module
 */

import { type BlockBackend, type GuestMemory, GuestMemoryError, type IrqLine } from "../types.ts";
import type { PciConfigSpace } from "../pci/config_space.ts";
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from "./virtqueue.ts";

/** Guest RAM starting at guest-physical 0, bounds-checked like the real one. */
export class ArrayMemory implements GuestMemory {
  /** The RAM contents. */
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  /** @param size bytes of RAM */
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }

  #check(addr: number, length: number): void {
    if (!(addr >= 0 && length >= 0 && addr + length <= this.bytes.length)) {
      throw new GuestMemoryError(addr, length);
    }
  }

  /** A live view. */
  view(addr: number, length: number): Uint8Array {
    this.#check(addr, length);
    return this.bytes.subarray(addr, addr + length);
  }
  /** A copy. */
  read(addr: number, length: number): Uint8Array {
    return this.view(addr, length).slice();
  }
  /** Copies `data` in. */
  write(addr: number, data: Uint8Array): void {
    this.#check(addr, data.length);
    this.bytes.set(data, addr);
  }
  /** Little-endian accessors. */
  readU8(addr: number): number {
    this.#check(addr, 1);
    return this.bytes[addr];
  }
  /** @see readU8 */
  readU16(addr: number): number {
    this.#check(addr, 2);
    return this.#view.getUint16(addr, true);
  }
  /** @see readU8 */
  readU32(addr: number): number {
    this.#check(addr, 4);
    return this.#view.getUint32(addr, true);
  }
  /** @see readU8 */
  readU64(addr: number): number {
    this.#check(addr, 8);
    const v = this.#view.getBigUint64(addr, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("u64 above 2^53");
    return Number(v);
  }
  /** @see readU8 */
  writeU8(addr: number, value: number): void {
    this.#check(addr, 1);
    this.bytes[addr] = value;
  }
  /** @see readU8 */
  writeU16(addr: number, value: number): void {
    this.#check(addr, 2);
    this.#view.setUint16(addr, value, true);
  }
  /** @see readU8 */
  writeU32(addr: number, value: number): void {
    this.#check(addr, 4);
    this.#view.setUint32(addr, value >>> 0, true);
  }
  /** @see readU8 */
  writeU64(addr: number, value: number): void {
    this.#check(addr, 8);
    this.#view.setBigUint64(addr, BigInt(value), true);
  }
}

/** A disk in a Uint8Array. */
export class MemoryDisk implements BlockBackend {
  /** Contents. */
  readonly bytes: Uint8Array;
  /** True when writes are refused. */
  readonly readonly: boolean;
  /** Times flush() was called. */
  flushes = 0;

  /**
   * @param size bytes
   * @param isReadonly refuse writes
   */
  constructor(size: number, isReadonly = false) {
    this.bytes = new Uint8Array(size);
    this.readonly = isReadonly;
  }
  /** Size in bytes. */
  get size(): number {
    return this.bytes.length;
  }
  /** Reads, zero-filling past the end. */
  read(offset: number, buf: Uint8Array): void {
    buf.fill(0);
    if (offset < this.bytes.length) buf.set(this.bytes.subarray(offset, offset + buf.length));
  }
  /** Writes; throws when readonly or past the end. */
  write(offset: number, data: Uint8Array): void {
    if (this.readonly) throw new Error("read-only disk");
    if (offset + data.length > this.bytes.length) throw new Error("write past the end");
    this.bytes.set(data, offset);
  }
  /** Counts flushes. */
  flush(): void {
    this.flushes++;
  }
}

/** An interrupt line that remembers its level and every change. */
export class RecordingIrq implements IrqLine {
  /** Current level. */
  level = false;
  /** Every level set, in order. */
  readonly history: boolean[] = [];
  /** Sets the level. */
  set(level: boolean): void {
    this.level = level;
    this.history.push(level);
  }
}

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
