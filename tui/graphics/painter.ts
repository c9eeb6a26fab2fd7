/**
 * Keeps the screen pane showing the guest's graphics: asks the machine for
 * what changed at most `maxFps` times a second, applies it to a full copy
 * of the frame, and writes the renderer's output, bracketed so that it
 * disturbs nothing else (cursor and pen saved and restored, one
 * synchronized update). While a frame is still being fetched or written,
 * ticks are dropped rather than queued: the guest side keeps collecting
 * changes, so the next frame carries everything since the last one.
 *
 * @module
 */

import type { FrameUpdate } from "../../devices/vga/frame_tracker.ts";
import type { PaneGeometry } from "./geometry.ts";
import { HostFrame } from "./host_frame.ts";
import { type GraphicsRenderer, samePane } from "./renderer.ts";

/** How the painter reaches the machine and the terminal. */
export interface PainterOptions {
  readonly renderer: GraphicsRenderer;
  /** What changed since the last call (`Machine.frame`); `full` asks for everything. */
  readonly frames: (full: boolean) => Promise<FrameUpdate | null>;
  /** Writes to the terminal in order with the console's other output; resolves once written. */
  readonly write: (text: string) => Promise<void>;
  /** The frame's description changed ("VBE 1024×768 32 bpp", "text"), for the header. */
  readonly onFormat?: (label: string, graphics: boolean) => void;
  /** Frames a second at most (default 30). */
  readonly maxFps?: number;
  /** How often to look for a switch to graphics while in text mode, ms (default 250). */
  readonly idlePollMs?: number;
}

/** Counters, for the stats pane and benchmarks. */
export interface PainterStats {
  /** Frames written. */
  frames: number;
  /** Ticks skipped because the previous frame was still in flight. */
  dropped: number;
  /** Bytes written. */
  bytes: number;
  /** Frames that redrew the whole picture. */
  fullFrames: number;
}

const SAVE = "\x1b7\x1b[?2026h";
const RESTORE = "\x1b[?2026l\x1b8";

/** Paints the guest's frame into the screen pane. */
export class GraphicsPainter {
  readonly frame = new HostFrame();
  readonly stats: PainterStats = { frames: 0, dropped: 0, bytes: 0, fullFrames: 0 };
  readonly #o: PainterOptions;
  #pane: PaneGeometry | null = null;
  #shownPane: PaneGeometry | null = null;
  #needFull = true;
  #firstFetch = true;
  #busy = false;
  #label = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;

  /** @param options renderer, frame source, writer */
  constructor(options: PainterOptions) {
    this.#o = options;
  }

  /** True while the guest shows graphics (the pane is the painter's). */
  get graphics(): boolean {
    return this.frame.graphics;
  }

  /** The frame's description, e.g. for the header. */
  get label(): string {
    return this.frame.label;
  }

  /**
   * Where the picture goes; null while the pane is hidden or covered (an
   * overlay), which also takes down a kitty image.
   */
  setPane(pane: PaneGeometry | null): void {
    if (pane && samePane(pane, this.#pane)) return;
    this.#pane = pane;
    this.#needFull = true;
  }

  /** Redraw everything on the next tick (the console repainted the pane's cells). */
  invalidate(): void {
    this.#needFull = true;
  }

  /** Starts ticking. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops ticking; returns output that takes down what is shown (write it before leaving). */
  stop(): string {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#shownPane = null;
    const out = this.#o.renderer.clear();
    return out ? SAVE + out + RESTORE : "";
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(async () => {
      const started = performance.now();
      await this.tick();
      const period = this.graphics ? 1000 / (this.#o.maxFps ?? 30) : this.#o.idlePollMs ?? 250;
      this.#schedule(Math.max(0, period - (performance.now() - started)));
    }, ms);
  }

  /**
   * One frame: fetch, apply, write. Returns at once (counting a dropped
   * frame) when the previous one is still in flight.
   */
  async tick(): Promise<void> {
    if (this.#busy) {
      this.stats.dropped++;
      return;
    }
    this.#busy = true;
    try {
      const update = await this.#o.frames(this.#firstFetch);
      if (!update) return;
      this.#firstFetch = false;
      const change = this.frame.apply(update);
      if (update.label !== this.#label) {
        this.#label = update.label;
        this.#o.onFormat?.(update.label, change.graphics);
      }
      const r = this.#o.renderer;
      const pane = this.#pane;
      let out = "";
      if (!change.graphics || !pane) {
        if (this.#shownPane) out = r.clear();
        this.#shownPane = null;
        this.#needFull = true;
      } else if (this.#needFull || change.full || !samePane(pane, this.#shownPane)) {
        out = r.clear() + r.full(this.frame, pane);
        this.#shownPane = pane;
        this.#needFull = false;
        this.stats.fullFrames++;
      } else if (change.rects.length) {
        out = r.update(this.frame, pane, change.rects);
      }
      if (!out) return;
      const text = SAVE + out + RESTORE;
      this.stats.frames++;
      this.stats.bytes += text.length;
      await this.#o.write(text);
    } finally {
      this.#busy = false;
    }
  }
}
