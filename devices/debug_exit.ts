/**
 * QEMU's isa-debug-exit device: a guest write ends the run with that value as
 * vmrun's exit status (the value itself, not QEMU's `(value << 1) | 1`).
 *
 * @module
 */

import type { AccessSize, BusDevice, Json, Stateful } from "./types.ts";

/** Ends the run with the value the guest writes. */
export class DebugExit implements BusDevice, Stateful {
  #last: number | null = null;

  /** @param onExit called with the written value */
  constructor(readonly onExit: (code: number) => void) {}

  /** Reads as all ones, like an empty ISA port. */
  read(_offset: number, size: AccessSize): number {
    return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  }

  /** Any write of any width requests the exit. */
  write(_offset: number, _size: AccessSize, value: number): void {
    this.#last = value;
    this.onExit(value);
  }

  /** The last value written, if any. */
  state(): Json {
    return { lastValue: this.#last };
  }
}
