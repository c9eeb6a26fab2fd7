/**
 * The worker's side of the virtio console (`--device virtio-serial-pci`):
 * batches what the guest writes on each port into "console" events, and
 * feeds input from the main thread into the device as it makes room, so the
 * device's own bound is the back-pressure. Input the device cannot take yet
 * waits here, up to {@link CONSOLE_PENDING_LIMIT} bytes a port.
 *
 * @module
 */

import type { SteppedClock } from "../devices/clock.ts";
import type { Timer } from "../devices/types.ts";
import type { VirtioConsole } from "../devices/virtio/virtio_console.ts";
import { type Board, optionalDevice } from "./board.ts";

/** Host input held per port while the device is full; beyond it input is dropped. */
export const CONSOLE_PENDING_LIMIT = 1 << 20;
const FLUSH_NS = 2_000_000;
const FLUSH_BYTES = 4096;

/** Batches console output and feeds console input for one machine. */
export class ConsolePorts {
  readonly #post: (port: number, bytes: Uint8Array) => void;
  readonly #warn: (message: string) => void;
  #out: number[][] = [[], []];
  #in: number[][] = [[], []];
  #timer: Timer | null = null;
  #device: VirtioConsole | null = null;
  #clockNow = () => 0;

  /**
   * @param post sends one port's batched output to the main thread
   * @param warn tells the user something was dropped
   */
  constructor(
    post: (port: number, bytes: Uint8Array) => void,
    warn: (message: string) => void,
  ) {
    this.#post = post;
    this.#warn = warn;
  }

  /** Follows a newly built board (after start or reset). */
  attach(board: Board, clock: SteppedClock): void {
    this.flush();
    this.#timer = clock.timer(() => this.flush());
    this.#clockNow = () => clock.nowNs();
    this.#device = optionalDevice(board.devices, "virtio-serial-pci");
    if (this.#device) this.#device.onRxSpace = (port) => this.#feed(port);
  }

  /** The device's output sink. */
  output(port: number, bytes: Uint8Array): void {
    const out = this.#out[port];
    if (!out) return;
    for (const b of bytes) out.push(b);
    if (out.length >= FLUSH_BYTES) this.flush();
    else if (out.length === bytes.length) this.#timer?.arm(this.#clockNow() + FLUSH_NS);
  }

  /** Input from the main thread for `port`. */
  input(port: number, bytes: readonly number[]): void {
    const pending = this.#in[port];
    if (!pending || !this.#device) return;
    const room = CONSOLE_PENDING_LIMIT - pending.length;
    if (bytes.length > room) {
      this.#warn(
        `virtio console port ${port}: guest not reading; ${bytes.length - room} bytes dropped`,
      );
    }
    for (let i = 0; i < Math.min(room, bytes.length); i++) pending.push(bytes[i]);
    this.#feed(port);
  }

  /** Sends every batched byte now. */
  flush(): void {
    this.#timer?.cancel();
    this.#out.forEach((bytes, port) => {
      if (bytes.length === 0) return;
      this.#post(port, Uint8Array.from(bytes));
      this.#out[port] = [];
    });
  }

  #feed(port: number): void {
    const pending = this.#in[port];
    const dev = this.#device;
    if (!dev || pending.length === 0) return;
    const room = dev.rxSpace(port);
    if (room === 0) return;
    const chunk = pending.splice(0, room);
    const taken = dev.receive(port, Uint8Array.from(chunk));
    if (taken < chunk.length) pending.unshift(...chunk.slice(taken));
  }
}
