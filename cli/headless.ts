/**
 * Headless runs: COM1 on stdin/stdout, vmrun's own words on stderr, and an
 * exit status that says how the guest ended.
 *
 * @module
 */

import type { GuestExit } from "../machine/board.ts";
import type { Machine } from "../machine/machine.ts";
import { ScriptRun } from "../api/script.ts";
import { Session } from "../api/session.ts";
import { ESCAPE_HELP, EscapeFilter } from "./escape.ts";
import { EXIT_TIMEOUT, UsageError } from "./errors.ts";
import { describeExit } from "./fault_report.ts";
import type { RunRequest } from "./program.ts";

const STOP_SIGNALS = ["SIGTERM", "SIGHUP", "SIGINT"] as const;
const SIGNAL_STATUS: Record<(typeof STOP_SIGNALS)[number], number> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
};

/**
 * Opens (truncating) the --serial-log file.
 * @throws {UsageError} when it cannot be created
 */
export function openSerialLog(path: string): StreamWriter {
  try {
    return new StreamWriter(Deno.openSync(path, { write: true, create: true, truncate: true }));
  } catch (e) {
    throw new UsageError(
      `cannot write --serial-log '${path}': ${e instanceof Error ? e.message : e}`,
    );
  }
}

/** An ordered, non-blocking writer to a Deno output stream. */
export class StreamWriter {
  #chain: Promise<void> = Promise.resolve();
  constructor(readonly file: { write(p: Uint8Array): Promise<number> }) {}
  write(bytes: Uint8Array): void {
    const copy = bytes.slice();
    this.#chain = this.#chain.then(async () => {
      let off = 0;
      while (off < copy.length) off += await this.file.write(copy.subarray(off));
    }).catch(() => {});
  }
  flushed(): Promise<void> {
    return this.#chain;
  }
}

/** Runs a machine headless; resolves with vmrun's exit status. */
export async function runHeadless(req: RunRequest): Promise<number> {
  const stdout = new StreamWriter(Deno.stdout);
  const stderr = new StreamWriter(Deno.stderr);
  const say = (s: string) => stderr.write(new TextEncoder().encode(s));
  const log = req.serialLog === null ? null : openSerialLog(req.serialLog);
  const session = new Session(req.config, {
    serial: (b) => {
      stdout.write(b);
      log?.write(b);
    },
    bootFailed: (line) => say(`vmrun: the firmware found nothing to boot: ${line}\n`),
    warning: (message) => say(`vmrun: warning: ${message}\n`),
    // The exit action's line is the run's ending (describeExit).
    watchdog: (e) =>
      e.action !== "exit" && say(`vmrun: the ${e.model} watchdog expired (action ${e.action})\n`),
  }, { screenRefreshMs: req.script.report ? 250 : 0 });
  const machine = session.machine;

  let forced: GuestExit | null = null;
  let signalStatus: number | null = null;
  const stopWith = (exit: GuestExit) => {
    forced ??= exit;
    // A failing run keeps its screen (--screenshot-on-fail) before the machine goes.
    script.beforeStop(forced).finally(() => machine.stop());
  };
  const script = new ScriptRun(session, req.script, {
    image: req.image,
    control: req.control,
    end: stopWith,
    say,
  });

  const timer = req.timeout === null ? undefined : setTimeout(() => {
    stopWith({ reason: "timeout", code: EXIT_TIMEOUT, detail: `no exit within ${req.timeout} s` });
  }, req.timeout * 1000);

  const onSignal: Partial<Record<(typeof STOP_SIGNALS)[number], () => void>> = {};
  for (const sig of STOP_SIGNALS) {
    onSignal[sig] = () => {
      signalStatus ??= SIGNAL_STATUS[sig];
      stopWith({ reason: "stopped", code: SIGNAL_STATUS[sig], detail: sig });
    };
    Deno.addSignalListener(sig, onSignal[sig]!);
  }

  const raw = Deno.stdin.isTerminal();
  if (raw) Deno.stdin.setRaw(true);
  const input = pumpInput(machine, raw, () => stopWith({ reason: "stopped", code: 0 }), say);

  try {
    const exit = await machine.exited;
    const final = exit.reason === "stopped" && forced ? forced : exit;
    say(describeExit(final));
    return await script.finish(final);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    for (const sig of STOP_SIGNALS) Deno.removeSignalListener(sig, onSignal[sig]!);
    input.cancel();
    if (raw) Deno.stdin.setRaw(false);
    await stdout.flushed();
    await log?.flushed();
    await stderr.flushed();
  }
}

/** Copies stdin to COM1, handling the Ctrl-a prefix when stdin is a terminal. */
function pumpInput(
  machine: Machine,
  escapes: boolean,
  quit: () => void,
  say: (s: string) => void,
): { cancel(): void } {
  const reader = Deno.stdin.readable.getReader();
  const filter = new EscapeFilter();
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !value) return;
      if (!escapes) {
        machine.sendSerial(value);
        continue;
      }
      const r = filter.feed(value);
      machine.sendSerial(r.toGuest);
      for (const c of r.commands) {
        if (c === "quit") quit();
        else say(ESCAPE_HELP);
      }
    }
  })().catch(() => {});
  return { cancel: () => reader.cancel().catch(() => {}) };
}
