/**
 * A virtqueue's driver notifications caught by the kernel (KVM_IOEVENTFD):
 * the guest's write to the notify register signals an eventfd another
 * thread polls, and the vCPU goes on without an exit. {@link NotifyBinding}
 * keeps the registration where the function decodes that register now (its
 * BARs move, the driver starts and stops), as QEMU's ioeventfd handling
 * does.
 *
 * @module
 */

import type { Vm } from "../kvm/kvm.ts";
import type { IoEventFdMatch } from "../kvm/structs.ts";

/** Where a queue's notify register decodes: a port and an MMIO address, null where it does not. */
export interface NotifyAddresses {
  readonly port: number | null;
  readonly mmio: number | null;
}

/** Nowhere: notifications go the ordinary way (an exit to the device). */
export const NOT_BOUND: NotifyAddresses = { port: null, mmio: null };

/** One eventfd registered for one queue's notifications on one VM. */
export class NotifyBinding {
  #vm: Vm | null = null;
  #port: number | null = null;
  #mmio: number | null = null;
  #failed = false;

  /**
   * @param fd the eventfd the kernel signals
   * @param queue the queue index (the value the driver writes, matched exactly)
   */
  constructor(readonly fd: number, readonly queue: number) {}

  /** Whether notifications are caught now (some address is registered). */
  get bound(): boolean {
    return this.#port !== null || this.#mmio !== null;
  }

  /**
   * Makes `at` the registered addresses on `vm`, replacing earlier ones (a
   * no-op when nothing changed, so it may run before every KVM_RUN). A VM
   * that refuses leaves the queue on ordinary exits for good.
   */
  bind(vm: Vm, at: NotifyAddresses): void {
    if (vm === this.#vm && at.port === this.#port && at.mmio === this.#mmio) return;
    if (this.#failed) return;
    // Another VM took the old one's place: its registrations went with it.
    if (vm !== this.#vm) this.#port = this.#mmio = null;
    this.#vm = vm;
    try {
      if (at.port !== this.#port) {
        if (this.#port !== null) vm.ioeventfd(this.#pio(this.#port), this.fd, true);
        this.#port = null;
        if (at.port !== null) vm.ioeventfd(this.#pio(at.port), this.fd);
        this.#port = at.port;
      }
      if (at.mmio !== this.#mmio) {
        if (this.#mmio !== null) vm.ioeventfd(this.#mem(this.#mmio), this.fd, true);
        this.#mmio = null;
        if (at.mmio !== null) vm.ioeventfd(this.#mem(at.mmio), this.fd);
        this.#mmio = at.mmio;
      }
    } catch {
      // Without the ioctl, every notification is an exit, as before: what did
      // register is let go, or the kernel would swallow those notifications.
      this.#failed = true;
      this.#release(vm);
    }
  }

  /** Removes whatever is registered, whatever the VM says to each removal. */
  #release(vm: Vm): void {
    const registered = [
      this.#port === null ? null : this.#pio(this.#port),
      this.#mmio === null ? null : this.#mem(this.#mmio),
    ];
    this.#port = this.#mmio = null;
    for (const match of registered) {
      if (!match) continue;
      try {
        vm.ioeventfd(match, this.fd, true);
      } catch {
        // Not registered after all.
      }
    }
  }

  #pio(port: number): IoEventFdMatch {
    return { address: port, length: 2, pio: true, datamatch: this.queue };
  }

  #mem(address: number): IoEventFdMatch {
    return { address, length: 2, pio: false, datamatch: this.queue };
  }
}
