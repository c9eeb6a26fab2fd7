/**
 * vmrun's entry point: parse, check KVM, run, and turn every failure into one
 * line on stderr and an exit status.
 *
 * @module
 */

import { CommanderError } from "@commander-js/extra-typings";
import { KvmError, KvmUnavailableError } from "../kvm/errors.ts";
import { ConfigError } from "../machine/config_error.ts";
import { ImageLockedError } from "../machine/disk_locks.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "../machine/exit.ts";
import { checkKvm } from "../machine/session.ts";
import { processArgs } from "./argv.ts";
import { completionsMain } from "./completions.ts";
import { ctlMain } from "./ctl.ts";
import { UsageError } from "./errors.ts";
import { runHeadless } from "./headless.ts";
import { parseCommandLine, usageError } from "./program.ts";
import { isScripted } from "./steps.ts";
import { lineModeNote } from "../tui/terminal_support.ts";

const encoder = new TextEncoder();
const err = (s: string) => Deno.stderr.writeSync(encoder.encode(s));

/** Runs vmrun with `argv` and resolves with its exit status. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "ctl") return await ctlMain(argv.slice(1));
  if (argv[0] === "completions") return completionsMain(argv.slice(1));
  try {
    const req = parseCommandLine(argv, {
      out: (s) => Deno.stdout.writeSync(encoder.encode(s)),
      err,
      hostMemory: Deno.systemMemoryInfo().total,
    });
    // Fail early, on the main thread, with a helpful line.
    checkKvm();
    // The console needs a terminal both ways; anything else runs headless.
    const tui = !req.headless && !isScripted(req.script) && Deno.stdin.isTerminal() &&
      Deno.stdout.isTerminal();
    // A terminal the console cannot drive (TERM=dumb, unknown) gets line mode, with a word why.
    const refused = tui ? lineModeNote(Deno.env.toObject()) : null;
    if (refused) err(refused);
    return tui && !refused
      ? await (await import("./tui_runner.ts")).runTui(req)
      : await runHeadless(req);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof ImageLockedError) {
      err(`vmrun: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof UsageError || e instanceof ConfigError) {
      const u = e instanceof ConfigError ? usageError(e) : e;
      err(`vmrun: ${u.message}\n`);
      return u.exitCode;
    }
    if (e instanceof KvmUnavailableError || e instanceof KvmError) {
      err(`vmrun: ${e.message}\n`);
      return EXIT_FAILURE;
    }
    err(`vmrun: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_FAILURE;
  }
}

if (import.meta.main) Deno.exit(await main(processArgs()));
