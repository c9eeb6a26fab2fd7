/**
 * An interrupt line for device tests that remembers its level, every level
 * it was set to, and how often it rose.
 *
 * @module
 */

import type { IrqLine } from "../types.ts";

/** An {@link IrqLine} that records what the device did with it; test helper. */
export class RecordingIrq implements IrqLine {
  /** Current level. */
  level = false;
  /** Every level set, in order (repeats included). */
  readonly history: boolean[] = [];
  /** Number of low-to-high transitions. */
  rises = 0;

  /** Sets the level, recording it and counting rising edges. */
  set(level: boolean): void {
    if (level && !this.level) this.rises++;
    this.level = level;
    this.history.push(level);
  }
}
