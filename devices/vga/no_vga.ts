/**
 * The board's display when `--vga none` leaves the PC without one: no
 * ports, no memory window, no PCI function and no VGA BIOS, as QEMU's
 * `-vga none`. A VGA core that nothing connects to the guest stays behind
 * it, set to an empty 80x25 text screen, so that what reads the screen (the
 * console, screenshots, the API) sees a blank one.
 *
 * @module
 */

import type { DeviceState, Snapshotting } from "../types.ts";
import { StateShape } from "../state_shape.ts";
import { Vga } from "./vga.ts";
import { PLANAR_SIZE } from "./video_memory.ts";

/** Saved state of no display: nothing but its version. */
export interface NoVgaState extends DeviceState {
  readonly version: 1;
  readonly model: "none";
}

/** No display adapter. */
export class NoVga implements Snapshotting<NoVgaState> {
  /** The `--vga` model. */
  readonly model = "none" as const;
  /** Short name for the devices pane. */
  readonly name = "none";
  /** A core no bus reaches: a blank text screen for good. */
  readonly vga = new Vga({ vramSize: PLANAR_SIZE, startInTextMode: true });

  /** Nothing to reset. */
  reset(): void {}

  /** The state of nothing. */
  snapshot(): NoVgaState {
    return { version: 1, model: "none" };
  }

  /** Accepts only the state of nothing. */
  restore(state: NoVgaState): void {
    const s = StateShape.versioned("no vga", state, 1);
    s.oneOf("model", ["none"] as const);
  }
}
