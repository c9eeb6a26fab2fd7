/**
 * virtio-net's transmit path: the frame a chain carries, and draining the
 * transmit queue from another thread while it is lent ({@link QueueLease},
 * virtio_net_rx.ts), the driver running at the same time.
 *
 * @module
 */

import { GuestMemoryError } from "../types.ts";
import { type DescriptorChain, type SplitVirtqueue, VirtqueueError } from "../virtio/virtqueue.ts";
import type { NicCounters } from "./nic.ts";
import { memoryFence } from "./virtio_net_rx.ts";

/** The frame in a transmit chain after its `header` bytes (a copy), or null when it carries none. */
export function txFrame(chain: DescriptorChain, header: number): Uint8Array | null {
  const length = chain.readableLength - header;
  if (length <= 0) return null;
  const frame = new Uint8Array(length);
  let skip = header;
  let at = 0;
  for (const b of chain.readable) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    frame.set(b.subarray(skip), at);
    at += b.length - skip;
    skip = 0;
  }
  return frame;
}

/**
 * Takes every available transmit chain, copies its frame into `frames` and
 * gives the buffer back at once (the driver may be waiting for it; the
 * frames go to the network after the lease is released). Notifications are
 * suppressed meanwhile and the ring checked again after turning them back
 * on, behind a fence, as the driver may add a chain at the same moment.
 * @returns false when a chain turned out malformed or outside guest
 *   memory: it is left unread, for the device to look at itself (and mark
 *   itself broken)
 */
export function drainTx(
  queue: SplitVirtqueue,
  header: number,
  counters: NicCounters,
  frames: Uint8Array[],
): boolean {
  let next = queue.lastAvailIdx;
  try {
    for (;;) {
      queue.suppressNotifications(true);
      for (let chain = queue.pop(); chain; chain = queue.pop()) {
        next = queue.lastAvailIdx;
        const frame = txFrame(chain, header);
        queue.push(chain.head, 0);
        if (!frame) continue;
        counters.txPackets++;
        counters.txBytes += frame.length;
        frames.push(frame);
      }
      queue.suppressNotifications(false);
      memoryFence();
      if (queue.pending() === 0) return true;
    }
  } catch (e) {
    if (!(e instanceof VirtqueueError || e instanceof GuestMemoryError)) throw e;
    queue.setIndices(next, queue.usedIdx);
    return false;
  }
}
