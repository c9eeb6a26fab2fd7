/**
 * Console runs: the machine with the TUI on the terminal, COM1 also to
 * --serial-log, the --control socket served alongside, and the terminal put
 * back on every way out (quit, guest exit, timeout, crash, SIGTERM, SIGHUP).
 * Every ending goes through the session core, which decides it once.
 *
 * @module
 */

import { HVC0_PREFIX, LinePrefixer } from "../tui/line_prefix.ts";
import { basename } from "node:path";
import { Session } from "../api/session.ts";
import { EXIT_FAILURE, signalExit, stoppedExit } from "../machine/exit.ts";
import { RunSession } from "../machine/session.ts";
import type { Machine } from "../machine/machine.ts";
import {
  balloonInfo,
  balloonStepTarget,
  balloonTargetPages,
  hasBalloon,
} from "../machine/balloon.ts";
import { detectCharset, drawableDisplay } from "../tui/charset.ts";
import { detectColorDepth } from "../tui/colors.ts";
import { ConsoleController } from "../tui/console_controller.tsx";
import {
  cellSize,
  chooseDisplay,
  createRenderer,
  GraphicsPainter,
  probeTerminal,
  stdinProbe,
  type TerminalCaps,
  TerminalReplyFilter,
} from "../tui/graphics/mod.ts";
import { processCpuMs } from "../tui/run_state.ts";
import { TerminalSession } from "../tui/terminal.ts";
import { openSerialLog } from "./bounded_writer.ts";
import { describeExit } from "./fault_report.ts";
import type { RunRequest } from "./program.ts";
import { endOnSignals, openControl, runLimits } from "./run_services.ts";
/** How long teardown waits for a frame still being written. */
const WRITE_DRAIN_MS = 200;
/** How long an incomplete escape sequence in the input may wait for the rest (a reply or a key). */
const REPLY_HOLD_MS = 50;

/** The terminal's answers when it is not asked (explicit half-blocks, text, none). */
const UNPROBED: TerminalCaps = {
  sixel: false,
  kitty: false,
  cellWidth: null,
  cellHeight: null,
  multiplexer: null,
  answered: false,
};

/** Ctrl-a - and Ctrl-a +: the balloon's target a step down or up; what to tell the user. */
async function stepBalloon(machine: Machine, direction: 1 | -1): Promise<string> {
  const devices = (await machine.snapshot()).devices;
  const info = devices && balloonInfo(machine.config, devices);
  if (!info) return "the run has ended";
  const target = balloonStepTarget(info, direction);
  machine.balloon(balloonTargetPages(machine.config, target));
  return `balloon: the guest is asked to keep ${target} MiB of ${
    Math.floor(info.ramBytes / 2 ** 20)
  } MiB`;
}

/** Where Ctrl-a s saves: beside the user, named after the image and the time. */
function saveFileName(image: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d+Z$/, "");
  return `${basename(image).replace(/\.[^.]*$/, "")}-${stamp}.vmsave`;
}

/** Runs a machine with the console UI; resolves with vmrun's exit status. */
export async function runTui(req: RunRequest): Promise<number> {
  const log = req.serialLog === null ? null : openSerialLog(req.serialLog);
  const said: string[] = [];
  const hvc0 = new LinePrefixer(HVC0_PREFIX);
  let controller: ConsoleController | null = null;
  const control = await openControl(req.control);
  let run: RunSession;
  try {
    run = new RunSession(
      req.config,
      {
        serial: (b) => {
          controller?.serialOutput(b);
          log?.write(b);
        },
        // hvc0 (--device virtio-serial-pci) shares the serial pane, its lines marked.
        console: (port, b) => {
          if (port === 0) controller?.serialOutput(hvc0.feed(b));
        },
        state: (s) => controller?.machineState(s),
        reset: () => controller?.machineReset(),
        bootFailed: (line) => {
          said.push(`vmrun: the firmware found nothing to boot: ${line}\n`);
          controller?.notice(`nothing to boot: ${line}`);
        },
        warning: (message) => {
          said.push(`vmrun: warning: ${message}\n`);
          controller?.notice(`warning: ${message}`);
        },
        // As headless: the exit action's line is the run's ending (describeExit).
        watchdog: (e) => {
          if (e.action === "exit") return;
          said.push(`vmrun: the ${e.model} watchdog expired (action ${e.action})\n`);
          controller?.notice(`the ${e.model} watchdog expired (action ${e.action})`);
        },
      },
      runLimits(req),
      { restorePath: req.restore ?? undefined },
    );
  } catch (e) {
    await control?.close();
    throw e;
  }
  const machine = run.machine;
  // The control socket serves a console run too, so a script can drive what a user watches.
  if (control) control.serve(new Session(run));
  // A stop signal, even during the terminal probe below, ends the run through the session.
  const signals = endOnSignals(run);

  const term = new TerminalSession({
    setRaw: (raw) => Deno.stdin.setRaw(raw),
    writeSync: (b) => Deno.stdout.writeSync(b),
  });

  const encoder = new TextEncoder();
  let lastWrite: Promise<void> = Promise.resolve();
  // Chained: the painter and the controller write concurrently, and a frame must not split another.
  const write = (text: string): Promise<void> => {
    const bytes = encoder.encode(text);
    lastWrite = lastWrite.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
    }).catch(() => {
      // The terminal is gone: like a hang-up.
      run.end({ ...signalExit("SIGHUP"), detail: "terminal lost" });
    });
    return lastWrite;
  };

  let size = { cols: 80, rows: 24 };
  try {
    const s = Deno.consoleSize();
    size = { cols: s.columns, rows: s.rows };
  } catch {
    // Not a terminal; the default will do.
  }
  const env = Deno.env.toObject();
  const depth = detectColorDepth(env);
  const charset = detectCharset(env); // ASCII look-alikes under LANG=C
  // Ask the terminal what it can show only where the answer matters (auto, sixel, kitty).
  let caps = UNPROBED;
  let typed: Uint8Array = new Uint8Array(0);
  if (req.display === "auto" || req.display === "sixel" || req.display === "kitty") {
    const p = stdinProbe();
    try {
      ({ caps, input: typed } = await probeTerminal(p.io, { env, cells: size }));
    } finally {
      p.close();
    }
  }
  // NO_COLOR: pixels in colour would defeat it; the pane shows the mode instead.
  const display = depth === "none"
    ? "text"
    : drawableDisplay(chooseDisplay(req.display, caps), charset);
  const renderer = createRenderer(display, depth);
  let cell = cellSize(caps);
  const painter = renderer && new GraphicsPainter({
    renderer,
    frames: (full) => machine.frame(full),
    write,
    onFormat: () => controller?.graphicsChanged(),
  });

  controller = new ConsoleController({
    machine,
    image: basename(req.image),
    cpus: req.config.cpus,
    memoryBytes: req.config.memoryBytes,
    depth,
    size: () => {
      try {
        const s = Deno.consoleSize();
        size = { cols: s.columns, rows: s.rows };
      } catch {
        // Keep the last size once the terminal is gone.
      }
      return size;
    },
    write,
    quit: () => run.end(stoppedExit("quit from the console")),
    save: async () => {
      const file = saveFileName(req.image);
      const r = await run.save(file);
      said.push(`vmrun: saved the VM to ${file} (vmrun --restore ${file})\n`);
      return `saved to ${file} (${Math.round(r.bytes / 1024)} KiB, guest held ${
        Math.round(r.ms)
      } ms)`;
    },
    balloon: hasBalloon(req.config) ? (direction) => stepBalloon(machine, direction) : undefined,
    cpuTimeMs: processCpuMs,
    graphics: painter ? { painter, cell: () => cell } : undefined,
    charset,
    noScreen: req.config.vga === "none",
  });

  const onResize = () => {
    // A font size change moves the cell size where the terminal did not tell it.
    cell = cellSize(caps);
    controller?.resize();
  };
  Deno.addSignalListener("SIGWINCH", onResize);
  // A crash anywhere must still give the terminal back.
  const onCrash = (e: ErrorEvent | PromiseRejectionEvent) => {
    e.preventDefault();
    const reason = "reason" in e ? e.reason : e.error;
    run.end({
      reason: "vmm-error",
      code: EXIT_FAILURE,
      detail: `internal error: ${reason instanceof Error ? reason.message : String(reason)}`,
    });
  };
  const onUnload = () => term.restore();
  globalThis.addEventListener("error", onCrash);
  globalThis.addEventListener("unhandledrejection", onCrash);
  globalThis.addEventListener("unload", onUnload);

  term.enter();
  const reader = Deno.stdin.readable.getReader();
  // Late answers to the probe must not reach the guest as keys.
  const replies = new TerminalReplyFilter();
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !value) return;
      clearTimeout(holdTimer);
      controller?.input(replies.feed(value));
      if (replies.holding) {
        holdTimer = setTimeout(() => controller?.input(replies.flush()), REPLY_HOLD_MS);
      }
    }
  })().catch(() => {});
  controller.start();
  if (typed.length) controller.input(typed);
  painter?.start();

  let transcript = ""; // the guest's last COM1 lines and how it ended, left on the terminal
  try {
    const exit = await run.exited;
    said.push(describeExit(exit));
    transcript = await controller.transcript(exit);
    return exit.code;
  } finally {
    controller.stop();
    controller = null;
    clearTimeout(holdTimer);
    const takeDown = painter?.stop();
    if (takeDown) void write(takeDown);
    signals.remove();
    Deno.removeSignalListener("SIGWINCH", onResize);
    reader.cancel().catch(() => {});
    await Promise.race([lastWrite, new Promise((r) => setTimeout(r, WRITE_DRAIN_MS))]);
    term.restore();
    try {
      Deno.stdout.writeSync(encoder.encode(transcript));
    } catch { /* the terminal is gone */ }
    globalThis.removeEventListener("error", onCrash);
    globalThis.removeEventListener("unhandledrejection", onCrash);
    globalThis.removeEventListener("unload", onUnload);
    await control?.close();
    await log?.drain();
    for (const s of said) if (s) Deno.stderr.writeSync(encoder.encode(s));
  }
}
