/**
 * The views the API, scripts and the control socket share over one run of
 * the session core: the serial log, COM1 input, the screen, the keyboard
 * and snapshots. How the run ends is the core's decision
 * ({@link RunSession.end}); this only forwards to it.
 *
 * @module
 */

import type { ScreenState } from "../devices/vga/screen.ts";
import type { BoardState } from "../machine/board.ts";
import type { VmExit } from "../machine/exit.ts";
import type { Machine, MachineSnapshot } from "../machine/machine.ts";
import {
  BalloonError,
  type BalloonInfo,
  balloonInfo,
  balloonTargetPages,
  requireBalloon,
} from "../machine/balloon.ts";
import type { RunEvent, RunSession } from "../machine/session.ts";
import { VmExitedError } from "./errors.ts";
import { Keyboard } from "./keyboard.ts";
import { Screen } from "./screen.ts";
import { SerialConsole } from "./serial.ts";
import { SerialLog } from "./serial_log.ts";
import { WatchdogLog } from "./watchdog_log.ts";

/** Something that happened to a run, for listeners. */
export type SessionEvent = RunEvent;

/** Options of a {@link Session}. */
export interface SessionOptions {
  /** Re-read the screen this often (ms) so its last text stays recent; 0 for never. */
  readonly screenRefreshMs?: number;
}

/** A run and its shared views. */
export class Session {
  readonly run: RunSession;
  readonly machine: Machine;
  readonly serial: SerialLog = new SerialLog();
  /** COM1 for API users: the log, and input in mailbox-sized pieces. */
  readonly console: SerialConsole;
  readonly keyboard: Keyboard;
  readonly screen: Screen;
  /** Output of the virtio console's ports (0 = hvc0, 1 = the named port). */
  readonly consoleLogs: readonly SerialLog[] = [new SerialLog(), new SerialLog()];
  /** The virtio console's ports for API users, by port number. */
  readonly consolePorts: readonly SerialConsole[];
  /** The watchdog's expiries, and waits for them. */
  readonly watchdog: WatchdogLog = new WatchdogLog(() => this.serial.lastLines());
  /** How the run ended (the core's one decision). */
  readonly exited: Promise<VmExit>;

  /** Puts views over `run`; call right after starting it, before its first event. */
  constructor(run: RunSession, options: SessionOptions = {}) {
    this.run = run;
    this.machine = run.machine;
    run.on((e) => {
      if (e.type === "serial") this.serial.push(e.bytes);
      else if (e.type === "console") this.consoleLogs[e.port]?.push(e.bytes);
      else if (e.type === "watchdog") this.watchdog.push(e.expiry);
      else if (e.type === "exit") {
        this.serial.end(e.exit);
        for (const log of this.consoleLogs) log.end(e.exit);
        this.watchdog.end(e.exit);
      }
    });
    this.console = new SerialConsole(this.serial, (b) => this.machine.sendSerial(b));
    this.consolePorts = this.consoleLogs.map((log, port) =>
      new SerialConsole(log, (b) => this.machine.sendConsole(port, b))
    );
    this.keyboard = new Keyboard((strokes) => this.machine.sendKeys(strokes));
    this.screen = new Screen(
      () => this.#readScreen(),
      (pattern) =>
        new VmExitedError(
          run.exit ?? { reason: "stopped", code: 0 },
          this.serial.lastLines(),
          pattern,
        ),
    );
    const every = options.screenRefreshMs ?? 0;
    const refresh = every > 0 ? setInterval(() => this.screen.read(), every) : undefined;
    if (refresh !== undefined) Deno.unrefTimer(refresh);
    this.exited = run.exited.finally(() => clearInterval(refresh));
  }

  /** How the run ended, or null while it runs. */
  get exit(): VmExit | null {
    return this.run.exit;
  }

  /** Ends the run with `exit` unless its ending was decided already; resolves with the ending. */
  end(exit: VmExit): Promise<VmExit> {
    return this.run.end(exit);
  }

  /** Calls `listener` for every event from now on; returns the unsubscribe. */
  on(listener: (e: SessionEvent) => void): () => void {
    return this.run.on(listener);
  }

  /** A machine snapshot, or null once the run has ended. */
  async snapshot(): Promise<MachineSnapshot | null> {
    if (this.run.exit) return null;
    const s = await this.machine.snapshot().catch(() => null);
    return s?.devices ? s : null;
  }

  /**
   * Sets the balloon's target to `targetMiB` MiB of guest memory when given,
   * then reads the balloon (after the new target is in place).
   * @throws {BalloonError} without a balloon, for a target out of range, or once the run has ended
   */
  async balloon(targetMiB?: number): Promise<BalloonInfo> {
    const config = this.machine.config;
    requireBalloon(config);
    if (targetMiB !== undefined) this.machine.balloon(balloonTargetPages(config, targetMiB));
    const devices = await this.devices();
    const info = devices && balloonInfo(config, devices);
    if (!info) throw new BalloonError("the run has ended");
    return info;
  }

  /** Device states, or null once the run has ended. */
  async devices(): Promise<BoardState | null> {
    return (await this.snapshot())?.devices ?? null;
  }

  async #readScreen(): Promise<ScreenState | null> {
    return (await this.snapshot())?.devices?.screen ?? null;
  }
}
