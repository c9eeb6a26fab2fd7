/**
 * vmrun's entry point: parse, check KVM, run, and turn every failure into one
 * line on stderr and an exit status.
 *
 * @module
 */

import { CommanderError } from "../deps/commander.ts";
import { KvmError, KvmUnavailableError } from "../kvm/errors.ts";
import { Kvm } from "../kvm/kvm.ts";
import { ImageLockedError } from "../machine/disk_locks.ts";
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors.ts";
import { ctlMain } from "./ctl.ts";
import { runHeadless } from "./headless.ts";
import { parseCommandLine } from "./program.ts";
import { isScripted } from "./steps.ts";

const encoder = new TextEncoder();
const err = (s: string) => Deno.stderr.writeSync(encoder.encode(s));

/** Runs vmrun with `argv` and resolves with its exit status. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "ctl") return await ctlMain(argv.slice(1));
  try {
    const req = parseCommandLine(argv, {
      out: (s) => Deno.stdout.writeSync(encoder.encode(s)),
      err,
      hostMemory: Deno.systemMemoryInfo().total,
    });
    // Fail early, on the main thread, with a helpful line.
    Kvm.open(Deno.env.get("VMRUN_KVM_DEVICE") ?? "/dev/kvm").close();
    // The console needs a terminal both ways; anything else runs headless.
    const tui = !req.headless && !isScripted(req) && Deno.stdin.isTerminal() &&
      Deno.stdout.isTerminal();
    return tui ? await (await import("./tui_runner.ts")).runTui(req) : await runHeadless(req);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof ImageLockedError) {
      err(`vmrun: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      err(`vmrun: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof KvmUnavailableError || e instanceof KvmError) {
      err(`vmrun: ${e.message}\n`);
      return EXIT_FAILURE;
    }
    err(`vmrun: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_FAILURE;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
