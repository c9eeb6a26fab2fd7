/**
 * QEMU's isa-debug-exit device: a guest write ends the run. A value that fits
 * an exit status (0-255, whatever the access width) is vmrun's exit status as
 * written (not QEMU's `(value << 1) | 1`). A wider value cannot be passed on
 * without losing bits, and truncating 0x100 to 0 would read as success, so it
 * ends the run with status 1 and a detail naming the value.
 *
 * @module
 */

import { allOnes } from "./byte_lanes.ts";
import { StateShape } from "./state_shape.ts";
import type { AccessSize, BusDevice, DeviceState, Snapshotting } from "./types.ts";

/** Exit status for a written value that does not fit in 0-255. */
export const DEBUG_EXIT_BAD_VALUE_STATUS = 1;

/** Saved state of {@link DebugExit}. */
export interface DebugExitState extends DeviceState {
  readonly version: 1;
  /** The last value written, or null before any write. */
  readonly lastValue: number | null;
}

/** Ends the run with the value the guest writes. */
export class DebugExit implements BusDevice, Snapshotting<DebugExitState> {
  #last: number | null = null;

  /**
   * @param onExit called with the exit status and, for a value that is no
   * exit status, a detail naming it
   */
  constructor(readonly onExit: (code: number, detail?: string) => void) {}

  /** Reads as all ones, like an empty ISA port. */
  read(_offset: number, size: AccessSize): number {
    return allOnes(size);
  }

  /** Any write of any width requests the exit. */
  write(_offset: number, _size: AccessSize, value: number): void {
    this.#last = value >>> 0;
    if (this.#last <= 0xff) {
      this.onExit(this.#last);
    } else {
      this.onExit(
        DEBUG_EXIT_BAD_VALUE_STATUS,
        `debug-exit value 0x${this.#last.toString(16)} does not fit an exit status`,
      );
    }
  }

  /** The last value written, if any. */
  snapshot(): DebugExitState {
    return { version: 1, lastValue: this.#last };
  }

  /** @inheritdoc */
  restore(state: DebugExitState): void {
    const r = StateShape.versioned("debug-exit", state, 1);
    this.#last = r.intOrNull("lastValue", 0, 0xffffffff);
  }
}
