/**
 * The console's controller: polls the machine's snapshots, keeps the UI
 * state, routes keys (vmrun's Ctrl-a commands, or the guest's keyboard or
 * COM1) and draws frames through the compositor. Terminal I/O is injected,
 * so it runs against a fake machine and a string sink in tests.
 *
 * @module
 */

import type { ReactElement } from "../deps/react.ts";
import type { KeyStroke } from "../devices/keymap.ts";
import type { ScreenState } from "../devices/vga/screen.ts";
import type { RunState } from "../machine/control.ts";
import type { MachineSnapshot } from "../machine/machine.ts";
import type { VmExit } from "../machine/exit.ts";
import type { Rect } from "./cell_grid.ts";
import type { Charset } from "./charset.ts";
import type { ColorDepth } from "./colors.ts";
import { type Action, CommandRouter } from "./commands.ts";
import { Compositor, type Layer } from "./compositor.ts";
import { DevicesPane } from "./components/devices_pane.tsx";
import { Header } from "./components/header.tsx";
import { HELP_HEIGHT, HELP_WIDTH, HelpOverlay } from "./components/help_overlay.tsx";
import { ScreenPane } from "./components/screen_pane.tsx";
import { SerialPane } from "./components/serial_pane.tsx";
import { StatsPane, statsRows } from "./components/stats_pane.tsx";
import { StatusLine } from "./components/status_line.tsx";
import { summarizeDevices } from "./device_summary.ts";
import { type PaneGeometry, paneGeometry } from "./graphics/mod.ts";
import { InkLayerCache } from "./ink_layer.ts";
import { type KeyEvent, KeyParser, type TermEvent } from "./key_parser.ts";
import { keyEventToStrokes, pasteToStrokes } from "./key_strokes.ts";
import { computeLayout, type Layout, type PaneName } from "./layout.ts";
import { shownRunState } from "./run_state.ts";
import { sameScreen } from "./screen_compare.ts";
import { renderScreen, type ScreenView } from "./screen_render.ts";
import { SerialConsole } from "./serial_console.ts";
import { StatsTracker } from "./stats_tracker.ts";
import { buildTranscript, TRANSCRIPT_LINES } from "./transcript.ts";
import { initialUiState, type UiState } from "./ui_state.ts";

/** What the controller needs of a machine. */
export interface MachineLike {
  readonly runState: RunState;
  pause(): void;
  resume(): void;
  reset(): void;
  powerButton(): void;
  sendSerial(bytes: Uint8Array): void;
  sendKeys(strokes: readonly KeyStroke[]): void;
  pressKeys(combo: string): void;
  snapshot(): Promise<MachineSnapshot>;
}

/** What the controller needs of the graphics painter (GraphicsPainter). */
export interface GraphicsPaneLike {
  /** True while the guest shows graphics: the screen pane's cells are the painter's. */
  readonly graphics: boolean;
  /** The frame's description, for the pane's title. */
  readonly label: string;
  /** Where the picture goes; null while the pane is hidden or covered. */
  setPane(pane: PaneGeometry | null): void;
  /** The pane's cells were drawn over: paint everything again. */
  invalidate(): void;
}

/** The painter and the terminal's cell size in pixels. */
export interface ConsoleGraphics {
  readonly painter: GraphicsPaneLike;
  readonly cell: () => { width: number; height: number };
}

/** How the controller reaches the machine and the terminal. */
export interface ConsoleOptions {
  readonly machine: MachineLike;
  readonly image: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly depth: ColorDepth;
  /** The terminal's size now. */
  readonly size: () => { cols: number; rows: number };
  /** Writes to the terminal; resolves once written. */
  readonly write: (text: string) => Promise<void>;
  /** Ctrl-a x. */
  readonly quit: () => void;
  /** Ctrl-a s: saves the VM, resolving with what to tell the user; omitted where saving is not offered. */
  readonly save?: () => Promise<string>;
  /**
   * Ctrl-a - and Ctrl-a +: moves the balloon's target a step (1 takes memory
   * from the guest, -1 gives it back), resolving with what to tell the user;
   * omitted without a balloon.
   */
  readonly balloon?: (direction: 1 | -1) => Promise<string>;
  /** vmrun's CPU time in ms, to tell a halted guest; omitted where unknown. */
  readonly cpuTimeMs?: () => number | null;
  /** Guest graphics in the screen pane; without it graphics modes show a placeholder. */
  readonly graphics?: ConsoleGraphics;
  /** What the terminal shows (ASCII look-alikes under a non-UTF-8 locale); UTF-8 if omitted. */
  readonly charset?: Charset;
  /** The machine has no display (`--vga none`): the serial pane starts with the keyboard, alone. */
  readonly noScreen?: boolean;
}

/** Poll interval while the guest's screen or serial port is busy: a little over 30 frames a second. */
export const ACTIVE_POLL_MS = 30;
/** Poll interval once nothing changed for {@link ACTIVE_FOR_MS}. */
export const IDLE_POLL_MS = 500;
/** How long activity keeps polling fast. */
export const ACTIVE_FOR_MS = 2000;
/** A lone ESC is the Escape key when nothing follows within this. */
export const ESC_TIMEOUT_MS = 30;
/** Pasted text is typed one character per this many ms (the BIOS buffer holds 15 keys). */
export const PASTE_CHAR_MS = 20;
/** The header says "reset" this long after a reset. */
const RESET_SHOWN_MS = 2000;
/** Without panels, the status line shows over the bottom row this long at the start. */
export const HINT_SHOWN_MS = 3000;

/** The console. Call {@link start}, feed it input and machine events, then {@link stop}. */
export class ConsoleController {
  ui: UiState;
  readonly #o: ConsoleOptions;
  readonly #router = new CommandRouter();
  readonly #parser = new KeyParser();
  readonly #compositor: Compositor;
  readonly #ink = new InkLayerCache();
  readonly #stats = new StatsTracker();
  readonly #serial: SerialConsole;
  #screen: ScreenState | null = null;
  #view: ScreenView = { top: 0, left: 0 };
  #layout: Layout | null = null;
  /** Where the picture was at the last frame ("text" while the guest shows text). */
  #pictureKey = "text";
  #activeUntil = 0;
  #resetAt = -Infinity;
  #cpuShare: number | null = null;
  #cpuMark: { cpu: number; wall: number } | null = null;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #escTimer: ReturnType<typeof setTimeout> | undefined;
  #pasteTimer: ReturnType<typeof setTimeout> | undefined;
  #hintTimer: ReturnType<typeof setTimeout> | undefined;
  #hint = true;
  #paste: KeyStroke[][] = [];
  #renderQueued = false;
  #writing = false;
  #dirty = false;
  #stopped = false;
  /** Frames written, for tests and benchmarks. */
  frames = 0;
  /** Snapshots taken. */
  snapshots = 0;

  constructor(options: ConsoleOptions) {
    this.#o = options;
    this.ui = initialUiState(options.image, options.cpus, options.memoryBytes);
    if (options.noScreen) {
      this.ui = { ...this.ui, focus: "serial", show: { ...this.ui.show, screen: false } };
    }
    this.#compositor = new Compositor(options.depth, options.charset ?? "utf-8");
    this.#serial = new SerialConsole(78, 8, () => this.#activity());
  }

  /** Starts polling and draws the first frame. */
  start(): void {
    this.#schedulePoll(0);
    this.#hintTimer = setTimeout(() => {
      this.#hint = false;
      this.requestRender();
    }, HINT_SHOWN_MS);
    this.requestRender();
  }

  /** Stops every timer; nothing is drawn afterwards. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#escTimer);
    clearTimeout(this.#pasteTimer);
    clearTimeout(this.#hintTimer);
    this.#serial.dispose();
  }

  /**
   * What to leave on the terminal once it is restored: the guest's last COM1
   * lines (at most a screenful) and how the run ended. Call before {@link stop}.
   */
  async transcript(exit: VmExit): Promise<string> {
    const { rows } = this.#o.size();
    const lines = await this.#serial.tail(Math.max(1, Math.min(TRANSCRIPT_LINES, rows - 2)));
    return buildTranscript(lines, exit, this.#o.charset ?? "utf-8");
  }

  // ---- machine events -------------------------------------------------------

  /** COM1 output. */
  serialOutput(bytes: Uint8Array): void {
    this.#serial.write(bytes);
  }

  /** The guest reset. */
  machineReset(): void {
    this.#resetAt = performance.now();
    this.#activity();
    this.#update({});
  }

  /** The machine's run state changed. */
  machineState(_state: RunState): void {
    this.#activity();
    this.#update({});
  }

  /** A notice for the status line. */
  notice(text: string): void {
    this.#update({ notice: text });
  }

  /**
   * The guest switched between text and graphics, or to another mode (the
   * painter's onFormat): redraw, so that no picture or text is left under
   * the other and the title names the mode.
   */
  graphicsChanged(): void {
    this.requestRender();
  }

  /** The terminal was resized: redraw everything. */
  resize(): void {
    this.#compositor.invalidate();
    this.requestRender();
  }

  // ---- input ----------------------------------------------------------------

  /** Bytes typed into the terminal. */
  input(bytes: Uint8Array): void {
    clearTimeout(this.#escTimer);
    this.#handle(this.#parser.feed(bytes));
    if (this.#parser.waiting) {
      this.#escTimer = setTimeout(() => this.#handle(this.#parser.flush()), ESC_TIMEOUT_MS);
    }
  }

  #handle(events: TermEvent[]): void {
    for (const ev of events) {
      const routed = this.#router.route(ev);
      if (routed.to === "vmrun") this.#act(routed.action);
      else if (routed.to === "guest") this.#toGuest(routed.event);
      if (this.ui.prefixArmed !== this.#router.armed) {
        this.#update({ prefixArmed: this.#router.armed });
      }
    }
  }

  #toGuest(ev: TermEvent): void {
    if (this.ui.help) {
      // Any key closes the help; it does not reach the guest.
      this.#update({ help: false });
      return;
    }
    this.#activity();
    if (this.ui.focus === "serial") {
      if (ev.type === "key" && (ev.key === "PageUp" || ev.key === "PageDown")) {
        const page = Math.max(1, this.#serial.rows - 1);
        this.#serial.scroll(ev.key === "PageUp" ? page : -page);
        this.requestRender();
        return;
      }
      this.#serial.scrollToEnd();
      this.#o.machine.sendSerial(
        ev.type === "key" ? ev.raw : new TextEncoder().encode(ev.text.replace(/\r?\n/g, "\r")),
      );
      return;
    }
    if (ev.type === "paste") {
      this.#paste.push(...pasteToStrokes(ev.text));
      this.#typePaste();
      return;
    }
    const strokes = keyEventToStrokes(ev);
    if (strokes.length) this.#o.machine.sendKeys(strokes);
  }

  #typePaste(): void {
    if (this.#pasteTimer !== undefined || this.#stopped) return;
    const next = this.#paste.shift();
    if (!next) {
      this.#update({ notice: null });
      return;
    }
    this.#o.machine.sendKeys(next);
    this.#activity();
    if (this.#paste.length % 10 === 0) {
      this.#update({ notice: this.#paste.length ? `pasting: ${this.#paste.length} to go` : null });
    }
    this.#pasteTimer = setTimeout(() => {
      this.#pasteTimer = undefined;
      this.#typePaste();
    }, PASTE_CHAR_MS);
  }

  #act(action: Action): void {
    const m = this.#o.machine;
    const ui = this.ui;
    switch (action) {
      case "help":
        return this.#update({ help: !ui.help });
      case "focus": {
        const focus = ui.focus === "screen" ? "serial" : "screen";
        return this.#update({ focus, show: { ...ui.show, [focus]: true } });
      }
      case "fullscreen":
        // From what is shown: a small terminal starts without panels (fullscreen null).
        return this.#update({ fullscreen: !(this.#layout?.fullscreen ?? ui.fullscreen) });
      case "pause":
        if (m.runState === "paused") m.resume();
        else m.pause();
        return;
      case "reset":
        m.reset();
        return this.#update({ notice: "reset sent" });
      case "power-button":
        m.powerButton();
        return this.#update({ notice: "power button pressed" });
      case "ctrl-alt-del":
        m.pressKeys("Ctrl+Alt+Delete");
        return this.#update({ notice: "Ctrl-Alt-Del sent" });
      case "quit":
        return this.#o.quit();
      case "balloon-down":
      case "balloon-up": {
        const balloon = this.#o.balloon;
        if (!balloon) {
          return this.#update({ notice: "no balloon (start with --device virtio-balloon-pci)" });
        }
        balloon(action === "balloon-down" ? 1 : -1).then(
          (said) => this.#update({ notice: said }),
          (e) => this.#update({ notice: e instanceof Error ? e.message : String(e) }),
        );
        return;
      }
      case "save": {
        const save = this.#o.save;
        if (!save) return this.#update({ notice: "saving is not offered here" });
        this.#update({ notice: "saving…" });
        save().then(
          (said) => this.#update({ notice: said }),
          (e) => this.#update({ notice: e instanceof Error ? e.message : String(e) }),
        );
        return;
      }
      case "toggle-screen":
      case "toggle-serial":
      case "toggle-stats":
      case "toggle-devices":
        return this.#toggle(action.slice("toggle-".length) as PaneName);
      case "send-prefix": {
        const ev: KeyEvent = {
          type: "key",
          key: "a",
          ctrl: true,
          alt: false,
          shift: false,
          raw: Uint8Array.of(1),
        };
        return this.#toGuest(ev);
      }
    }
  }

  #toggle(pane: PaneName): void {
    const show = { ...this.ui.show, [pane]: !this.ui.show[pane] };
    let focus = this.ui.focus;
    // The keyboard follows the pane that is still there.
    if (pane === focus && !show[pane]) focus = focus === "screen" ? "serial" : "screen";
    this.#update({ show, focus, fullscreen: false });
  }

  // ---- polling --------------------------------------------------------------

  #activity(): void {
    const wasIdle = performance.now() >= this.#activeUntil;
    this.#activeUntil = performance.now() + ACTIVE_FOR_MS;
    if (wasIdle) this.#schedulePoll(0);
    this.requestRender();
  }

  #schedulePoll(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#pollTimer);
    this.#pollTimer = setTimeout(() => this.#poll(), ms);
  }

  async #poll(): Promise<void> {
    this.#pollTimer = undefined;
    const m = this.#o.machine;
    if (m.runState === "paused" || m.runState === "stopped") {
      this.#schedulePoll(IDLE_POLL_MS);
      return;
    }
    const started = performance.now();
    let snap: MachineSnapshot;
    try {
      snap = await m.snapshot();
    } catch {
      return; // the machine stopped
    }
    if (this.#stopped || !snap.devices) return;
    this.snapshots++;
    this.applySnapshot(snap);
    const active = performance.now() < this.#activeUntil;
    const period = active && this.#screenVisible() ? ACTIVE_POLL_MS : IDLE_POLL_MS;
    // The period counts from the poll's start, so a slow snapshot does not lower the rate.
    this.#schedulePoll(Math.max(0, period - (performance.now() - started)));
  }

  #screenVisible(): boolean {
    return this.ui.show.screen && !(this.#layout?.fullscreen && this.ui.focus !== "screen");
  }

  /** Takes in a snapshot (the poller's job; public for tests and benchmarks). */
  applySnapshot(snap: MachineSnapshot): void {
    const d = snap.devices!;
    if (!sameScreen(this.#screen, d.screen)) {
      this.#screen = d.screen;
      this.#activity();
    }
    const first = this.ui.stats === null;
    this.#halted = snap.vcpu.halted;
    if (this.#stats.add(snap.vcpu, snap.vcpus) || first) {
      this.#sampleCpu();
      const post = (d.postCode as { last?: number | null } | null)?.last ?? null;
      this.#update({
        stats: this.#stats.view(),
        devices: summarizeDevices(d, snap.forwards),
        postCode: typeof post === "number" ? post : null,
        uptimeMs: snap.vcpu.uptimeMs,
      });
    }
  }

  #sampleCpu(): void {
    const cpu = this.#o.cpuTimeMs?.() ?? null;
    const wall = performance.now();
    if (cpu === null) return;
    const mark = this.#cpuMark;
    if (mark && wall > mark.wall) this.#cpuShare = (cpu - mark.cpu) / (wall - mark.wall);
    this.#cpuMark = { cpu, wall };
  }

  /** What the last snapshot said of HLT; undefined where the machine does not tell. */
  #halted: boolean | undefined;

  #update(patch: Partial<UiState>): void {
    const ui = { ...this.ui, ...patch };
    const now = performance.now();
    const runState = shownRunState(
      this.#o.machine.runState,
      this.#cpuShare,
      now - this.#resetAt < RESET_SHOWN_MS,
      this.#halted,
    );
    this.ui = { ...ui, runState };
    this.requestRender();
  }

  // ---- drawing --------------------------------------------------------------

  /** Draws a frame soon (coalesced; never two writes at once). */
  requestRender(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    if (this.#renderQueued || this.#writing) return;
    this.#renderQueued = true;
    queueMicrotask(() => {
      this.#renderQueued = false;
      void this.#draw();
    });
  }

  async #draw(): Promise<void> {
    if (this.#stopped || this.#writing || !this.#dirty) return;
    this.#dirty = false;
    const out = this.renderFrame();
    if (!out) return;
    this.#writing = true;
    this.frames++;
    try {
      await this.#o.write(out);
    } finally {
      this.#writing = false;
    }
    if (this.#dirty) this.requestRender();
  }

  /** Composes a frame now and returns its output ("" when nothing changed). */
  renderFrame(): string {
    const { cols, rows } = this.#o.size();
    const ui = this.ui;
    const screen = this.#screen;
    const text = screen?.mode === "text";
    const layout = computeLayout({
      cols,
      rows,
      guestCols: text ? screen.cols : 80,
      guestRows: text ? screen.rows : 25,
      show: ui.show,
      fullscreen: ui.fullscreen,
      focus: ui.focus,
    });
    this.#layout = layout;
    const layers: Layer[] = [];
    let cursor: { x: number; y: number } | null = null;
    const ink = this.#ink;
    if (layout.header) {
      const r = layout.header;
      const key = `${ui.image}|${ui.runState}|${Math.floor(ui.uptimeMs / 1000)}`;
      layers.push({
        rect: r,
        lines: ink.get("header", key, r.width, () => <Header ui={ui} width={r.width} />),
      });
    }
    const sp = layout.panes.screen;
    const painter = this.#o.graphics?.painter;
    const graphics = !!painter?.graphics;
    if (sp) {
      let title = "";
      let lines = null;
      if (graphics) {
        // Blank cells: the painter draws there, and an unchanged blank is never rewritten.
        title = painter!.label;
      } else if (screen) {
        const f = renderScreen(screen, sp.inner, this.#view);
        this.#view = f.view;
        lines = f.lines;
        title = f.mode +
          (f.cropped ? ` ◂ cropped: rows ${f.view.top}+ cols ${f.view.left}+ ▸` : "");
        if (f.cursor && ui.focus === "screen") {
          cursor = { x: sp.inner.x + f.cursor.col, y: sp.inner.y + f.cursor.row };
        }
      }
      this.#pane(
        layers,
        "screen",
        sp.outer,
        sp.border,
        title,
        ui.focus === "screen",
        (w, h, t, fo, b) => (
          <ScreenPane width={w} height={h} title={t} focused={fo} border={b} lines={null} />
        ),
      );
      layers.push({ rect: sp.inner, lines: lines ?? [] });
    }
    const serialPane = layout.panes.serial;
    if (serialPane) {
      this.#serial.resize(serialPane.inner.width, serialPane.inner.height);
      const off = this.#serial.offset;
      const title = off ? `↑ ${off} lines back (PgDn)` : "";
      this.#pane(
        layers,
        "serial",
        serialPane.outer,
        serialPane.border,
        title,
        ui.focus === "serial",
        (w, h, t, fo, b) => (
          <SerialPane width={w} height={h} title={t} focused={fo} border={b} lines={null} />
        ),
      );
      layers.push({ rect: serialPane.inner, lines: this.#serial.view() });
      const c = this.#serial.cursor();
      if (c && ui.focus === "serial") {
        cursor = { x: serialPane.inner.x + c.col, y: serialPane.inner.y + c.row };
      }
    }
    const st = layout.panes.stats;
    if (st) {
      const key = `${st.outer.height}|${statsRows(ui.stats, ui.postCode).join("\n")}`;
      layers.push({
        rect: st.outer,
        lines: ink.get(
          "stats",
          key,
          st.outer.width,
          () => (
            <StatsPane
              width={st.outer.width}
              height={st.outer.height}
              stats={ui.stats}
              postCode={ui.postCode}
            />
          ),
        ),
      });
    }
    const dv = layout.panes.devices;
    if (dv) {
      const key = `${dv.outer.height}|${JSON.stringify(ui.devices)}`;
      layers.push({
        rect: dv.outer,
        lines: ink.get(
          "devices",
          key,
          dv.outer.width,
          () => (
            <DevicesPane width={dv.outer.width} height={dv.outer.height} sections={ui.devices} />
          ),
        ),
      });
    }
    // Without panels, the status line comes over the bottom row while Ctrl-a waits for its key
    // (and for a moment at the start, to say how to get help).
    const status = layout.status ??
      (layout.fullscreen && (ui.prefixArmed || this.#hint) && rows > 1
        ? { x: 0, y: rows - 1, width: cols, height: 1 }
        : null);
    if (status) {
      const r = status;
      const key =
        `${ui.prefixArmed}|${ui.focus}|${ui.notice}|${layout.squeezed.join()}|${layout.fullscreen}`;
      layers.push({
        rect: r,
        lines: ink.get(
          "status",
          key,
          r.width,
          () => (
            <StatusLine
              ui={ui}
              width={r.width}
              squeezed={layout.squeezed}
              panelsOff={layout.fullscreen}
            />
          ),
        ),
      });
      if (cursor?.y === r.y && !layout.status) cursor = null;
    }
    if (ui.help) {
      const r = helpRect(cols, rows);
      layers.push({ rect: r, lines: ink.get("help", "", HELP_WIDTH, () => <HelpOverlay />) });
      cursor = null;
    }
    const picture = graphics ? this.#placePicture(sp?.inner ?? null, rows, ui.help) : null;
    painter?.setPane(picture);
    // The compositor does not know what the picture covered: when the picture moves, goes or
    // comes back, or an overlay comes over it, only a full redraw writes every cell it needs.
    const pictureKey = graphics ? JSON.stringify(picture) : "text";
    if (pictureKey !== this.#pictureKey) this.#compositor.invalidate();
    this.#pictureKey = pictureKey;
    const out = this.#compositor.frame(cols, rows, layers, cursor);
    // A full redraw cleared the picture; the painter's next frame is queued after this one.
    if (graphics && this.#compositor.redrewAll) painter!.invalidate();
    return out;
  }

  /** Where the painter's picture goes, or null when it has no place now. */
  #placePicture(inner: Rect | null, rows: number, help: boolean): PaneGeometry | null {
    // Off the last row: a sixel reaching it scrolls the whole screen.
    const height = inner ? Math.min(inner.height, rows - 1 - inner.y) : 0;
    if (!inner || help || height <= 0 || inner.width <= 0) return null;
    return paneGeometry({ ...inner, height }, this.#o.graphics!.cell());
  }

  #pane(
    layers: Layer[],
    name: string,
    rect: Rect,
    border: boolean,
    title: string,
    focused: boolean,
    make: (
      w: number,
      h: number,
      title: string,
      focused: boolean,
      border: boolean,
    ) => ReactElement,
  ): void {
    if (!border) return;
    const key = `${rect.height}|${title}|${focused}`;
    layers.push({
      rect,
      lines: this.#ink.get(
        name,
        key,
        rect.width,
        () => make(rect.width, rect.height, title, focused, border),
      ),
    });
  }

  /** The last layout drawn, for tests. */
  get layout(): Layout | null {
    return this.#layout;
  }
}

/** Where the help box goes on a `cols` x `rows` terminal. */
export function helpRect(cols: number, rows: number): Rect {
  const width = Math.min(HELP_WIDTH, cols);
  const height = Math.min(HELP_HEIGHT, rows);
  return {
    x: Math.max(0, Math.floor((cols - width) / 2)),
    y: Math.max(0, Math.floor((rows - height) / 2)),
    width,
    height,
  };
}
