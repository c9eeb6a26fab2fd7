/**
 * Split virtqueues (virtio 1.x §2.7) as a device sees them in guest memory:
 * the descriptor table, the available ring the driver fills and the used
 * ring the device fills. Every guest-controlled index, length and address is
 * checked, so a malicious driver can make {@link SplitVirtqueue.pop} throw
 * but never loop forever.
 *
 * @module
 */

import type { DeviceState, GuestMemory, Snapshotting } from "../types.ts";
import { StateShape } from "../state_shape.ts";

/** Descriptor flag: the chain continues at `next`. */
export const VIRTQ_DESC_F_NEXT = 1;
/** Descriptor flag: the buffer is device-writable (otherwise device-readable). */
export const VIRTQ_DESC_F_WRITE = 2;
/** Descriptor flag: the buffer holds a table of descriptors (VIRTIO_F_INDIRECT_DESC). */
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Available ring flag: the driver does not want used-buffer interrupts. */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Used ring flag: the device does not want available-buffer notifications. */
export const VIRTQ_USED_F_NO_NOTIFY = 1;
/** Alignment of the used ring in the legacy interface's single-PFN layout. */
export const LEGACY_QUEUE_ALIGN = 4096;

/** Bytes per descriptor: le64 addr, le32 len, le16 flags, le16 next. */
const DESC_SIZE = 16;
/**
 * Largest indirect table accepted. The spec sets no bound; without one a
 * huge table with a loop at its end would be walked for a long time.
 */
export const MAX_INDIRECT_DESCRIPTORS = 1024;

/** The driver broke the virtqueue rules; the device must stop using the queue. */
export class VirtqueueError extends Error {
  /** @param message which rule was broken */
  constructor(message: string) {
    super(message);
    this.name = "VirtqueueError";
  }
}

/** A descriptor chain taken from the available ring, as live views into guest memory. */
export interface DescriptorChain {
  /** Head descriptor index, returned in the used ring. */
  readonly head: number;
  /** Device-readable buffers in chain order (zero-length ones omitted). */
  readonly readable: readonly Uint8Array[];
  /** Device-writable buffers in chain order (zero-length ones omitted). */
  readonly writable: readonly Uint8Array[];
  /** Total bytes of {@link readable}. */
  readonly readableLength: number;
  /** Total bytes of {@link writable}. */
  readonly writableLength: number;
}

/**
 * Saved state of a split virtqueue: its configuration and the device's two
 * ring indices. The rings themselves live in guest memory. Whether indirect
 * descriptors and event indices are in use follows from the negotiated
 * features, which the transport saves.
 */
export interface VirtqueueState extends DeviceState {
  readonly version: 1;
  readonly size: number;
  readonly ready: boolean;
  readonly descAddr: number;
  readonly driverAddr: number;
  readonly deviceAddr: number;
  /** Next available-ring entry the device will read. */
  readonly lastAvailIdx: number;
  /** Used-ring entries published (modulo 2^16). */
  readonly usedIdx: number;
}

/** Handles one chain and returns how many bytes it wrote into the writable buffers. */
export type ChainHandler = (chain: DescriptorChain) => number;

/** One split virtqueue: its configuration (set by the transport) and the device's ring indices. */
export class SplitVirtqueue implements Snapshotting<VirtqueueState> {
  /** Queue size in descriptors; a modern driver may lower it before enabling. */
  size: number;
  /** True once the driver enabled the queue (modern) or gave it a PFN (legacy). */
  ready = false;
  /** Guest-physical address of the descriptor table. */
  descAddr = 0;
  /** Guest-physical address of the available ring ("driver area"). */
  driverAddr = 0;
  /** Guest-physical address of the used ring ("device area"). */
  deviceAddr = 0;
  /** VIRTIO_F_INDIRECT_DESC was negotiated (the transport keeps it in step with the features). */
  indirect = false;
  /** VIRTIO_F_EVENT_IDX was negotiated (the transport keeps it in step with the features). */
  eventIdx = false;
  #lastAvail = 0;
  #used = 0;

  /**
   * @param memory guest RAM holding the rings
   * @param maxSize the largest size the device supports (a power of two ≤ 32768)
   */
  constructor(readonly memory: GuestMemory, readonly maxSize: number) {
    this.size = maxSize;
  }

  /** Index of the next available-ring entry the device will read. */
  get lastAvailIdx(): number {
    return this.#lastAvail;
  }

  /** The device's used index (entries published so far, modulo 2^16). */
  get usedIdx(): number {
    return this.#used;
  }

  /**
   * Moves the device's two indices to where another user of this queue left
   * them (the receive path running on another thread: see
   * devices/net/virtio_net_rx.ts); both are taken modulo 2^16.
   */
  setIndices(lastAvailIdx: number, usedIdx: number): void {
    this.#lastAvail = lastAvailIdx & 0xffff;
    this.#used = usedIdx & 0xffff;
  }

  /** The legacy page frame number of the descriptor table (0 when not configured). */
  get legacyPfn(): number {
    return this.ready ? this.descAddr / LEGACY_QUEUE_ALIGN : 0;
  }

  /**
   * Legacy configuration: one PFN places the descriptor table, the available
   * ring right after it and the used ring on the next 4096-byte boundary.
   * PFN 0 disables the queue.
   */
  setLegacyPfn(pfn: number): void {
    this.reset();
    if (pfn === 0) return;
    this.descAddr = pfn * LEGACY_QUEUE_ALIGN;
    this.driverAddr = this.descAddr + DESC_SIZE * this.size;
    // flags, idx, ring[size], used_event
    const availEnd = this.driverAddr + 2 * (3 + this.size);
    this.deviceAddr = Math.ceil(availEnd / LEGACY_QUEUE_ALIGN) * LEGACY_QUEUE_ALIGN;
    this.ready = true;
  }

  /** Back to the unconfigured state (size back to the maximum, indices zero). */
  reset(): void {
    this.size = this.maxSize;
    this.ready = false;
    this.descAddr = this.driverAddr = this.deviceAddr = 0;
    this.#lastAvail = this.#used = 0;
  }

  /**
   * Chains the driver made available and the device has not taken yet.
   * @throws {VirtqueueError} when the driver moved its index by more than the queue size
   */
  pending(): number {
    if (!this.ready) return 0;
    const n = (this.#availIdx() - this.#lastAvail) & 0xffff;
    if (n > this.size) {
      throw new VirtqueueError(`available index moved by ${n} on a queue of ${this.size}`);
    }
    return n;
  }

  /**
   * Takes the next available chain, or null when there is none.
   * @throws {VirtqueueError} on a malformed chain
   * @throws {GuestMemoryError} when a ring, table or buffer lies outside RAM
   */
  pop(): DescriptorChain | null {
    if (this.pending() === 0) return null;
    const slot = this.driverAddr + 4 + 2 * (this.#lastAvail % this.size);
    const head = this.memory.readU16(slot);
    this.#lastAvail = (this.#lastAvail + 1) & 0xffff;
    return this.#walk(head);
  }

  /** Publishes a finished chain in the used ring with `written` bytes written by the device. */
  push(head: number, written: number): void {
    const slot = this.deviceAddr + 4 + 8 * (this.#used % this.size);
    this.memory.writeU32(slot, head);
    this.memory.writeU32(slot + 4, written);
    this.#used = (this.#used + 1) & 0xffff;
    // The index goes last so the driver never sees an unfilled element.
    this.memory.writeU16(this.deviceAddr + 2, this.#used);
  }

  /**
   * Whether the driver wants an interrupt for the entries used since the used
   * index was `usedBefore`: NO_INTERRUPT without EVENT_IDX, used_event with it.
   */
  needsInterrupt(usedBefore: number): boolean {
    if (this.#used === usedBefore) return false;
    if (this.eventIdx) {
      const event = this.memory.readU16(this.driverAddr + 4 + 2 * this.size);
      // vring_need_event: did the used index step past used_event?
      return ((this.#used - event - 1) & 0xffff) < ((this.#used - usedBefore) & 0xffff);
    }
    return (this.memory.readU16(this.driverAddr) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /**
   * Asks the driver to stop (`true`) or resume (`false`) notifying. Without
   * EVENT_IDX this is the used ring's NO_NOTIFY flag; with it, resuming
   * publishes avail_event = the next index the device will read.
   */
  suppressNotifications(suppress: boolean): void {
    if (this.eventIdx) {
      if (!suppress) this.memory.writeU16(this.deviceAddr + 4 + 8 * this.size, this.#lastAvail);
      return;
    }
    this.memory.writeU16(this.deviceAddr, suppress ? VIRTQ_USED_F_NO_NOTIFY : 0);
  }

  /**
   * Processes every available chain with `handle`, publishing each in the
   * used ring, and returns true when the driver should be interrupted.
   * Notifications are suppressed while draining and the ring re-checked
   * after re-enabling them, so a buffer added meanwhile is not missed.
   */
  drain(handle: ChainHandler): boolean {
    if (!this.ready) return false;
    const before = this.#used;
    for (;;) {
      this.suppressNotifications(true);
      for (let chain = this.pop(); chain; chain = this.pop()) this.push(chain.head, handle(chain));
      this.suppressNotifications(false);
      if (this.pending() === 0) break;
    }
    return this.needsInterrupt(before);
  }

  #availIdx(): number {
    return this.memory.readU16(this.driverAddr + 2);
  }

  #walk(head: number): DescriptorChain {
    const readable: Uint8Array[] = [];
    const writable: Uint8Array[] = [];
    let readableLength = 0;
    let writableLength = 0;
    let sawWritable = false;
    let table = this.descAddr;
    let tableSize = this.size;
    let inIndirect = false;
    let index = head;
    let count = 0;
    for (;;) {
      if (index >= tableSize) {
        throw new VirtqueueError(`descriptor index ${index} outside a table of ${tableSize}`);
      }
      // A chain can visit each descriptor of its table at most once.
      if (++count > tableSize) throw new VirtqueueError("descriptor chain loops");
      const at = table + index * DESC_SIZE;
      const addr = this.#readAddress(at);
      const len = this.memory.readU32(at + 8);
      const flags = this.memory.readU16(at + 12);
      const next = this.memory.readU16(at + 14);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.indirect) throw new VirtqueueError("indirect descriptor not negotiated");
        if (inIndirect) throw new VirtqueueError("indirect descriptor inside an indirect table");
        if (flags & VIRTQ_DESC_F_NEXT) throw new VirtqueueError("indirect descriptor with NEXT");
        if (len === 0 || len % DESC_SIZE !== 0 || len / DESC_SIZE > MAX_INDIRECT_DESCRIPTORS) {
          throw new VirtqueueError(`bad indirect table length ${len}`);
        }
        // Normal descriptors may precede it; the table then ends the chain.
        inIndirect = true;
        table = addr;
        tableSize = len / DESC_SIZE;
        index = 0;
        count = 0;
        continue;
      }
      if (flags & VIRTQ_DESC_F_WRITE) {
        sawWritable = true;
        if (len > 0) writable.push(this.memory.view(addr, len));
        writableLength += len;
      } else {
        if (sawWritable) throw new VirtqueueError("device-readable buffer after a writable one");
        if (len > 0) readable.push(this.memory.view(addr, len));
        readableLength += len;
      }
      if (readableLength + writableLength > 0xffffffff) {
        throw new VirtqueueError("descriptor chain longer than 2^32 bytes");
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) break;
      index = next;
    }
    return { head, readable, writable, readableLength, writableLength };
  }

  /** A descriptor's le64 address; anything past 2^53 cannot be RAM. */
  #readAddress(at: number): number {
    const lo = this.memory.readU32(at);
    const hi = this.memory.readU32(at + 4);
    if (hi >= 0x200000) throw new VirtqueueError("descriptor address beyond 2^53");
    return hi * 2 ** 32 + lo;
  }

  /** Configuration and ring indices. */
  snapshot(): VirtqueueState {
    return {
      version: 1,
      size: this.size,
      ready: this.ready,
      descAddr: this.descAddr,
      driverAddr: this.driverAddr,
      deviceAddr: this.deviceAddr,
      lastAvailIdx: this.#lastAvail,
      usedIdx: this.#used,
    };
  }

  /** Puts configuration and ring indices back. */
  restore(state: VirtqueueState): void {
    const s = StateShape.versioned("virtqueue", state, 1);
    const size = s.int("size", 1, this.maxSize);
    if (size & (size - 1)) s.fail("size", "must be a power of two");
    const ready = s.bool("ready");
    const addr = (key: string) => s.int(key, 0, Number.MAX_SAFE_INTEGER);
    const descAddr = addr("descAddr");
    const driverAddr = addr("driverAddr");
    const deviceAddr = addr("deviceAddr");
    const lastAvail = s.int("lastAvailIdx", 0, 0xffff);
    const used = s.int("usedIdx", 0, 0xffff);
    this.size = size;
    this.ready = ready;
    this.descAddr = descAddr;
    this.driverAddr = driverAddr;
    this.deviceAddr = deviceAddr;
    this.#lastAvail = lastAvail;
    this.#used = used;
  }
}
