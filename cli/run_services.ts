/**
 * What both the console and headless runs set up around the session core:
 * the control socket, the time limit and the stop signals, each ending the
 * run only through {@link RunSession.end}.
 *
 * @module
 */

import { type ControlServer, listenControlSocket } from "../api/control_server.ts";
import { ConfigError } from "../machine/config_error.ts";
import { signalExit, STOP_SIGNALS } from "../machine/exit.ts";
import type { RunLimits, RunSession } from "../machine/session.ts";
import { UsageError } from "./errors.ts";
import type { RunRequest } from "./program.ts";

/**
 * Creates the --control socket, or nothing without one.
 * @throws {UsageError} when it cannot be created
 */
export async function openControl(path: string | null): Promise<ControlServer | null> {
  if (path === null) return null;
  try {
    return await listenControlSocket(path);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--control: ${e.message}`);
    throw e;
  }
}

/** The run's limits from --timeout. */
export function runLimits(req: RunRequest): RunLimits {
  return req.timeout === null ? {} : {
    timeoutMs: req.timeout * 1000,
    timeoutDetail: `no exit within ${req.timeout} s`,
  };
}

/** Ends `run` on SIGTERM, SIGINT and SIGHUP (status 128 + the signal's number). */
export function endOnSignals(run: RunSession): { remove(): void } {
  const handlers = STOP_SIGNALS.map((sig) => {
    const f = () => void run.end(signalExit(sig));
    Deno.addSignalListener(sig, f);
    return [sig, f] as const;
  });
  return {
    remove: () => {
      for (const [sig, f] of handlers) Deno.removeSignalListener(sig, f);
    },
  };
}
