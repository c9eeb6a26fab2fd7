/**
 * The PC board's registry: every device once, with how it is built from
 * what the board injects, the fixed ports and MMIO ranges it decodes, its
 * PCI slot and BARs, and any wiring that follows the guest (a BAR mapped as
 * a KVM slot, a PM block that moves with PMBA). The board walks this table;
 * the models only some boards have (other display cards, NICs) are loaded on
 * demand (device_modules.ts).
 * adding a device is one entry here plus the device's own file. Addresses,
 * IRQs and slots are the named constants of io_map.ts.
 *
 * @module
 */

import type { SteppedClock } from "../devices/clock.ts";
import { CmosRtc } from "../devices/cmos_rtc.ts";
import { DebugExit } from "../devices/debug_exit.ts";
import { FwCfg } from "../devices/fw_cfg.ts";
import { Hpet } from "../devices/hpet.ts";
import { I8042 } from "../devices/i8042.ts";
import { IdeController } from "../devices/ide/ide_controller.ts";
import type { PciFunction } from "../devices/pci/config_space.ts";
import { I440fx } from "../devices/pci/i440fx.ts";
import { PciHost } from "../devices/pci/pci_host.ts";
import { Piix3 } from "../devices/pci/piix3.ts";
import { Piix4Pm } from "../devices/pci/piix4_pm.ts";
import { PcSpeaker, type PitChannel2 } from "../devices/pc_speaker.ts";
import { PostCode } from "../devices/post_code.ts";
import { IsaDma } from "../devices/isa_dma.ts";
import { Port92, type ResetControl } from "../devices/system_control.ts";
import type { BlockBackend, BusDevice, IrqLine } from "../devices/types.ts";
import { Uart16550a } from "../devices/uart_16550a.ts";
import { VgaPci } from "../devices/vga/vga_pci.ts";
import type { CirrusVga } from "../devices/vga/cirrus.ts";
import type { NoVga } from "../devices/vga/no_vga.ts";
import type { PciConfigSpace } from "../devices/pci/config_space.ts";
import { DEFAULT_VGA_MODEL, type VgaModel } from "./vga_models.ts";
import type { VirtioBlk } from "../devices/virtio/virtio_blk.ts";
import type { VirtioGpuVga } from "../devices/virtio/virtio_gpu_vga.ts";
import type { E1000 } from "../devices/net/e1000.ts";
import type { FrameSink, Nic } from "../devices/net/nic.ts";
import type { Rtl8139 } from "../devices/net/rtl8139.ts";
import type { Ne2kPci } from "../devices/net/ne2k_pci.ts";
import type { VirtioNet } from "../devices/net/virtio_net.ts";
import { deviceModule } from "./device_modules.ts";
import type { NicConfig } from "./config.ts";
import type { BoardEnv } from "./board.ts";
import type { MachineConfig } from "./config.ts";
import { ideDrives } from "./ide_drives.ts";
import type { GuestRam } from "./guest_ram.ts";
import { type FixedRange, IRQ, MMIO, PCI_SLOT, PIIX3_FN, PIO } from "./io_map.ts";
import { IOAPIC_PINS } from "./irq_routing.ts";

/** What the board gives every device's constructor. */
export interface DeviceContext {
  readonly config: MachineConfig;
  readonly env: BoardEnv;
  readonly clock: SteppedClock;
  readonly ram: GuestRam;
  /** An ISA interrupt line (a GSI of the in-kernel irqchip). */
  readonly isaIrq: (gsi: number) => IrqLine;
  /** The INTx line of a PCI slot, routed through the PIIX3's PIRQs. */
  readonly pciIrq: (slot: number, pin: number) => IrqLine;
  /** Video RAM, shown to the guest at the VGA's BAR0 as a dirty-logged KVM slot. */
  readonly vram: Uint8Array;
  /** The PIIX3's reset control register at 0xcf9, decoded by the PCI host. */
  readonly resetControl: ResetControl;
  /** Channel 2 of the in-kernel PIT, for the PC speaker. */
  readonly pitChannel2: PitChannel2;
  /** The RTC's interrupt: into the HPET, which passes it on to IRQ 8 outside legacy mode. */
  readonly rtcIrq: IrqLine;
  /** Holds the in-kernel PIT's interrupt off (true) or lets it through, for HPET legacy mode. */
  readonly holdOffPit: (on: boolean) => void;
}

/** A fixed bus registration: its name, where it sits, and what decodes it. */
export type FixedRegion = readonly [name: string, range: FixedRange, handler: BusDevice];

/** A display card whose BAR0 shows video RAM (the board maps it as a KVM memory slot). */
export interface FramebufferCard {
  readonly config: PciConfigSpace;
  /**
   * Whether guest accesses may go straight to video RAM now; absent means
   * always. While false the slot is unmapped and BAR0's bus handler decodes.
   */
  readonly directAccess?: boolean;
  /**
   * For each 32 KiB half of 0xA0000-0xAFFFF, the video RAM offset it shows
   * when guest accesses may go straight to it, else null; absent when the
   * legacy window always decodes in the device.
   */
  readonly directBanks?: readonly (number | null)[];
  /** Set by the board: called when {@link directAccess} or the banks may have changed. */
  onDirectAccessChange?: (() => void) | undefined;
}

/** Hooks by which a device follows the guest's programming (see {@link DeviceEntry.wire}). */
export interface BoardWiring {
  /** Maps the card's BAR0 as the KVM memory slot of video RAM. */
  mapFramebufferBar(card: FramebufferCard): void;
  /** Keeps the PIIX4 PM block on the port bus where PMBA points. */
  followPmBase(pm: Piix4Pm): void;
}

/** Where a PCI function sits and which handler decodes each BAR (6 = expansion ROM). */
export interface PciPlacement {
  readonly slot: number;
  readonly fn: number;
  readonly function: PciFunction;
  readonly bars: Partial<Record<number, BusDevice>>;
}

/** A function on virtio's PCI transport: legacy registers in BAR0, modern ones in BAR4. */
export interface VirtioPciDevice extends PciFunction {
  readonly legacyIo: BusDevice;
  readonly modernMmio: BusDevice;
}

/** Function 0 of `slot` for a virtio device, with any BARs beyond the transport's two. */
export function virtioPlacement(
  slot: number,
  d: VirtioPciDevice,
  more: Partial<Record<number, BusDevice>> = {},
): PciPlacement {
  return { slot, fn: 0, function: d, bars: { 0: d.legacyIo, 4: d.modernMmio, ...more } };
}

/** One device of the board. */
export interface DeviceEntry<D> {
  /** Builds the device. */
  readonly create: (ctx: DeviceContext) => D;
  /** Fixed port-I/O regions. */
  readonly pio?: (d: D) => readonly FixedRegion[];
  /** Fixed MMIO regions. */
  readonly mmio?: (d: D) => readonly FixedRegion[];
  /** Its place on PCI bus 0; null when this instance is not on PCI (`--vga none`). */
  readonly pci?: (d: D) => PciPlacement | null;
  /** ISA IRQs it drives, for the devices pane and documentation. */
  readonly irqs?: readonly number[];
  /** Wiring beyond fixed regions and BARs. */
  readonly wire?: (d: D, board: BoardWiring) => void;
}

/** Declares an entry with its device type inferred from `create`. */
function device<D>(entry: DeviceEntry<D>): DeviceEntry<D> {
  return entry;
}

/** The fixed devices of the PC, in the order they are built and registered. */
export const PC_DEVICES = {
  uart: device({
    create: (c) => new Uart16550a({ irq: c.isaIrq(IRQ.COM1), tx: c.env.onSerial, ...timers(c) }),
    pio: (d) => [["com1", PIO.COM1, d]],
    irqs: [IRQ.COM1],
  }),
  rtc: device({
    create: (c) => new CmosRtc({ irq: c.rtcIrq, startTimeMs: c.config.startTimeMs, ...timers(c) }),
    pio: (d) => [["rtc", PIO.RTC, d]],
    irqs: [IRQ.RTC],
  }),
  hpet: device({
    create: (c) =>
      new Hpet({
        irq: (route) => hpetLine(c, route),
        onLegacyReplacement: c.holdOffPit,
        ...timers(c),
      }),
    mmio: (d) => [["hpet", MMIO.HPET, d]],
    irqs: [IRQ.TIMER, IRQ.RTC],
  }),
  i8042: device({
    create: (c) =>
      new I8042({
        kbdIrq: c.isaIrq(IRQ.KEYBOARD),
        mouseIrq: c.isaIrq(IRQ.MOUSE),
        onSystemReset: () => c.env.onReset(),
      }),
    pio: (d) => [
      ["i8042-data", PIO.I8042_DATA, d.dataPort],
      ["i8042-command", PIO.I8042_COMMAND, d.commandPort],
    ],
    irqs: [IRQ.KEYBOARD, IRQ.MOUSE],
  }),
  pcSpeaker: device({
    create: (c) => new PcSpeaker({ pit: c.pitChannel2, audio: c.env.audio, ...timers(c) }),
    pio: (d) => [["pc-speaker", PIO.PC_SPEAKER, d]],
  }),
  isaDma: device({
    create: (c) => new IsaDma(c.ram),
    pio: (d) => [
      ["dma1", PIO.DMA1, d.first],
      ["dma-pages", PIO.DMA_PAGES, d.pages],
      ["dma2", PIO.DMA2, d.second],
    ],
  }),
  postCode: device({
    create: () => new PostCode(),
    pio: (d) => [["post-code", PIO.POST_CODE, d]],
  }),
  debugExit: device({
    create: (c) =>
      new DebugExit((code, detail) =>
        c.env.onExit({ reason: "debug-exit", code, ...(detail === undefined ? {} : { detail }) })
      ),
    pio: (d) => [["debug-exit", PIO.DEBUG_EXIT, d]],
  }),
  port92: device({
    create: (c) => new Port92({ onReset: () => c.env.onReset() }),
    pio: (d) => [["port92", PIO.PORT_92, d]],
  }),
  resetControl: device({ create: (c) => c.resetControl }),
  fwCfg: device({
    create: (c) => new FwCfg({ memory: c.ram }),
    pio: (d) => [["fw-cfg", PIO.FW_CFG, d]],
  }),
  pci: device({
    create: (c) => new PciHost({ resetControl: c.resetControl }),
    pio: (d) => [["pci-config", PIO.PCI_CONFIG, d]],
  }),
  i440fx: device({
    create: () => new I440fx(),
    pci: (d) => ({ slot: PCI_SLOT.HOST_BRIDGE, fn: 0, function: d, bars: {} }),
  }),
  piix3: device({
    create: () => new Piix3(),
    pci: (d) => ({ slot: PCI_SLOT.PIIX3, fn: PIIX3_FN.ISA, function: d, bars: {} }),
  }),
  ide: device({
    create: (c) =>
      new IdeController({
        primaryIrq: c.isaIrq(IRQ.IDE_PRIMARY),
        secondaryIrq: c.isaIrq(IRQ.IDE_SECONDARY),
        memory: c.ram,
        drives: ideDrives(c.config, c.env.disks),
      }),
    pio: (d) => [
      ["ide-primary", PIO.IDE_PRIMARY, d.primaryCommand],
      ["ide-primary-control", PIO.IDE_PRIMARY_CONTROL, d.primaryControl],
      ["ide-secondary", PIO.IDE_SECONDARY, d.secondaryCommand],
      ["ide-secondary-control", PIO.IDE_SECONDARY_CONTROL, d.secondaryControl],
    ],
    pci: (d) => ({ slot: PCI_SLOT.PIIX3, fn: PIIX3_FN.IDE, function: d, bars: { 4: d.busMaster } }),
    irqs: [IRQ.IDE_PRIMARY, IRQ.IDE_SECONDARY],
  }),
  pm: device({
    create: (c) =>
      new Piix4Pm({
        sci: c.isaIrq(IRQ.SCI),
        onPowerOff: () => c.env.onExit({ reason: "shutdown", code: 0 }),
        ...timers(c),
      }),
    pio: (d) => [["apm", PIO.APM, d.apm]],
    pci: (d) => ({ slot: PCI_SLOT.PIIX3, fn: PIIX3_FN.PM, function: d, bars: {} }),
    irqs: [IRQ.SCI],
    wire: (d, board) => board.followPmBase(d),
  }),
  vga: device<VgaCard>({
    create: (c) => vgaEntry(c.config.vga ?? DEFAULT_VGA_MODEL).create(c),
    pio: (d) => vgaEntry(d.model).pio?.(d) ?? [],
    mmio: (d) => vgaEntry(d.model).mmio?.(d) ?? [],
    pci: (d) => vgaEntry(d.model).pci?.(d) ?? null,
    wire: (d, board) => vgaEntry(d.model).wire?.(d, board),
  }),
} as const;

/** The display adapter of any `--vga` model. */
export type VgaCard = VgaPci | CirrusVga | VirtioGpuVga | NoVga;

/** Each `--vga` model's entry. */
export const VGA_ENTRIES: { readonly [M in VgaModel]: DeviceEntry<VgaCard> } = {
  std: device<VgaPci>({
    create: (c) => new VgaPci(vgaCore(c)),
    pio: (d) => [["vga", PIO.VGA, d.vga], ["dispi", PIO.DISPI, d.vga.dispi]],
    mmio: (d) => [["vga-window", MMIO.VGA_WINDOW, d.vga.window]],
    pci: (d) => ({ slot: PCI_SLOT.VGA, fn: 0, function: d, bars: { 2: d.mmio, 6: d.rom } }),
    wire: (d, board) => board.mapFramebufferBar(d),
  }) as DeviceEntry<VgaCard>,
  cirrus: device<CirrusVga>({
    create: (c) => new (deviceModule("cirrus").CirrusVga)(vgaCore(c)),
    pio: (d) => [["vga", PIO.VGA, d.ports]],
    mmio: (d) => [["vga-window", MMIO.VGA_WINDOW, d.window]],
    pci: (d) => ({
      slot: PCI_SLOT.VGA,
      fn: 0,
      function: d,
      bars: { 0: d.bar0, 1: d.mmio, 6: d.rom },
    }),
    wire: (d, board) => board.mapFramebufferBar(d),
  }) as DeviceEntry<VgaCard>,
  // virtio-vga: the std VGA core plus a virtio-gpu in the VGA's slot; INTA# like any card.
  virtio: device<VirtioGpuVga>({
    create: (c) =>
      new (deviceModule("virtioVga").VirtioGpuVga)({
        ...vgaCore(c),
        memory: c.ram,
        irq: c.pciIrq(PCI_SLOT.VGA, 1),
        ...timers(c),
      }),
    pio: (d) => [["vga", PIO.VGA, d.vga], ["dispi", PIO.DISPI, d.vga.dispi]],
    mmio: (d) => [["vga-window", MMIO.VGA_WINDOW, d.vga.window]],
    pci: (d) => ({ slot: PCI_SLOT.VGA, fn: 0, function: d, bars: { 2: d.mmio, 6: d.rom } }),
    wire: (d, board) => board.mapFramebufferBar(d),
  }) as DeviceEntry<VgaCard>,
  none: device<NoVga>({ create: () => new (deviceModule("noVga").NoVga)() }) as DeviceEntry<
    VgaCard
  >,
};

/** What every VGA core takes: video RAM and the VGA BIOS (none: the card starts in text mode). */
function vgaCore(c: DeviceContext) {
  return {
    vram: c.vram,
    romData: c.env.firmware.vgaBios ?? undefined,
    startInTextMode: c.env.firmware.vgaBios === null,
  };
}

function vgaEntry(model: VgaModel): DeviceEntry<VgaCard> {
  return VGA_ENTRIES[model];
}

/** The fixed devices of a PC board, by registry name. */
export type PcDevices = {
  readonly [K in keyof typeof PC_DEVICES]: ReturnType<(typeof PC_DEVICES)[K]["create"]>;
};

/** A virtio-blk disk in PCI slot `slot`, over `backend`. */
export function virtioBlkEntry(
  slot: number,
  backend: BlockBackend,
  serial: string,
): DeviceEntry<VirtioBlk> {
  return {
    create: (c) =>
      new (deviceModule("virtioBlk").VirtioBlk)({
        backend,
        memory: c.ram,
        irq: c.pciIrq(slot, 1),
        serial,
      }),
    pci: (d) => virtioPlacement(slot, d),
  };
}

/** What the board gives a NIC besides the device context. */
export interface NicPort {
  /** Where its transmitted frames go (the ring to the network worker). */
  readonly transmit: FrameSink;
  /** Its option ROM image, or null. */
  readonly rom: Uint8Array | null;
}

/** A NIC of `config.model` in PCI slot `slot`. */
export function nicEntry(slot: number, config: NicConfig, port: NicPort): DeviceEntry<Nic> {
  const mac = Uint8Array.from(config.mac);
  const rom = port.rom ?? undefined;
  switch (config.model) {
    case "e1000":
      return {
        create: (c) =>
          new (deviceModule("e1000").E1000)({
            mac,
            memory: c.ram,
            irq: c.pciIrq(slot, 1),
            transmit: port.transmit,
            rom,
          }),
        pci: (d) => {
          const e = d as E1000;
          return { slot, fn: 0, function: e, bars: { 0: e.mmio, 1: e.io, 6: e.rom } };
        },
      };
    case "virtio":
      return {
        create: (c) =>
          new (deviceModule("virtioNet").VirtioNet)({
            mac,
            memory: c.ram,
            irq: c.pciIrq(slot, 1),
            transmit: port.transmit,
            rom,
          }),
        pci: (d) => {
          const v = d as VirtioNet;
          return virtioPlacement(slot, v, { 6: v.rom });
        },
      };
    case "rtl8139":
      return {
        create: (c) =>
          new (deviceModule("rtl8139").Rtl8139)({
            mac,
            memory: c.ram,
            irq: c.pciIrq(slot, 1),
            transmit: port.transmit,
            rom,
          }),
        pci: (d) => {
          const r = d as Rtl8139;
          return { slot, fn: 0, function: r, bars: { 0: r.regs, 1: r.regs, 6: r.rom } };
        },
      };
    case "ne2k_pci":
      return {
        create: (c) =>
          new (deviceModule("ne2kPci").Ne2kPci)({
            mac,
            irq: c.pciIrq(slot, 1),
            transmit: port.transmit,
            rom,
          }),
        pci: (d) => {
          const n = d as Ne2kPci;
          return { slot, fn: 0, function: n, bars: { 0: n.io, 6: n.rom } };
        },
      };
  }
}

const NO_LINE: IrqLine = { set: () => {} };

/**
 * The line of HPET route `route`: GSI `route`, routed as on QEMU's PC (see
 * irq_routing.ts: route 0, timer 0 in legacy mode, reaches the PIC's IRQ 0
 * and I/O APIC pin 2; route 2 nothing). Routes beyond the I/O APIC's pins
 * go nowhere.
 */
function hpetLine(c: DeviceContext, route: number): IrqLine {
  return route < IOAPIC_PINS ? c.isaIrq(route) : NO_LINE;
}

/** The board clock and its timers, as the timed devices take them. */
export function timers(c: DeviceContext): { clock: SteppedClock; timer: SteppedClock["timer"] } {
  return { clock: c.clock, timer: c.clock.timer };
}
