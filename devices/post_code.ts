/**
 * The POST code port (0x80): firmware writes progress codes there; vmrun
 * keeps the last one and a short history for the stats pane.
 *
 * @module
 */

import type { AccessSize, BusDevice, Json, Stateful } from "./types.ts";

const HISTORY = 16;

/** Records POST codes. Reads return the last code, as on many chipsets. */
export class PostCode implements BusDevice, Stateful {
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
  state(): Json {
    return { last: this.#last, history: [...this.#history], writes: this.#writes };
  }
}
