/**
 * `Vm`: a guest for tests and scripts. Start it from the same options as the
 * CLI, talk to its serial port, screen and keyboard, take screenshots, and
 * get its exit status; disposal always stops it and releases its images.
 *
 * @module
 */

import { stoppedExit } from "../machine/exit.ts";
import { RunSession } from "../machine/session.ts";
import type {
  BalloonInfo,
  BoardState,
  RunState,
  SaveResult,
  VcpuStats,
  VmExit,
  WatchdogExpiry,
} from "./types.ts";
import type { WaitOptions } from "./serial_log.ts";
import type { Keyboard } from "./keyboard.ts";
import { prepareVm, type VmOptions } from "./options.ts";
import { screenshotPng } from "./screenshot.ts";
import type { Screen } from "./screen.ts";
import type { SerialConsole } from "./serial.ts";
import { Session } from "./session.ts";
import { VIRTIO_CONSOLE_DEFAULT_PORT_NAME } from "../devices/virtio/virtio_console.ts";

/**
 * vCPU figures and the run state, as the TUI's stats pane shows them.
 *
 * @example
 * ```ts
 * import { Vm, type VmStats } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * const stats: VmStats = await vm.stats();
 * console.log(stats.runState, stats.byKind);
 * ```
 */
export interface VmStats extends VcpuStats {
  /** Where the run is. */
  readonly runState: RunState;
}

/** How often a VM re-reads its screen so that `screen.text()` stays recent. */
const SCREEN_REFRESH_MS = 250;

/**
 * A running virtual machine.
 *
 * @example A test that logs in and shuts down
 * ```ts
 * import { Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", memory: "256M", snapshot: true });
 * await vm.serial.waitFor(/login:/, { timeout: 30_000 });
 * await vm.serial.write("root\n");
 * await vm.screen.waitForText("Welcome", { timeout: 10_000 });
 * await vm.keyboard.type("poweroff\n");
 * const status = await vm.exited; // { reason: "shutdown", code: 0 }
 * console.log(status.reason, status.code);
 * ```
 */
export class Vm implements AsyncDisposable {
  /** COM1: output stream, waits and input. */
  readonly serial: SerialConsole;
  /** The VGA text screen. */
  readonly screen: Screen;
  /** The PS/2 keyboard. */
  readonly keyboard: Keyboard;
  /**
   * The virtio console's hvc0 (port 0), with `device: "virtio-serial-pci"`:
   * what the guest writes there, waits, and input. Without the device it
   * stays silent and input is dropped. The named port is {@link port}.
   */
  readonly console: SerialConsole;
  /**
   * Settles once with how the run ended: `{ code, reason }` with reason
   * "debug-exit", "shutdown", "reset" (with `noReboot`), "triple-fault",
   * "timeout", "stopped" and the rarer "internal-error", "fail-entry",
   * "vmm-error" (see {@link ExitReason}); `code` is the status `vmrun` would
   * exit with.
   */
  readonly exited: Promise<VmExit>;
  readonly #session: Session;

  private constructor(session: Session) {
    this.#session = session;
    this.serial = session.console;
    this.screen = session.screen;
    this.keyboard = session.keyboard;
    this.console = session.consolePorts[0];
    this.exited = session.exited;
  }

  /**
   * Validates `options` (as `vmrun` validates its own) and starts the machine.
   * @throws {VmOptionsError} for a bad option or image, naming the option
   * @throws {ImageLockedError} when another VM or process uses one of the images
   * @throws {KvmUnavailableError} when /dev/kvm cannot be used
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: ["guest.img,if=virtio", "data.img,readonly"] });
   * console.log(vm.state);
   * ```
   */
  static start(options: VmOptions): Promise<Vm> {
    try {
      const { config, timeoutMs, restore } = prepareVm(options);
      const run = new RunSession(config, {}, { timeoutMs }, { restorePath: restore ?? undefined });
      const session = new Session(run, { screenRefreshMs: SCREEN_REFRESH_MS });
      return Promise.resolve(new Vm(session));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The virtio console's named port (port 1), by the name the guest sees
   * (default "org.vmrun.port1", or `virtio-serial-pci,name=...`).
   * @throws {Error} when the machine has no virtio-serial-pci or no port of that name
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", device: "virtio-serial-pci" });
   * const port = vm.port("org.vmrun.port1");
   * await port.write("ping\n");
   * await port.waitFor("pong");
   * ```
   */
  port(name: string): SerialConsole {
    const device = this.#session.machine.config.devices?.find((d) =>
      d.name === "virtio-serial-pci"
    );
    if (!device) throw new Error("this VM has no virtio-serial-pci (start it with device: ...)");
    const own = device.options.name ?? VIRTIO_CONSOLE_DEFAULT_PORT_NAME;
    if (name !== own) throw new Error(`no virtio console port '${name}' (it has '${own}')`);
    return this.#session.consolePorts[1];
  }

  /**
   * The run state: "starting", "running", "paused" or "stopped".
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img" });
   * vm.pause();
   * console.log(vm.state);
   * ```
   */
  get state(): RunState {
    return this.#session.machine.runState;
  }

  /**
   * Writes a PNG of the screen to `path` (when given) and returns its bytes.
   * @throws {Error} once the run has ended, or when the file cannot be written
   *
   * @example Keeping the screen of a failed test
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * try {
   *   await vm.screen.waitForText("login:");
   * } catch (e) {
   *   await vm.screenshot("failure.png");
   *   throw e;
   * }
   * ```
   */
  screenshot(path?: string): Promise<Uint8Array> {
    return screenshotPng(this.#session.machine, path);
  }

  /**
   * vCPU figures (exits by kind, guest time, busiest ports) and the run state.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img" });
   * const s = await vm.stats();
   * console.log(`${s.exits} exits in ${s.uptimeMs} ms`);
   * ```
   */
  async stats(): Promise<VmStats> {
    const s = await this.#session.machine.snapshot().catch(() => null);
    const runState = this.#session.exit ? "stopped" : this.state;
    if (!s?.devices) return { ...EMPTY_STATS, runState };
    return { ...s.vcpu, runState };
  }

  /**
   * Every watchdog expiry so far, oldest first: the model, the action under
   * way and when (ms after the start). The same records reach the control
   * socket's `watchdog` event and the `--report` file's `watchdog` list.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", device: "ib700", watchdogAction: "none" });
   * await vm.exited;
   * console.log(vm.watchdogEvents.length);
   * ```
   */
  get watchdogEvents(): readonly WatchdogExpiry[] {
    return this.#session.watchdog.expiries;
  }

  /**
   * Resolves at the next watchdog expiry (after the one the previous call
   * returned), whether it happened already or is still to come.
   * @throws {WaitTimeoutError} when none comes in time (default 30 s)
   * @throws {VmExitedError} when the run ends first
   *
   * @example A guest that must stop petting its watchdog
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({
   *   disk: "guest.img",
   *   watchdog: "i6300esb",
   *   watchdogAction: "pause",
   * });
   * const expiry = await vm.waitForWatchdog({ timeout: 60_000 });
   * console.log(`${expiry.model} expired at ${expiry.atMs} ms; the VM is ${vm.state}`);
   * ```
   */
  waitForWatchdog(options: WaitOptions = {}): Promise<WatchdogExpiry> {
    return this.#session.watchdog.next(options);
  }

  /**
   * Every device's state (the TUI's device pane), or null once the run has ended.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img" });
   * console.log((await vm.devices())?.uart);
   * ```
   */
  devices(): Promise<BoardState | null> {
    return this.#session.devices();
  }

  /**
   * Stops running guest code until {@link resume}.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img" });
   * vm.pause();
   * vm.resume();
   * ```
   */
  pause(): void {
    this.#session.machine.pause();
  }

  /**
   * Continues after {@link pause}.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img" });
   * vm.pause();
   * vm.resume();
   * ```
   */
  resume(): void {
    this.#session.machine.resume();
  }

  /**
   * A system reset (the run ends with reason "reset" when started with `noReboot`).
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img" });
   * vm.reset();
   * ```
   */
  reset(): void {
    this.#session.machine.reset();
  }

  /**
   * Presses the ACPI power button, as QEMU's `system_powerdown`: a guest
   * that handles it (Linux with ACPI, `acpid` or systemd-logind) shuts down
   * cleanly and the run ends with reason "shutdown", status 0. A guest
   * that did not enable the button ignores it; the run goes on.
   *
   * @example Ask the guest to shut down, and wait for it
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img" });
   * await vm.serial.waitFor("login:");
   * vm.powerButton();
   * const exit = await vm.exited;
   * console.log(exit.reason); // "shutdown"
   * ```
   */
  powerButton(): void {
    this.#session.machine.powerButton();
  }

  /**
   * The memory balloon (`device: "virtio-balloon-pci"`), in QEMU's terms:
   * with `targetMiB`, asks the guest to keep that much memory (QEMU's
   * `balloon <MiB>`) and hand the rest back, which vmrun then frees on the
   * host; without it, only reads. Resolves with the balloon as it stands
   * once the target is set: the target and what the guest keeps now
   * (`actualBytes`), in pages too, and the guest's last memory `stats`. The
   * guest's driver works at its own pace: poll until `actualBytes` reaches
   * `targetBytes`.
   * @throws {BalloonError} without a balloon, for a target that is not a whole number
   *   of MiB from 1 to the guest's RAM, or once the run has ended
   *
   * @example Take 64 MiB from a 256 MiB guest
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", memory: "256M", device: "virtio-balloon-pci" });
   * await vm.balloon(192);
   * while ((await vm.balloon()).actualBytes > 192 * 2 ** 20) {
   *   await new Promise((r) => setTimeout(r, 100));
   * }
   * ```
   */
  balloon(targetMiB?: number): Promise<BalloonInfo> {
    return this.#session.balloon(targetMiB);
  }

  /**
   * Saves the running VM to `path`: the guest is held between two
   * instructions while its devices, vCPUs, memory and `snapshot` disk
   * overlays are written (the file appears whole or not at all), then carries
   * on, or the run ends (reason "stopped") with `stop`. `Vm.start({ restore:
   * path })` or `vmrun --restore path` carries it on, in this process or another.
   * @throws {Error} when the file cannot be written (the run goes on) or the run has ended
   *
   * @example Save, stop, and carry on in a new VM
   * ```ts
   * import { Vm } from "../mod.ts";
   * const vm = await Vm.start({ disk: "guest.img", snapshot: true });
   * await vm.serial.waitFor("login:");
   * await vm.save("guest.vmsave", { stop: true });
   * await using again = await Vm.start({ restore: "guest.vmsave" });
   * await again.serial.write("root\n");
   * ```
   */
  async save(path: string, options: { stop?: boolean } = {}): Promise<SaveResult> {
    return await this.#session.run.save(path, options);
  }

  /**
   * Ends the run; resolves with how it ended ("stopped", unless it had
   * already ended otherwise).
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * const vm = await Vm.start({ disk: "guest.img" });
   * console.log(await vm.stop());
   * ```
   */
  stop(): Promise<VmExit> {
    return this.#session.end(stoppedExit());
  }

  /**
   * Stops the VM and waits until its images are released.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * {
   *   await using vm = await Vm.start({ disk: "guest.img" });
   *   await vm.serial.waitFor("ready");
   * } // stopped here, even when the wait throws
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

const EMPTY_STATS: VcpuStats = { exits: 0, byKind: {}, guestMs: 0, uptimeMs: 0, busiestPorts: [] };
