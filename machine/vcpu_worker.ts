/**
 * The vCPU worker: builds the board and runs vCPU 0's blocking KVM_RUN loop.
 * Requests arrive through the control buffer (see control.ts); events go
 * back to the main thread as messages ({@link WorkerEvent}). It is the
 * device thread: the application processors' workers hand it their exits
 * (see ap_slots.ts), and pause, save, reset and stop hold them all.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { SteppedClock } from "../devices/clock.ts";
import {
  currentThreadId,
  discardMemory,
  mapAnonymous,
  residentPages,
  swapConfigured,
  unmap,
} from "../kvm/host.ts";
import type { VirtioBalloon } from "../devices/virtio/virtio_balloon.ts";
import { decodeExit, EXIT_INTERRUPTED, EXIT_REASON, type VcpuExit } from "../kvm/exits.ts";
import { exitAction } from "./exit_policy.ts";
import { HOST_NOW_MS, hostNowMs, Kvm, readHostNow } from "../kvm/kvm.ts";
import type { Timer } from "../devices/types.ts";
import { isKeyName } from "../devices/keymap.ts";
import { Board, type FirmwareImages, type GuestExit, optionalDevice } from "./board.ts";
import type { FrameUpdate } from "../devices/vga/frame_tracker.ts";
import { loadFirmware } from "./firmware.ts";
import { closeDisks, type OpenDisk, openDisks } from "./disks.ts";
import { bootSectorStart } from "./boot.ts";
import { type KernelFiles, readKernelFiles } from "./kernel_plan.ts";
import type { MachineConfig, NicConfig } from "./config.ts";
import {
  type ControlBuffers,
  ControlViews,
  CTRL,
  type MailMessage,
  REQ,
  RUN_STATE,
  type RunState,
  type SaveMail,
  takeMail,
} from "./control.ts";
import {
  ExitStats,
  handleCoalescedWrite,
  handleIoExit,
  handleMmioExit,
  ioExitPort,
} from "./exit_handler.ts";
import {
  type CoalescedMmioRing,
  type CoalescedWrite,
  coalesceMmio,
} from "../kvm/coalesced_mmio.ts";
import { COALESCED_MMIO } from "./io_map.ts";
import { GuestRam } from "./guest_ram.ts";
import { DeadlineKicker, publishRunAddress, retractRunAddress } from "./kick.ts";
import type { I6300esb } from "../devices/watchdog/i6300esb.ts";
import { type WatchdogEvent, type WatchdogModel, watchdogOutcome } from "./watchdog.ts";
import { SILENT_AUDIO } from "../devices/audio.ts";
import { WavSink } from "./wav_sink.ts";
import { AudioMixer } from "./audio_mixer.ts";
import { ramLayout } from "./memory_map.ts";
import { OVERLAY_CHUNK, SnapshotBackend } from "./disk_backend.ts";
import { diskIdentities } from "./disk_identity.ts";
import { readSaveFile, type SaveContents, SaveFileError, writeSaveFile } from "./save_file.ts";
import { checkSavedState, REGION, type SavedMachineState, type SaveHeader } from "./saved_vm.ts";
import { VMRUN_VERSION } from "./version.ts";
import { ConsolePorts } from "./console_ports.ts";
import { ApControl } from "./ap_control.ts";
import type { Vcpu } from "../kvm/kvm.ts";
import { LAYOUTS } from "../kvm/structs.ts";
import type { NetPorts } from "./net.ts";
import type { NetLink } from "./net_link.ts";
import { deviceModule, loadDeviceModules } from "./device_modules.ts";
import { BALLOON_DEVICE } from "./balloon.ts";

/** The first message a worker receives. */
export interface WorkerInit {
  readonly config: MachineConfig;
  readonly buffers: ControlBuffers;
  /** Carry on from this save file instead of powering on (its header gave `config`). */
  readonly restorePath?: string;
  /** The rings and wake-up of the network worker, when the config has NICs. */
  readonly net?: NetPorts;
}

/** Per-vCPU figures for the stats pane. */
export interface VcpuStats {
  readonly exits: number;
  readonly byKind: Record<string, number>;
  readonly guestMs: number;
  readonly uptimeMs: number;
  readonly busiestPorts: { port: number; exits: number }[];
  /** The vCPU sat in HLT (KVM_MP_STATE_HALTED) when the snapshot was taken. */
  readonly halted?: boolean;
}

/** What a worker tells the main thread. */
export type WorkerEvent =
  | { type: "state"; state: RunState }
  | { type: "serial"; bytes: Uint8Array }
  /** Bytes the guest wrote on a virtio console port (0 = hvc0). */
  | { type: "console"; port: number; bytes: Uint8Array }
  | { type: "snapshot"; id: number; devices: unknown; vcpu: VcpuStats; vcpus: VcpuStats[] }
  /** What the monitor shows, as RGBA (the buffer is transferred). */
  | { type: "screenshot"; id: number; width: number; height: number; rgba: Uint8Array }
  | { type: "frame"; id: number; update: FrameUpdate }
  | { type: "reset" }
  | { type: "warning"; message: string }
  /** The firmware's screen says it found nothing to boot. */
  | { type: "boot-failed"; message: string }
  | { type: "exit"; exit: GuestExit }
  /** The watchdog expired; its action is under way. */
  | { type: "watchdog"; event: WatchdogEvent }
  /** A save finished: the file's size and how long the guest was held. */
  | { type: "saved"; id: number; bytes: number; ms: number }
  | { type: "save-failed"; id: number; message: string };

const SERIAL_FLUSH_NS = 2_000_000;
/** KVM_MP_STATE_HALTED: the in-kernel irqchip keeps a halted vCPU inside KVM_RUN. */
const MP_STATE_HALTED = 3;
/** CMOS bytes from here up are battery-backed RAM (below: the clock's registers). */
const CMOS_RAM_START = 0x0e;
const BOOT_FAILURE_POLL_NS = 500_000_000;
const BOOT_FAILURE = /No bootable device|Boot failed/;
const SERIAL_FLUSH_BYTES = 4096;
const EXIT_REASON_AT = LAYOUTS.kvm_run.fields.exit_reason;

const NO_FIRMWARE: FirmwareImages = { bios: null, biosRom: null, vgaBios: null };

/** The firmware images a save file carries, with fresh ROM memory for the BIOS. */
function savedFirmware(s: SavedMachineState): FirmwareImages {
  const { bios, vgaBios } = s.firmware;
  return { bios, vgaBios, biosRom: bios ? mapAnonymous(bios.length) : null };
}

function post(e: WorkerEvent): void {
  self.postMessage(e);
}

self.onmessage = async (ev: MessageEvent<WorkerInit>) => {
  self.onmessage = null;
  let exit: GuestExit;
  try {
    // The models this board has beyond the fixed devices; building it is synchronous.
    await loadDeviceModules(ev.data.config);
    exit = new MachineLoop(ev.data).run();
  } catch (e) {
    exit = { reason: "vmm-error", code: 1, detail: e instanceof Error ? e.message : String(e) };
  }
  post({ type: "exit", exit });
};

class MachineLoop {
  readonly ctl: ControlViews;
  readonly config: MachineConfig;
  readonly kvm: Kvm;
  readonly ram: GuestRam;
  readonly ramHost;
  clock = new SteppedClock();
  /** Wall time (ms) at which the device clock read 0; a restore moves it back. */
  originMs = ControlViews.wallMs();
  /** From `performance.now()` to ms since {@link originMs}. */
  timeOriginOffsetMs = performance.timeOrigin - this.originMs;
  readonly restorePath: string | null;
  readonly stats = new ExitStats();
  board!: Board;
  /** Writes KVM queued instead of exiting (the VGA window); null when KVM cannot. */
  coalesced: CoalescedMmioRing | null = null;
  readonly coalescedWrite: CoalescedWrite = (addr, len, view, at) =>
    handleCoalescedWrite(this.board.mmio, addr, len, view, at);
  exit: GuestExit | null = null;
  resetPending = false;
  /** COM1 output not yet posted: the first serialOutLength bytes (filled in place, no garbage per byte). */
  readonly serialOut = new Uint8Array(SERIAL_FLUSH_BYTES);
  serialOutLength = 0;
  serialTimer!: Timer;
  firmware: FirmwareImages;
  disks: OpenDisk[];
  bootFailureSeen = false;
  serialIn: number[] = [];
  publishedDeadline = Infinity;
  /** The clock and its count of timer changes when {@link publishedDeadline} was last looked at. */
  publishedClock: SteppedClock | null = null;
  publishedChanges = 0;
  /** The device clock's time for {@link step} to hand over without allocating. */
  readonly clockFeed = new Float64Array(1);
  /** The virtio console's host side (`--device virtio-serial-pci`). */
  readonly console = new ConsolePorts(
    (port, bytes) => post({ type: "console", port, bytes }),
    (message) => post({ type: "warning", message }),
  );
  /** --kernel's files, read once and kept across resets. */
  kernelFiles: KernelFiles | null = null;
  readonly deadlineKicker: DeadlineKicker;
  /** The --audio WAV file behind its mixer, kept across resets. */
  audio: AudioMixer | null;
  /** The application processors' workers. */
  readonly aps: ApControl;
  /** Exit counters of vCPUs 1..n-1 (their exits are handled here). */
  readonly apStats: ExitStats[];
  readonly net: NetLink | null;
  /** The balloon target asked for (pages), kept across resets; null until asked. */
  balloonPages: number | null = null;

  constructor(init: WorkerInit) {
    this.ctl = new ControlViews(init.buffers);
    this.aps = new ApControl(init.buffers, (vcpu) => this.apExit(vcpu));
    this.apStats = this.aps.slots.map(() => new ExitStats());
    this.deadlineKicker = new DeadlineKicker(this.ctl);
    this.config = init.config;
    this.kvm = Kvm.open();
    const layout = ramLayout(this.config.memoryBytes);
    this.ramHost = mapAnonymous(layout.total);
    // Balloon pages go back to the host through here (MADV_REMOVE of whole pages).
    this.ram = new GuestRam(
      layout,
      this.ramHost.buffer,
      (offset, length) => discardMemory(this.ramHost, offset, length),
    );
    this.restorePath = init.restorePath ?? null;
    // A restore takes the firmware the saved guest ran from the save file.
    this.firmware = this.restorePath ? NO_FIRMWARE : loadFirmware(this.config);
    this.disks = openDisks(this.config);
    this.audio = this.config.audio ? new AudioMixer(new WavSink(this.config.audio.wavPath)) : null;
    this.net = init.net
      ? new (deviceModule("netLink").NetLink)(this.config.nics ?? [], init.net)
      : null;
    // Unmapped only when the run is over (see run()), after the network worker's last lease.
    this.net?.publishRam(this.ramHost.address, this.config.memoryBytes);
  }

  run(): GuestExit {
    try {
      return this.#run();
    } finally {
      // No AP may run a vCPU of a board that is going away (a VMM error included).
      this.aps.quit();
      this.deadlineKicker.dispose();
      // Every exit path, faults and VMM errors included, makes writes durable.
      closeDisks(this.disks);
      this.audio?.close();
      // Guest RAM and the BIOS ROM go back to the host: a process that runs VM after VM keeps none
      // of them. Nothing touches them now: the APs are gone, and the network worker's lease was
      // taken back after the last KVM_RUN.
      unmap(this.ramHost);
      if (this.firmware.biosRom) unmap(this.firmware.biosRom);
    }
  }

  #run(): GuestExit {
    if (this.restorePath) this.restore(this.restorePath);
    else this.build();
    this.aps.run();
    this.setState("running");
    const ints = this.ctl.ints;
    for (;;) {
      if (Atomics.load(ints, CTRL.REQUEST) !== 0) this.serviceRequests();
      if (this.exit) break;
      if (this.resetPending) {
        this.resetPending = false;
        // --no-reboot: a reset ends the run, as QEMU's -no-reboot.
        if (this.config.noReboot) {
          this.exit = { reason: "reset", code: 0, detail: "the guest reset (--no-reboot)" };
          break;
        }
        this.rebuild();
        continue;
      }
      this.step();
      if (this.exit) break;
    }
    this.drainCoalesced();
    this.net?.flush();
    this.flushSerial();
    this.console.flush();
    this.board.flushAudio();
    this.setState("stopped");
    retractRunAddress(this.ctl);
    this.aps.quit();
    this.coalesced = null;
    this.board.dispose();
    return this.exit;
  }

  /** One KVM_RUN and the handling of its exit. */
  step(): void {
    const board = this.board;
    const vcpu = board.vcpus[0];
    // Devices may have armed timers since the last exit (mail, serial input):
    // the deadline timer must know before the vCPU possibly halts for good.
    this.publishDeadline();
    readHostNow();
    const t0 = HOST_NOW_MS[0];
    // While the vCPU runs, the network worker may fill virtio-net receive
    // queues itself; they come back before any device code runs.
    this.net?.lend();
    let reason: number;
    try {
      reason = vcpu.runRaw();
    } finally {
      this.net?.reclaim();
    }
    readHostNow();
    const t1 = HOST_NOW_MS[0];
    const stats = this.stats;
    stats.guestMs += t1 - t0;
    vcpu.immediateExit = false;
    // Writes the guest made before this exit come first (timers below may read the screen).
    this.drainCoalesced();
    const now = this.clockFeed;
    now[0] = (t1 + this.timeOriginOffsetMs) * 1e6;
    this.clock.advanceToFrom(now);
    // The frequent exits are handled straight from the kvm_run page.
    if (reason === EXIT_REASON.IO) {
      stats.count("io");
      stats.portCounts[ioExitPort(vcpu.runView)]++;
      handleIoExit(board.pio, vcpu.runBytes, vcpu.runView);
      return;
    }
    if (reason === EXIT_REASON.MMIO) {
      stats.count("mmio");
      handleMmioExit(board.mmio, vcpu.runView);
      return;
    }
    this.rareExit(reason === EXIT_INTERRUPTED ? { kind: "interrupted" } : decodeExit(vcpu.runView));
  }

  /** Replays the writes KVM coalesced since the last look, oldest first. */
  drainCoalesced(): void {
    const ring = this.coalesced;
    if (ring !== null && ring.pending()) ring.drain(this.coalescedWrite);
  }

  /** Exits other than port I/O and MMIO, kept out of {@link step} so it stays small. */
  rareExit(exit: VcpuExit, vcpu: Vcpu = this.board.vcpus[0], stats = this.stats): void {
    stats.count(exit.kind);
    const action = exitAction(exit);
    if (action.kind === "reset") this.resetPending = true;
    else if (action.kind === "end" && !this.exit) {
      this.exit = action.fault ? this.withRegisters(action.exit, vcpu) : action.exit;
    }
  }

  /**
   * An application processor's exit, handed over while its worker waits
   * (see ap_slots.ts): handled from its kvm_run page like vCPU 0's.
   */
  apExit(vcpu: Vcpu): void {
    const stats = this.apStats[vcpu.id - 1];
    const view = vcpu.runView;
    const reason = view.getUint32(EXIT_REASON_AT, true);
    this.drainCoalesced();
    this.clock.advanceTo((hostNowMs() + this.timeOriginOffsetMs) * 1e6);
    if (reason === EXIT_REASON.IO) {
      stats.count("io");
      stats.portCounts[ioExitPort(view)]++;
      handleIoExit(this.board.pio, vcpu.runBytes, view);
    } else if (reason === EXIT_REASON.MMIO) {
      stats.count("mmio");
      handleMmioExit(this.board.mmio, view);
    } else {
      this.rareExit(decodeExit(view), vcpu, stats);
    }
  }

  /** A fault's exit with the faulting vCPU's registers, for the report on stderr. */
  withRegisters(exit: GuestExit, vcpu: Vcpu = this.board.vcpus[0]): GuestExit {
    const detail = vcpu.id === 0 ? exit.detail : `vCPU ${vcpu.id}: ${exit.detail}`;
    return {
      ...exit,
      detail,
      registers: { ...vcpu.getRegs().toJSON(), ...vcpu.getSregs().toJSON() },
    };
  }

  /** Builds the board from a save file and puts everything back as it was saved. */
  restore(path: string): void {
    const file = Deno.openSync(path, { read: true });
    let state: SavedMachineState | null = null;
    try {
      const saved = readSaveFile(file, {
        onState: (raw) => {
          state = checkSavedState(raw);
          this.firmware = savedFirmware(state);
          // The device clock resumes where it stood: timers keep their distances.
          this.originMs = ControlViews.wallMs() - state.clockNs / 1e6;
          this.timeOriginOffsetMs = performance.timeOrigin - this.originMs;
          this.clock = new SteppedClock();
          this.clock.advanceTo(state.clockNs);
          this.build(true);
        },
        memoryTarget: (name) => this.memoryRegion(name),
        targetResident: (name) => {
          if (swapConfigured()) return null;
          if (name === REGION.RAM) return residentPages(this.ramHost);
          if (name === REGION.VRAM) return residentPages(this.board.framebuffer.memory);
          return null;
        },
      });
      for (const o of saved.overlays) {
        const backend = this.disks[o.disk]?.backend;
        if (!(backend instanceof SnapshotBackend)) {
          throw new SaveFileError(
            `the save file has an overlay for disk ${o.disk}, not a --snapshot disk here`,
          );
        }
        backend.loadOverlay(o.chunks);
      }
    } finally {
      file.close();
    }
    const s = state as SavedMachineState | null;
    if (!s) throw new SaveFileError("the save file has no machine state");
    this.board.restore(s.board);
    this.balloonPages = this.balloon()?.targetPages ?? null;
    // Frames the new network sent meanwhile go to the restored NICs.
    this.net?.deliver();
    this.serialIn = [...s.serialIn];
  }

  /** The host memory behind a save file's memory region. */
  memoryRegion(name: string): Uint8Array | null {
    switch (name) {
      case REGION.RAM:
        return new Uint8Array(this.ramHost.buffer, 0, this.ram.layout.total);
      case REGION.VRAM:
        return this.board.framebuffer.bytes;
      case REGION.BIOS_ROM: {
        const rom = this.firmware.biosRom;
        return rom && this.firmware.bios
          ? new Uint8Array(rom.buffer, 0, this.firmware.bios.length)
          : null;
      }
    }
    return null;
  }

  /** Pauses the guest's world long enough to write it to `path` (atomically, via a rename). */
  save(m: SaveMail): void {
    // Every vCPU out of KVM_RUN while its state is read (KVM: between two runs).
    this.aps.held(() => this.#save(m));
  }

  #save(m: SaveMail): void {
    const t0 = performance.now();
    this.drainCoalesced();
    const partial = `${m.path}.partial`;
    try {
      this.flushSerial();
      for (const d of this.disks) d.backend.flush();
      const file = Deno.openSync(partial, { write: true, create: true, truncate: true });
      let bytes: number;
      try {
        bytes = writeSaveFile(file, this.saveContents(m.nics));
        file.syncDataSync();
      } finally {
        file.close();
      }
      Deno.renameSync(partial, m.path);
      post({ type: "saved", id: m.id, bytes, ms: performance.now() - t0 });
      if (m.stop) this.exit ??= { reason: "stopped", code: 0, detail: `saved to ${m.path}` };
    } catch (e) {
      try {
        Deno.removeSync(partial);
      } catch {
        // Never created.
      }
      post({ type: "save-failed", id: m.id, message: e instanceof Error ? e.message : String(e) });
    }
  }

  /** @param nics the NICs as they stand, when they changed since the start (forwards) */
  saveContents(nics?: readonly NicConfig[]): SaveContents {
    const header: SaveHeader = {
      vmrunVersion: VMRUN_VERSION,
      savedAt: new Date().toISOString(),
      config: nics ? { ...this.config, nics } : this.config,
      disks: diskIdentities(this.config.disks),
    };
    const state: SavedMachineState = {
      version: 1,
      clockNs: this.clock.nowNs(),
      serialIn: this.serialIn,
      board: this.board.snapshot(),
      firmware: { bios: this.firmware.bios, vgaBios: this.firmware.vgaBios },
    };
    // Without swap, pages the kernel never backed are zero: they need not be scanned.
    const hint = swapConfigured() ? () => null : residentPages;
    const memory = [
      { name: REGION.RAM, resident: hint(this.ramHost) },
      { name: REGION.VRAM, resident: hint(this.board.framebuffer.memory) },
      { name: REGION.BIOS_ROM, resident: null },
    ].flatMap(({ name, resident }) => {
      const bytes = this.memoryRegion(name);
      return bytes ? [{ name, bytes, resident }] : [];
    });
    const overlays = this.disks.flatMap((d, disk) =>
      d.backend instanceof SnapshotBackend
        ? [{ disk, chunkSize: OVERLAY_CHUNK, chunks: d.backend.overlay() }]
        : []
    );
    return { header, state, memory, overlays };
  }

  build(restoring = false): void {
    // A fresh clock per board: timers of the old devices must never fire.
    const now = this.clock.nowNs();
    this.clock = new SteppedClock();
    this.clock.advanceTo(now);
    this.publishedDeadline = NaN;
    this.publishedClock = null;
    this.serialTimer = this.clock.timer(() => this.flushSerial());
    const vm = this.kvm.createVm();
    this.coalesced = null;
    this.board = new Board(this.config, {
      kvm: this.kvm,
      ramHost: this.ramHost,
      ram: this.ram,
      clock: this.clock,
      firmware: this.firmware,
      disks: this.disks.map((d) => d.backend),
      nics: this.net?.ports,
      onSerial: (bytes) => this.queueSerial(bytes),
      onExit: (exit) => this.exit ??= exit,
      onReset: () => this.resetPending = true,
      onWarning: (message) => post({ type: "warning", message }),
      entropy: (dst) => crypto.getRandomValues(dst),
      onConsole: (port, bytes) => this.console.output(port, bytes),
      onWatchdog: (model) => this.watchdogExpired(model),
      audio: this.audio ?? SILENT_AUDIO,
    }, vm);
    this.console.attach(this.board, this.clock);
    if (this.balloonPages !== null && !restoring) this.balloon()?.setTarget(this.balloonPages);
    if (this.firmware.bios) this.watchForBootFailure();
    const uart = this.board.devices.uart;
    uart.onRxSpace = () => this.feedSerial();
    this.aps.attach(this.board.vcpus);
    this.coalesced = coalesceMmio(vm, this.board.vcpus[0].runBytes.buffer, COALESCED_MMIO);
    this.net?.attach(this.board.devices.nics, this.board.vm);
    const vcpu = this.board.vcpus[0];
    if (restoring) {
      // The saved state puts RAM and registers back.
    } else if (this.config.kernel) {
      // --kernel: vmrun loads it (no firmware) or hands it to SeaBIOS through fw_cfg.
      deviceModule("linuxBoot").startKernel(
        this.board,
        this.ram,
        this.kvm,
        this.kernelFiles ??= readKernelFiles(this.config.kernel),
      );
    } else if (this.config.firmware.kind === "none") {
      // Through the backend, so a --snapshot overlay's boot sector is the one that runs.
      bootSectorStart(this.ram, vcpu, this.disks[0].backend);
    }
    publishRunAddress(this.ctl, vcpu.runAddress, currentThreadId());
  }

  /** The board's balloon (`--device virtio-balloon-pci`), or null. */
  balloon(): VirtioBalloon | null {
    return optionalDevice(this.board.devices, BALLOON_DEVICE);
  }

  /** Carries out the configured watchdog action (QEMU's default: reset). */
  watchdogExpired(model: WatchdogModel): void {
    const wd = { model, action: this.config.watchdogAction ?? "reset" } as const;
    post({ type: "watchdog", event: wd });
    const outcome = watchdogOutcome(wd);
    if (outcome.kind === "reset") this.resetPending = true;
    else if (outcome.kind === "end") this.exit ??= outcome.exit;
    // The worker pauses itself at the top of its loop; resume() clears the bit.
    else if (outcome.kind === "pause") Atomics.or(this.ctl.ints, CTRL.REQUEST, REQ.PAUSE);
  }

  rebuild(): void {
    this.flushSerial();
    // An expired deadline re-signals every millisecond; KVM_CREATE_VM fails with EINTR.
    this.deadlineKicker.suspend();
    this.board.flushAudio();
    // The i6300esb's timeout status survives resets (the guest reads why it rebooted).
    const rebootFlag = this.#i6300esb()?.rebootFlag ?? false;
    retractRunAddress(this.ctl);
    this.aps.detach();
    // CMOS RAM is battery-backed: what the guest stored there survives a reset.
    const cmos = this.board.devices.rtc;
    const kept = Array.from(
      { length: 128 - CMOS_RAM_START },
      (_, i) => cmos.getByte(CMOS_RAM_START + i),
    );
    this.coalesced = null;
    this.board.dispose();
    this.build();
    kept.forEach((v, i) => this.board.devices.rtc.setByte(CMOS_RAM_START + i, v));
    const wdt = this.#i6300esb();
    if (wdt) wdt.rebootFlag = rebootFlag;
    this.aps.run();
    post({ type: "reset" });
  }

  /** The board's i6300esb watchdog, if it has one. */
  #i6300esb(): I6300esb | null {
    return optionalDevice(this.board.devices, "i6300esb");
  }

  /** Looks at the screen twice a second for the firmware's "no bootable device". */
  watchForBootFailure(): void {
    this.bootFailureSeen = false;
    const timer = this.clock.timer(() => {
      const line = this.board.screenText().split("\n").find((l) => BOOT_FAILURE.test(l));
      if (line && !this.bootFailureSeen) {
        this.bootFailureSeen = true;
        post({ type: "boot-failed", message: line.trim() });
      }
      timer.arm(this.clock.nowNs() + BOOT_FAILURE_POLL_NS);
    });
    timer.arm(this.clock.nowNs() + BOOT_FAILURE_POLL_NS);
  }

  serviceRequests(): void {
    // Requests read device state: the APs' queued writes land first.
    this.drainCoalesced();
    const ints = this.ctl.ints;
    const req = Atomics.and(ints, CTRL.REQUEST, REQ.PAUSE);
    if (req & REQ.AP_EXIT) this.aps.serviceExits();
    if (req & REQ.MAIL) { for (const m of takeMail(this.ctl)) this.handleMail(m); }
    if (req & REQ.NET) this.net?.deliver();
    if (req & REQ.STOP) {
      this.exit ??= { reason: "stopped", code: 0 };
      return;
    }
    if (req & REQ.PAUSE) this.pause();
  }

  pause(): void {
    const ints = this.ctl.ints;
    this.net?.flush();
    this.flushSerial();
    this.console.flush();
    this.deadlineKicker.suspend();
    this.publishedDeadline = NaN; // re-armed by the first step after the pause
    this.publishedClock = null;
    this.aps.park();
    this.drainCoalesced();
    this.setState("paused");
    for (;;) {
      if (Atomics.load(ints, CTRL.REQUEST) & REQ.AP_EXIT) {
        Atomics.and(ints, CTRL.REQUEST, ~REQ.AP_EXIT);
        this.aps.serviceExits();
        // What they sent goes out now, not at the resume.
        this.net?.flush();
      }
      const req = Atomics.load(ints, CTRL.REQUEST);
      if (req & REQ.STOP) {
        this.exit ??= { reason: "stopped", code: 0 };
        return;
      }
      if (req & REQ.MAIL) {
        Atomics.and(ints, CTRL.REQUEST, ~REQ.MAIL);
        for (const m of takeMail(this.ctl)) this.handleMail(m);
        continue;
      }
      if (!(req & REQ.PAUSE)) break;
      Atomics.wait(ints, CTRL.REQUEST, req);
    }
    // Guest time does not jump over the pause for devices that were waiting.
    this.aps.run();
    this.setState("running");
  }

  handleMail(m: MailMessage): void {
    switch (m.type) {
      case "serial-in":
        this.serialIn.push(...m.bytes);
        this.feedSerial();
        break;
      case "console-in":
        this.console.input(m.port, m.bytes);
        break;
      case "reset":
        this.resetPending = true;
        break;
      case "power-button":
        this.board.devices.pm.pressPowerButton();
        break;
      case "balloon": {
        const balloon = this.balloon();
        if (!balloon) break;
        balloon.setTarget(m.pages);
        this.balloonPages = m.pages;
        break;
      }
      case "frame": {
        const update = this.board.frame(m.full);
        const event: WorkerEvent = { type: "frame", id: m.id, update };
        self.postMessage(event, update.rects.map((r) => r.rgba.buffer as ArrayBuffer));
        break;
      }
      case "snapshot": {
        const vcpus = this.allVcpuStats();
        post({ type: "snapshot", id: m.id, devices: this.board.state(), vcpu: vcpus[0], vcpus });
        // The APs note their MP state as they leave KVM_RUN: the next snapshot shows it.
        this.aps.kickAll();
        break;
      }
      case "screenshot": {
        const { width, height, rgba } = this.board.screenshot();
        const e: WorkerEvent = { type: "screenshot", id: m.id, width, height, rgba };
        self.postMessage(e, [rgba.buffer as ArrayBuffer]);
        break;
      }
      case "save":
        this.save(m);
        break;
      case "keys": {
        const kbd = this.board.devices.i8042.keyboard;
        for (const k of m.events) {
          if (!isKeyName(k.key)) continue;
          if (k.down) kbd.keyDown(k.key);
          else kbd.keyUp(k.key);
        }
        break;
      }
    }
  }

  /** Every vCPU's figures, vCPU 0 first. */
  allVcpuStats(): VcpuStats[] {
    const uptimeMs = ControlViews.wallMs() - this.originMs;
    const figures = (stats: ExitStats, guestMs: number, halted: boolean | undefined) => ({
      exits: stats.total,
      byKind: { ...stats.byKind },
      guestMs,
      uptimeMs,
      busiestPorts: stats.busiestPorts(5),
      halted,
    });
    const bsp = this.board.vcpus[0].mpState() === MP_STATE_HALTED;
    return [
      figures(this.stats, this.stats.guestMs, bsp),
      ...this.apStats.map((s, i) => {
        const f = this.aps.figures(i);
        return figures(s, f.guestMs, f.halted);
      }),
    ];
  }

  feedSerial(): void {
    if (this.serialIn.length === 0) return;
    const uart = this.board.devices.uart;
    const space = uart.rxSpace();
    if (space === 0) return;
    const chunk = this.serialIn.splice(0, space);
    const taken = uart.receive(Uint8Array.from(chunk));
    if (taken < chunk.length) this.serialIn.unshift(...chunk.slice(taken));
  }

  queueSerial(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length;) {
      const n = Math.min(bytes.length - at, SERIAL_FLUSH_BYTES - this.serialOutLength);
      if (this.serialOutLength === 0) this.serialTimer.arm(this.clock.nowNs() + SERIAL_FLUSH_NS);
      this.serialOut.set(
        n === bytes.length ? bytes : bytes.subarray(at, at + n),
        this.serialOutLength,
      );
      this.serialOutLength += n;
      at += n;
      if (this.serialOutLength === SERIAL_FLUSH_BYTES) this.flushSerial();
    }
  }

  flushSerial(): void {
    this.serialTimer.cancel();
    if (this.serialOutLength === 0) return;
    post({ type: "serial", bytes: this.serialOut.slice(0, this.serialOutLength) });
    this.serialOutLength = 0;
  }

  publishDeadline(): void {
    const clock = this.clock;
    // No timer changed: the next deadline did not either (reading it is a heap number).
    if (clock === this.publishedClock && clock.changes === this.publishedChanges) return;
    this.publishedClock = clock;
    this.publishedChanges = clock.changes;
    const next = clock.nextDeadline();
    if (next === this.publishedDeadline) return;
    this.publishedDeadline = next;
    // Now from the clock the exits advance, so the kick never comes before the timer is due.
    this.deadlineKicker.set(
      next === Infinity ? Infinity : this.originMs + next / 1e6,
      hostNowMs() + performance.timeOrigin,
    );
  }

  setState(state: RunState): void {
    Atomics.store(this.ctl.ints, CTRL.STATE, RUN_STATE.indexOf(state));
    post({ type: "state", state });
  }
}
