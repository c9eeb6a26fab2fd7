/**
 * One machine run with what the API, CLI scripts and the control socket
 * share: the serial log, the screen, event listeners, forced endings that
 * keep their own reason, and screenshots.
 *
 * @module
 */

import type { ScreenState } from "../devices/vga/screen.ts";
import type { BoardState, GuestExit } from "../machine/board.ts";
import type { MachineConfig } from "../machine/config.ts";
import type { RunState } from "../machine/control.ts";
import { Machine, type MachineEvents, type MachineSnapshot } from "../machine/machine.ts";
import { VmExitedError } from "./errors.ts";
import { Keyboard } from "./keyboard.ts";
import { Screen } from "./screen.ts";
import { SerialConsole } from "./serial.ts";
import { SerialLog } from "./serial_log.ts";

/** Something that happened to a run, for listeners. */
export type SessionEvent =
  | { readonly type: "serial"; readonly bytes: Uint8Array }
  | { readonly type: "state"; readonly state: RunState }
  | { readonly type: "reset" }
  | { readonly type: "exit"; readonly exit: GuestExit };

/** Options of a {@link Session}. */
export interface SessionOptions {
  /** Re-read the screen this often (ms) so its last text stays recent; 0 for never. */
  readonly screenRefreshMs?: number;
}

/** A running machine and its shared views. */
export class Session {
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
  /** How the run ended: a forced ending's own reason, else the machine's. */
  readonly exited: Promise<GuestExit>;
  readonly #listeners = new Set<(e: SessionEvent) => void>();
  #forced: GuestExit | null = null;
  #final: GuestExit | null = null;

  /**
   * Starts the machine.
   * @param events listeners called before the session's own
   * @throws {ImageLockedError} when another process uses one of the images
   */
  constructor(config: MachineConfig, events: MachineEvents = {}, options: SessionOptions = {}) {
    this.machine = new Machine(config, {
      ...events,
      serial: (bytes) => {
        events.serial?.(bytes);
        this.serial.push(bytes);
        this.#emit({ type: "serial", bytes });
      },
      console: (port, bytes) => {
        events.console?.(port, bytes);
        this.consoleLogs[port]?.push(bytes);
      },
      state: (state) => {
        events.state?.(state);
        this.#emit({ type: "state", state });
      },
      reset: () => {
        events.reset?.();
        this.#emit({ type: "reset" });
      },
    });
    this.console = new SerialConsole(this.serial, (b) => this.machine.sendSerial(b));
    this.consolePorts = this.consoleLogs.map((log, port) =>
      new SerialConsole(log, (b) => this.machine.sendConsole(port, b))
    );
    this.keyboard = new Keyboard((strokes) => this.machine.sendKeys(strokes));
    this.screen = new Screen(
      () => this.#readScreen(),
      (pattern) =>
        new VmExitedError(this.#final ?? stoppedExit(), this.serial.lastLines(), pattern),
    );
    const every = options.screenRefreshMs ?? 0;
    const refresh = every > 0 ? setInterval(() => this.screen.read(), every) : undefined;
    if (refresh !== undefined) Deno.unrefTimer(refresh);
    this.exited = this.machine.exited.then((exit) => {
      clearInterval(refresh);
      const final = exit.reason === "stopped" && this.#forced ? this.#forced : exit;
      this.#final = final;
      this.serial.end(final);
      for (const log of this.consoleLogs) log.end(final);
      this.#emit({ type: "exit", exit: final });
      return final;
    });
  }

  /** How the run ended, or null while it runs. */
  get exit(): GuestExit | null {
    return this.#final;
  }

  /** Ends the run; `exit` is reported unless the guest had ended it otherwise first. */
  end(exit: GuestExit): Promise<GuestExit> {
    if (!this.#final) {
      this.#forced ??= exit;
      this.machine.stop();
    }
    return this.exited;
  }

  /** Calls `listener` for every event from now on; returns the unsubscribe. */
  on(listener: (e: SessionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A machine snapshot, or null once the run has ended. */
  async snapshot(): Promise<MachineSnapshot | null> {
    if (this.#final) return null;
    const s = await this.machine.snapshot().catch(() => null);
    return s?.devices ? s : null;
  }

  /** Device states, or null once the run has ended. */
  async devices(): Promise<BoardState | null> {
    return (await this.snapshot())?.devices ?? null;
  }

  async #readScreen(): Promise<ScreenState | null> {
    return (await this.snapshot())?.devices?.screen ?? null;
  }

  #emit(e: SessionEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch {
        // One listener's failure must not starve the others or the machine.
      }
    }
  }
}

function stoppedExit(): GuestExit {
  return { reason: "stopped", code: 0 };
}
