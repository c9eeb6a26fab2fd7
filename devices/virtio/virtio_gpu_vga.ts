/**
 * virtio-vga as QEMU's `-vga virtio` puts it on the PC: one PCI function
 * (1af4:1050, class 0300, revision 1, subsystem 1af4:1100) that is both a
 * VGA and a modern-only virtio-gpu. The VGA part is the standard VGA (legacy
 * ports and window, Bochs DISPI, video RAM at BAR0, SeaVGABIOS's
 * vgabios-virtio.bin as expansion ROM); BAR2 (16 KiB, 64-bit prefetchable)
 * holds the std VGA's MMIO registers in its first 4 KiB and the virtio
 * structures after them, as QEMU lays them out with page-per-vq off: common
 * configuration at 0x1000 (2 KiB), ISR at 0x1800 (2 KiB), device
 * configuration at 0x2000 and notifications at 0x3000. QEMU's MSI-X table
 * (BAR4) is left out: the transport interrupts through INTx.
 *
 * The display shows the VGA until the driver sets a scanout, and again
 * after a device reset, as QEMU's virtio-vga does ({@link VirtioGpu.enabled}).
 *
 * @module
 */

import type { BusDevice, Clock, GuestMemory, IrqLine, Timer, TimerFactory } from "../types.ts";
import { readLanes } from "../byte_lanes.ts";
import type { StateShape } from "../state_shape.ts";
import { Vga, type VgaState } from "../vga/vga.ts";
import { romSizeFor, vgaMmioBlock } from "../vga/vga_pci.ts";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  type VirtioDeviceModel,
  type VirtioModernRegions,
  type VirtioPciState,
} from "./virtio_pci.ts";
import { VirtioPciFunction } from "./virtio_pci_function.ts";
import {
  GPU_CONFIG_SIZE,
  GPU_QUEUE_SIZES,
  VirtioGpu,
  type VirtioGpuOptions,
  type VirtioGpuState,
} from "./virtio_gpu.ts";
import { VIRTIO_GPU_F_EDID, VIRTIO_ID_GPU } from "./virtio_gpu_protocol.ts";

/** The BAR holding the std VGA's MMIO registers and the virtio structures. */
export const VIRTIO_VGA_MODERN_BAR = 2;
/** Its size. */
export const VIRTIO_VGA_MODERN_BAR_SIZE = 0x4000;
/** Where the std VGA's registers end and the virtio structures begin in BAR2. */
export const VIRTIO_VGA_REGISTERS_SIZE = 0x1000;
/** The virtio structures in BAR2 (QEMU's virtio-vga with page-per-vq off). */
export const VIRTIO_VGA_REGIONS: VirtioModernRegions = {
  common: [0x1000, 0x800],
  isr: [0x1800, 0x800],
  device: [0x2000, 0x1000],
  notify: [0x3000, 0x1000],
};
/** QEMU's PCI subsystem ID for modern-only functions. */
const QEMU_SUBSYSTEM_ID = 0x1100;

/** Construction options. */
export interface VirtioGpuVgaOptions {
  /** Guest RAM: the rings, the requests and the resources' backing. */
  readonly memory: GuestMemory;
  /** INTA#. */
  readonly irq: IrqLine;
  /** Video RAM (host memory a KVM slot maps at BAR0); a power of two of at least 256 KiB. */
  readonly vram: Uint8Array;
  /** The VGA BIOS (vgabios-virtio.bin); no ROM when absent or empty. */
  readonly romData?: Uint8Array;
  /** Power on in 80×25 text mode (no VGA BIOS). */
  readonly startInTextMode?: boolean;
  /** The monitor's preferred mode; default 1280×800. */
  readonly mode?: VirtioGpuOptions["mode"];
  /** Cap on resource memory; default 256 MiB. */
  readonly maxHostMem?: number;
  /**
   * The machine's clock and timers: a control queue with more work than one
   * turn allows carries on 1 µs of guest time later (see GPU_WORK_BUDGET).
   * Without them every notification runs the queue dry.
   */
  readonly clock?: Clock;
  readonly timer?: TimerFactory;
}

/** Guest time between two turns of a control queue with work left. */
const CONTINUE_NS = 1000;

/** Saved state: the transport's, the VGA's registers and the GPU's resources and scanouts. */
export interface VirtioGpuVgaState extends VirtioPciState {
  readonly vga: VgaState;
  readonly gpu: VirtioGpuState;
}

/** QEMU's virtio-vga. */
export class VirtioGpuVga extends VirtioPciFunction<VirtioGpuVgaState> {
  /** The `--vga` model. */
  readonly model = "virtio" as const;
  /** The VGA core (ports, legacy window, DISPI). */
  readonly vga: Vga;
  /** The GPU model. */
  readonly gpu: VirtioGpu;
  /** BAR2: the std VGA's registers, then the virtio structures. */
  readonly mmio: BusDevice;
  /** The expansion ROM contents; writes are ignored. */
  readonly rom: BusDevice;
  /** Expansion ROM size in bytes (0 when there is no ROM). */
  readonly romSize: number;
  readonly #more: Timer | undefined;
  readonly #clock: Clock | undefined;

  /** @param options guest memory, interrupt, video RAM, VGA BIOS, mode and memory cap */
  constructor(options: VirtioGpuVgaOptions) {
    // The timer is made once `this` exists; the GPU only calls onYield from a notification.
    const more: { timer?: Timer } = {};
    const { clock, timer } = options;
    const gpu = new VirtioGpu({
      memory: options.memory,
      ...(clock && timer ? { onYield: () => more.timer?.arm(clock.nowNs() + CONTINUE_NS) } : {}),
      ...(options.mode ? { mode: options.mode } : {}),
      ...(options.maxHostMem !== undefined ? { maxHostMem: options.maxHostMem } : {}),
    });
    const romData = options.romData ?? new Uint8Array(0);
    const romSize = romSizeFor(romData.length);
    const model: VirtioDeviceModel = {
      deviceType: VIRTIO_ID_GPU,
      legacyDeviceId: 0, // modern only
      classCode: 0x030000,
      features: VIRTIO_GPU_F_EDID | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX,
      queueSizes: GPU_QUEUE_SIZES,
      configSize: GPU_CONFIG_SIZE,
      romSize,
      readConfig: (offset, size) => gpu.readConfig(offset, size),
      writeConfig: (offset, size, value) => gpu.writeConfig(offset, size, value),
      processQueue: (index, queue) => gpu.processQueue(index, queue),
      reset: () => gpu.reset(),
    };
    super("virtio-vga", model, {
      memory: options.memory,
      irq: options.irq,
      modernOnly: {
        bar: VIRTIO_VGA_MODERN_BAR,
        barSize: VIRTIO_VGA_MODERN_BAR_SIZE,
        regions: VIRTIO_VGA_REGIONS,
        otherBars: { 0: { kind: "mem32", size: options.vram.length, prefetchable: true } },
        subsystemId: QEMU_SUBSYSTEM_ID,
      },
    });
    this.gpu = gpu;
    more.timer = timer?.(() => this.transport.notify(0));
    this.#more = more.timer;
    this.#clock = clock;
    this.vga = new Vga({ vram: options.vram, startInTextMode: options.startInTextMode });
    this.romSize = romSize;
    const registers = vgaMmioBlock(this.vga);
    const virtio = this.modernMmio;
    const inRegisters = (offset: number) => offset < VIRTIO_VGA_REGISTERS_SIZE;
    this.mmio = {
      read: (offset, size) => (inRegisters(offset) ? registers : virtio).read(offset, size),
      write: (offset, size, value) =>
        (inRegisters(offset) ? registers : virtio).write(offset, size, value),
    };
    const image = new Uint8Array(romSize);
    image.set(romData);
    this.rom = {
      read: (offset, size) =>
        readLanes(offset, size, (at) => (at >= 0 && at < image.length ? image[at] : 0xff)),
      write: () => {},
    };
  }

  /** PCI reset: transport, queues, GPU and VGA back to power-on. */
  override reset(): void {
    this.#more?.cancel();
    super.reset();
    this.vga.reset();
  }

  /** Puts the state back; control requests a save caught waiting get their turn. */
  override restore(state: VirtioGpuVgaState): void {
    super.restore(state);
    this.#more?.cancel();
    let waiting = false;
    try {
      waiting = this.transport.queues[0].pending() > 0;
    } catch {
      // A ring the driver broke: the next notification marks the device.
    }
    if (waiting && this.#clock) this.#more?.arm(this.#clock.nowNs() + CONTINUE_NS);
  }

  /** The VGA's registers and the GPU's state. */
  protected deviceSnapshot(): Omit<VirtioGpuVgaState, keyof VirtioPciState> {
    return { vga: this.vga.snapshot(), gpu: this.gpu.snapshot() };
  }

  /**
   * The state without the resources' pixels, for live views (the devices
   * pane, the API's snapshots) polled many times a second; not restorable.
   */
  stateView(): VirtioGpuVgaState {
    return {
      ...this.transport.snapshot(),
      vga: this.vga.snapshot(),
      gpu: this.gpu.snapshot(false),
    };
  }

  /** Checks the VGA's and the GPU's fields (the VGA's on a scratch copy over the same video RAM). */
  protected readState(s: StateShape): () => void {
    const commitGpu = this.gpu.readState(s.object("gpu"));
    const vga = s.raw("vga") as VgaState;
    new Vga({ vram: this.vga.vram }).restore(vga);
    return () => {
      this.vga.restore(vga);
      commitGpu();
    };
  }
}
