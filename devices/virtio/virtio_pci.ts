/**
 * The virtio PCI transport of a transitional device (virtio 1.x §4.1), laid
 * out as QEMU presents virtio-blk-pci by default: the legacy register block
 * in I/O BAR0 and the modern virtio 1.0 structures, found through
 * vendor-specific PCI capabilities, in a 64-bit prefetchable memory BAR4.
 * Interrupts are INTx only (no MSI-X), so legacy device configuration starts
 * at offset 20. The driver picks an interface; the transport follows the one
 * it last wrote to.
 *
 * @module
 */

import {
  type AccessSize,
  type BusDevice,
  type GuestMemory,
  GuestMemoryError,
  type IrqLine,
  type Snapshotting,
} from "../types.ts";
import { allOnes, laneByte, readLanes } from "../byte_lanes.ts";
import {
  type BarSpec,
  PciConfigSpace,
  type PciConfigState,
  type PciFunction,
  type PciFunctionState,
  type PciIdentity,
} from "../pci/config_space.ts";
import { StateShape } from "../state_shape.ts";
import { SplitVirtqueue, VirtqueueError, type VirtqueueState } from "./virtqueue.ts";

/** PCI vendor (and subsystem vendor) ID of virtio devices. */
export const VIRTIO_PCI_VENDOR_ID = 0x1af4;

/** Device status: the guest noticed the device. */
export const VIRTIO_STATUS_ACKNOWLEDGE = 1;
/** Device status: the guest has a driver for it. */
export const VIRTIO_STATUS_DRIVER = 2;
/** Device status: the driver is ready; the device may use its queues. */
export const VIRTIO_STATUS_DRIVER_OK = 4;
/** Device status: feature negotiation is complete (modern interface only). */
export const VIRTIO_STATUS_FEATURES_OK = 8;
/** Device status: the device hit an error it cannot recover from without a reset. */
export const VIRTIO_STATUS_DEVICE_NEEDS_RESET = 64;
/** Device status: the driver gave up on the device. */
export const VIRTIO_STATUS_FAILED = 128;

/** Feature: descriptors may point at indirect tables. */
export const VIRTIO_F_INDIRECT_DESC = 1n << 28n;
/** Feature: used_event / avail_event notification suppression. */
export const VIRTIO_F_EVENT_IDX = 1n << 29n;
/** Feature: virtio 1.0 semantics; offered on the modern interface only. */
export const VIRTIO_F_VERSION_1 = 1n << 32n;

/** ISR bit 0: a queue has new used buffers. */
export const VIRTIO_ISR_QUEUE = 1;
/** ISR bit 1: the device configuration changed (or the device needs a reset). */
export const VIRTIO_ISR_CONFIG = 2;
/** What MSI-X vector registers read without MSI-X. */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;

/** virtio_pci_cap.cfg_type values. */
export const VIRTIO_PCI_CAP = {
  commonCfg: 1,
  notifyCfg: 2,
  isrCfg: 3,
  deviceCfg: 4,
  pciCfg: 5,
} as const;

/** Legacy register offsets in BAR0 (without MSI-X). */
export const VIRTIO_LEGACY = {
  hostFeatures: 0x00,
  guestFeatures: 0x04,
  queuePfn: 0x08,
  queueSize: 0x0c,
  queueSelect: 0x0e,
  queueNotify: 0x10,
  status: 0x12,
  isr: 0x13,
  config: 0x14,
} as const;

/** Offsets in the modern common configuration structure (virtio_pci_common_cfg). */
export const VIRTIO_COMMON = {
  deviceFeatureSelect: 0x00,
  deviceFeature: 0x04,
  driverFeatureSelect: 0x08,
  driverFeature: 0x0c,
  msixConfig: 0x10,
  numQueues: 0x12,
  deviceStatus: 0x14,
  configGeneration: 0x15,
  queueSelect: 0x16,
  queueSize: 0x18,
  queueMsixVector: 0x1a,
  queueEnable: 0x1c,
  queueNotifyOff: 0x1e,
  queueDesc: 0x20,
  queueDriver: 0x28,
  queueDevice: 0x30,
} as const;

/** Index of the memory BAR holding the modern structures. */
export const VIRTIO_MODERN_BAR = 4;
/** Size of that BAR. */
export const VIRTIO_MODERN_BAR_SIZE = 0x4000;
/** Offsets of the modern structures inside BAR4, one 4 KiB page each. */
export const VIRTIO_MODERN_LAYOUT = {
  common: 0x0000,
  isr: 0x1000,
  device: 0x2000,
  notify: 0x3000,
  regionSize: 0x1000,
} as const;
/** Queue n is notified by writing at notify + n * this. */
export const VIRTIO_NOTIFY_OFF_MULTIPLIER = 4;
/** PCI device ID of a modern-only function: this plus the virtio device ID. */
export const VIRTIO_PCI_MODERN_DEVICE_ID_BASE = 0x1040;

/** Where the modern structures sit inside their memory BAR. */
export interface VirtioModernRegions {
  readonly common: readonly [offset: number, length: number];
  readonly isr: readonly [offset: number, length: number];
  readonly device: readonly [offset: number, length: number];
  readonly notify: readonly [offset: number, length: number];
}

/**
 * A modern-only (virtio 1.0, `disable-legacy=on`) function's PCI layout, for
 * devices that keep BAR0 for themselves as QEMU's virtio-vga does: no legacy
 * I/O BAR, device ID 0x1040 + type, revision 1, and the modern structures in
 * a 64-bit prefetchable memory BAR of the device's choosing.
 */
export interface VirtioModernOnlyLayout {
  /** Index of the memory BAR holding the modern structures. */
  readonly bar: number;
  /** Its size (a power of two). */
  readonly barSize: number;
  /** The structures' places in it (they may leave room for the device's own registers). */
  readonly regions: VirtioModernRegions;
  /** The device's other BARs (index → spec), declared in configuration space as they are. */
  readonly otherBars?: Readonly<Record<number, BarSpec>>;
  /** PCI subsystem ID (QEMU's modern functions keep its default, 0x1100). */
  readonly subsystemId: number;
}

const DEFAULT_REGIONS: VirtioModernRegions = {
  common: [VIRTIO_MODERN_LAYOUT.common, VIRTIO_MODERN_LAYOUT.regionSize],
  isr: [VIRTIO_MODERN_LAYOUT.isr, VIRTIO_MODERN_LAYOUT.regionSize],
  device: [VIRTIO_MODERN_LAYOUT.device, VIRTIO_MODERN_LAYOUT.regionSize],
  notify: [VIRTIO_MODERN_LAYOUT.notify, VIRTIO_MODERN_LAYOUT.regionSize],
};

// Capability chain in configuration space.
const CAP_COMMON = 0x40;
const CAP_NOTIFY = 0x50;
const CAP_ISR = 0x64;
const CAP_DEVICE = 0x74;
const CAP_PCI_CFG = 0x84;
const PCI_CFG_DATA = CAP_PCI_CFG + 16;
const PCI_STATUS = 0x06;
const PCI_STATUS_INTERRUPT = 0x08;
const PCI_STATUS_CAP_LIST = 0x10;
const PCI_CAPABILITY_POINTER = 0x34;
const PCI_CAP_ID_VNDR = 0x09;
const PCI_COMMAND_INTX_DISABLE = 0x400;

/** What a virtio device type supplies to the transport. */
export interface VirtioDeviceModel {
  /** Virtio device ID (2 = block); also the PCI subsystem ID. */
  readonly deviceType: number;
  /** Transitional PCI device ID (0x1001 for block). */
  readonly legacyDeviceId: number;
  /** PCI class code: class << 16 | subclass << 8 | prog-if. */
  readonly classCode: number;
  /** Feature bits offered; the transport adds VIRTIO_F_VERSION_1 on the modern side. */
  readonly features: bigint;
  /** Maximum size of each virtqueue (powers of two). */
  readonly queueSizes: readonly number[];
  /** Bytes of device-specific configuration. */
  readonly configSize: number;
  /** Size of the PCI expansion ROM (a power of two), 0 or absent for none. */
  readonly romSize?: number;
  /** Reads device configuration; the access lies within `configSize`. */
  readConfig(offset: number, size: AccessSize): number;
  /** Writes device configuration; the access lies within `configSize`. */
  writeConfig(offset: number, size: AccessSize, value: number): void;
  /**
   * Handles a notification of queue `index`; returns true when the driver
   * should get a used-buffer interrupt. May throw VirtqueueError or
   * GuestMemoryError, which mark the device as needing a reset.
   */
  processQueue(index: number, queue: SplitVirtqueue, features: bigint): boolean;
  /** Forgets per-driver state; called on every device reset. */
  reset(): void;
}

/** Constructor options of {@link VirtioPci}. */
export interface VirtioPciOptions {
  /** Short name for the devices pane. */
  readonly name: string;
  readonly device: VirtioDeviceModel;
  readonly memory: GuestMemory;
  /** The function's INTx line (INTA#). */
  readonly irq: IrqLine;
  /** A modern-only layout; absent for the transitional one (legacy BAR0, modern BAR4). */
  readonly modernOnly?: VirtioModernOnlyLayout;
}

/** The interface the driver is using, null after reset until it writes a register. */
export type VirtioInterface = "legacy" | "modern" | null;

/**
 * Saved state of a virtio PCI transport. The INTx level and the PCI status
 * interrupt bit follow from `isr` and the command register; the queues'
 * indirect/event-index modes from the negotiated features.
 */
export interface VirtioPciState extends PciFunctionState {
  readonly version: 1;
  readonly config: PciConfigState;
  readonly interface: VirtioInterface;
  /** Device status register. */
  readonly status: number;
  /** Pending ISR bits. */
  readonly isr: number;
  /** Features the driver wrote, as a hexadecimal string (64 bits do not fit a number). */
  readonly driverFeatures: string;
  readonly deviceFeatureSelect: number;
  readonly driverFeatureSelect: number;
  readonly queueSelect: number;
  /** Why the device stopped processing queues, or null while healthy. */
  readonly broken: string | null;
  readonly queues: readonly VirtqueueState[];
}

type Field = readonly [start: number, width: number];

const LEGACY_FIELDS: readonly Field[] = [
  [0x00, 4],
  [0x04, 4],
  [0x08, 4],
  [0x0c, 2],
  [0x0e, 2],
  [0x10, 2],
  [0x12, 1],
  [0x13, 1],
];

// 64-bit queue addresses are accessed as two 32-bit halves.
const COMMON_FIELDS: readonly Field[] = [
  [0x00, 4],
  [0x04, 4],
  [0x08, 4],
  [0x0c, 4],
  [0x10, 2],
  [0x12, 2],
  [0x14, 1],
  [0x15, 1],
  [0x16, 2],
  [0x18, 2],
  [0x1a, 2],
  [0x1c, 2],
  [0x1e, 2],
  [0x20, 4],
  [0x24, 4],
  [0x28, 4],
  [0x2c, 4],
  [0x30, 4],
  [0x34, 4],
];

/** A virtio PCI function: configuration space, both register interfaces, queues and INTx. */
export class VirtioPci implements PciFunction, Snapshotting<VirtioPciState> {
  /** Short name for the devices pane. */
  readonly name: string;
  /** Configuration space with the virtio capability chain. */
  readonly config: PciConfigSpace;
  /** The legacy register block, for the board to map at BAR0. */
  readonly legacyIo: BusDevice;
  /** The modern structures, for the board to map at BAR4. */
  readonly modernMmio: BusDevice;
  /** The device's virtqueues. */
  readonly queues: readonly SplitVirtqueue[];
  /** Size of the legacy I/O BAR. */
  readonly legacyIoSize: number;
  /** Index of the memory BAR holding the modern structures. */
  readonly modernBar: number;
  /** Size of that BAR. */
  readonly modernBarSize: number;
  /** Where the modern structures sit in it. */
  readonly regions: VirtioModernRegions;
  readonly #device: VirtioDeviceModel;
  readonly #irq: IrqLine;
  readonly #modernOnly: boolean;
  #status = 0;
  #isr = 0;
  #driverFeatures = 0n;
  #deviceFeatureSelect = 0;
  #driverFeatureSelect = 0;
  #queueSelect = 0;
  #mode: VirtioInterface = null;
  #broken: string | null = null;
  #level = false;

  /** @param options the device model, guest memory and interrupt line */
  constructor(options: VirtioPciOptions) {
    const device = options.device;
    this.name = options.name;
    this.#device = device;
    this.#irq = options.irq;
    this.#modernOnly = options.modernOnly !== undefined;
    this.queues = device.queueSizes.map((n) => new SplitVirtqueue(options.memory, n));
    let ioSize = 32;
    while (ioSize < VIRTIO_LEGACY.config + device.configSize) ioSize *= 2;
    this.legacyIoSize = ioSize;
    // A modern-only function has no legacy registers (nothing maps them).
    this.legacyIo = options.modernOnly
      ? { read: (_offset, size) => allOnes(size), write: () => {} }
      : {
        read: (offset, size) => this.#legacyRead(offset, size),
        write: (offset, size, value) => this.#legacyWrite(offset, size, value),
      };
    this.modernMmio = {
      read: (offset, size) => this.#modernRead(offset, size),
      write: (offset, size, value) => this.#modernWrite(offset, size, value),
    };
    const only = options.modernOnly;
    this.modernBar = only?.bar ?? VIRTIO_MODERN_BAR;
    this.modernBarSize = only?.barSize ?? VIRTIO_MODERN_BAR_SIZE;
    this.regions = only?.regions ?? DEFAULT_REGIONS;
    const bars: (BarSpec | undefined)[] = [];
    if (only) {
      for (const [i, bar] of Object.entries(only.otherBars ?? {})) bars[Number(i)] = bar;
    } else {
      bars[0] = { kind: "io", size: ioSize };
    }
    bars[this.modernBar] = { kind: "mem64", size: this.modernBarSize, prefetchable: true };
    this.config = new VirtioConfigSpace(
      {
        vendorId: VIRTIO_PCI_VENDOR_ID,
        deviceId: only
          ? VIRTIO_PCI_MODERN_DEVICE_ID_BASE + device.deviceType
          : device.legacyDeviceId,
        classCode: device.classCode,
        revision: only ? 1 : 0,
        subsystemVendorId: VIRTIO_PCI_VENDOR_ID,
        subsystemId: only ? only.subsystemId : device.deviceType,
        interruptPin: 1,
        bars,
        romSize: device.romSize ?? 0,
      },
      {
        bar: (index) =>
          index === 0 && !only
            ? { device: this.legacyIo, size: ioSize }
            : index === this.modernBar
            ? { device: this.modernMmio, size: this.modernBarSize }
            : undefined,
        commandChanged: () => this.#updateIrq(),
        interruptPending: () => this.#isr !== 0,
      },
      this.modernBar,
      this.regions,
    );
  }

  /** Device status register. */
  get status(): number {
    return this.#status;
  }

  /** Pending ISR bits (reading them here does not clear them). */
  get isr(): number {
    return this.#isr;
  }

  /** The interface the driver is using. */
  get mode(): VirtioInterface {
    return this.#mode;
  }

  /** Features offered on the modern interface (VERSION_1 included). */
  get deviceFeatures(): bigint {
    return this.#device.features | VIRTIO_F_VERSION_1;
  }

  /** Features the driver wrote (accepted or not yet). */
  get driverFeatures(): bigint {
    return this.#driverFeatures;
  }

  /**
   * Features in force: what the driver wrote, once the legacy interface took
   * it or the modern one accepted it with FEATURES_OK; none before.
   */
  get negotiatedFeatures(): bigint {
    if (this.#mode === "legacy" || this.#status & VIRTIO_STATUS_FEATURES_OK) {
      return this.#driverFeatures;
    }
    return 0n;
  }

  /**
   * Where a driver notifies queue `index` as the function decodes now: the
   * legacy register's port and the modern notify address (null where that
   * interface does not decode). Either write carries the queue index in 16
   * bits. For a VMM that lets the kernel catch them (KVM_IOEVENTFD).
   */
  notifyAddresses(index: number): { port: number | null; mmio: number | null } {
    const io = this.#modernOnly ? null : this.config.barBase(0);
    const mem = this.config.barBase(this.modernBar);
    return {
      port: io === null ? null : io + VIRTIO_LEGACY.queueNotify,
      mmio: mem === null
        ? null
        : mem + this.regions.notify[0] + index * VIRTIO_NOTIFY_OFF_MULTIPLIER,
    };
  }

  /** Why the device stopped processing queues, or null while healthy. */
  get broken(): string | null {
    return this.#broken;
  }

  /** Raises the used-buffer interrupt (ISR bit 0). */
  signalUsed(): void {
    this.#isr |= VIRTIO_ISR_QUEUE;
    this.#updateIrq();
  }

  /** Raises the configuration-change interrupt (ISR bit 1). */
  signalConfigChange(): void {
    this.#isr |= VIRTIO_ISR_CONFIG;
    this.#updateIrq();
  }

  /** A driver notification for queue `index`: the device processes it synchronously. */
  notify(index: number): void {
    const queue = this.queues[index];
    if (!queue?.ready || this.#broken !== null) return;
    // Legacy drivers may use queues before DRIVER_OK; modern ones may not.
    if (!(this.#status & VIRTIO_STATUS_DRIVER_OK) && this.#mode !== "legacy") return;
    this.#applyQueueFeatures();
    try {
      if (this.#device.processQueue(index, queue, this.negotiatedFeatures)) this.signalUsed();
    } catch (e) {
      if (!(e instanceof VirtqueueError || e instanceof GuestMemoryError)) throw e;
      this.#markBroken(`queue ${index}: ${e.message}`);
    }
  }

  /** PCI reset: power-on configuration space and a device reset. */
  reset(): void {
    this.config.reset();
    this.#deviceReset();
  }

  /** Configuration space, registers, feature negotiation and queues. */
  snapshot(): VirtioPciState {
    return {
      version: 1,
      config: this.config.snapshot(),
      interface: this.#mode,
      status: this.#status,
      isr: this.#isr,
      driverFeatures: `0x${this.#driverFeatures.toString(16)}`,
      deviceFeatureSelect: this.#deviceFeatureSelect,
      driverFeatureSelect: this.#driverFeatureSelect,
      queueSelect: this.#queueSelect,
      broken: this.#broken,
      queues: this.queues.map((q) => q.snapshot()),
    };
  }

  /**
   * Puts everything back and drives INTx to the level the ISR and command
   * register imply. The device model's own state is its business.
   */
  restore(state: VirtioPciState): void {
    const s = StateShape.versioned(this.name, state, 1);
    const modes = this.#modernOnly
      ? ["modern", null] as const
      : ["legacy", "modern", null] as const;
    const mode = s.oneOf("interface", modes);
    const status = s.int("status", 0, 0xff);
    const isr = s.int("isr", 0, VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
    const features = s.string("driverFeatures");
    if (!/^0x[0-9a-f]{1,16}$/.test(features)) {
      s.fail("driverFeatures", "must be 0x and 1-16 hex digits");
    }
    const deviceFeatureSelect = s.int("deviceFeatureSelect", 0, 0xffffffff);
    const driverFeatureSelect = s.int("driverFeatureSelect", 0, 0xffffffff);
    const queueSelect = s.int("queueSelect", 0, 0xffff);
    const broken = s.stringOrNull("broken");
    const queues = s.array("queues", this.queues.length);
    // Check the parts on scratch copies so a refused state changes nothing.
    new PciConfigSpace(this.config.id).restore(state.config);
    this.queues.forEach((q, i) => {
      new SplitVirtqueue(q.memory, q.maxSize).restore(queues[i] as VirtqueueState);
    });
    this.config.restore(state.config);
    this.queues.forEach((q, i) => q.restore(queues[i] as VirtqueueState));
    this.#mode = mode;
    this.#status = status;
    this.#isr = isr;
    this.#driverFeatures = BigInt(features);
    this.#deviceFeatureSelect = deviceFeatureSelect;
    this.#driverFeatureSelect = driverFeatureSelect;
    this.#queueSelect = queueSelect;
    this.#broken = broken;
    this.#applyQueueFeatures();
    this.#level = isr !== 0 && !(this.config.getU16(0x04) & PCI_COMMAND_INTX_DISABLE);
    this.#irq.set(this.#level);
  }

  #deviceReset(): void {
    this.#status = 0;
    this.#driverFeatures = 0n;
    this.#deviceFeatureSelect = this.#driverFeatureSelect = this.#queueSelect = 0;
    this.#mode = null;
    this.#broken = null;
    for (const q of this.queues) q.reset();
    this.#applyQueueFeatures();
    this.#isr = 0;
    this.#updateIrq();
    this.#device.reset();
  }

  #markBroken(reason: string): void {
    this.#broken = reason;
    if (this.#mode === "legacy") return; // the legacy interface has no way to say so
    this.#status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    if (this.#status & VIRTIO_STATUS_DRIVER_OK) this.signalConfigChange();
  }

  #updateIrq(): void {
    // The PCI status interrupt bit is read from the ISR (VirtioConfigSpace).
    const level = this.#isr !== 0 && !(this.config.getU16(0x04) & PCI_COMMAND_INTX_DISABLE);
    if (level === this.#level) return;
    this.#level = level;
    this.#irq.set(level);
  }

  #readIsr(): number {
    const value = this.#isr;
    this.#isr = 0;
    this.#updateIrq();
    return value;
  }

  /** Brings the queues' descriptor modes in step with the negotiated features. */
  #applyQueueFeatures(): void {
    const f = this.negotiatedFeatures;
    for (const q of this.queues) {
      q.indirect = (f & VIRTIO_F_INDIRECT_DESC) !== 0n;
      q.eventIdx = (f & VIRTIO_F_EVENT_IDX) !== 0n;
    }
  }

  #writeStatus(value: number): void {
    if (value === 0) {
      this.#deviceReset();
      return;
    }
    // DEVICE_NEEDS_RESET belongs to the device; the driver cannot set or clear it.
    let next = (value & 0xff & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) |
      (this.#status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    const settingFeaturesOk = (next & VIRTIO_STATUS_FEATURES_OK) &&
      !(this.#status & VIRTIO_STATUS_FEATURES_OK);
    if (settingFeaturesOk && this.#mode === "modern") {
      const d = this.#driverFeatures;
      // Refusing leaves FEATURES_OK clear for the driver to read back.
      if ((d & ~this.deviceFeatures) !== 0n || (d & VIRTIO_F_VERSION_1) === 0n) {
        next &= ~VIRTIO_STATUS_FEATURES_OK;
      }
    }
    this.#status = next;
    this.#applyQueueFeatures();
  }

  #selectedQueue(): SplitVirtqueue | undefined {
    return this.queues[this.#queueSelect];
  }

  #readDeviceConfig(offset: number, size: AccessSize): number | undefined {
    if (offset < 0 || offset + size > this.#device.configSize) return undefined;
    return this.#device.readConfig(offset, size);
  }

  #writeDeviceConfig(offset: number, size: AccessSize, value: number): void {
    if (offset < 0 || offset + size > this.#device.configSize) return;
    this.#device.writeConfig(offset, size, value);
  }

  // --- legacy interface (BAR0) ---

  #legacyRead(offset: number, size: AccessSize): number {
    if (offset >= VIRTIO_LEGACY.config) {
      return this.#readDeviceConfig(offset - VIRTIO_LEGACY.config, size) ?? allOnes(size);
    }
    return readFields(LEGACY_FIELDS, (start) => this.#legacyField(start), offset, size, 0xff);
  }

  #legacyField(start: number): number {
    const q = this.#selectedQueue();
    switch (start) {
      case VIRTIO_LEGACY.hostFeatures:
        return Number(this.#device.features & 0xffffffffn);
      case VIRTIO_LEGACY.guestFeatures:
        return Number(this.#driverFeatures & 0xffffffffn);
      case VIRTIO_LEGACY.queuePfn:
        return q?.legacyPfn ?? 0;
      case VIRTIO_LEGACY.queueSize:
        return q?.maxSize ?? 0;
      case VIRTIO_LEGACY.queueSelect:
        return this.#queueSelect;
      case VIRTIO_LEGACY.status:
        return this.#status;
      case VIRTIO_LEGACY.isr:
        return this.#readIsr();
      default:
        return 0;
    }
  }

  #legacyWrite(offset: number, size: AccessSize, value: number): void {
    if (offset >= VIRTIO_LEGACY.config) {
      this.#writeDeviceConfig(offset - VIRTIO_LEGACY.config, size, value);
      return;
    }
    if (!LEGACY_FIELDS.some(([s, w]) => s === offset && w === size)) return;
    this.#mode = "legacy";
    switch (offset) {
      case VIRTIO_LEGACY.guestFeatures:
        // No FEATURES_OK in legacy: the write takes effect at once.
        this.#driverFeatures = BigInt(value >>> 0) & this.#device.features & 0xffffffffn;
        this.#applyQueueFeatures();
        break;
      case VIRTIO_LEGACY.queuePfn:
        this.#selectedQueue()?.setLegacyPfn(value >>> 0);
        break;
      case VIRTIO_LEGACY.queueSelect:
        this.#queueSelect = value;
        break;
      case VIRTIO_LEGACY.queueNotify:
        this.notify(value);
        break;
      case VIRTIO_LEGACY.status:
        this.#writeStatus(value);
        break;
    }
  }

  // --- modern interface (BAR4) ---

  #modernRead(offset: number, size: AccessSize): number {
    const { common, isr, device, notify } = this.regions;
    if (within(offset, common)) {
      return readFields(COMMON_FIELDS, (s) => this.#commonField(s), offset - common[0], size, 0);
    }
    if (within(offset, isr)) return offset === isr[0] ? this.#readIsr() : 0;
    if (within(offset, device)) return this.#readDeviceConfig(offset - device[0], size) ?? 0;
    if (within(offset, notify)) return 0;
    return allOnes(size);
  }

  #modernWrite(offset: number, size: AccessSize, value: number): void {
    const { common, device, notify } = this.regions;
    if (within(offset, common)) {
      this.#commonWrite(offset - common[0], size, value);
    } else if (within(offset, device)) {
      this.#writeDeviceConfig(offset - device[0], size, value);
    } else if (within(offset, notify)) {
      const rel = offset - notify[0];
      // The address names the queue (queue_notify_off = queue index).
      if (rel % VIRTIO_NOTIFY_OFF_MULTIPLIER === 0) this.notify(rel / VIRTIO_NOTIFY_OFF_MULTIPLIER);
    }
  }

  #commonField(start: number): number {
    const q = this.#selectedQueue();
    const C = VIRTIO_COMMON;
    switch (start) {
      case C.deviceFeatureSelect:
        return this.#deviceFeatureSelect;
      case C.deviceFeature:
        return featureWindow(this.deviceFeatures, this.#deviceFeatureSelect);
      case C.driverFeatureSelect:
        return this.#driverFeatureSelect;
      case C.driverFeature:
        return featureWindow(this.#driverFeatures, this.#driverFeatureSelect);
      case C.msixConfig:
      case C.queueMsixVector:
        return VIRTIO_MSI_NO_VECTOR;
      case C.numQueues:
        return this.queues.length;
      case C.deviceStatus:
        return this.#status;
      case C.configGeneration:
        return 0; // the configuration never changes under the driver
      case C.queueSelect:
        return this.#queueSelect;
      case C.queueSize:
        return q?.size ?? 0; // 0 means "no such queue"
      case C.queueEnable:
        return q?.ready ? 1 : 0;
      case C.queueNotifyOff:
        return q ? this.#queueSelect : 0;
      case C.queueDesc:
        return low32(q?.descAddr ?? 0);
      case C.queueDesc + 4:
        return high32(q?.descAddr ?? 0);
      case C.queueDriver:
        return low32(q?.driverAddr ?? 0);
      case C.queueDriver + 4:
        return high32(q?.driverAddr ?? 0);
      case C.queueDevice:
        return low32(q?.deviceAddr ?? 0);
      case C.queueDevice + 4:
        return high32(q?.deviceAddr ?? 0);
      default:
        return 0;
    }
  }

  #commonWrite(offset: number, size: AccessSize, value: number): void {
    if (!COMMON_FIELDS.some(([s, w]) => s === offset && w === size)) return;
    this.#mode = "modern";
    const C = VIRTIO_COMMON;
    const q = this.#selectedQueue();
    // Queue configuration is frozen once the queue is enabled.
    const qw = q && !q.ready ? q : undefined;
    switch (offset) {
      case C.deviceFeatureSelect:
        this.#deviceFeatureSelect = value >>> 0;
        break;
      case C.driverFeatureSelect:
        this.#driverFeatureSelect = value >>> 0;
        break;
      case C.driverFeature:
        if (this.#status & VIRTIO_STATUS_FEATURES_OK || this.#driverFeatureSelect > 1) break;
        this.#driverFeatures = setFeatureWindow(
          this.#driverFeatures,
          this.#driverFeatureSelect,
          value,
        );
        break;
      case C.deviceStatus:
        this.#writeStatus(value);
        break;
      case C.queueSelect:
        this.#queueSelect = value;
        break;
      case C.queueSize:
        // Split queues must be powers of two no larger than the maximum.
        if (qw && value > 0 && value <= qw.maxSize && (value & (value - 1)) === 0) qw.size = value;
        break;
      case C.queueEnable:
        if (qw && value === 1) qw.ready = true;
        break;
      case C.queueDesc:
      case C.queueDesc + 4:
        if (qw) qw.descAddr = setHalf(qw.descAddr, offset - C.queueDesc, value);
        break;
      case C.queueDriver:
      case C.queueDriver + 4:
        if (qw) qw.driverAddr = setHalf(qw.driverAddr, offset - C.queueDriver, value);
        break;
      case C.queueDevice:
      case C.queueDevice + 4:
        if (qw) qw.deviceAddr = setHalf(qw.deviceAddr, offset - C.queueDevice, value);
        break;
    }
  }
}

interface ConfigHooks {
  /** The register block behind a BAR, for the VIRTIO_PCI_CAP_PCI_CFG window. */
  bar(index: number): { device: BusDevice; size: number } | undefined;
  /** The command register changed (INTx disable may have flipped). */
  commandChanged(): void;
  /** Whether the ISR has bits set (the status register's interrupt bit). */
  interruptPending(): boolean;
}

/**
 * Configuration space with the virtio capability chain, rebuilt after every
 * reset, and the VIRTIO_PCI_CAP_PCI_CFG window, which turns accesses to
 * pci_cfg_data into BAR accesses (needed by firmware that cannot reach BAR4).
 */
class VirtioConfigSpace extends PciConfigSpace {
  readonly #hooks: ConfigHooks;
  readonly #bar: number;
  readonly #regions: VirtioModernRegions;

  constructor(id: PciIdentity, hooks: ConfigHooks, bar: number, regions: VirtioModernRegions) {
    super(id);
    this.#hooks = hooks;
    this.#bar = bar;
    this.#regions = regions;
    // The window's bar, offset, length and data fields are driver-writable.
    this.setWritable(CAP_PCI_CFG + 4, 1);
    this.setWritable(CAP_PCI_CFG + 8, 12);
    this.#installCapabilities();
  }

  override read(offset: number, size: AccessSize): number {
    if (overlaps(offset, size, PCI_CFG_DATA, 4)) this.#windowAccess(false);
    if (!overlaps(offset, size, PCI_STATUS, 1)) return super.read(offset, size);
    return readLanes(offset, size, (at) => {
      const byte = super.read(at, 1);
      if (at !== PCI_STATUS) return byte;
      return this.#hooks.interruptPending() ? byte | PCI_STATUS_INTERRUPT : byte;
    });
  }

  override write(offset: number, size: AccessSize, value: number): void {
    super.write(offset, size, value);
    if (overlaps(offset, size, PCI_CFG_DATA, 4)) this.#windowAccess(true);
    if (overlaps(offset, size, 0x04, 2)) this.#hooks.commandChanged();
  }

  override reset(): void {
    super.reset();
    this.#installCapabilities();
  }

  #installCapabilities(): void {
    const { common, isr, device, notify } = this.#regions;
    this.bytes[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    this.bytes[PCI_CAPABILITY_POINTER] = CAP_COMMON;
    const bar = this.#bar;
    this.#cap(CAP_COMMON, CAP_NOTIFY, 16, VIRTIO_PCI_CAP.commonCfg, bar, ...common);
    this.#cap(CAP_NOTIFY, CAP_ISR, 20, VIRTIO_PCI_CAP.notifyCfg, bar, ...notify);
    this.setU32(CAP_NOTIFY + 16, VIRTIO_NOTIFY_OFF_MULTIPLIER);
    this.#cap(CAP_ISR, CAP_DEVICE, 16, VIRTIO_PCI_CAP.isrCfg, bar, ...isr);
    this.#cap(CAP_DEVICE, CAP_PCI_CFG, 16, VIRTIO_PCI_CAP.deviceCfg, bar, ...device);
    this.#cap(CAP_PCI_CFG, 0, 20, VIRTIO_PCI_CAP.pciCfg, 0, 0, 0);
  }

  #cap(
    at: number,
    next: number,
    len: number,
    type: number,
    bar: number,
    offset: number,
    length: number,
  ): void {
    this.bytes[at] = PCI_CAP_ID_VNDR;
    this.bytes[at + 1] = next;
    this.bytes[at + 2] = len;
    this.bytes[at + 3] = type;
    this.bytes[at + 4] = bar;
    this.setU32(at + 8, offset);
    this.setU32(at + 12, length);
  }

  #windowAccess(write: boolean): void {
    const offset = this.getU32(CAP_PCI_CFG + 8);
    const length = this.getU32(CAP_PCI_CFG + 12);
    if ((length !== 1 && length !== 2 && length !== 4) || offset % length !== 0) return;
    const target = this.#hooks.bar(this.bytes[CAP_PCI_CFG + 4]);
    if (!target || offset + length > target.size) return;
    if (write) {
      const value = this.getU32(PCI_CFG_DATA) % 2 ** (8 * length);
      target.device.write(offset, length, value);
      return;
    }
    const value = target.device.read(offset, length);
    for (let i = 0; i < length; i++) this.bytes[PCI_CFG_DATA + i] = laneByte(value, i);
  }
}

/**
 * Reads `size` bytes at `offset` from a block of little-endian registers,
 * calling `get` once per register touched; bytes outside every register read as `fill`.
 */
function readFields(
  fields: readonly Field[],
  get: (start: number) => number,
  offset: number,
  size: AccessSize,
  fill: number,
): number {
  let cached = -1;
  let cachedValue = 0;
  return readLanes(offset, size, (at) => {
    const field = fields.find(([s, w]) => at >= s && at < s + w);
    if (!field) return fill;
    if (field[0] !== cached) {
      cached = field[0];
      cachedValue = get(cached);
    }
    return laneByte(cachedValue, at - field[0]);
  });
}

function featureWindow(features: bigint, select: number): number {
  if (select > 1) return 0;
  return Number((features >> BigInt(32 * select)) & 0xffffffffn);
}

function setFeatureWindow(features: bigint, select: number, value: number): bigint {
  const shift = BigInt(32 * select);
  return (features & ~(0xffffffffn << shift)) | (BigInt(value >>> 0) << shift);
}

function low32(value: number): number {
  return value % 2 ** 32;
}

function high32(value: number): number {
  return Math.floor(value / 2 ** 32);
}

/** Replaces the low (half 0) or high (half 4) 32 bits of a guest address. */
function setHalf(addr: number, half: number, value: number): number {
  if (half === 0) return high32(addr) * 2 ** 32 + (value >>> 0);
  // Past 2^53 cannot be RAM; clamp so GuestMemory still refuses it exactly.
  return Math.min(value >>> 0, 0x1fffff) * 2 ** 32 + low32(addr);
}

function within(offset: number, [start, length]: readonly [number, number]): boolean {
  return offset >= start && offset < start + length;
}

function overlaps(offset: number, size: number, start: number, length: number): boolean {
  return offset < start + length && start < offset + size;
}
