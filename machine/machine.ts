/**
 * A running machine, seen from the main thread: starts the vCPU worker
 * (device deadlines reach it through a kernel timer, see kick.ts), forwards requests through the control buffer with a kick, and
 * turns worker messages into events. Nothing here blocks.
 *
 * @module
 */

import { comboToKeyStrokes, type KeyStroke, textToKeyStrokes } from "../devices/keymap.ts";
import { type FileLock, installKickHandler } from "../kvm/host.ts";
import { lockImages } from "./disk_locks.ts";
import type { BoardState, GuestExit } from "./board.ts";
import type { ScreenImage } from "../devices/vga/render_text.ts";
import type { FrameUpdate } from "../devices/vga/frame_tracker.ts";
import type { MachineConfig } from "./config.ts";
import type { WatchdogEvent } from "./watchdog.ts";
import {
  ControlViews,
  createControlBuffers,
  CTRL,
  type MailMessage,
  postMail,
  REQ,
  type RunState,
} from "./control.ts";
import { ControlKicker, deleteDeadlineTimer, retractRunAddress } from "./kick.ts";
import type { VcpuStats, WorkerEvent, WorkerInit } from "./vcpu_worker.ts";
import type { ApWorkerInit } from "./ap_worker.ts";
import { takeVcpuWorker } from "./vcpu_worker_start.ts";
import { type ActiveForward, NetHost } from "./net.ts";

/** A snapshot of a machine: devices and vCPU figures, as plain data. */
export interface MachineSnapshot {
  readonly runState: RunState;
  /** Device states; null once the machine has stopped. */
  readonly devices: BoardState | null;
  /** vCPU 0's figures (the first of {@link vcpus}). */
  readonly vcpu: VcpuStats;
  /** Every vCPU's figures, vCPU 0 first. */
  readonly vcpus: readonly VcpuStats[];
  /** The host port forwards in force, every NIC's (none without NICs). */
  readonly forwards?: readonly ActiveForward[];
}

/** Listeners a machine calls. */
export interface MachineEvents {
  /** Bytes COM1 transmitted, in order. */
  serial?: (bytes: Uint8Array) => void;
  /** Bytes the guest wrote on a virtio console port (0 = hvc0), in order. */
  console?: (port: number, bytes: Uint8Array) => void;
  /** The run state changed. */
  state?: (state: RunState) => void;
  /** The guest reset (by request or by itself). */
  reset?: () => void;
  /** The firmware says it found nothing to boot (the guest keeps running). */
  bootFailed?: (message: string) => void;
  /** Something odd but not fatal happened (a misprogrammed BAR). */
  warning?: (message: string) => void;
  /** The watchdog expired (its action is under way). */
  watchdog?: (event: WatchdogEvent) => void;
}

const MAIL_RETRY_MS = 2;

/** What a finished save reports. */
export interface SaveResult {
  readonly path: string;
  /** Size of the save file. */
  readonly bytes: number;
  /** How long the guest was held while its state was written. */
  readonly ms: number;
}

/** How a machine starts. */
export interface MachineStart {
  /**
   * Carry on from this save file instead of powering on; `config` must be
   * its header's (see restore.ts).
   */
  readonly restorePath?: string;
}

/** A machine running in its own worker threads. */
export class Machine {
  readonly #ctl: ControlViews;
  readonly #kicker: ControlKicker;
  readonly #worker: Worker;
  /** One worker per application processor (vCPUs 1..n-1). */
  readonly #apWorkers: Worker[] = [];
  readonly #net: NetHost | null;
  readonly #events: MachineEvents;
  readonly #snapshots = new Map<number, (s: MachineSnapshot) => void>();
  readonly #screenshots = new Map<
    number,
    { resolve: (image: ScreenImage) => void; reject: (e: Error) => void }
  >();
  readonly #frames = new Map<number, (u: FrameUpdate | null) => void>();
  readonly #saves = new Map<
    number,
    { path: string; resolve: (r: SaveResult) => void; reject: (e: Error) => void }
  >();
  readonly #outbox: MailMessage[] = [];
  #nextSnapshot = 1;
  readonly #locks: FileLock[];
  #state: RunState = "starting";
  #ended = false;
  #resolveExit!: (e: GuestExit) => void;
  /** Settles once when the guest run ends, however it ends. */
  readonly exited: Promise<GuestExit>;

  /**
   * Starts a machine from a validated config.
   * @throws {ImageLockedError} when another process uses one of its images
   */
  constructor(
    readonly config: MachineConfig,
    events: MachineEvents = {},
    start: MachineStart = {},
  ) {
    this.#events = events;
    this.exited = new Promise((resolve) => this.#resolveExit = resolve);
    const buffers = createControlBuffers(config.cpus);
    this.#ctl = new ControlViews(buffers);
    this.#kicker = new ControlKicker(this.#ctl);
    this.#locks = lockImages(config.disks, config.snapshot);
    installKickHandler();
    const nics = config.nics ?? [];
    this.#net = nics.length === 0 ? null : new NetHost(nics, buffers, {
      onError: (message) => this.#finish({ reason: "vmm-error", code: 1, detail: message }),
      onGuestError: (message) => this.#events.warning?.(`network: ${message}`),
    });
    // The front end may have started it already (see vcpu_worker_start.ts).
    const started = takeVcpuWorker();
    this.#worker = started.worker;
    this.#worker.onmessage = (ev: MessageEvent<WorkerEvent>) => this.#onEvent(ev.data);
    this.#worker.onerror = (ev) => {
      ev.preventDefault();
      this.#finish({ reason: "vmm-error", code: 1, detail: ev.message });
    };
    const early = started.error;
    if (early !== null) {
      queueMicrotask(() => this.#finish({ reason: "vmm-error", code: 1, detail: early }));
    }
    const init: WorkerInit = {
      config,
      buffers,
      restorePath: start.restorePath,
      ...(this.#net ? { net: this.#net.ports } : {}),
    };
    this.#worker.postMessage(init);
    for (let index = 0; index < config.cpus - 1; index++) {
      const ap = new Worker(new URL("./ap_worker.ts", import.meta.url), { type: "module" });
      ap.onerror = (ev) => {
        ev.preventDefault();
        this.#finish({ reason: "vmm-error", code: 1, detail: `vCPU ${index + 1}: ${ev.message}` });
      };
      const apInit: ApWorkerInit = { buffers, index };
      ap.postMessage(apInit);
      this.#apWorkers.push(ap);
    }
  }

  /** The network worker (forwards, their changes), or null without NICs. */
  get net(): NetHost | null {
    return this.#net;
  }

  /** The last run state the worker reported. */
  get runState(): RunState {
    return this.#state;
  }

  /** Stops running guest code until {@link resume}. */
  pause(): void {
    this.#request(REQ.PAUSE);
  }

  /** Continues after {@link pause}. */
  resume(): void {
    Atomics.and(this.#ctl.ints, CTRL.REQUEST, ~REQ.PAUSE);
    Atomics.notify(this.#ctl.ints, CTRL.REQUEST);
  }

  /** A system reset: firmware reloaded, devices and vCPUs back to power-on state. */
  reset(): void {
    this.#mail({ type: "reset" });
  }

  /**
   * Presses the power button: an ACPI guest that enabled it (PM1_EN.PWRBTN_EN)
   * gets an SCI and shuts down cleanly; others see only PWRBTN_STS.
   */
  powerButton(): void {
    this.#mail({ type: "power-button" });
  }

  /**
   * Asks the guest's balloon driver (`--device virtio-balloon-pci`) to make
   * the balloon `pages` 4 KiB pages; the target outlives resets.
   */
  balloon(pages: number): void {
    this.#mail({ type: "balloon", pages });
  }

  /** Ends the run; resolves with how it ended (a stop, unless it had already ended otherwise). */
  stop(): Promise<GuestExit> {
    if (!this.#ended) this.#request(REQ.STOP);
    return this.exited;
  }

  /** Sends bytes to COM1's receiver. */
  sendSerial(bytes: Uint8Array): void {
    if (bytes.length) this.#mail({ type: "serial-in", bytes: [...bytes] });
  }

  /** Sends bytes to a virtio console port (0 = hvc0); dropped without `--device virtio-serial-pci`. */
  sendConsole(port: number, bytes: Uint8Array): void {
    if (bytes.length) this.#mail({ type: "console-in", port, bytes: [...bytes] });
  }

  /** Presses and releases keys on the PS/2 keyboard, in order. */
  sendKeys(events: readonly KeyStroke[]): void {
    if (events.length) this.#mail({ type: "keys", events: events.map((e) => ({ ...e })) });
  }

  /**
   * Types `text` on the PS/2 keyboard (US layout, Shift where needed).
   * @throws {KeyNameError} naming the first character that cannot be typed
   */
  typeText(text: string): void {
    this.sendKeys(textToKeyStrokes(text));
  }

  /**
   * Presses a key combination such as "Ctrl+Alt+Delete" and releases it.
   * @throws {KeyNameError} for an unknown key name
   */
  pressKeys(combo: string): void {
    this.sendKeys(comboToKeyStrokes(combo));
  }

  /** Device states and vCPU figures, taken between two guest instructions. */
  snapshot(): Promise<MachineSnapshot> {
    if (this.#ended) return Promise.reject(new Error("the machine has stopped"));
    const id = this.#nextSnapshot++;
    const p = new Promise<MachineSnapshot>((resolve) => this.#snapshots.set(id, resolve));
    this.#mail({ type: "snapshot", id });
    return p;
  }

  /**
   * What the guest's graphics frame changed since the previous call, as RGBA
   * rectangles (everything when `full`, and after a mode or palette change);
   * null once the machine has stopped. Calls share one change history.
   */
  frame(full = false): Promise<FrameUpdate | null> {
    if (this.#ended) return Promise.resolve(null);
    const id = this.#nextSnapshot++;
    const p = new Promise<FrameUpdate | null>((resolve) => this.#frames.set(id, resolve));
    this.#mail({ type: "frame", id, full });
    return p;
  }

  /**
   * What the monitor shows, as RGBA pixels (4 bytes a pixel, row-major):
   * the text screen as the VGA draws it (720×400 in mode 3), or in graphics
   * modes the frame (VBE or VGA) at its own size, through its palette.
   * Rejects once the machine has stopped.
   */
  screenshot(): Promise<ScreenImage> {
    if (this.#ended) return Promise.reject(new Error("the machine has stopped"));
    const id = this.#nextSnapshot++;
    const p = new Promise<ScreenImage>((resolve, reject) =>
      this.#screenshots.set(id, { resolve, reject })
    );
    this.#mail({ type: "screenshot", id });
    return p;
  }

  /**
   * Writes the running VM to `path`: the guest is held between two
   * instructions while its devices, vCPUs, RAM and disk overlays are written
   * (atomically: a partial file never takes the name), then carries on, or
   * the run ends (reason "stopped") when `stop` is set.
   * Rejects with the reason when the file cannot be written; the run goes on.
   */
  save(path: string, options: { stop?: boolean } = {}): Promise<SaveResult> {
    if (this.#ended) return Promise.reject(new Error("the machine has stopped"));
    const id = this.#nextSnapshot++;
    const p = new Promise<SaveResult>((resolve, reject) =>
      this.#saves.set(id, { path, resolve, reject })
    );
    const nics = this.#net && this.config.nics
      ? this.#net.configsInForce(this.config.nics)
      : undefined;
    this.#mail({ type: "save", id, path, stop: options.stop ?? false, nics });
    return p;
  }

  #request(bits: number): void {
    if (this.#ended) return;
    this.#ctl.request(bits);
    this.#kicker.kick();
  }

  #mail(msg: MailMessage): void {
    if (this.#ended) return;
    this.#outbox.push(msg);
    if (this.#outbox.length === 1) this.#drainOutbox();
  }

  #drainOutbox(): void {
    while (this.#outbox.length && !this.#ended) {
      if (!postMail(this.#ctl, this.#outbox[0])) {
        setTimeout(() => this.#drainOutbox(), MAIL_RETRY_MS);
        break;
      }
      this.#outbox.shift();
    }
    this.#request(0);
  }

  #onEvent(e: WorkerEvent): void {
    switch (e.type) {
      case "serial":
        this.#events.serial?.(e.bytes);
        break;
      case "console":
        this.#events.console?.(e.port, e.bytes);
        break;
      case "state":
        this.#state = e.state;
        this.#events.state?.(e.state);
        break;
      case "reset":
        this.#events.reset?.();
        break;
      case "boot-failed":
        this.#events.bootFailed?.(e.message);
        break;
      case "warning":
        this.#events.warning?.(e.message);
        break;
      case "watchdog":
        this.#events.watchdog?.(e.event);
        break;
      case "frame": {
        const resolve = this.#frames.get(e.id);
        this.#frames.delete(e.id);
        resolve?.(e.update);
        break;
      }
      case "screenshot": {
        const waiter = this.#screenshots.get(e.id);
        this.#screenshots.delete(e.id);
        waiter?.resolve({ width: e.width, height: e.height, rgba: e.rgba });
        break;
      }
      case "snapshot": {
        const resolve = this.#snapshots.get(e.id);
        this.#snapshots.delete(e.id);
        resolve?.({
          runState: this.#state,
          devices: e.devices as BoardState,
          vcpu: e.vcpu,
          vcpus: e.vcpus,
          forwards: this.#net?.forwards ?? [],
        });
        break;
      }
      case "saved":
      case "save-failed": {
        const waiter = this.#saves.get(e.id);
        this.#saves.delete(e.id);
        if (!waiter) break;
        if (e.type === "saved") waiter.resolve({ path: waiter.path, bytes: e.bytes, ms: e.ms });
        else waiter.reject(new Error(`cannot save to '${waiter.path}': ${e.message}`));
        break;
      }
      case "exit":
        this.#finish(e.exit);
        break;
    }
  }

  #finish(exit: GuestExit): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#state = "stopped";
    // No kick may target the vCPU thread once it is gone (a worker that
    // crashed never withdrew its kvm_run address).
    retractRunAddress(this.#ctl);
    this.#worker.terminate();
    for (const ap of this.#apWorkers) ap.terminate();
    // The worker deletes its deadline timer as it ends; this covers one that died.
    deleteDeadlineTimer(this.#ctl);
    // The run has ended once the networks are closed and their forwarded host ports free.
    const netClosed = this.#net?.stop() ?? Promise.resolve();
    for (const lock of this.#locks) lock.release();
    for (const resolve of this.#snapshots.values()) {
      resolve({ runState: "stopped", devices: null, vcpu: emptyStats(), vcpus: [] });
    }
    this.#snapshots.clear();
    for (const { reject } of this.#screenshots.values()) {
      reject(new Error("the machine stopped before the screenshot"));
    }
    this.#screenshots.clear();
    for (const resolve of this.#frames.values()) resolve(null);
    this.#frames.clear();
    for (const { reject } of this.#saves.values()) {
      reject(new Error("the machine stopped before the save finished"));
    }
    this.#saves.clear();
    void netClosed.then(() => this.#resolveExit(exit));
  }
}

function emptyStats(): VcpuStats {
  return { exits: 0, byKind: {}, guestMs: 0, uptimeMs: 0, busiestPorts: [] };
}
