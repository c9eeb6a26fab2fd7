/**
 * The PC board: a KVM VM with the in-kernel irqchip and PIT, guest RAM,
 * firmware, the port-I/O and MMIO buses and every device on them (i440FX,
 * PIIX3, CMOS/RTC, i8042, COM1, VGA, fw_cfg, disks). Built inside the vCPU
 * worker, rebuilt on reset.
 *
 * @module
 */

import { Bus, BusError, type BusRange } from "../devices/bus.ts";
import type { SteppedClock } from "../devices/clock.ts";
import { pcCmosBytes } from "../devices/cmos_rtc.ts";
import { buildPcFwCfg } from "../devices/fw_cfg_pc.ts";
import { type BarChange, type PciFunction, ROM_BAR } from "../devices/pci/config_space.ts";
import { PciIrqRouter } from "../devices/pci/pci_irq.ts";
import { type Piix4Pm, PM_IO_SIZE } from "../devices/pci/piix4_pm.ts";
import { ResetControl } from "../devices/system_control.ts";
import { type BlockBackend, type BusDevice, type IrqLine, StateError } from "../devices/types.ts";
import type { VcpuState, VmState } from "../kvm/state.ts";
import type { VirtioBlk, VirtioBlkState } from "../devices/virtio/virtio_blk.ts";
import type { VirtioGpuVga } from "../devices/virtio/virtio_gpu_vga.ts";
import {
  scanoutImage,
  scanoutScreenState,
  ScanoutTracker,
} from "../devices/virtio/virtio_gpu_display.ts";
import type { Sb16 } from "../devices/sb16.ts";
import type { Es1370 } from "../devices/es1370.ts";
import type { WatchdogModel } from "./watchdog.ts";
import { FrameTracker, type FrameUpdate } from "../devices/vga/frame_tracker.ts";
import { renderFrame } from "../devices/vga/graphics_render.ts";
import { renderScreen, type ScreenImage } from "../devices/vga/render_text.ts";
import {
  screenSnapshot,
  type ScreenState,
  screenState,
  screenText,
} from "../devices/vga/screen.ts";
import type { HostMemory } from "../kvm/host.ts";
import { KvmError } from "../kvm/errors.ts";
import { FramebufferSlot } from "../kvm/framebuffer_slot.ts";
import { RomSlot } from "../kvm/rom_slot.ts";
import { KVM_CAP } from "../kvm/ioctls.ts";
import type { Kvm, Vcpu, Vm } from "../kvm/kvm.ts";
import type { MachineConfig } from "./config.ts";
import { mapBios } from "./firmware.ts";
import { holdOffKvmPit, kvmPitChannel2 } from "./kvm_pit_channel2.ts";
import type { AudioOut } from "../devices/audio.ts";
import { acpiFwCfgFiles, buildAcpiTables } from "./acpi.ts";
import type { GuestRam } from "./guest_ram.ts";
import { cmosDisks } from "./ide_drives.ts";
import { vcpuCpuid } from "./cpuid.ts";
import { pcIrqRoutes } from "./irq_routing.ts";
import { setTscFreqSel } from "./firmware_msrs.ts";
import { MEMORY_SLOT, MMIO, PCI_SLOT } from "./io_map.ts";
import {
  type DeviceContext,
  type DeviceEntry,
  type FramebufferCard,
  nicEntry,
  type NicPort,
  PC_DEVICES,
  type PcDevices,
  virtioBlkEntry,
} from "./pc_devices.ts";
import type { OptionalDeviceInstance, OptionalDeviceInstances } from "./optional_device_entries.ts";
import { optionalDeviceKind, type OptionalDeviceName } from "./optional_devices.ts";
import { deviceModule } from "./device_modules.ts";
import { legacyOptionalStates } from "./saved_vm.ts";
import type { Nic } from "../devices/net/nic.ts";
import {
  type NicSnapshot,
  type NicState,
  nicState,
  restoreNic,
  snapshotNic,
} from "../devices/net/nic_state.ts";
import { DEFAULT_VGA_MODEL, VGA_MODEL_INFO } from "./vga_models.ts";
import { KVM_IDENTITY_MAP_ADDR, KVM_TSS_ADDR } from "./memory_map.ts";

/** A Cirrus bank: half of the 64 KiB at 0xA0000. */
const BANK = 0x8000;

/** Video RAM when the config does not say (QEMU's std-vga default). */
export const DEFAULT_VGA_MEMORY = 16 * 1024 * 1024;

/** Why a guest run ended, with the exit status vmrun reports. */
export interface GuestExit {
  readonly reason:
    | "debug-exit"
    | "shutdown"
    | "reset"
    | "triple-fault"
    | "internal-error"
    | "fail-entry"
    | "stopped"
    | "timeout"
    | "watchdog"
    | "vmm-error";
  readonly code: number;
  readonly detail?: string;
  readonly registers?: Record<string, unknown>;
}

/** Firmware images, read once by the worker and kept across resets. */
export interface FirmwareImages {
  readonly bios: Uint8Array | null;
  readonly biosRom: HostMemory | null;
  readonly vgaBios: Uint8Array | null;
}

/** What outlives a board across resets, provided by the worker. */
export interface BoardEnv {
  readonly kvm: Kvm;
  readonly ramHost: HostMemory;
  readonly ram: GuestRam;
  readonly clock: SteppedClock;
  readonly firmware: FirmwareImages;
  /** One backend per entry of `config.disks`, opened by the worker. */
  readonly disks: readonly BlockBackend[];
  /** One port per entry of `config.nics`: the transmit ring and the option ROM. */
  readonly nics?: readonly NicPort[];
  /** Bytes COM1 transmitted. */
  readonly onSerial: (bytes: Uint8Array) => void;
  /** The guest asked to end the run (debug exit, power off). */
  readonly onExit: (exit: GuestExit) => void;
  /** The guest asked for a system reset. */
  readonly onReset: () => void;
  /** Something worth telling the user that is not fatal (a misprogrammed BAR). */
  readonly onWarning: (message: string) => void;
  /** Fills a buffer with the host's random bytes (virtio-rng-pci). */
  readonly entropy?: (dst: Uint8Array) => void;
  /** Bytes the guest wrote to a virtio console port (0 = hvc0). */
  readonly onConsole?: (port: number, bytes: Uint8Array) => void;
  /** A watchdog device (ib700, i6300esb) expired. */
  readonly onWatchdog: (model: WatchdogModel) => void;
  /** Where sound devices play (a WAV file, or nothing). */
  readonly audio: AudioOut;
}

/** An optional device on the board (`--device`), with its name and PCI slot. */
export interface PlacedDevice<D> {
  /** Its registry name (QEMU's `-device` name). */
  readonly name: string;
  /** Its PCI slot, or null for an ISA device. */
  readonly slot: number | null;
  readonly device: D;
}

/**
 * A board's first optional device named `name` (`--device`), or null when
 * it has none (the live device, as optional_devices.ts's optionalState is
 * its state).
 */
export function optionalDevice<K extends OptionalDeviceName>(
  devices: Pick<BoardDevices, "optional">,
  name: K,
): OptionalDeviceInstances[K] | null {
  // Each placed device is of the class its name says.
  const placed = devices.optional.find((o) => o.name === name);
  return (placed?.device as OptionalDeviceInstances[K] | undefined) ?? null;
}

/** The devices of a board, by registry name, and its virtio disks. */
export interface BoardDevices extends PcDevices {
  readonly virtioBlk: VirtioBlk[];
  /** The `--device`s (watchdogs and sound cards among them), in command-line order. */
  readonly optional: PlacedDevice<OptionalDeviceInstance>[];
  /** NICs in `config.nics` order. */
  readonly nics: Nic[];
}

/** Every fixed device's typed state, by registry name. */
export type DeviceStates = {
  readonly [K in keyof PcDevices]: ReturnType<PcDevices[K]["snapshot"]>;
};

/** A snapshot of every device on the board, with the text screen and the buses. */
export interface BoardState extends DeviceStates {
  readonly screen: ScreenState;
  readonly virtioBlk: VirtioBlkState[];
  /**
   * The `--device`s' states (watchdogs and sound cards among them), in
   * command-line order; {@link optionalState} picks one by name.
   */
  readonly optional: PlacedDevice<ReturnType<OptionalDeviceInstance["snapshot"]>>[];
  readonly nics: NicState[];
  readonly pio: { name: string; base: number; length: number }[];
  readonly mmio: { name: string; base: number; length: number }[];
  readonly unclaimed: {
    pio: { reads: number; writes: number };
    mmio: { reads: number; writes: number };
  };
}

/** The saved state of a board: every device's typed state, then the KVM side. */
export interface BoardSnapshot {
  readonly version: 1;
  readonly devices: DeviceStates;
  readonly virtioBlk: readonly VirtioBlkState[];
  /** The `--device`s (watchdogs and sound cards among them), in placement order. */
  readonly optional: readonly ReturnType<OptionalDeviceInstance["snapshot"]>[];
  /** The NICs, in `config.nics` order (their networks are re-created from the config). */
  readonly nics: readonly NicSnapshot[];
  /** The in-kernel PIC, IOAPIC, PIT and clock. */
  readonly vm: VmState;
  readonly vcpus: readonly VcpuState[];
}

/** A built board. */
export class Board {
  readonly pio = new Bus("pio");
  readonly mmio = new Bus("mmio");
  readonly vcpus: Vcpu[] = [];
  readonly devices: BoardDevices;
  /** Video RAM: host memory, shown to the guest at the VGA's BAR0 as a dirty-logged slot. */
  readonly framebuffer: FramebufferSlot;
  /** Expansion ROMs shown as read-only memory (see {@link attachPci}). */
  readonly #romSlots: RomSlot[] = [];
  #readonlyMem: boolean | undefined;
  /** Follows the VGA's graphics frame for {@link frame}. */
  readonly frames: FrameTracker;
  /** Follows virtio-vga's scanout, which replaces the VGA's frame once the driver sets it. */
  readonly scanoutFrames: ScanoutTracker | null;
  readonly pciIrq: PciIrqRouter;
  /** The last {@link frame} came from virtio-vga's scanout. */
  #showingScanout = false;
  readonly #irqLevels = new Map<number, boolean>();

  /** Creates the VM, maps RAM and firmware, creates every vCPU and wires every device. */
  constructor(readonly config: MachineConfig, readonly env: BoardEnv, readonly vm: Vm) {
    vm.setTssAddr(KVM_TSS_ADDR);
    vm.setIdentityMapAddr(KVM_IDENTITY_MAP_ADDR);
    vm.createIrqchip();
    // QEMU's routing: IRQ 0 (the PIT, the HPET in legacy mode) on I/O APIC pin 2.
    vm.setGsiRouting(pcIrqRoutes());
    vm.createPit2(0);
    for (const s of env.ram.layout.slots) {
      vm.setUserMemoryRegion(s.slot, s.gpa, s.size, env.ramHost.address + BigInt(s.hostOffset));
    }
    const fw = env.firmware;
    if (fw.bios && fw.biosRom) {
      const readonlyMem = env.kvm.checkExtension(KVM_CAP.KVM_CAP_READONLY_MEM) > 0;
      mapBios(vm, env.ram, fw.biosRom, fw.bios, readonlyMem);
    }
    // vCPU i has APIC ID i; with the in-kernel irqchip all but vCPU 0 wait for INIT-SIPI-SIPI.
    const supported = env.kvm.supportedCpuid();
    for (let i = 0; i < config.cpus; i++) {
      const vcpu = vm.createVcpu(i);
      vcpu.setCpuid(vcpuCpuid(supported, i, config.cpus, config.cpuFeatures));
      setTscFreqSel(vcpu, supported);
      this.vcpus.push(vcpu);
    }

    const layout = env.ram.layout;
    this.framebuffer = new FramebufferSlot(
      vm,
      MEMORY_SLOT.VGA_FRAMEBUFFER,
      VGA_MODEL_INFO[config.vga ?? DEFAULT_VGA_MODEL].fixedMemory ?? config.vgaMemoryBytes ??
        DEFAULT_VGA_MEMORY,
    );
    const ctx: DeviceContext = {
      config,
      env,
      clock: env.clock,
      ram: env.ram,
      isaIrq: (gsi) => this.irqLine(gsi),
      // Lines are only driven once the board is built, when the router exists.
      pciIrq: (slot, pin) => lazyLine(() => this.pciIrq.lineFor(slot, pin)),
      vram: this.framebuffer.bytes,
      resetControl: new ResetControl({ onReset: () => env.onReset() }),
      pitChannel2: kvmPitChannel2(vm),
      // The RTC's line passes through the HPET, built with the others.
      rtcIrq: { set: (level) => this.devices.hpet.rtcInput.set(level) },
      holdOffPit: (on) => holdOffKvmPit(vm, on),
    };
    const built: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries(PC_DEVICES)) {
      built[name] = (entry as DeviceEntry<unknown>).create(ctx);
    }
    this.devices = {
      ...(built as unknown as PcDevices),
      virtioBlk: [],
      optional: [],
      nics: [],
    };
    const d = this.devices;
    this.pciIrq = new PciIrqRouter({
      piix3: d.piix3,
      setGsi: (gsi, level) => this.#setGsi(gsi, level),
    });
    for (const [name, entry] of Object.entries(PC_DEVICES)) {
      this.#place(entry as DeviceEntry<unknown>, built[name]);
    }
    let slot = PCI_SLOT.FIRST_VIRTIO;
    config.disks.forEach((disk, i) => {
      if (disk.interface !== "virtio") return;
      const entry = virtioBlkEntry(slot++, env.disks[i], `vmrun-disk${i}`);
      const blk = entry.create(ctx);
      this.#place(entry, blk);
      d.virtioBlk.push(blk);
    });
    // PCI devices take the next free slots, as -device does on QEMU; ISA ones take none.
    for (const device of config.devices ?? []) {
      const { entry, pci } = deviceModule("optional").optionalDeviceEntry(device, slot, d);
      const built = entry.create(ctx);
      this.#place(entry, built);
      d.optional.push({ name: device.name, slot: pci ? slot++ : null, device: built });
    }
    // NICs take the slots after the virtio disks, in command-line order.
    (config.nics ?? []).forEach((nic, i) => {
      if (slot > PCI_SLOT.LAST) throw new Error("no PCI slot left for another NIC");
      const port = env.nics?.[i];
      if (!port) throw new Error(`NIC ${i} has no network port`);
      const entry = nicEntry(slot++, nic, port);
      const dev = entry.create(ctx);
      this.#place(entry, dev);
      d.nics.push(dev);
    });
    this.frames = new FrameTracker(d.vga.vga);
    this.scanoutFrames = d.vga.model === "virtio" ? new ScanoutTracker(d.vga.gpu) : null;

    for (
      const [index, value] of pcCmosBytes({
        ramBytes: layout.total,
        lowRamBytes: layout.below4g,
        cpus: config.cpus,
        timeMs: config.startTimeMs,
        disks: cmosDisks(config, env.disks),
      })
    ) {
      d.rtc.setByte(index, value);
    }
    buildPcFwCfg(d.fwCfg, {
      ramBelow4g: layout.below4g,
      ramAbove4g: layout.above4g,
      cpus: config.cpus,
      bootMenu: config.bootMenu,
      bootMenuWaitMs: config.bootMenu ? 5000 : undefined,
      extraFiles: acpiFwCfgFiles(
        buildAcpiTables({
          cpus: config.cpus,
          lowRamBytes: layout.below4g,
          highRamBytes: layout.above4g,
        }),
      ),
    });
  }

  /** Registers an entry's fixed regions, puts it on PCI and runs its wiring. */
  #place<D>(entry: DeviceEntry<D>, dev: D): void {
    for (const [name, range, handler] of entry.pio?.(dev) ?? []) {
      this.pio.register(name, range.base, range.length, handler);
    }
    for (const [name, range, handler] of entry.mmio?.(dev) ?? []) {
      this.mmio.register(name, range.base, range.length, handler);
    }
    const pci = entry.pci?.(dev);
    if (pci) this.attachPci(pci.slot, pci.fn, pci.function, pci.bars);
    entry.wire?.(dev, {
      mapFramebufferBar: (vga) => this.#mapFramebufferBar(vga),
      followPmBase: (pm) => this.#mapPmBlock(pm),
    });
  }

  /**
   * Puts a PCI function in a slot and keeps its BARs' bus registrations in
   * step with what the guest programs. `bars` maps BAR index (6 = ROM) to
   * the device that decodes it.
   */
  attachPci(
    device: number,
    fn: number,
    f: PciFunction,
    bars: Partial<Record<number, BusDevice>>,
  ): void {
    this.devices.pci.attach(device, fn, f);
    const mapped = new Map<number, BusRange>();
    const rom = bars[ROM_BAR] ? this.#romSlot(bars[ROM_BAR]) : null;
    f.config.onBarChange = (c: BarChange) => {
      const old = mapped.get(c.index);
      if (old) {
        (c.kind === "io" ? this.pio : this.mmio).unregister(old);
        mapped.delete(c.index);
      }
      const dev = bars[c.index];
      if (c.index === ROM_BAR) {
        // Reads come from the slot; writes (ignored) still exit to the bus.
        if (c.base === null || !dev) rom?.unmap();
        else rom?.map(c.base, c.size);
      }
      if (c.base === null || !dev) return;
      const bus = c.kind === "io" ? this.pio : this.mmio;
      try {
        mapped.set(c.index, bus.register(`${f.name}-bar${c.index}`, c.base, c.size, dev));
      } catch (e) {
        // A guest may program clashing BARs; that BAR then decodes nothing.
        if (!(e instanceof BusError)) throw e;
        this.env.onWarning(e.message);
      }
    };
  }

  /**
   * A KVM slot for an expansion ROM, so reading it does not exit (QEMU maps
   * ROM BARs as memory too); null without KVM_CAP_READONLY_MEM, when the
   * ROM stays on the MMIO bus alone.
   */
  #romSlot(dev: BusDevice): RomSlot | null {
    this.#readonlyMem ??= this.env.kvm.checkExtension(KVM_CAP.KVM_CAP_READONLY_MEM) > 0;
    if (!this.#readonlyMem) return null;
    const slot = new RomSlot(
      this.vm,
      MEMORY_SLOT.FIRST_ROM + this.#romSlots.length,
      (offset) => dev.read(offset, 1),
    );
    this.#romSlots.push(slot);
    return slot;
  }

  /**
   * VGA BAR0 maps video RAM as a KVM memory slot (dirty-logged), not as
   * MMIO. A card that can take its framebuffer back (the Cirrus, while a
   * BitBLT waits for CPU data or its MMIO registers sit at the top) also has
   * BAR0 on the MMIO bus, which decodes whenever the slot is unmapped.
   */
  #mapFramebufferBar(card: FramebufferCard): void {
    const otherBars = card.config.onBarChange;
    const selective = card.directAccess !== undefined;
    let base: number | null = null;
    const banks = [MEMORY_SLOT.VGA_BANK0, MEMORY_SLOT.VGA_BANK1];
    const apply = () => {
      try {
        if (base === null || card.directAccess === false) this.framebuffer.unmap();
        else this.framebuffer.map(base);
        // Banked windows go straight to video RAM too, as QEMU maps them.
        card.directBanks?.forEach((offset, i) => {
          if (offset === null) this.framebuffer.unmapWindow(banks[i]);
          else {
            this.framebuffer.mapWindow(banks[i], MMIO.VGA_WINDOW.base + i * BANK, offset, BANK);
          }
        });
      } catch (e) {
        // A guest may place the BAR over something else; it then decodes nothing.
        if (!(e instanceof KvmError)) throw e;
        this.env.onWarning(`VGA framebuffer at 0x${base?.toString(16)}: ${e.message}`);
      }
    };
    card.config.onBarChange = (c: BarChange) => {
      if (c.index !== 0 || selective) otherBars?.(c);
      if (c.index !== 0) return;
      base = c.base;
      apply();
    };
    if (selective) {
      card.onDirectAccessChange = apply;
      apply(); // the banks do not wait for BAR0
    }
  }

  /**
   * What the guest's graphics frame changed since the last call (the whole
   * frame when `full`), read through KVM's dirty log of video RAM.
   */
  frame(full = false): FrameUpdate {
    const dirty = this.framebuffer.takeDirty();
    const scanout = this.#scanout();
    const switched = (scanout !== null) !== this.#showingScanout;
    this.#showingScanout = scanout !== null;
    if (scanout && this.scanoutFrames) {
      // The VGA's changes meanwhile are not tracked: its next frame is a whole one.
      this.frames.invalidate();
      if (full || switched) this.scanoutFrames.invalidate();
      return this.scanoutFrames.update();
    }
    if (full || switched) this.frames.invalidate();
    const update = this.frames.update(dirty);
    // Back from the scanout, even an unchanged text mode replaces the picture.
    return switched ? { ...update, full: true } : update;
  }

  /** virtio-vga's GPU when its scanout is what the monitor shows, else null. */
  #scanout(): VirtioGpuVga["gpu"] | null {
    const vga = this.devices.vga;
    return vga.model === "virtio" && vga.gpu.enabled ? vga.gpu : null;
  }

  /** The PIIX4 PM block follows PMBA on the port bus (PMBA is not a standard BAR). */
  #mapPmBlock(pm: Piix4Pm): void {
    let mapped: BusRange | null = null;
    pm.onPmBaseChange = (base) => {
      if (mapped) this.pio.unregister(mapped);
      mapped = null;
      if (base === null) return;
      try {
        mapped = this.pio.register("piix4-pm", base, PM_IO_SIZE, pm.pmIo);
      } catch (e) {
        // A guest may place it over another device; it then decodes nothing.
        if (!(e instanceof BusError)) throw e;
        this.env.onWarning(e.message);
      }
    };
  }

  /** An ISA interrupt line into the in-kernel irqchip. */
  irqLine(gsi: number): IrqLine {
    return { set: (level) => this.#setGsi(gsi, level) };
  }

  #setGsi(gsi: number, level: boolean): void {
    // Only level changes reach KVM.
    if ((this.#irqLevels.get(gsi) ?? false) === level) return;
    this.#irqLevels.set(gsi, level);
    this.vm.irqLine(gsi, level);
  }

  /** The VGA text screen as plain text (empty in graphics modes). */
  screenText(): string {
    if (this.#scanout()) return "";
    return screenText(screenSnapshot(this.devices.vga.vga));
  }

  /**
   * What the monitor shows, as RGBA: the rendered text screen, or the
   * graphics frame (VBE or VGA) in its own format and palette.
   */
  screenshot(): ScreenImage {
    const gpu = this.#scanout();
    if (gpu) return scanoutImage(gpu);
    return renderFrame(this.devices.vga.vga) ?? renderScreen(this.devices.vga.vga);
  }

  /** Every device's state, plus the buses' registrations. */
  state(): BoardState {
    const d = this.devices;
    const ranges = (bus: Bus) =>
      bus.ranges().map((r) => ({ name: r.name, base: r.base, length: r.length }));
    return {
      ...this.#deviceStates(true),
      screen: this.#screenState(),
      virtioBlk: d.virtioBlk.map((b) => b.snapshot()),
      optional: d.optional.map((o) => ({ ...o, device: o.device.snapshot() })),
      nics: d.nics.map(nicState),
      pio: ranges(this.pio),
      mmio: ranges(this.mmio),
      unclaimed: { pio: { ...this.pio.misses }, mmio: { ...this.mmio.misses } },
    };
  }

  /** The screen's state: the VGA's, or the scanout's when virtio-vga shows it. */
  #screenState(): ScreenState {
    const vga = screenState(this.devices.vga.vga);
    const gpu = this.#scanout();
    return gpu ? scanoutScreenState(gpu, vga) : vga;
  }

  /**
   * Every device's state and the VM's and vCPUs' KVM state; call from the
   * vCPU 0 thread between two runs, with every other vCPU out of KVM_RUN.
   */
  snapshot(): BoardSnapshot {
    return {
      version: 1,
      devices: this.#deviceStates(),
      virtioBlk: this.devices.virtioBlk.map((b) => b.snapshot()),
      optional: this.devices.optional.map((o) => o.device.snapshot()),
      nics: this.devices.nics.map(snapshotNic),
      vm: this.vm.saveState(),
      vcpus: this.vcpus.map((v) => v.saveState()),
    };
  }

  /**
   * Puts a freshly built board (same configuration) into a saved state:
   * devices first (they re-drive their interrupt lines and BARs), then the
   * in-kernel irqchip, PIT and clock over whatever those lines did, then the
   * vCPUs (a restored IOAPIC may deliver to a LAPIC the vCPU state then sets).
   * @throws {StateError} for a state this build cannot restore
   */
  restore(s: BoardSnapshot): void {
    if (s?.version !== 1) throw new StateError("board", `unknown state version ${s?.version}`);
    for (const name of Object.keys(PC_DEVICES) as (keyof PcDevices)[]) {
      const state = s.devices[name];
      // A save from before the HPET existed: its guest never saw one, so reset state is exact.
      if (!state && name === "hpet") continue;
      if (!state) throw new StateError("board", `the saved state has no ${name}`);
      // Each entry's state type goes with its own device.
      (this.devices[name] as { restore(s: unknown): void }).restore(state);
    }
    if (s.virtioBlk.length !== this.devices.virtioBlk.length) {
      throw new StateError("board", "the saved state has another number of virtio disks");
    }
    this.devices.virtioBlk.forEach((b, i) => b.restore(s.virtioBlk[i]));
    const optional = legacyOptionalStates(s);
    if (optional.length !== this.devices.optional.length) {
      throw new StateError("board", "the saved state has other --devices");
    }
    // Each optional device's state type goes with its own device.
    this.devices.optional.forEach((o, i) =>
      (o.device as { restore(s: unknown): void }).restore(optional[i])
    );
    // A save from before NICs existed has none.
    const nics = s.nics ?? [];
    if (nics.length !== this.devices.nics.length) {
      throw new StateError("board", "the saved state has another number of NICs");
    }
    this.devices.nics.forEach((nic, i) => restoreNic(nic, nics[i]));
    this.vm.restoreState(s.vm);
    if (s.vcpus.length !== this.vcpus.length) {
      throw new StateError("board", "the saved state has another number of vCPUs");
    }
    this.vcpus.forEach((v, i) => v.restoreState(s.vcpus[i]));
    this.frames.invalidate();
    this.scanoutFrames?.invalidate();
  }

  /** Every fixed device's state; a `view` leaves out virtio-vga's pixels (see stateView). */
  #deviceStates(view = false): DeviceStates {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(PC_DEVICES) as (keyof PcDevices)[]) {
      const device = this.devices[name];
      out[name] = view && device === this.devices.vga && device.model === "virtio"
        ? device.stateView()
        : device.snapshot();
    }
    return out as DeviceStates;
  }

  /** Sound devices hand on what they have played so far (before a reset or the end). */
  flushAudio(): void {
    const d = this.devices;
    d.pcSpeaker.flush();
    for (const { name, device } of d.optional) {
      if (optionalDeviceKind(name) === "sound") (device as Sb16 | Es1370).flush();
    }
  }

  /** Closes the vCPUs and the VM. RAM and firmware stay with the environment. */
  dispose(): void {
    for (const v of this.vcpus) v.close();
    this.vm.close();
    this.framebuffer.dispose();
    for (const rom of this.#romSlots) rom.dispose();
  }
}

/** An IRQ line resolved on first use. */
function lazyLine(resolve: () => IrqLine): IrqLine {
  let line: IrqLine | null = null;
  return { set: (level) => (line ??= resolve()).set(level) };
}
