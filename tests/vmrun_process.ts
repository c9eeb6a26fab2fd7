/**
 * Runs the vmrun CLI from the checkout as a child process, for end-to-end
 * tests: collects output, waits for text, and never hangs a test.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { LAUNCHER, unprivilegedCheckout } from "./launcher.ts";

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
export class VmrunProcess {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #done: Promise<Finished>;
  #waiters: (() => void)[] = [];

  constructor(args: string[], opts: SpawnOptions = {}) {
    // As users run it: the launcher (its permissions, -q) in the caller's
    // directory; another user runs a world-readable copy of the checkout.
    const [cmd, cmdArgs] = opts.uid === undefined ? [LAUNCHER, args] : unprivilegedCommand(
      opts.uid,
      args,
    );
    const child = new Deno.Command(cmd, {
      args: cmdArgs,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: {
        NO_COLOR: "1",
        ...opts.uid === undefined ? {} : { DENO_DIR: unprivilegedCheckout().denoDir },
        ...opts.env,
      },
    }).spawn();
    this.child = child;
    const writer = child.stdin.getWriter();
    this.#writer = writer;
    const collect = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
      const dec = new TextDecoder();
      for await (const chunk of stream) {
        this[key] += dec.decode(chunk, { stream: true });
        for (const w of this.#waiters.splice(0)) w();
      }
    };
    const out = collect(child.stdout, "stdout");
    const err = collect(child.stderr, "stderr");
    const guard = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, opts.killAfterMs ?? 30_000);
    this.#done = (async () => {
      const status = await child.status;
      clearTimeout(guard);
      await Promise.all([out, err]);
      await writer.close().catch(() => {});
      return { code: status.code, stdout: this.stdout, stderr: this.stderr };
    })();
  }

  /** Writes to the child's stdin. */
  async write(text: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(text));
  }

  /** Closes the child's stdin. */
  async closeStdin(): Promise<void> {
    await this.#writer.close().catch(() => {});
  }

  /** Resolves once stdout contains `text`; rejects after `ms` with what was seen. */
  async waitForStdout(text: string, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.stdout.includes(text)) {
      if (Date.now() > deadline) {
        throw new Error(`'${text}' not seen on stdout; got: ${JSON.stringify(this.stdout)}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
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
