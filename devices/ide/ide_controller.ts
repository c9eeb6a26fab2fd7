/**
 * The PIIX3 IDE controller (PCI function 1 of the PIIX3, 8086:7010): two
 * legacy-mode channels at 1F0h/3F6h (IRQ 14) and 170h/376h (IRQ 15), and the
 * bus master IDE registers at BAR4.
 *
 * @module
 */

import type { BusDevice, GuestMemory, IrqLine, Snapshotting } from "../types.ts";
import {
  PCI_COMMAND_MASTER,
  PciConfigSpace,
  type PciConfigState,
  type PciFunction,
  type PciFunctionState,
} from "../pci/config_space.ts";
import { StateShape } from "../state_shape.ts";
import { AtaChannel, type AtaChannelState, type DriveSpec } from "./ata_channel.ts";
import { BusMaster, type BusMasterState } from "./bus_master.ts";

/** PCI identity of the PIIX3 IDE function. */
export const PIIX3_IDE_VENDOR_ID = 0x8086;
/** @see PIIX3_IDE_VENDOR_ID */
export const PIIX3_IDE_DEVICE_ID = 0x7010;
/** Mass storage, IDE, prog-if 80h: both channels in legacy mode, bus master capable. */
export const PIIX3_IDE_CLASS = 0x010180;

/** Legacy port bases the board registers the channel devices at. */
export const IDE_PORTS = {
  primaryCommand: 0x1f0,
  primaryControl: 0x3f6,
  secondaryCommand: 0x170,
  secondaryControl: 0x376,
} as const;

/** Construction options of {@link IdeController}. */
export interface IdeControllerOptions {
  /** IRQ 14. */
  readonly primaryIrq: IrqLine;
  /** IRQ 15. */
  readonly secondaryIrq: IrqLine;
  /** Guest RAM for bus master DMA. */
  readonly memory: GuestMemory;
  /** Attached devices; absent slots are empty. */
  readonly drives: {
    readonly primaryMaster?: DriveSpec;
    readonly primarySlave?: DriveSpec;
    readonly secondaryMaster?: DriveSpec;
    readonly secondarySlave?: DriveSpec;
  };
}

/** Saved state of the PIIX3 IDE function (disk contents belong to the backends). */
export interface IdeControllerState extends PciFunctionState {
  readonly version: 1;
  readonly config: PciConfigState;
  readonly busMaster: BusMasterState;
  readonly primary: AtaChannelState;
  readonly secondary: AtaChannelState;
}

/** PIIX3 IDE: configuration space, two channels and the bus master. */
export class IdeController implements PciFunction, Snapshotting<IdeControllerState> {
  /** Name for the devices pane. */
  readonly name = "piix3-ide";
  /** PCI configuration space (BAR4: 16 I/O ports for the bus master). */
  readonly config: PciConfigSpace;
  /** Channel 0 (1F0h, IRQ 14). */
  readonly primary: AtaChannel;
  /** Channel 1 (170h, IRQ 15). */
  readonly secondary: AtaChannel;
  /** Bus master IDE registers, 16 ports at BAR4 (the board maps it on BAR changes). */
  readonly busMaster: BusMaster;

  readonly #memory: GuestMemory;
  readonly #drives: IdeControllerOptions["drives"];

  /** @param options IRQ lines, guest memory and drives */
  constructor(options: IdeControllerOptions) {
    this.#memory = options.memory;
    this.#drives = options.drives;
    this.config = new PciConfigSpace({
      vendorId: PIIX3_IDE_VENDOR_ID,
      deviceId: PIIX3_IDE_DEVICE_ID,
      classCode: PIIX3_IDE_CLASS,
      bars: [undefined, undefined, undefined, undefined, { kind: "io", size: 16 }],
      status: 0x0280, // 82371SB: fast back-to-back, medium DEVSEL (as QEMU reports)
    });
    // IDETIM primary/secondary (40h-43h) and SIDETIM (44h): timings firmware programs.
    this.config.setWritable(0x40, 5);
    const config = this.config;
    this.busMaster = new BusMaster({
      memory: options.memory,
      masterEnabled: () => (config.bytes[0x04] & PCI_COMMAND_MASTER) !== 0,
    });
    const bm = this.busMaster;
    const d = options.drives;
    this.primary = new AtaChannel({
      irq: options.primaryIrq,
      master: d.primaryMaster,
      slave: d.primarySlave,
      index: 0,
      dma: { dmaReady: () => bm.kick(0), interrupt: () => bm.interrupt(0) },
    });
    this.secondary = new AtaChannel({
      irq: options.secondaryIrq,
      master: d.secondaryMaster,
      slave: d.secondarySlave,
      index: 1,
      dma: { dmaReady: () => bm.kick(1), interrupt: () => bm.interrupt(1) },
    });
    bm.attach(0, this.primary);
    bm.attach(1, this.secondary);
  }

  /** Command block of the primary channel (register at 1F0h, 8 ports). */
  get primaryCommand(): BusDevice {
    return this.primary.command;
  }

  /** Control block of the primary channel (register at 3F6h, 1 port). */
  get primaryControl(): BusDevice {
    return this.primary.control;
  }

  /** Command block of the secondary channel (register at 170h, 8 ports). */
  get secondaryCommand(): BusDevice {
    return this.secondary.command;
  }

  /** Control block of the secondary channel (register at 376h, 1 port). */
  get secondaryControl(): BusDevice {
    return this.secondary.control;
  }

  /** Hardware reset: configuration space, bus master and every device. */
  reset(): void {
    this.config.reset();
    this.busMaster.reset();
    this.primary.hardReset();
    this.secondary.hardReset();
  }

  /** Flushes every drive's backend. */
  flush(): void {
    this.primary.flush();
    this.secondary.flush();
  }

  /** Configuration space, bus master and both channels. */
  snapshot(): IdeControllerState {
    return {
      version: 1,
      config: this.config.snapshot(),
      busMaster: this.busMaster.snapshot(),
      primary: this.primary.snapshot(),
      secondary: this.secondary.snapshot(),
    };
  }

  /**
   * Puts everything back: configuration space (BAR4 is reported to the
   * board), bus master, channels and their IRQ lines. Nothing moves until
   * the guest's next access, as after the access the state was saved at.
   */
  restore(state: IdeControllerState): void {
    StateShape.versioned("piix3 ide", state, 1);
    // Check the parts on scratch copies first: a refused state changes nothing.
    const scratch = new IdeController({
      primaryIrq: { set() {} },
      secondaryIrq: { set() {} },
      memory: this.#memory,
      drives: this.#drives,
    });
    scratch.config.restore(state.config);
    scratch.busMaster.restore(state.busMaster);
    scratch.primary.restore(state.primary);
    scratch.secondary.restore(state.secondary);
    this.config.restore(state.config);
    this.busMaster.restore(state.busMaster);
    this.primary.restore(state.primary);
    this.secondary.restore(state.secondary);
  }
}
