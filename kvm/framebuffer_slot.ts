/**
 * Video RAM as guest memory: host memory that a KVM memory slot maps at
 * the framebuffer BAR's address, with dirty-page logging, so guest writes
 * to the linear framebuffer run at memory speed and the host still learns
 * which pages changed. Windows (other slots over parts of the same memory,
 * such as the Cirrus's banks at 0xA0000) are logged into the same bitmap.
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
  /** Window slots by KVM slot number. */
  readonly #windows = new Map<number, Window>();
  /** Pages windows showed when they were unmapped: their writes since the last look are lost. */
  #lostPages: [first: number, count: number][] = [];

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
   * Shows `size` bytes of video RAM from `offset` at `gpa` through KVM slot
   * `slot` as well (moving the window if it shows something else), logging
   * dirty pages into {@link takeDirty}'s bitmap. `offset`, `gpa` and `size`
   * are whole pages.
   * @throws {KvmError} when KVM refuses
   */
  mapWindow(slot: number, gpa: number, offset: number, size: number): void {
    const w = this.#windows.get(slot);
    if (w && w.gpa === gpa && w.offset === offset && w.size === size) return;
    if (offset < 0 || offset + size > this.size || (offset | gpa | size) & 0xfff) {
      throw new RangeError(`window ${offset}+${size} at ${gpa} does not fit video RAM in pages`);
    }
    this.unmapWindow(slot);
    const hostAddress = this.memory.address + BigInt(offset);
    this.vm.setUserMemoryRegion(slot, gpa, size, hostAddress, KVM_MEM_LOG_DIRTY_PAGES);
    this.#windows.set(slot, { gpa, offset, size, bitmap: new Uint8Array(dirtyBitmapBytes(size)) });
  }

  /** Removes window `slot` (no-op when it is not mapped). */
  unmapWindow(slot: number): void {
    const w = this.#windows.get(slot);
    if (!w) return;
    this.#windows.delete(slot);
    this.vm.setUserMemoryRegion(slot, 0, 0, this.memory.address);
    this.#lostPages.push([w.offset >> 12, w.size >> 12]);
  }

  /**
   * Pages the guest wrote since the previous call (one bit per 4 KiB page,
   * KVM's layout), through the slot or a window; every page after a remap
   * lost the log. The array is reused by the next call.
   */
  takeDirty(): Uint8Array {
    const bitmap = this.#bitmap;
    if (this.#lostLog) {
      this.#lostLog = false;
      bitmap.fill(0xff);
      if (this.#gpa !== null) this.vm.getDirtyLog(this.slot, new Uint8Array(bitmap.length));
    } else if (this.#gpa === null) bitmap.fill(0);
    else this.vm.getDirtyLog(this.slot, bitmap);
    for (const [first, count] of this.#lostPages) markPages(bitmap, first, count);
    this.#lostPages = [];
    for (const [slot, w] of this.#windows) {
      this.vm.getDirtyLog(slot, w.bitmap);
      const first = w.offset >> 12;
      for (let p = 0; p < w.size >> 12; p++) {
        if (w.bitmap[p >> 3] & (1 << (p & 7))) markPages(bitmap, first + p, 1);
      }
    }
    return bitmap;
  }

  /** Frees the host memory; the VM must be closed or the slots unmapped first. */
  dispose(): void {
    unmap(this.memory);
  }
}

interface Window {
  readonly gpa: number;
  readonly offset: number;
  readonly size: number;
  readonly bitmap: Uint8Array<ArrayBuffer>;
}

function markPages(bitmap: Uint8Array, first: number, count: number): void {
  for (let p = first; p < first + count && p >> 3 < bitmap.length; p++) {
    bitmap[p >> 3] |= 1 << (p & 7);
  }
}
