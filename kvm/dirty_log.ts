/**
 * KVM's dirty-page log: the `struct kvm_dirty_log` argument of
 * KVM_GET_DIRTY_LOG, bitmap sizing, and turning a bitmap into page runs.
 *
 * A memory slot created with {@link KVM_MEM_LOG_DIRTY_PAGES} has one bit per
 * 4 KiB page (bit `p & 7` of byte `p >> 3`); KVM_GET_DIRTY_LOG copies the
 * bits out and clears them, so each call reports the pages the guest wrote
 * since the previous one. Writes made by the host through its own mapping
 * are not logged.
 *
 * @module
 */

import { LAYOUTS } from "./structs.ts";

/** `kvm_userspace_memory_region.flags`: log the slot's dirty pages. */
export const KVM_MEM_LOG_DIRTY_PAGES = 1;
/** Guest page size the log counts in. */
export const DIRTY_PAGE_SIZE = 4096;

/** Bytes of a dirty bitmap for a slot of `slotBytes`: one bit a page, in whole u64 words. */
export function dirtyBitmapBytes(slotBytes: number): number {
  const pages = Math.ceil(slotBytes / DIRTY_PAGE_SIZE);
  return Math.ceil(pages / 64) * 8;
}

/**
 * `struct kvm_dirty_log` for `slot`, pointing at `bitmapAddress` (the host
 * address of a buffer of {@link dirtyBitmapBytes} bytes).
 */
export function dirtyLogRequest(slot: number, bitmapAddress: bigint): Uint8Array<ArrayBuffer> {
  const f = LAYOUTS.kvm_dirty_log.fields;
  const bytes = new Uint8Array(LAYOUTS.kvm_dirty_log.size);
  const view = new DataView(bytes.buffer);
  view.setUint32(f.slot, slot, true);
  view.setBigUint64(f.dirty_bitmap, bitmapAddress, true);
  return bytes;
}
