/**
 * Runs the vmrun CLI from the checkout as a child process, for end-to-end
 * tests: collects output, waits for text, and never hangs a test.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { LAUNCHER, unprivilegedCheckout } from "./launcher.ts";
import { PipedChild } from "./piped_child.ts";

/** Path of cli/main.ts. */
export const CLI = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

/** A finished run. */
export interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options for {@link spawnVmrun}. */
export interface SpawnOptions {
  readonly env?: Record<string, string>;
  /** Kill the child after this long (a hang guard, not a performance check). */
  readonly killAfterMs?: number;
  /** Run as another user through setpriv (needs root), e.g. 65534. */
  readonly uid?: number;
}

/** A running vmrun child. */
export class VmrunProcess extends PipedChild {
  readonly #done: Promise<Finished>;

  constructor(args: string[], opts: SpawnOptions = {}) {
    // As users run it: the launcher (its permissions, -q) in the caller's
    // directory; another user runs a world-readable copy of the checkout.
    const [cmd, cmdArgs] = opts.uid === undefined ? [LAUNCHER, args] : unprivilegedCommand(
      opts.uid,
      args,
    );
    super(cmd, {
      args: cmdArgs,
      env: {
        NO_COLOR: "1",
        ...opts.uid === undefined ? {} : { DENO_DIR: unprivilegedCheckout().denoDir },
        ...opts.env,
      },
      killAfterMs: opts.killAfterMs ?? 30_000,
      name: "vmrun",
    });
    this.#done = this.exited().then((status) => ({
      code: status.code,
      stdout: this.stdout,
      stderr: this.stderr,
    }));
  }

  /** Resolves once stdout contains `text`; rejects after `ms` with what was seen. */
  override waitForStdout(text: string, ms = 20_000): Promise<void> {
    return super.waitForStdout(text, ms);
  }

  /** The run's result, once the child has exited. */
  finished(): Promise<Finished> {
    return this.#done;
  }
}

/** Runs vmrun to completion. */
export function runVmrun(args: string[], opts: SpawnOptions = {}): Promise<Finished> {
  const p = new VmrunProcess(args, opts);
  p.closeStdin();
  return p.finished();
}

/** setpriv running the unprivileged copy of the checkout's launcher as `uid`. */
function unprivilegedCommand(uid: number, args: string[]): [string, string[]] {
  return ["setpriv", [
    `--reuid=${uid}`,
    `--regid=${uid}`,
    "--clear-groups",
    unprivilegedCheckout().launcher,
    ...args,
  ]];
}

/**
 * Runs `fn` with a vmrun child started as `--control <socket> ...args`, the
 * socket in a fresh temporary directory; afterwards the child is killed if
 * it still runs and the directory removed.
 */
export async function withControlledVmrun<T>(
  args: string[],
  opts: SpawnOptions,
  fn: (vmrun: VmrunProcess, socket: string) => Promise<T>,
): Promise<T> {
  const dir = Deno.makeTempDirSync();
  const socket = `${dir}/ctl.sock`;
  const vmrun = new VmrunProcess(["--control", socket, ...args], opts);
  try {
    return await fn(vmrun, socket);
  } finally {
    try {
      vmrun.child.kill("SIGKILL");
    } catch { /* it has exited */ }
    await vmrun.finished();
    Deno.removeSync(dir, { recursive: true });
  }
}
