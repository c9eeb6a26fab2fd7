/**
 * Headless runs: COM1 on stdin/stdout (with the virtio console's hvc0 output
 * beside COM1's when there is one), vmrun's own words on stderr, and an
 * exit status that says how the run ended. Every ending (the guest,
 * --timeout, a signal, Ctrl-a x, a script, the control socket) goes through
 * the session core, which decides it once; stdout and stderr go through
 * bounded queues, so none of them waits on a reader.
 *
 * Stdin: on a terminal it is raw, and Ctrl-a is the escape prefix (Ctrl-a x
 * quits, Ctrl-a h helps, Ctrl-a Ctrl-a sends Ctrl-a). From a pipe or a file
 * every byte goes to COM1 as it is (a Ctrl-a too), and its end does not end
 * the run.
 *
 * @module
 */

import { ScriptRun } from "../api/script.ts";
import { Session } from "../api/session.ts";
import { stoppedExit } from "../machine/exit.ts";
import type { Machine } from "../machine/machine.ts";
import { forwardText } from "../machine/net.ts";
import { RunSession } from "../machine/session.ts";
import { BoundedWriter, openSerialLog } from "./bounded_writer.ts";
import { ESCAPE_HELP, EscapeFilter } from "./escape.ts";
import { describeExit } from "./fault_report.ts";
import type { RunRequest } from "./program.ts";
import { endOnSignals, openControl, runLimits } from "./run_services.ts";

/** Runs a machine headless; resolves with vmrun's exit status. */
export async function runHeadless(req: RunRequest): Promise<number> {
  const stdout = new BoundedWriter(Deno.stdout);
  const stderr = new BoundedWriter(Deno.stderr);
  const encoder = new TextEncoder();
  const say = (s: string) => stderr.write(encoder.encode(s));
  const log = req.serialLog === null ? null : openSerialLog(req.serialLog);
  const control = await openControl(req.control);
  let run: RunSession;
  try {
    run = new RunSession(
      req.config,
      {
        serial: (b) => {
          stdout.write(b);
          log?.write(b);
        },
        // hvc0 (--device virtio-serial-pci) shows alongside COM1, as it comes.
        console: (port, b) => {
          if (port === 0) stdout.write(b);
        },
        bootFailed: (line) => say(`vmrun: the firmware found nothing to boot: ${line}\n`),
        warning: (message) => say(`vmrun: warning: ${message}\n`),
        // The exit action's line is the run's ending (describeExit).
        watchdog: (e) =>
          e.action !== "exit" &&
          say(`vmrun: the ${e.model} watchdog expired (action ${e.action})\n`),
      },
      runLimits(req),
      { restorePath: req.restore ?? undefined },
    );
  } catch (e) {
    await control?.close();
    throw e;
  }
  const session = new Session(run, { screenRefreshMs: req.script.report ? 250 : 0 });
  control?.serve(session);
  const script = new ScriptRun(session, req.script, { image: req.image, say });
  const signals = endOnSignals(run);
  void sayBoundPorts(run.machine, say);

  const raw = Deno.stdin.isTerminal();
  if (raw) Deno.stdin.setRaw(true);
  const input = pumpInput(
    run.machine,
    raw,
    () => run.end(stoppedExit("Ctrl-a x")),
    say,
  );

  try {
    const exit = await session.exited;
    say(describeExit(exit));
    return await script.finish(exit);
  } finally {
    signals.remove();
    input.cancel();
    if (raw) Deno.stdin.setRaw(false);
    await control?.close();
    await stdout.drain();
    await log?.drain();
    if (stdout.dropped) {
      say(`vmrun: ${stdout.dropped} bytes of COM1 output dropped: stdout did not take them\n`);
    }
    if (log?.dropped) {
      say(`vmrun: ${log.dropped} bytes of COM1 output dropped from --serial-log\n`);
    }
    await stderr.drain();
  }
}

/** Names the host port each `hostfwd=` with port 0 got, once the network is up. */
async function sayBoundPorts(machine: Machine, say: (s: string) => void): Promise<void> {
  const net = machine.net;
  if (!net) return;
  await net.ready;
  for (const f of net.forwards) {
    if (f.hostPort === 0) say(`vmrun: hostfwd ${forwardText(f)} is host port ${f.boundPort}\n`);
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
