/**
 * The POST code port (0x80): firmware writes progress codes there; vmrun
 * keeps the last one and a short history for the stats pane.
 *
 * @module
 */

import { StateShape } from "./state_shape.ts";
import type { AccessSize, BusDevice, DeviceState, Snapshotting } from "./types.ts";

const HISTORY = 16;

/** Saved state of {@link PostCode}. */
export interface PostCodeState extends DeviceState {
  readonly version: 1;
  /** The last code written (what the port reads back), or null before any. */
  readonly last: number | null;
  /** Recent distinct codes, oldest first, at most 16. */
  readonly history: number[];
  /** Writes seen, repeats included. */
  readonly writes: number;
}

/** Records POST codes. Reads return the last code, as on many chipsets. */
export class PostCode implements BusDevice, Snapshotting<PostCodeState> {
  #last: number | null = null;
  #history: number[] = [];
  #writes = 0;

  /** The last code written, or 0xff before any. */
  read(_offset: number, _size: AccessSize): number {
    return this.#last ?? 0xff;
  }

  /** Records the low byte of the value. */
  write(_offset: number, _size: AccessSize, value: number): void {
    const code = value & 0xff;
    this.#writes++;
    if (code === this.#last) return;
    this.#last = code;
    this.#history.push(code);
    if (this.#history.length > HISTORY) this.#history.shift();
  }

  /** Last code, recent distinct codes and the number of writes. */
  snapshot(): PostCodeState {
    return { version: 1, last: this.#last, history: [...this.#history], writes: this.#writes };
  }

  /** @inheritdoc */
  restore(state: PostCodeState): void {
    const r = StateShape.versioned("post-code", state, 1);
    const last = r.intOrNull("last", 0, 0xff);
    const history = r.intsUpTo("history", 0, 0xff, HISTORY);
    const writes = r.int("writes");
    this.#last = last;
    this.#history = history;
    this.#writes = writes;
  }
}
