/**
 * The session core: builds a machine from typed options, owns its run and
 * decides how the run ended, once. Every way a run can end (the guest, a
 * time limit, a signal, a script's verdict, a quit) goes through
 * {@link RunSession.end} or the machine's own exit; the first one wins, and
 * the one {@link VmExit} it gives is what the process, the API, the report
 * and the control socket all see.
 *
 * @module
 */

import { Kvm } from "../kvm/kvm.ts";
import type { MachineConfig } from "./config.ts";
import { ConfigError } from "./config_error.ts";
import { unsupportedFeatures } from "./cpu_features.ts";
import type { RunState } from "./control.ts";
import { timeoutExit, type VmExit } from "./exit.ts";
import { Machine, type MachineEvents, type MachineStart, type SaveResult } from "./machine.ts";
import { openSaveFile } from "./restore.ts";
import { checkNetworks } from "./net.ts";
import { type HostLimits, machineConfig, type MachineOptions } from "./options.ts";
import type { WatchdogExpiry } from "./watchdog.ts";

/** Something that happened to a run, for listeners. */
export type RunEvent =
  | { readonly type: "serial"; readonly bytes: Uint8Array }
  /** Bytes the guest wrote to a virtio console port (0 = hvc0). */
  | { readonly type: "console"; readonly port: number; readonly bytes: Uint8Array }
  | { readonly type: "state"; readonly state: RunState }
  | { readonly type: "reset" }
  /** A watchdog expired; its action is under way. */
  | { readonly type: "watchdog"; readonly expiry: WatchdogExpiry }
  | { readonly type: "exit"; readonly exit: VmExit };

/** How a run is limited. */
export interface RunLimits {
  /** End the run with reason "timeout" after this many ms; null or absent for no limit. */
  readonly timeoutMs?: number | null;
  /** The timeout's detail; default "no exit within <n> ms". */
  readonly timeoutDetail?: string;
}

/** How long the work before a stop (screenshots of a failing run) may take in all. */
const BEFORE_STOP_MS = 5_000;

/** The /dev/kvm vmrun uses (VMRUN_KVM_DEVICE overrides it, for tests). */
export function kvmDevicePath(): string {
  return Deno.env.get("VMRUN_KVM_DEVICE") ?? "/dev/kvm";
}

/** What the host offers, for validation. */
export function hostLimits(): HostLimits {
  return { memoryBytes: Deno.systemMemoryInfo().total };
}

/**
 * Validates options and checks that KVM can be opened, on this thread, so
 * that both fail with one clear line before any worker starts.
 * @throws {ConfigError} for a bad option or input
 * @throws {KvmUnavailableError} when /dev/kvm cannot be used
 */
export function prepareMachine(options: MachineOptions): MachineConfig {
  const config = machineConfig(options, hostLimits());
  checkKvm(config);
  checkHostNetworks(config);
  return config;
}

/**
 * Checks that libslirp loads and every forwarded host port is free, so the
 * run fails in one line before anything starts.
 * @throws {ConfigError} naming the problem (the Debian package when libslirp is missing)
 */
export function checkHostNetworks(config: MachineConfig): void {
  if (!config.nics?.length) return;
  try {
    checkNetworks(config.nics);
  } catch (e) {
    throw new ConfigError("nic", e instanceof Error ? e.message : String(e));
  }
}

/**
 * Opens and closes /dev/kvm, to fail with KVM's own words before any worker
 * starts, and checks that KVM can offer the CPU features `config` turns on.
 * @throws {KvmUnavailableError} when /dev/kvm cannot be used
 * @throws {ConfigError} for a `--cpu` feature this host's KVM does not offer
 */
export function checkKvm(config?: MachineConfig): void {
  const kvm = Kvm.open(kvmDevicePath());
  try {
    const wanted = config?.cpuFeatures ?? [];
    if (wanted.some((f) => f.on)) {
      const missing = unsupportedFeatures(kvm.supportedCpuid(), wanted);
      if (missing.length) {
        throw new ConfigError(
          "cpu",
          `+${missing.join(", +")}: not offered by this host's KVM (KVM_GET_SUPPORTED_CPUID)`,
        );
      }
    }
  } finally {
    kvm.close();
  }
}

/** One run of one machine, and the one decision of how it ended. */
export class RunSession {
  readonly machine: Machine;
  /** Settles once with how the run ended. */
  readonly exited: Promise<VmExit>;
  readonly #listeners = new Set<(e: RunEvent) => void>();
  readonly #beforeStop: ((exit: VmExit) => Promise<unknown>)[] = [];
  readonly #verdicts: ((exit: VmExit) => VmExit)[] = [];
  readonly #t0 = performance.now();
  readonly #watchdog: WatchdogExpiry[] = [];
  #decided: VmExit | null = null;
  #final: VmExit | null = null;

  /**
   * Starts the machine.
   * @param events machine listeners, called before the session's own
   * @throws {ImageLockedError} when another process uses one of the images
   */
  constructor(
    config: MachineConfig,
    events: MachineEvents = {},
    limits: RunLimits = {},
    start: MachineStart = {},
  ) {
    this.machine = new Machine(config, {
      ...events,
      serial: (bytes) => {
        events.serial?.(bytes);
        this.#emit({ type: "serial", bytes });
      },
      console: (port, bytes) => {
        events.console?.(port, bytes);
        this.#emit({ type: "console", port, bytes });
      },
      state: (state) => {
        events.state?.(state);
        this.#emit({ type: "state", state });
      },
      reset: () => {
        events.reset?.();
        this.#emit({ type: "reset" });
      },
      watchdog: (event) => {
        events.watchdog?.(event);
        const expiry = { ...event, atMs: Math.round(performance.now() - this.#t0) };
        this.#watchdog.push(expiry);
        this.#emit({ type: "watchdog", expiry });
      },
    }, start);
    const ms = limits.timeoutMs ?? null;
    const timer = ms === null ? undefined : setTimeout(
      () => this.end(timeoutExit(limits.timeoutDetail ?? `no exit within ${ms} ms`)),
      ms,
    );
    this.exited = this.machine.exited.then((machineExit) => {
      clearTimeout(timer);
      let exit = this.#decided ?? machineExit;
      this.#decided = exit;
      for (const verdict of this.#verdicts) exit = verdict(exit);
      this.#final = exit;
      this.#emit({ type: "exit", exit });
      return exit;
    });
  }

  /**
   * Validates `options`, checks KVM and starts the machine.
   * @throws {ConfigError} for a bad option or input
   * @throws {KvmUnavailableError} when /dev/kvm cannot be used
   * @throws {ImageLockedError} when another process uses one of the images
   */
  static start(
    options: MachineOptions,
    events: MachineEvents = {},
    limits: RunLimits = {},
  ): RunSession {
    return new RunSession(prepareMachine(options), events, limits);
  }

  /**
   * Checks a save file (header, completeness, the disks' identities unless
   * `force`) and KVM, then carries the saved VM on in a new machine.
   * @throws {SaveFileError} for a file that cannot be restored, in one line
   * @throws {KvmUnavailableError} when /dev/kvm cannot be used
   * @throws {ImageLockedError} when another process uses one of the images
   */
  static restore(
    path: string,
    force: boolean,
    events: MachineEvents = {},
    limits: RunLimits = {},
  ): RunSession {
    const header = openSaveFile(path, force);
    checkKvm(header.config);
    return new RunSession(header.config, events, limits, { restorePath: path });
  }

  /**
   * Saves the running VM to `path` (see {@link Machine.save}); with `stop`
   * the run then ends as "stopped", its detail naming the file.
   */
  save(path: string, options: { stop?: boolean } = {}): Promise<SaveResult> {
    return this.machine.save(path, options);
  }

  /** How the run ended, or null while it runs. */
  get exit(): VmExit | null {
    return this.#final;
  }

  /** Every watchdog expiry so far, oldest first. */
  get watchdogExpiries(): readonly WatchdogExpiry[] {
    return this.#watchdog;
  }

  /** How the run is ending (decided, maybe not yet stopped), or null. */
  get ending(): VmExit | null {
    return this.#decided;
  }

  /**
   * Ends the run with `exit`, unless its ending was decided already (by the
   * guest or an earlier call). The work registered with {@link beforeStop}
   * runs first, for a few seconds at most; then the machine stops.
   * @returns how the run ended
   */
  end(exit: VmExit): Promise<VmExit> {
    if (this.#decided) return this.exited;
    this.#decided = exit;
    const work = this.#beforeStop.map((f) => f(exit).catch(() => {}));
    let timer: ReturnType<typeof setTimeout> | undefined;
    Promise.race([
      Promise.all(work),
      new Promise((r) => timer = setTimeout(r, BEFORE_STOP_MS)),
    ]).finally(() => {
      clearTimeout(timer);
      this.machine.stop();
    });
    return this.exited;
  }

  /** Registers work to do while the machine still runs, before an {@link end} stops it. */
  beforeStop(work: (exit: VmExit) => Promise<unknown>): void {
    this.#beforeStop.push(work);
  }

  /**
   * Registers a verdict: once the run has stopped, it may turn the ending
   * into another (a script whose steps were not done fails a clean exit).
   * Verdicts run in order, before anyone hears of the ending.
   */
  verdict(f: (exit: VmExit) => VmExit): void {
    this.#verdicts.push(f);
  }

  /** Calls `listener` for every event from now on; returns the unsubscribe. */
  on(listener: (e: RunEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: RunEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch {
        // One listener's failure must not starve the others or the machine.
      }
    }
  }
}
