/**
 * A child process for end-to-end tests: stdin written by the test, stdout
 * and stderr collected as text, waits for text on stdout, and a kill timer
 * so no test hangs. The vmrun and QEMU runners are built on it.
 *
 * @module
 */

/** Options for {@link PipedChild}. */
export interface PipedChildOptions {
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  /** SIGKILL the child after this long (a hang guard, not a performance check). */
  readonly killAfterMs: number;
  /** What the child is called in errors ("QEMU"). */
  readonly name: string;
}

/** A running child with its output collected. */
export class PipedChild {
  readonly child: Deno.ChildProcess;
  /** Everything the child wrote to stdout so far. */
  stdout = "";
  /** Everything the child wrote to stderr so far. */
  stderr = "";
  readonly #name: string;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #exited: Promise<Deno.CommandStatus>;
  #waiters: (() => void)[] = [];

  /**
   * Spawns `command` with `options.args`.
   * @param command the program to run
   */
  constructor(command: string, options: PipedChildOptions) {
    this.#name = options.name;
    const child = new Deno.Command(command, {
      args: [...options.args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
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
    const guard = setTimeout(() => this.kill(), options.killAfterMs);
    this.#exited = (async () => {
      const status = await child.status;
      clearTimeout(guard);
      await Promise.all([out, err]);
      await writer.close().catch(() => {});
      return status;
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

  /** Kills the child (SIGKILL); harmless once it has exited. */
  kill(): void {
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
  }

  /** Resolves once stdout contains `text`; rejects after `ms` with what was seen. */
  async waitForStdout(text: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.stdout.includes(text)) {
      if (Date.now() > deadline) {
        throw new Error(
          `'${text}' not seen on ${this.#name}'s stdout; got: ${JSON.stringify(this.stdout)}` +
            ` stderr: ${JSON.stringify(this.stderr)}`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** The child's exit status, once it has exited and all its output is in. */
  exited(): Promise<Deno.CommandStatus> {
    return this.#exited;
  }
}
