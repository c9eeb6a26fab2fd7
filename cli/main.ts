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
import { processArgs } from "./argv.ts";
import { VERSION } from "./version.ts";
import { discardPrestartedVcpuWorker, prestartVcpuWorker } from "../machine/vcpu_worker_start.ts";

const encoder = new TextEncoder();
const HELP_WORDS = ["--help", "-h", "-help"];

/** True when --help is printed 80 columns wide (a pipe, or a terminal that wide). */
function helpFits(): boolean {
  return !Deno.stdout.isTerminal() || Deno.consoleSize().columns >= 80;
}
/** Imports a module only when it is needed: a specifier Deno cannot read ahead keeps it out of the start-up graph. */
function load<T>(path: string): Promise<T> {
  return import(new URL(path, import.meta.url).href);
}
const err = (s: string) => Deno.stderr.writeSync(encoder.encode(s));

/** Runs vmrun with `argv` and resolves with its exit status. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "ctl") {
    return await (await load<typeof import("./ctl.ts")>("./ctl.ts")).ctlMain(argv.slice(1));
  }
  if (argv[0] === "completions") {
    return (await load<typeof import("./completions.ts")>("./completions.ts")).completionsMain(
      argv.slice(1),
    );
  }
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    Deno.stdout.writeSync(encoder.encode(`${VERSION}\n`));
    return 0;
  }
  // The help at 80 columns is stored (cli/help_text.ts); a narrower terminal gets it from the parser.
  if (argv.length === 1 && HELP_WORDS.includes(argv[0]) && helpFits()) {
    Deno.stdout.writeSync(
      encoder.encode((await load<typeof import("./help_text.ts")>("./help_text.ts")).HELP_TEXT),
    );
    return 0;
  }
  // A run is coming (most likely): the vCPU worker's thread loads its modules meanwhile.
  if (!argv.some((a) => HELP_WORDS.includes(a) || a === "--version" || a === "-V")) {
    prestartVcpuWorker();
  }
  try {
    const { parseCommandLine } = await load<typeof import("./program.ts")>("./program.ts");
    const req = parseCommandLine(argv, {
      out: (s) => Deno.stdout.writeSync(encoder.encode(s)),
      err,
      hostMemory: Deno.systemMemoryInfo().total,
    });
    // Fail early, on the main thread, with a helpful line.
    const session = await load<typeof import("../machine/session.ts")>("../machine/session.ts");
    session.checkKvm(req.config);
    // libslirp and the forwarded host ports (a restore's from its saved config).
    session.checkHostNetworks(req.config);
    // The console needs a terminal both ways; anything else runs headless.
    const { isScripted } = await load<typeof import("./steps.ts")>("./steps.ts");
    const tui = !req.headless && !isScripted(req.script) && Deno.stdin.isTerminal() &&
      Deno.stdout.isTerminal();
    // A terminal the console cannot drive (TERM=dumb, unknown) gets line mode, with a word why.
    const { lineModeNote } = await load<typeof import("../tui/terminal_support.ts")>(
      "../tui/terminal_support.ts",
    );
    const refused = tui ? lineModeNote(Deno.env.toObject()) : null;
    if (refused) err(refused);
    return tui && !refused
      ? await (await load<typeof import("./tui_runner.ts")>("./tui_runner.ts")).runTui(req)
      : await (await load<typeof import("./headless.ts")>("./headless.ts")).runHeadless(req);
  } catch (e) {
    return await failure(e);
  }
}

/** One line on stderr for `e`, and the exit status it calls for. */
async function failure(e: unknown): Promise<number> {
  discardPrestartedVcpuWorker();
  // --help and usage errors come before anything else is loaded.
  const { CommanderError } = await load<typeof import("../deps/commander.ts")>(
    "../deps/commander.ts",
  );
  if (e instanceof CommanderError) return e.exitCode;
  const { ConfigError } = await load<typeof import("../machine/config_error.ts")>(
    "../machine/config_error.ts",
  );
  if (e instanceof UsageError || e instanceof ConfigError) {
    const u = e instanceof ConfigError
      ? (await load<typeof import("./program.ts")>("./program.ts")).usageError(e)
      : e;
    err(`vmrun: ${u.message}\n`);
    return u.exitCode;
  }
  const { KvmError, KvmUnavailableError } = await load<typeof import("../kvm/errors.ts")>(
    "../kvm/errors.ts",
  );
  const { ImageLockedError } = await load<typeof import("../machine/disk_locks.ts")>(
    "../machine/disk_locks.ts",
  );
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

if (import.meta.main) Deno.exit(await main(processArgs()));
