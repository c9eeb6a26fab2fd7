/**
 * Runs vmrun in a pseudo-terminal with a headless xterm reading what it
 * writes, as a person's terminal would: for end-to-end tests of the console.
 *
 * @module
 */

import { spawn } from "../deps/node_pty.ts";
import xterm from "../deps/xterm.ts";
import { CLI } from "./vmrun_process.ts";

/** How a pty run ended. */
export interface PtyExit {
  readonly exitCode: number;
  readonly signal?: number;
}

/** Options for {@link PtyVmrun}. */
export interface PtyOptions {
  readonly cols?: number;
  readonly rows?: number;
  readonly env?: Record<string, string>;
  /** Runs this shell command line instead of vmrun itself; `VMRUN` in it is replaced. */
  readonly shell?: string;
  /** Kills the child after this long (a hang guard, not a performance check). */
  readonly killAfterMs?: number;
}

/** vmrun in a pty, its output parsed by a headless xterm. */
export class PtyVmrun {
  readonly term: InstanceType<typeof xterm.Terminal>;
  readonly exited: Promise<PtyExit>;
  /** Everything vmrun wrote, raw. */
  output = "";
  readonly #pty: ReturnType<typeof spawn>;
  #parsed = Promise.resolve();

  constructor(args: string[], opts: PtyOptions = {}) {
    const cols = opts.cols ?? 132;
    const rows = opts.rows ?? 43;
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
    // --snapshot: other test files boot the same fixtures at the same time.
    // -q: Deno's own progress lines are not vmrun's output (vmrun's launcher runs Deno so too).
    const cli = ["run", "-q", "-A", CLI, "--snapshot", ...args];
    const vmrun = [Deno.execPath(), ...cli].map(quote).join(" ");
    const [file, argv] = opts.shell
      ? ["/bin/sh", ["-c", opts.shell.replace("VMRUN", vmrun)]]
      : [Deno.execPath(), cli];
    // The tests' own NO_COLOR (vmrun_process sets it) must not leak into the console.
    // Nor the host's locale: the console draws UTF-8 unless a test asks for another.
    const { NO_COLOR: _, LC_ALL: _a, LC_CTYPE: _c, ...inherited } = Deno.env.toObject();
    const env: Record<string, string> = {
      ...inherited,
      TERM: "xterm-256color",
      LANG: "C.UTF-8",
      ...opts.env,
    };
    // node-pty sets TERM to `name`.
    this.#pty = spawn(file, argv, { cols, rows, name: env.TERM, env, cwd: Deno.cwd() });
    this.#pty.onData((d) => {
      this.output += d;
      this.#parsed = new Promise((resolve) => this.term.write(d, resolve));
    });
    const guard = setTimeout(() => this.kill("SIGKILL"), opts.killAfterMs ?? 60_000);
    this.exited = new Promise((resolve) => {
      this.#pty.onExit((e) => {
        clearTimeout(guard);
        // Let the last bytes reach the emulator.
        setTimeout(() => this.#parsed.then(() => resolve(e)), 100);
      });
    });
  }

  /** The child's process id. */
  get pid(): number {
    return this.#pty.pid;
  }

  /** Types into the terminal. */
  type(text: string): void {
    this.#pty.write(text);
  }

  /** Resizes the terminal (the pty sends SIGWINCH). */
  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
    this.#pty.resize(cols, rows);
  }

  /** Sends a signal to the child. */
  kill(signal: string): void {
    try {
      this.#pty.kill(signal);
    } catch {
      // Already gone.
    }
  }

  /** Row `y` of the visible screen as text. */
  row(y: number): string {
    const b = this.term.buffer.active;
    return b.getLine(b.viewportY + y)?.translateToString(true) ?? "";
  }

  /** The visible screen, rows joined by "\n". */
  screen(): string {
    return Array.from({ length: this.term.rows }, (_, y) => this.row(y)).join("\n");
  }

  /** The cell at (x, y) of the visible screen. */
  cell(x: number, y: number) {
    const b = this.term.buffer.active;
    return b.getLine(b.viewportY + y)!.getCell(x)!;
  }

  /** Waits until `cond` holds; throws with the screen after `ms`. */
  async waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; screen:\n${this.screen()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the screen shows `text`. */
  waitForText(text: string, ms?: number): Promise<void> {
    return this.waitFor(JSON.stringify(text), () => this.screen().includes(text), ms);
  }

  /** Frees the emulator. */
  dispose(): void {
    this.term.dispose();
  }
}

function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
