/**
 * One IDE channel (cable): up to two devices sharing the command block
 * (eight ports, 1F0h/170h) and control block (3F6h/376h), drive selection,
 * device control (nIEN, SRST, HOB), EXECUTE DEVICE DIAGNOSTIC, and the INTRQ
 * line driven by the selected device.
 *
 * @module
 */

import type {
  AccessSize,
  BlockBackend,
  BusDevice,
  DeviceState,
  IrqLine,
  Snapshotting,
} from "../types.ts";
import { allOnes, readLanes, writeLanes } from "../byte_lanes.ts";
import { StateShape } from "../state_shape.ts";
import { AtaDisk, type AtaDiskState } from "./ata_disk.ts";
import { AtapiCdrom, type AtapiCdromState } from "./atapi_cdrom.ts";
import {
  CMD,
  DC_HOB,
  DC_NIEN,
  DC_SRST,
  REG_DATA,
  REG_DEVICE,
  REG_STATUS,
} from "./ata_constants.ts";
import type { DmaRequest, DriveConfig, DriveHost, IdeDrive } from "./ide_drive.ts";
import { TaskFile, type TaskFileState } from "./task_file.ts";

/** A saved device of a channel. */
export type DriveState = AtaDiskState | AtapiCdromState;

/** A slot without a device: it still latches register writes, and reads back as such. */
export interface EmptySlotState extends DeviceState {
  readonly version: 1;
  readonly kind: "empty";
  readonly taskFile: TaskFileState;
}

/**
 * Saved state of a channel. INTRQ is not saved: it follows from the
 * selected device's pending interrupt and device control, and restore
 * drives the line to that level.
 */
export interface AtaChannelState extends DeviceState {
  readonly version: 1;
  /** Device the device register selects. */
  readonly selected: 0 | 1;
  /** Device control register (nIEN, SRST, HOB). */
  readonly deviceControl: number;
  readonly master: DriveState | EmptySlotState;
  readonly slave: DriveState | EmptySlotState;
}

/** A device to attach to a channel. */
export interface DriveSpec {
  readonly kind: "disk" | "cdrom";
  readonly backend: BlockBackend;
  /** IDENTIFY model string (40 characters at most). */
  readonly model?: string;
  /** IDENTIFY serial number (20 characters at most). */
  readonly serial?: string;
  /** IDENTIFY firmware revision (8 characters at most). */
  readonly firmware?: string;
}

/** The channel's link to its bus master engine. */
export interface ChannelDmaHooks {
  /** A drive posted a DMA transfer. */
  dmaReady(): void;
  /** INTRQ was asserted (sets the bus master interrupt bit). */
  interrupt(): void;
}

/** Construction options of {@link AtaChannel}. */
export interface AtaChannelOptions {
  /** IRQ 14 for the primary channel, 15 for the secondary. */
  readonly irq: IrqLine;
  readonly master?: DriveSpec;
  readonly slave?: DriveSpec;
  /** 0 primary, 1 secondary: used for default serial numbers. */
  readonly index?: number;
  /** Bus master wiring; without it DMA requests wait forever. */
  readonly dma?: ChannelDmaHooks;
}

/** Two device slots behind one command block and one control block. */
export class AtaChannel implements Snapshotting<AtaChannelState> {
  /** Device 0 and device 1; undefined when absent. */
  readonly drives: readonly [IdeDrive | undefined, IdeDrive | undefined];
  /** The eight command block ports (data, error/features, ..., status/command). */
  readonly command: BusDevice;
  /** The device control / alternate status port. */
  readonly control: BusDevice;
  readonly #irq: IrqLine;
  readonly #dma: ChannelDmaHooks | undefined;
  // Absent devices still latch register writes; their reads come from here.
  readonly #shadow: [TaskFile | undefined, TaskFile | undefined];
  #selected: 0 | 1 = 0;
  #deviceControl = 0;
  #level = false;

  /** @param options IRQ line, devices and bus master hooks */
  constructor(options: AtaChannelOptions) {
    this.#irq = options.irq;
    this.#dma = options.dma;
    const host: DriveHost = {
      irqChanged: () => this.#updateIrq(),
      dmaReady: () => this.#dma?.dmaReady(),
    };
    const specs = [options.master, options.slave];
    const index = options.index ?? 0;
    const make = (unit: 0 | 1): IdeDrive | undefined => {
      const spec = specs[unit];
      if (!spec) return undefined;
      const config: DriveConfig = {
        backend: spec.backend,
        model: spec.model ?? (spec.kind === "disk" ? "VMRUN HARDDISK" : "VMRUN CD-ROM"),
        serial: spec.serial ?? `VMRUN-${index * 2 + unit}`,
        firmware: spec.firmware ?? "1.0",
        unit,
        peerPresent: specs[1 - unit] !== undefined,
        host,
      };
      return spec.kind === "disk" ? new AtaDisk(config) : new AtapiCdrom(config);
    };
    this.drives = [make(0), make(1)];
    this.#shadow = [
      this.drives[0] ? undefined : new TaskFile(),
      this.drives[1] ? undefined : new TaskFile(),
    ];
    this.#resetShadows();
    this.command = {
      read: (offset, size) => this.#readCommand(offset, size),
      write: (offset, size, value) => this.#writeCommand(offset, size, value),
      readBlock: (offset, size, dst) => this.#readBlock(offset, size, dst),
      writeBlock: (offset, size, src) => this.#writeBlock(offset, size, src),
    };
    this.control = {
      // Only the first byte decodes; the rest of a wider access floats high.
      read: (offset, size) => readLanes(offset, size, (at) => at === 0 ? this.#altStatus() : 0xff),
      write: (offset, _size, value) => {
        if (offset === 0) this.#writeDeviceControl(value & 0xff);
      },
    };
  }

  /** Which device the device register selects. */
  get selected(): 0 | 1 {
    return this.#selected;
  }

  /** The current level of the channel's INTRQ line. */
  get irqLevel(): boolean {
    return this.#level;
  }

  /** The selected drive's pending DMA transfer (for the bus master). */
  pendingDma(): DmaRequest | null {
    return this.drives[this.#selected]?.pendingDma ?? null;
  }

  /** Hardware reset: devices back to power-on state, device 0 selected, interrupts enabled. */
  hardReset(): void {
    this.#deviceControl = 0;
    this.#selected = 0;
    for (const d of this.drives) d?.powerOn();
    this.#resetShadows();
    this.#clearDeviceRegisters();
    this.#updateIrq();
  }

  /** Flushes every attached backend. */
  flush(): void {
    for (const d of this.drives) d?.flush();
  }

  /** Device selection, device control and both slots. */
  snapshot(): AtaChannelState {
    const slot = (unit: 0 | 1): DriveState | EmptySlotState =>
      (this.drives[unit]?.snapshot() as DriveState | undefined) ??
        { version: 1, kind: "empty", taskFile: this.#shadow[unit]!.snapshot() };
    return {
      version: 1,
      selected: this.#selected,
      deviceControl: this.#deviceControl,
      master: slot(0),
      slave: slot(1),
    };
  }

  /**
   * Puts both slots and the channel registers back and drives INTRQ to the
   * level they imply. Each slot must hold the kind of device attached.
   */
  restore(state: AtaChannelState): void {
    const s = StateShape.versioned("ide channel", state, 1);
    const selected = s.oneOf("selected", [0, 1] as const);
    const deviceControl = s.int("deviceControl", 0, 0xff);
    if (deviceControl & ~(DC_NIEN | DC_SRST | DC_HOB)) s.fail("deviceControl", "has unknown bits");
    const applies = (["master", "slave"] as const).map((key, unit) => {
      const drive = this.drives[unit];
      if (drive) return drive.prepareRestore(s.raw(key) as DriveState);
      StateShape.versioned(`ide channel ${key}`, s.raw(key), 1).oneOf("kind", ["empty"]);
      const taskFile = (s.raw(key) as EmptySlotState).taskFile;
      new TaskFile().restore(taskFile);
      return () => this.#shadow[unit]!.restore(taskFile);
    });
    for (const apply of applies) apply();
    this.#selected = selected;
    this.#deviceControl = deviceControl;
    this.#level = this.#irqLevel();
    this.#irq.set(this.#level);
  }

  #empty(): boolean {
    return !this.drives[0] && !this.drives[1];
  }

  #taskFile(unit: 0 | 1): TaskFile {
    return this.drives[unit]?.tf ?? this.#shadow[unit]!;
  }

  #resetShadows(): void {
    // An invalid signature and a passed diagnostic make hosts classify the slot as empty.
    for (const tf of this.#shadow) {
      if (!tf) continue;
      tf.setSignature(0xff, 0xff);
      tf.error = 0x01;
    }
  }

  #clearDeviceRegisters(): void {
    this.#taskFile(0).device = 0;
    this.#taskFile(1).device = 0;
  }

  #altStatus(): number {
    if (this.#empty()) return 0xff;
    return this.drives[this.#selected]?.status ?? 0;
  }

  #readCommand(offset: number, size: AccessSize): number {
    if (offset === REG_DATA) {
      const d = this.drives[this.#selected];
      return d ? d.readData(size) : allOnes(size);
    }
    return readLanes(offset, size, (at) => this.#readRegister(at & 7));
  }

  #readRegister(reg: number): number {
    if (this.#empty()) return 0xff;
    const d = this.drives[this.#selected];
    if (reg === REG_STATUS) return d ? d.readStatus() : 0;
    if (reg === REG_DATA) return 0xff;
    return this.#taskFile(this.#selected).read(reg, (this.#deviceControl & DC_HOB) !== 0);
  }

  #writeCommand(offset: number, size: AccessSize, value: number): void {
    if (offset === REG_DATA) {
      this.drives[this.#selected]?.writeData(size, value);
      return;
    }
    writeLanes(offset, size, value, (at, byte) => this.#writeRegister(at & 7, byte));
  }

  #writeRegister(reg: number, value: number): void {
    if (reg === REG_STATUS) return this.#writeCommandRegister(value);
    if (reg === REG_DATA) return;
    // Both devices latch every command block write; any such write clears HOB.
    this.#deviceControl &= ~DC_HOB;
    this.#taskFile(0).write(reg, value);
    this.#taskFile(1).write(reg, value);
    if (reg === REG_DEVICE) {
      this.#selected = (value >> 4) & 1 ? 1 : 0;
      this.#updateIrq();
    }
  }

  #writeCommandRegister(op: number): void {
    if (this.#deviceControl & DC_SRST) return;
    if (op === CMD.EXECUTE_DEVICE_DIAGNOSTIC) return this.#diagnose();
    this.drives[this.#selected]?.command(op);
  }

  #diagnose(): void {
    const [d0, d1] = this.drives;
    // Both devices run it whichever is selected; device 0 reports (device 1 when alone).
    d0?.diagnose(true);
    d1?.diagnose(!d0);
    this.#resetShadows();
    this.#updateIrq();
  }

  #writeDeviceControl(value: number): void {
    const wasReset = (this.#deviceControl & DC_SRST) !== 0;
    this.#deviceControl = value & (DC_NIEN | DC_SRST | DC_HOB);
    const reset = (value & DC_SRST) !== 0;
    if (reset && !wasReset) {
      for (const d of this.drives) d?.beginReset();
    } else if (!reset && wasReset) {
      for (const d of this.drives) d?.finishReset();
      this.#resetShadows();
      this.#clearDeviceRegisters();
      this.#selected = 0;
    }
    this.#updateIrq();
  }

  #readBlock(offset: number, size: AccessSize, dst: Uint8Array): void {
    const d = this.drives[this.#selected];
    if (offset === REG_DATA && d) return d.readDataBlock(size, dst);
    for (let i = 0; i + size <= dst.length; i += size) {
      const v = this.#readCommand(offset, size);
      writeLanes(i, size, v, (at, byte) => dst[at] = byte);
    }
  }

  #writeBlock(offset: number, size: AccessSize, src: Uint8Array): void {
    const d = this.drives[this.#selected];
    if (offset === REG_DATA && d) return d.writeDataBlock(size, src);
    for (let i = 0; i + size <= src.length; i += size) {
      this.#writeCommand(offset, size, readLanes(i, size, (at) => src[at]));
    }
  }

  /** Only the selected device drives INTRQ, and only while nIEN (and SRST) are clear. */
  #irqLevel(): boolean {
    const d = this.drives[this.#selected];
    return !!d && d.irqPending && !(this.#deviceControl & (DC_NIEN | DC_SRST));
  }

  #updateIrq(): void {
    const level = this.#irqLevel();
    if (level === this.#level) return;
    this.#level = level;
    this.#irq.set(level);
    if (level) this.#dma?.interrupt();
  }
}
