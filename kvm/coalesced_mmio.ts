/**
 * The coalesced MMIO ring: guest writes to zones registered with
 * {@link Vm.registerCoalescedMmio} do not exit; KVM appends them to a ring
 * in a page of the vCPU mapping (shared by every vCPU of the VM) and the
 * VMM replays them, oldest first, before it handles the next exit or looks
 * at device state. QEMU does this for the legacy VGA window: SeaVGABIOS
 * clearing the text screen is then some 20,000 exits fewer.
 *
 * KVM writes an entry, then moves `last`; the one consumer (vCPU 0's
 * thread, which handles every vCPU's exits) reads up to `last` and moves
 * `first`. When the ring is full the write exits as plain MMIO.
 *
 * @module
 */

import { KVM_CAP } from "./ioctls.ts";
import type { Vm } from "./kvm.ts";
import { LAYOUTS } from "./structs.ts";

const PAGE = 4096;
const RING = LAYOUTS.kvm_coalesced_mmio_ring;
const ENTRY = LAYOUTS.kvm_coalesced_mmio;
/** KVM_COALESCED_MMIO_MAX for 4 KiB pages. */
export const COALESCED_MMIO_MAX = Math.floor((PAGE - RING.size) / ENTRY.size);
const TWO_32 = 0x1_0000_0000;

/** A write KVM queued: guest-physical address, length, and where its data sits in {@link CoalescedMmioRing.view}. */
export type CoalescedWrite = (addr: number, len: number, view: DataView, dataAt: number) => void;

/** The ring as mapped through one vCPU's `kvm_run` area. */
export class CoalescedMmioRing {
  readonly #head: Int32Array;
  /** The ring page; entries' data is read from here. */
  readonly view: DataView;

  /**
   * @param runArea the vCPU's whole mapping (KVM_GET_VCPU_MMAP_SIZE bytes)
   * @param pageOffset what KVM_CHECK_EXTENSION(KVM_CAP_COALESCED_MMIO) returned
   * @throws {RangeError} when the mapping does not reach the ring's page
   */
  constructor(runArea: ArrayBuffer, pageOffset: number) {
    const at = pageOffset * PAGE;
    if (pageOffset <= 0 || at + PAGE > runArea.byteLength) {
      throw new RangeError(`no coalesced MMIO page at ${pageOffset} in the vCPU mapping`);
    }
    this.#head = new Int32Array(runArea, at + RING.fields.first, 2);
    this.view = new DataView(runArea, at, PAGE);
  }

  /** Whether KVM queued writes not yet replayed. */
  pending(): boolean {
    return Atomics.load(this.#head, 0) !== Atomics.load(this.#head, 1);
  }

  /** Replays every queued write through `write`, oldest first, freeing each entry. */
  drain(write: CoalescedWrite): void {
    const head = this.#head;
    const view = this.view;
    let first = Atomics.load(head, 0);
    while (first !== Atomics.load(head, 1)) {
      const e = RING.fields.coalesced_mmio + first * ENTRY.size;
      const addr = view.getUint32(e + ENTRY.fields.phys_addr, true) +
        view.getUint32(e + ENTRY.fields.phys_addr + 4, true) * TWO_32;
      write(addr, view.getUint32(e + ENTRY.fields.len, true), view, e + ENTRY.fields.data);
      first = (first + 1) % COALESCED_MMIO_MAX;
      Atomics.store(head, 0, first);
    }
  }
}

/**
 * Has KVM coalesce writes to `zones` and returns the ring to drain, or null
 * when KVM cannot (the writes then exit as before).
 */
export function coalesceMmio(
  vm: Vm,
  runArea: ArrayBuffer,
  zones: readonly { readonly base: number; readonly length: number }[],
): CoalescedMmioRing | null {
  const pageOffset = vm.kvm.checkExtension(KVM_CAP.KVM_CAP_COALESCED_MMIO);
  if (pageOffset <= 0 || (pageOffset + 1) * PAGE > runArea.byteLength) return null;
  const ring = new CoalescedMmioRing(runArea, pageOffset);
  for (const z of zones) vm.registerCoalescedMmio(z.base, z.length);
  return ring;
}
