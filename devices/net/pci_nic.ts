/**
 * What the e1000, RTL8139 and NE2000 models share on PCI: an Ethernet
 * controller's configuration space with QEMU's subsystem IDs and the iPXE
 * ROM BAR, INTA# (masked by the command register's Interrupt Disable), the
 * MAC, traffic counters and transmit sink, PCI reset, and the end of a
 * restore. Each model brings its registers, its power-on state and which
 * interrupt causes are pending.
 *
 * @module
 */

import type { BusDevice, IrqLine } from "../types.ts";
import { type BarSpec, PciConfigSpace, type PciFunctionState } from "../pci/config_space.ts";
import type { StateShape } from "../state_shape.ts";
import {
  type FrameSink,
  type Nic,
  type NicCounters,
  type NicOptions,
  readCounters,
  romBar,
  zeroCounters,
} from "./nic.ts";

/** What tells the models apart on PCI: their IDs and BARs. */
export interface NicIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revision: number;
  readonly bars: readonly BarSpec[];
}

/** The command register's Interrupt Disable bit. */
const PCI_COMMAND_INTX_DISABLE = 0x400;

/** A NIC model on PCI with INTA#; see the module documentation. */
export abstract class PciNic implements Nic {
  /** Name in the devices pane. */
  abstract readonly name: string;
  readonly config: PciConfigSpace;
  /** The expansion ROM (iPXE), empty when none. */
  readonly rom: BusDevice;
  readonly romSize: number;
  readonly mac: Uint8Array;
  readonly counters: NicCounters = zeroCounters();
  onRxReady: (() => void) | null = null;
  readonly #irq: IrqLine;
  readonly #transmit: FrameSink;
  #level = false;

  /**
   * @param id the model's PCI IDs and BARs
   * @param options MAC, interrupt line, transmit sink and ROM
   */
  constructor(id: NicIdentity, options: Omit<NicOptions, "memory">) {
    this.mac = Uint8Array.from(options.mac);
    this.#irq = options.irq;
    this.#transmit = options.transmit;
    const rom = romBar(options.rom);
    this.config = new PciConfigSpace({
      ...id,
      classCode: 0x020000,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      interruptPin: 1,
      romSize: rom.size,
    });
    this.rom = rom.device;
    this.romSize = rom.size;
  }

  abstract receive(frame: Uint8Array): boolean;

  /** PCI reset: configuration space and registers back to power-on. */
  reset(): void {
    this.config.reset();
    this.powerOn();
  }

  /** The model's registers and buffers at power-on (the MAC loaded). */
  protected abstract powerOn(): void;

  /** Whether an enabled interrupt cause is pending in the model's registers. */
  protected abstract pending(): boolean;

  /** Drives INTA# for {@link pending}; only changes reach the line. */
  protected updateIrq(): void {
    const level = this.#intxLevel();
    if (level === this.#level) return;
    this.#level = level;
    this.#irq.set(level);
  }

  #intxLevel(): boolean {
    return this.pending() && !(this.config.getU16(0x04) & PCI_COMMAND_INTX_DISABLE);
  }

  /** Hands a frame the guest transmitted to the network, and counts it. */
  protected send(frame: Uint8Array): void {
    this.counters.txPackets++;
    this.counters.txBytes += frame.length;
    this.#transmit(frame);
  }

  /** Counts a frame handed to the guest, `length` bytes as it came from the network. */
  protected countReceived(length: number): void {
    this.counters.rxPackets++;
    this.counters.rxBytes += length;
  }

  /**
   * The end of every model's restore, once the model has checked its own
   * fields of `state` (read through `s`): checks the counters and the
   * configuration space, then puts back configuration space, the model's
   * own state (`apply`) and the counters, and drives INTA# to the level
   * they give.
   * @throws {StateError} when the counters or configuration space are malformed
   */
  protected restoreFunction(s: StateShape, state: PciFunctionState, apply: () => void): void {
    const counters = readCounters(s.object("counters"));
    new PciConfigSpace(this.config.id).restore(state.config);
    this.config.restore(state.config);
    apply();
    Object.assign(this.counters, counters);
    this.#level = this.#intxLevel();
    this.#irq.set(this.#level);
  }
}
