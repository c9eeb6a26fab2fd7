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
import { type CmosDiskGeometry, CmosRtc, pcCmosBytes } from "../devices/cmos_rtc.ts";
import { defaultGeometry } from "../devices/ide/identify.ts";
import { DebugExit } from "../devices/debug_exit.ts";
import { FwCfg } from "../devices/fw_cfg.ts";
import { buildPcFwCfg } from "../devices/fw_cfg_pc.ts";
import { I8042 } from "../devices/i8042.ts";
import type { BarChange, PciFunction } from "../devices/pci/config_space.ts";
import { I440fx } from "../devices/pci/i440fx.ts";
import { PciHost } from "../devices/pci/pci_host.ts";
import { PciIrqRouter } from "../devices/pci/pci_irq.ts";
import { Piix3 } from "../devices/pci/piix3.ts";
import { Piix4Pm, PM_IO_SIZE } from "../devices/pci/piix4_pm.ts";
import { PostCode } from "../devices/post_code.ts";
import { Port92, ResetControl } from "../devices/system_control.ts";
import type { BlockBackend, BusDevice, IrqLine, Json } from "../devices/types.ts";
import { VirtioBlk, type VirtioBlkState } from "../devices/virtio/virtio_blk.ts";
import type { DriveSpec } from "../devices/ide/ata_channel.ts";
import { IdeController, type IdeControllerState } from "../devices/ide/ide_controller.ts";
import { Uart16550a } from "../devices/uart_16550a.ts";
import { VgaPci, type VgaPciState } from "../devices/vga/vga_pci.ts";
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
import { KVM_CAP } from "../kvm/ioctls.ts";
import type { Kvm, Vcpu, Vm } from "../kvm/kvm.ts";
import type { MachineConfig } from "./config.ts";
import { mapBios } from "./firmware.ts";
import { acpiFwCfgFiles, buildAcpiTables } from "./acpi.ts";
import type { GuestRam } from "./guest_ram.ts";
import { IRQ, MEMORY_SLOT, MMIO, PCI_SLOT, PIIX3_FN, PIO } from "./io_map.ts";
import { KVM_IDENTITY_MAP_ADDR, KVM_TSS_ADDR } from "./memory_map.ts";

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
  /** Bytes COM1 transmitted. */
  readonly onSerial: (bytes: Uint8Array) => void;
  /** The guest asked to end the run (debug exit, power off). */
  readonly onExit: (exit: GuestExit) => void;
  /** The guest asked for a system reset. */
  readonly onReset: () => void;
  /** Something worth telling the user that is not fatal (a misprogrammed BAR). */
  readonly onWarning: (message: string) => void;
}

/** The devices of a board, by name. */
export interface BoardDevices {
  readonly uart: Uart16550a;
  readonly rtc: CmosRtc;
  readonly i8042: I8042;
  readonly postCode: PostCode;
  readonly debugExit: DebugExit;
  readonly pciHost: PciHost;
  readonly i440fx: I440fx;
  readonly piix3: Piix3;
  readonly vga: VgaPci;
  readonly fwCfg: FwCfg;
  readonly port92: Port92;
  readonly resetControl: ResetControl;
  readonly virtioBlk: VirtioBlk[];
  readonly ide: IdeController;
  /** PIIX4 power management (ACPI registers, PM timer, power-off). */
  readonly pm: Piix4Pm;
}

/** A snapshot of every device on the board, as plain JSON. */
export interface BoardState {
  readonly uart: Json;
  readonly rtc: Json;
  readonly i8042: Json;
  readonly postCode: Json;
  readonly debugExit: Json;
  readonly pci: Json;
  readonly vga: VgaPciState;
  readonly screen: ScreenState;
  readonly fwCfg: Json;
  readonly virtioBlk: VirtioBlkState[];
  readonly ide: IdeControllerState;
  readonly pio: { name: string; base: number; length: number }[];
  readonly mmio: { name: string; base: number; length: number }[];
  readonly unclaimed: {
    pio: { reads: number; writes: number };
    mmio: { reads: number; writes: number };
  };
}

/** A built board. */
export class Board {
  readonly pio = new Bus("pio");
  readonly mmio = new Bus("mmio");
  readonly vcpus: Vcpu[] = [];
  readonly devices: BoardDevices;
  /** Video RAM: host memory, shown to the guest at the VGA's BAR0 as a dirty-logged slot. */
  readonly framebuffer: FramebufferSlot;
  /** Follows the VGA's graphics frame for {@link frame}. */
  readonly frames: FrameTracker;
  readonly pciIrq: PciIrqRouter;
  readonly #irqLevels = new Map<number, boolean>();

  /** Creates the VM, maps RAM and firmware, creates vCPU 0 and wires every device. */
  constructor(readonly config: MachineConfig, readonly env: BoardEnv, readonly vm: Vm) {
    vm.setTssAddr(KVM_TSS_ADDR);
    vm.setIdentityMapAddr(KVM_IDENTITY_MAP_ADDR);
    vm.createIrqchip();
    vm.createPit2(0);
    for (const s of env.ram.layout.slots) {
      vm.setUserMemoryRegion(s.slot, s.gpa, s.size, env.ramHost.address + BigInt(s.hostOffset));
    }
    const fw = env.firmware;
    if (fw.bios && fw.biosRom) {
      const readonlyMem = env.kvm.checkExtension(KVM_CAP.KVM_CAP_READONLY_MEM) > 0;
      mapBios(vm, env.ram, fw.biosRom, fw.bios, readonlyMem);
    }
    const vcpu = vm.createVcpu(0);
    vcpu.setCpuid(env.kvm.supportedCpuid());
    this.vcpus.push(vcpu);

    const clock = env.clock;
    const layout = env.ram.layout;
    this.framebuffer = new FramebufferSlot(
      vm,
      MEMORY_SLOT.VGA_FRAMEBUFFER,
      config.vgaMemoryBytes ?? DEFAULT_VGA_MEMORY,
    );
    const piix3 = new Piix3();
    const resetControl = new ResetControl({ onReset: () => env.onReset() });
    this.devices = {
      uart: new Uart16550a({
        irq: this.irqLine(IRQ.COM1),
        tx: env.onSerial,
        clock,
        timer: clock.timer,
      }),
      rtc: new CmosRtc({
        irq: this.irqLine(IRQ.RTC),
        clock,
        timer: clock.timer,
        startTimeMs: config.startTimeMs,
      }),
      i8042: new I8042({
        kbdIrq: this.irqLine(IRQ.KEYBOARD),
        mouseIrq: this.irqLine(IRQ.MOUSE),
        onSystemReset: () => env.onReset(),
      }),
      postCode: new PostCode(),
      debugExit: new DebugExit((code) => env.onExit({ reason: "debug-exit", code })),
      pciHost: new PciHost({ resetControl }),
      i440fx: new I440fx(),
      piix3,
      vga: new VgaPci({
        vram: this.framebuffer.bytes,
        romData: fw.vgaBios ?? undefined,
        startInTextMode: fw.vgaBios === null,
      }),
      fwCfg: new FwCfg({ memory: env.ram }),
      port92: new Port92({ onReset: () => env.onReset() }),
      resetControl,
      virtioBlk: [],
      ide: new IdeController({
        primaryIrq: this.irqLine(IRQ.IDE_PRIMARY),
        secondaryIrq: this.irqLine(IRQ.IDE_SECONDARY),
        memory: env.ram,
        drives: ideDrives(config, env.disks),
      }),
      pm: new Piix4Pm({
        clock,
        timer: clock.timer,
        sci: this.irqLine(IRQ.SCI),
        onPowerOff: () => env.onExit({ reason: "shutdown", code: 0 }),
      }),
    };
    this.pciIrq = new PciIrqRouter({ piix3, setGsi: (gsi, level) => this.#setGsi(gsi, level) });
    const d = this.devices;

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
      extraFiles: acpiFwCfgFiles(buildAcpiTables({ cpus: config.cpus })),
    });

    // The one table of fixed registrations.
    const fixed: [string, { base: number; length: number }, Bus, BusDevice][] = [
      ["i8042-data", PIO.I8042_DATA, this.pio, d.i8042.dataPort],
      ["i8042-command", PIO.I8042_COMMAND, this.pio, d.i8042.commandPort],
      ["rtc", PIO.RTC, this.pio, d.rtc],
      ["post-code", PIO.POST_CODE, this.pio, d.postCode],
      ["port92", PIO.PORT_92, this.pio, d.port92],
      ["debug-exit", PIO.DEBUG_EXIT, this.pio, d.debugExit],
      ["vga", PIO.VGA, this.pio, d.vga.vga],
      ["com1", PIO.COM1, this.pio, d.uart],
      ["fw-cfg", PIO.FW_CFG, this.pio, d.fwCfg],
      ["ide-primary", PIO.IDE_PRIMARY, this.pio, d.ide.primaryCommand],
      ["ide-primary-control", PIO.IDE_PRIMARY_CONTROL, this.pio, d.ide.primaryControl],
      ["ide-secondary", PIO.IDE_SECONDARY, this.pio, d.ide.secondaryCommand],
      ["ide-secondary-control", PIO.IDE_SECONDARY_CONTROL, this.pio, d.ide.secondaryControl],
      ["pci-config", PIO.PCI_CONFIG, this.pio, d.pciHost],
      ["apm", PIO.APM, this.pio, d.pm.apm],
      ["dispi", PIO.DISPI, this.pio, d.vga.vga.dispi],
      ["vga-window", MMIO.VGA_WINDOW, this.mmio, d.vga.vga.window],
    ];
    for (const [name, range, bus, dev] of fixed) bus.register(name, range.base, range.length, dev);

    this.attachPci(PCI_SLOT.HOST_BRIDGE, 0, d.i440fx, {});
    this.attachPci(PCI_SLOT.PIIX3, PIIX3_FN.ISA, d.piix3, {});
    this.attachPci(PCI_SLOT.PIIX3, PIIX3_FN.IDE, d.ide, { 4: d.ide.busMaster });
    this.attachPci(PCI_SLOT.PIIX3, PIIX3_FN.PM, d.pm, {});
    this.#mapPmBlock(d.pm);
    this.attachPci(PCI_SLOT.VGA, 0, d.vga, { 2: d.vga.mmio, 6: d.vga.rom });
    this.#mapFramebufferBar(d.vga);
    this.frames = new FrameTracker(d.vga.vga);
    this.#attachDisks();
  }

  #attachDisks(): void {
    let slot = PCI_SLOT.FIRST_VIRTIO;
    this.config.disks.forEach((disk, i) => {
      if (disk.interface !== "virtio") return;
      const blk = new VirtioBlk({
        backend: this.env.disks[i],
        memory: this.env.ram,
        irq: this.pciIrq.lineFor(slot, 1),
        serial: `vmrun-disk${i}`,
      });
      this.attachPci(slot++, 0, blk, { 0: blk.legacyIo, 4: blk.modernMmio });
      this.devices.virtioBlk.push(blk);
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
    this.devices.pciHost.attach(device, fn, f);
    const mapped = new Map<number, BusRange>();
    f.config.onBarChange = (c: BarChange) => {
      const old = mapped.get(c.index);
      if (old) {
        (c.kind === "io" ? this.pio : this.mmio).unregister(old);
        mapped.delete(c.index);
      }
      const dev = bars[c.index];
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

  /** VGA BAR0 maps video RAM as a KVM memory slot (dirty-logged), not as MMIO. */
  #mapFramebufferBar(vga: VgaPci): void {
    const otherBars = vga.config.onBarChange;
    vga.config.onBarChange = (c: BarChange) => {
      if (c.index !== 0) return otherBars?.(c);
      try {
        if (c.base === null) this.framebuffer.unmap();
        else this.framebuffer.map(c.base);
      } catch (e) {
        // A guest may place the BAR over something else; it then decodes nothing.
        if (!(e instanceof KvmError)) throw e;
        this.env.onWarning(`VGA framebuffer at 0x${c.base?.toString(16)}: ${e.message}`);
      }
    };
  }

  /**
   * What the guest's graphics frame changed since the last call (the whole
   * frame when `full`), read through KVM's dirty log of video RAM.
   */
  frame(full = false): FrameUpdate {
    if (full) this.frames.invalidate();
    return this.frames.update(this.framebuffer.takeDirty());
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
    return screenText(screenSnapshot(this.devices.vga.vga));
  }

  /**
   * What the monitor shows, as RGBA: the rendered text screen, or the
   * graphics frame (VBE or VGA) in its own format and palette.
   */
  screenshot(): ScreenImage {
    return renderFrame(this.devices.vga.vga) ?? renderScreen(this.devices.vga.vga);
  }

  /** Every device's state, plus the buses' registrations. */
  state(): BoardState {
    const d = this.devices;
    const ranges = (bus: Bus) =>
      bus.ranges().map((r) => ({ name: r.name, base: r.base, length: r.length }));
    return {
      uart: d.uart.state(),
      rtc: d.rtc.state(),
      i8042: d.i8042.state(),
      postCode: d.postCode.state(),
      debugExit: d.debugExit.state(),
      pci: d.pciHost.state(),
      vga: d.vga.snapshot(),
      screen: screenState(d.vga.vga),
      fwCfg: d.fwCfg.state(),
      virtioBlk: d.virtioBlk.map((b) => b.snapshot()),
      ide: d.ide.snapshot(),
      pio: ranges(this.pio),
      mmio: ranges(this.mmio),
      unclaimed: { pio: { ...this.pio.misses }, mmio: { ...this.mmio.misses } },
    };
  }

  /** Closes the vCPUs and the VM. RAM and firmware stay with the environment. */
  dispose(): void {
    for (const v of this.vcpus) v.close();
    this.vm.close();
    this.framebuffer.dispose();
  }
}

/**
 * CMOS geometry of the IDE hard disks, by position (CD-ROMs and empty slots
 * are null), with the translation QEMU reports: none within 1024/16/63.
 */
function cmosDisks(
  config: MachineConfig,
  backends: readonly BlockBackend[],
): (CmosDiskGeometry | null)[] {
  const out: (CmosDiskGeometry | null)[] = [];
  config.disks.forEach((disk, i) => {
    if (disk.interface !== "ide" || out.length >= IDE_POSITIONS.length) return;
    if (disk.media !== "disk") return void out.push(null);
    const g = defaultGeometry(Math.floor(backends[i].size / 512));
    const fits = g.cylinders <= 1024 && g.heads <= 16 && g.sectors <= 63;
    out.push({ ...g, translation: fits ? "none" : "lba" });
  });
  return out;
}

const IDE_POSITIONS = [
  "primaryMaster",
  "primarySlave",
  "secondaryMaster",
  "secondarySlave",
] as const;

/** IDE disks and CD-ROMs in command-line order: primary master first. */
function ideDrives(
  config: MachineConfig,
  backends: readonly BlockBackend[],
): Partial<Record<(typeof IDE_POSITIONS)[number], DriveSpec>> {
  const drives: Partial<Record<(typeof IDE_POSITIONS)[number], DriveSpec>> = {};
  let next = 0;
  config.disks.forEach((disk, i) => {
    if (disk.interface !== "ide" || next >= IDE_POSITIONS.length) return;
    drives[IDE_POSITIONS[next++]] = {
      kind: disk.media,
      backend: backends[i],
      serial: `VMRUN${String(i).padStart(4, "0")}`,
    };
  });
  return drives;
}
