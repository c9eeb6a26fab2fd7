/**
 * Video RAM as guest memory: host memory that a KVM memory slot maps at
 * the framebuffer BAR's address, with dirty-page logging, so guest writes
 * to the linear framebuffer run at memory speed and the host still learns
 * which pages changed.
 *
 * @module
 */

import { dirtyBitmapBytes, KVM_MEM_LOG_DIRTY_PAGES } from "./dirty_log.ts";
import { type HostMemory, mapAnonymous, unmap } from "./host.ts";
import type { Vm } from "./kvm.ts";

/** Host memory for video RAM and the KVM slot that shows it to the guest. */
export class FramebufferSlot {
  /** The host mapping (zeroed, lazily backed). */
  readonly memory: HostMemory;
  /** The same memory as bytes, for the VGA device. */
  readonly bytes: Uint8Array;
  readonly #bitmap: Uint8Array<ArrayBuffer>;
  #gpa: number | null = null;
  #lostLog = false;

  /**
   * @param vm the VM whose slot this is
   * @param slot a KVM memory slot number no one else uses
   * @param size bytes of video RAM (a multiple of 4 KiB)
   */
  constructor(readonly vm: Vm, readonly slot: number, readonly size: number) {
    this.memory = mapAnonymous(size);
    this.bytes = new Uint8Array(this.memory.buffer, 0, size);
    this.#bitmap = new Uint8Array(dirtyBitmapBytes(size));
  }

  /** Guest-physical address the slot is mapped at, or null. */
  get address(): number | null {
    return this.#gpa;
  }

  /**
   * Maps the slot at `gpa` (moving it if mapped elsewhere), logging dirty pages.
   * @throws {KvmError} when KVM refuses, e.g. because the range overlaps another slot
   */
  map(gpa: number): void {
    if (this.#gpa === gpa) return;
    this.unmap();
    this.vm.setUserMemoryRegion(
      this.slot,
      gpa,
      this.size,
      this.memory.address,
      KVM_MEM_LOG_DIRTY_PAGES,
    );
    this.#gpa = gpa;
  }

  /** Removes the slot from the guest's address space (no-op when unmapped). */
  unmap(): void {
    if (this.#gpa === null) return;
    this.#gpa = null;
    this.vm.setUserMemoryRegion(this.slot, 0, 0, this.memory.address);
    // What the guest wrote since the last look is no longer in any log.
    this.#lostLog = true;
  }

  /**
   * Pages the guest wrote since the previous call (one bit per 4 KiB page,
   * KVM's layout); every page after a remap lost the log. The array is
   * reused by the next call.
   */
  takeDirty(): Uint8Array {
    if (this.#lostLog) {
      this.#lostLog = false;
      this.#bitmap.fill(0xff);
      if (this.#gpa !== null) this.vm.getDirtyLog(this.slot, new Uint8Array(this.#bitmap.length));
      return this.#bitmap;
    }
    if (this.#gpa === null) {
      this.#bitmap.fill(0);
      return this.#bitmap;
    }
    this.vm.getDirtyLog(this.slot, this.#bitmap);
    return this.#bitmap;
  }

  /** Frees the host memory; the VM must be closed or the slot unmapped first. */
  dispose(): void {
    unmap(this.memory);
  }
}
