/**
 * A PCI expansion ROM as read-only guest memory: a copy of the ROM in host
 * memory that a KVM memory slot (KVM_MEM_READONLY) shows at the ROM BAR's
 * address, so the firmware copying an option ROM (SeaBIOS: the VGA BIOS, an
 * iPXE ROM) reads it at memory speed instead of one exit per dword, as on
 * QEMU. Writes still exit as MMIO and reach the ROM's bus device, which
 * ignores them.
 *
 * @module
 */

import { type HostMemory, mapAnonymous, unmap } from "./host.ts";
import { KvmError } from "./errors.ts";
import type { Vm } from "./kvm.ts";

/** KVM_MEM_READONLY: guest writes to the slot exit as MMIO instead of landing. */
const KVM_MEM_READONLY = 2;
const PAGE = 4096;

/** One expansion ROM's KVM slot. */
export class RomSlot {
  #memory: HostMemory | null = null;
  #gpa: number | null = null;

  /**
   * @param vm the VM whose slot this is
   * @param slot a KVM memory slot number no one else uses
   * @param read the ROM's bytes, read once when first mapped (its contents never change)
   */
  constructor(
    readonly vm: Vm,
    readonly slot: number,
    readonly read: (offset: number) => number,
  ) {}

  /** Guest-physical address the slot is mapped at, or null. */
  get address(): number | null {
    return this.#gpa;
  }

  /**
   * Shows the ROM (`size` bytes, as the BAR decodes it) at `gpa`. Returns
   * false when it cannot (not whole pages, or KVM refuses: the guest put
   * the BAR over other memory); the bus then decodes the BAR alone.
   */
  map(gpa: number, size: number): boolean {
    this.unmap();
    if (gpa % PAGE !== 0 || size % PAGE !== 0 || size === 0) return false;
    const memory = this.#contents(size);
    try {
      this.vm.setUserMemoryRegion(this.slot, gpa, size, memory.address, KVM_MEM_READONLY);
    } catch (e) {
      if (e instanceof KvmError) return false;
      throw e;
    }
    this.#gpa = gpa;
    return true;
  }

  /** Removes the slot from the guest's address space (no-op when unmapped). */
  unmap(): void {
    if (this.#gpa === null) return;
    this.#gpa = null;
    this.vm.setUserMemoryRegion(this.slot, 0, 0, this.#memory!.address);
  }

  /** Gives the host memory back (the VM, and so the slot, is going away). */
  dispose(): void {
    if (this.#memory) unmap(this.#memory);
    this.#memory = null;
    this.#gpa = null;
  }

  #contents(size: number): HostMemory {
    if (this.#memory && this.#memory.size === size) return this.#memory;
    if (this.#memory) unmap(this.#memory);
    const memory = mapAnonymous(size);
    const bytes = new Uint8Array(memory.buffer, 0, size);
    for (let i = 0; i < size; i++) bytes[i] = this.read(i);
    this.#memory = memory;
    return memory;
  }
}
