/**
 * The part every virtio device on the PCI transport shares: it owns its
 * {@link VirtioPci} (configuration space, legacy and modern registers,
 * queues, interrupt), resets through it, and saves its own fields in the
 * same versioned object as the transport's. A restore checks the device's
 * fields first, then lets the transport check and restore its own, and only
 * then commits the device's, so a refused state leaves the device untouched.
 *
 * @module
 */

import type { BusDevice, GuestMemory, IrqLine, Snapshotting } from "../types.ts";
import type { PciConfigSpace, PciFunction } from "../pci/config_space.ts";
import { StateShape } from "../state_shape.ts";
import {
  type VirtioDeviceModel,
  type VirtioModernOnlyLayout,
  VirtioPci,
  type VirtioPciState,
} from "./virtio_pci.ts";

/** Where a virtio PCI function's transport reaches the guest. */
export interface VirtioPciFunctionOptions {
  /** Guest RAM, for the rings and the buffers. */
  readonly memory: GuestMemory;
  /** The function's INTx line. */
  readonly irq: IrqLine;
  /** A modern-only PCI layout (see {@link VirtioModernOnlyLayout}); transitional when absent. */
  readonly modernOnly?: VirtioModernOnlyLayout;
}

/** A virtio device on PCI: the transport's parts and its share of snapshot and restore. */
export abstract class VirtioPciFunction<S extends VirtioPciState>
  implements PciFunction, Snapshotting<S> {
  /** The PCI transport (registers, queues, interrupt). */
  readonly transport: VirtioPci;
  /** Configuration space with the virtio capabilities. */
  readonly config: PciConfigSpace;
  /** Legacy registers, for the board to map at BAR0. */
  readonly legacyIo: BusDevice;
  /** Modern structures, for the board to map at BAR4. */
  readonly modernMmio: BusDevice;

  /**
   * @param name name in the devices pane and in state errors
   * @param device the device model the transport drives (its callbacks run only after construction)
   * @param options guest memory and interrupt line
   */
  constructor(readonly name: string, device: VirtioDeviceModel, options: VirtioPciFunctionOptions) {
    const { memory, irq, modernOnly } = options;
    this.transport = new VirtioPci({ name, device, memory, irq, modernOnly });
    this.config = this.transport.config;
    this.legacyIo = this.transport.legacyIo;
    this.modernMmio = this.transport.modernMmio;
  }

  /** PCI reset: configuration space, transport and queues back to power-on. */
  reset(): void {
    this.transport.reset();
  }

  /** The transport's state with the device's fields. */
  snapshot(): S {
    return { ...this.transport.snapshot(), ...this.deviceSnapshot() } as S;
  }

  /** Puts the transport and the device back; the whole state is checked before anything changes. */
  restore(state: S): void {
    // The device's fields ride in the transport's object and share its version.
    const commit = this.readState(StateShape.versioned(this.name, state, 1));
    this.transport.restore(state);
    commit();
  }

  /** A deep copy of the device's own fields (the transport's are added). */
  protected abstract deviceSnapshot(): Omit<S, keyof VirtioPciState>;

  /**
   * Checks the device's own fields of a saved state without changing anything.
   * @returns what puts them in place, called once the transport is restored
   * @throws {StateError} for a malformed field
   */
  protected abstract readState(s: StateShape): () => void;
}
