/**
 * vmrun's entry point: parse, check KVM, run, and turn every failure into one
 * line on stderr and an exit status.
 *
 * Start-up is paid on every run, so this module imports almost nothing
 * statically: `--version` answers without the option parser (commander
 * brings Node's compatibility layer), the parser is loaded for everything
 * else, the machine only once there is something to run, the console
 * (Ink/React) only for a console.
 *
 * @module
 */

import { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors.ts";
import { VERSION } from "./version.ts";

const encoder = new TextEncoder();
const err = (s: string) => Deno.stderr.writeSync(encoder.encode(s));

/** Runs vmrun with `argv` and resolves with its exit status. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "ctl") return await (await import("./ctl.ts")).ctlMain(argv.slice(1));
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    Deno.stdout.writeSync(encoder.encode(`${VERSION}\n`));
    return 0;
  }
  try {
    const { parseCommandLine } = await import("./program.ts");
    const req = parseCommandLine(argv, {
      out: (s) => Deno.stdout.writeSync(encoder.encode(s)),
      err,
      hostMemory: Deno.systemMemoryInfo().total,
    });
    // Fail early, on the main thread, with a helpful line.
    const { Kvm } = await import("../kvm/kvm.ts");
    Kvm.open(Deno.env.get("VMRUN_KVM_DEVICE") ?? "/dev/kvm").close();
    // The console needs a terminal both ways; anything else runs headless.
    const { isScripted } = await import("./steps.ts");
    const tui = !req.headless && !isScripted(req) && Deno.stdin.isTerminal() &&
      Deno.stdout.isTerminal();
    return tui
      ? await (await import("./tui_runner.ts")).runTui(req)
      : await (await import("./headless.ts")).runHeadless(req);
  } catch (e) {
    return await failure(e);
  }
}

/** One line on stderr for `e`, and the exit status it calls for. */
async function failure(e: unknown): Promise<number> {
  // --help and usage errors come before anything else is loaded.
  const { CommanderError } = await import("@commander-js/extra-typings");
  if (e instanceof CommanderError) return e.exitCode;
  if (e instanceof UsageError) {
    err(`vmrun: ${e.message}\n`);
    return e.exitCode;
  }
  const { KvmError, KvmUnavailableError } = await import("../kvm/errors.ts");
  const { ImageLockedError } = await import("../machine/disk_locks.ts");
  if (e instanceof ImageLockedError) {
    err(`vmrun: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (e instanceof KvmUnavailableError || e instanceof KvmError) {
    err(`vmrun: ${e.message}\n`);
    return EXIT_FAILURE;
  }
  err(`vmrun: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  return EXIT_FAILURE;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
