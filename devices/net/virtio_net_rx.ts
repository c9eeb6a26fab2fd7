/**
 * virtio-net's receive path, and the lease that lets another thread run it
 * (and the transmit path, virtio_net_tx.ts, under a lease of its own).
 *
 * {@link fillRx} puts one frame into the receive queue; the device calls it
 * for frames it is handed, and so may the network thread while it holds the
 * queue on lease ({@link QueueLease}): a frame for the guest then goes straight
 * into guest memory while the vCPU runs, without stopping it (QEMU's I/O
 * thread and vhost-net work the same way).
 *
 * Ownership is simple and total: the device owns the queue except while the
 * machine lends it, which it does only for the time the vCPU is inside
 * KVM_RUN, and takes it back before any device code runs again (register
 * access, reset, save, restore). The lease holds a copy of everything the
 * receive path reads (queue configuration and indices, header layout,
 * whether the used-buffer interrupt is already pending) and returns what it
 * changed (indices, counters, whether an interrupt is wanted). One Int32
 * word says who holds it; the borrower works only after moving it from
 * LENT to BUSY and the owner takes it back only from LENT, so the two never
 * touch the queue at once. Interrupts stay with the device: the borrower
 * only asks for one ({@link LeaseReturn.interrupt}) when the used-buffer
 * interrupt is not already pending, and then kicks the vCPU.
 *
 * @module
 */

import { type GuestMemory, GuestMemoryError } from "../types.ts";
import { SplitVirtqueue, VirtqueueError } from "../virtio/virtqueue.ts";
import { type NicCounters, padFrame } from "./nic.ts";

/** Queue indices (here, beside the leases, so a board without virtio-net need not load the device). */
export const VIRTIO_NET_RX = 0;
/** @see VIRTIO_NET_RX */
export const VIRTIO_NET_TX = 1;

/** What the receive path needs to know of the negotiated features. */
export interface RxLayout {
  /** Bytes of struct virtio_net_hdr the driver expects before each frame. */
  readonly header: number;
  /** VIRTIO_NET_F_MRG_RXBUF: a frame may span several chains (num_buffers says how many). */
  readonly mergeable: boolean;
}

/**
 * Puts `input` into the receive queue.
 * @returns false (nothing taken) when the driver has no buffer: the queue
 *   then asks for a notification when it adds one; true when the frame was
 *   delivered or dropped (counted in `counters`)
 */
export function fillRx(
  queue: SplitVirtqueue,
  input: Uint8Array,
  layout: RxLayout,
  counters: NicCounters,
): boolean {
  const hdr = layout.header;
  const frame = padFrame(input);
  try {
    if (queue.pending() === 0) {
      // Out of buffers: ask to be told of the next one (and look again, in
      // case it came before the driver could see the request).
      queue.suppressNotifications(false);
      memoryFence();
      if (queue.pending() === 0) return false;
    }
    const used: { head: number; written: number }[] = [];
    let header: Uint8Array[] | null = null;
    let at = -hdr; // negative while the header is being written
    while (at < frame.length) {
      const chain = queue.pop();
      if (!chain) break;
      let written = 0;
      for (const b of chain.writable) {
        let off = 0;
        if (at < 0) {
          // The header: zero flags and GSO type, num_buffers filled in below.
          const n = Math.min(-at, b.length);
          b.fill(0, 0, n);
          header ??= [];
          header.push(b.subarray(0, n));
          at += n;
          off = n;
          written += n;
        }
        if (at >= 0 && off < b.length && at < frame.length) {
          const n = Math.min(b.length - off, frame.length - at);
          b.set(frame.subarray(at, at + n), off);
          at += n;
          written += n;
        }
        if (at >= frame.length) break;
      }
      used.push({ head: chain.head, written });
      if (!layout.mergeable) break;
    }
    const complete = at >= frame.length;
    if (layout.mergeable && header) writeNumBuffers(header, used.length);
    for (const u of used) queue.push(u.head, u.written);
    if (complete) {
      counters.rxPackets++;
      counters.rxBytes += input.length;
    } else {
      // Buffers too small: the driver sees a truncated frame and drops it.
      counters.rxDropped++;
    }
    // While buffers remain the driver need not say it added more: each
    // notification would be an exit (QEMU's virtio-net does the same).
    if (queue.pending() > 0) queue.suppressNotifications(true);
  } catch (e) {
    if (!(e instanceof VirtqueueError || e instanceof GuestMemoryError)) throw e;
    counters.rxDropped++;
  }
  return true;
}

const FENCE = new Int32Array(new SharedArrayBuffer(4));

/**
 * A full memory barrier between a store to guest memory and a load after
 * it, for when the driver runs at the same time on another CPU (the queue
 * on lease): a flag the device sets and an index it then reads, against an
 * index the driver sets and a flag it then reads (virtio 1.x §2.7.7 and
 * §2.7.10). Plain typed-array accesses give no such order; an atomic
 * read-modify-write does (a locked instruction on x86).
 */
export function memoryFence(): void {
  Atomics.add(FENCE, 0, 0);
}

/** num_buffers is the le16 at header bytes 10-11, which may straddle buffers. */
function writeNumBuffers(header: Uint8Array[], n: number): void {
  let at = 0;
  for (const b of header) {
    for (let i = 0; i < b.length; i++, at++) {
      if (at === 10) b[i] = n & 0xff;
      if (at === 11) b[i] = n >> 8;
    }
  }
}

/** Who holds a lease: the device (its owner), nobody yet (lent), or the borrower at work. */
export const LEASE = { OWNED: 0, LENT: 1, BUSY: 2 } as const;

// Int32 slots.
const I_STATE = 0;
const I_SIZE = 1;
const I_LAST_AVAIL = 2;
const I_USED = 3;
const I_FLAGS = 4;
const I_HEADER = 5;
const I_INTERRUPT = 6; // set by the borrower: the driver wants an interrupt
const INT_SLOTS = 8;
// Float64 slots (after the ints): addresses and counter increments.
const F_DESC = 0;
const F_DRIVER = 1;
const F_DEVICE = 2;
const F_RX_PACKETS = 3;
const F_RX_BYTES = 4;
const F_RX_DROPPED = 5;
const F_TX_PACKETS = 6;
const F_TX_BYTES = 7;
const F64_SLOTS = 8;

const FLAG_EVENT_IDX = 1;
const FLAG_INDIRECT = 2;
const FLAG_MERGEABLE = 4;
const FLAG_ISR_PENDING = 8;

/** What the borrower changed, handed back when the owner takes the lease back. */
export interface LeaseReturn {
  readonly lastAvailIdx: number;
  readonly usedIdx: number;
  /** The driver wants the used-buffer interrupt, which was not pending when lent. */
  readonly interrupt: boolean;
  /** Counter increments while lent. */
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly rxDropped: number;
  readonly txPackets: number;
  readonly txBytes: number;
}

/** A queue as lent: its configuration and indices, and the receive layout. */
export interface LentQueue {
  readonly size: number;
  readonly descAddr: number;
  readonly driverAddr: number;
  readonly deviceAddr: number;
  readonly lastAvailIdx: number;
  readonly usedIdx: number;
  readonly eventIdx: boolean;
  readonly indirect: boolean;
  readonly layout: RxLayout;
  /** The used-buffer interrupt is already pending (ISR bit 0 set): raising it again changes nothing. */
  readonly interruptPending: boolean;
}

/** One queue's lease, in a SharedArrayBuffer both threads map. */
export class QueueLease {
  readonly #ints: Int32Array;
  readonly #floats: Float64Array;
  /** The borrower's queue object, kept from one borrow to the next (the same memory). */
  #queue: SplitVirtqueue | null = null;

  /** Allocates the shared words of one lease (starts owned). */
  static create(): SharedArrayBuffer {
    return new SharedArrayBuffer(INT_SLOTS * 4 + F64_SLOTS * 8);
  }

  /** @param buffer from {@link QueueLease.create} */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.#ints = new Int32Array(buffer, 0, INT_SLOTS);
    this.#floats = new Float64Array(buffer, INT_SLOTS * 4, F64_SLOTS);
  }

  /** Who holds it now (one of {@link LEASE}). */
  get state(): number {
    return Atomics.load(this.#ints, I_STATE);
  }

  /** Owner: lends the queue. Only while owned (a second lend is refused). */
  lend(q: LentQueue): void {
    if (Atomics.load(this.#ints, I_STATE) !== LEASE.OWNED) {
      throw new Error("the queue's lease is out");
    }
    const i = this.#ints;
    const f = this.#floats;
    i[I_SIZE] = q.size;
    i[I_LAST_AVAIL] = q.lastAvailIdx;
    i[I_USED] = q.usedIdx;
    i[I_FLAGS] = (q.eventIdx ? FLAG_EVENT_IDX : 0) | (q.indirect ? FLAG_INDIRECT : 0) |
      (q.layout.mergeable ? FLAG_MERGEABLE : 0) | (q.interruptPending ? FLAG_ISR_PENDING : 0);
    i[I_HEADER] = q.layout.header;
    i[I_INTERRUPT] = 0;
    f[F_DESC] = q.descAddr;
    f[F_DRIVER] = q.driverAddr;
    f[F_DEVICE] = q.deviceAddr;
    f[F_RX_PACKETS] =
      f[F_RX_BYTES] =
      f[F_RX_DROPPED] =
      f[F_TX_PACKETS] =
      f[F_TX_BYTES] =
        0;
    // The store publishes everything above to a borrower that sees LENT.
    Atomics.store(i, I_STATE, LEASE.LENT);
  }

  /**
   * Owner: takes the queue back, waiting for a borrower at work to finish
   * (it never blocks while it holds the lease).
   * @returns what the borrower changed; null when it was not lent
   */
  reclaim(): LeaseReturn | null {
    const i = this.#ints;
    for (;;) {
      const was = Atomics.compareExchange(i, I_STATE, LEASE.LENT, LEASE.OWNED);
      if (was === LEASE.OWNED) return null;
      if (was === LEASE.LENT) break;
      Atomics.wait(i, I_STATE, LEASE.BUSY, 1);
    }
    const f = this.#floats;
    return {
      lastAvailIdx: i[I_LAST_AVAIL],
      usedIdx: i[I_USED],
      interrupt: i[I_INTERRUPT] !== 0,
      rxPackets: f[F_RX_PACKETS],
      rxBytes: f[F_RX_BYTES],
      rxDropped: f[F_RX_DROPPED],
      txPackets: f[F_TX_PACKETS],
      txBytes: f[F_TX_BYTES],
    };
  }

  /**
   * Borrower: runs `work` on the lent queue, over `memory`, when the queue is
   * lent; `work` must not block.
   * @returns what `work` returned, or null when the queue is not lent
   */
  borrow<T>(
    memory: GuestMemory,
    work: (queue: SplitVirtqueue, layout: RxLayout, counters: NicCounters) => T,
  ): { result: T; interrupt: boolean } | null {
    const i = this.#ints;
    if (Atomics.compareExchange(i, I_STATE, LEASE.LENT, LEASE.BUSY) !== LEASE.LENT) return null;
    try {
      const f = this.#floats;
      const flags = i[I_FLAGS];
      let queue = this.#queue;
      if (queue?.memory !== memory || queue.maxSize !== i[I_SIZE]) {
        queue = this.#queue = new SplitVirtqueue(memory, i[I_SIZE]);
      }
      queue.size = i[I_SIZE];
      queue.ready = true;
      queue.descAddr = f[F_DESC];
      queue.driverAddr = f[F_DRIVER];
      queue.deviceAddr = f[F_DEVICE];
      queue.setIndices(i[I_LAST_AVAIL], i[I_USED]);
      queue.eventIdx = (flags & FLAG_EVENT_IDX) !== 0;
      queue.indirect = (flags & FLAG_INDIRECT) !== 0;
      const layout = { header: i[I_HEADER], mergeable: (flags & FLAG_MERGEABLE) !== 0 };
      const counters = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 };
      const before = queue.usedIdx;
      let result: T;
      try {
        result = work(queue, layout, counters);
      } finally {
        // Whatever happened in guest memory is accounted for.
        i[I_LAST_AVAIL] = queue.lastAvailIdx;
        i[I_USED] = queue.usedIdx;
        f[F_RX_PACKETS] += counters.rxPackets;
        f[F_RX_BYTES] += counters.rxBytes;
        f[F_RX_DROPPED] += counters.rxDropped;
        f[F_TX_PACKETS] += counters.txPackets;
        f[F_TX_BYTES] += counters.txBytes;
      }
      let interrupt = false;
      if (!(flags & FLAG_ISR_PENDING) && i[I_INTERRUPT] === 0) {
        // The used index went out before the driver's wish is read.
        memoryFence();
        try {
          interrupt = queue.needsInterrupt(before);
        } catch (e) {
          if (!(e instanceof GuestMemoryError)) throw e;
          interrupt = true; // let the device decide
        }
        if (interrupt) i[I_INTERRUPT] = 1;
      }
      return { result, interrupt };
    } finally {
      Atomics.store(i, I_STATE, LEASE.LENT);
      Atomics.notify(i, I_STATE);
    }
  }
}
