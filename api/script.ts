/**
 * A scripted headless run: steps in command-line order, `--exit-on` and
 * `--fail-on` watches on COM1, screenshots, the control socket and the
 * report. The run itself (stdout, signals, stdin) stays with cli/headless.ts,
 * which ends it through `end` and asks {@link ScriptRun.finish} for the status.
 *
 * @module
 */

import { type ControlServer, openControlSocket } from "../cli/control_socket.ts";
import type { FailureReport, RunReport, StepReport } from "../cli/report.ts";
import { writeReport } from "../cli/report.ts";
import type { ScriptOptions, Step } from "../cli/steps.ts";
import type { GuestExit } from "../machine/board.ts";
import { WaitTimeoutError } from "./errors.ts";
import { screenshotPng } from "./screenshot.ts";
import type { Session } from "./session.ts";

/** What a scripted run needs besides its session. */
export interface ScriptContext {
  readonly image: string;
  /** The control socket path, or null. */
  readonly control: string | null;
  /** Ends the run with `exit` (headless screenshots, then stops). */
  readonly end: (exit: GuestExit) => void;
  /** Writes vmrun's own words to stderr. */
  readonly say: (text: string) => void;
}

const EXIT_TIMEOUT = 124;
const STOP_GRACE_MS = 5_000;

/** Runs a script against a session. */
export class ScriptRun {
  readonly #s: Session;
  readonly #o: ScriptOptions;
  readonly #ctx: ScriptContext;
  readonly #t0 = performance.now();
  readonly #startedAt = new Date();
  readonly #steps: StepReport[];
  readonly #done: Promise<void>;
  readonly #abort = new AbortController();
  #failure: FailureReport | null = null;
  /** The status the script's own failure asks for. */
  #failCode = 1;
  #exitOnLine: string | null = null;
  #screen = "";
  #shot: string | null = null;
  #beforeStop: Promise<void> | null = null;
  readonly #control: Promise<ControlServer | null>;

  constructor(session: Session, options: ScriptOptions, ctx: ScriptContext) {
    this.#s = session;
    this.#o = options;
    this.#ctx = ctx;
    this.#steps = options.steps.map((s, i) => ({
      index: i + 1,
      kind: s.kind,
      arg: s.arg,
      status: "not-run",
      startMs: null,
      durationMs: null,
    }));
    if (options.exitOn.length || options.failOn.length) this.#watchLines();
    this.#control = ctx.control === null ? Promise.resolve(null) : this.#openControl(ctx.control);
    this.#done = this.#runSteps();
  }

  async #openControl(path: string): Promise<ControlServer | null> {
    try {
      return await openControlSocket(path, this.#s, {
        quit: () =>
          this.#ctx.end({ reason: "stopped", code: 0, detail: "quit over the control socket" }),
      });
    } catch (e) {
      this.#fail("control", `--control: ${e instanceof Error ? e.message : e}`, 2);
      return null;
    }
  }

  /** Called before the machine is stopped: keeps the screen, and a screenshot on failure. */
  beforeStop(exit: GuestExit): Promise<void> {
    this.#beforeStop ??= (async () => {
      await bounded(this.#s.screen.read());
      if (exit.code !== 0) await bounded(this.#screenshotOnFail());
    })();
    return this.#beforeStop;
  }

  /** After the run ended: says what failed, writes the report; resolves with the exit status. */
  async finish(exit: GuestExit): Promise<number> {
    this.#abort.abort();
    await this.#done;
    await (await this.#control)?.close();
    const say = this.#ctx.say;
    let status = exit.code;
    this.#screen = this.#s.screen.text();
    // The guest may end the run itself between a match and the stop.
    if (this.#exitOnLine !== null && !this.#failure) status = 0;
    if (this.#failure && status === 0) status = this.#failCode;
    const pending = this.#steps.find((s) => s.status !== "ok");
    if (!this.#failure && !this.#exitOnLine && pending) {
      const why = exit.reason === "timeout" ? "timeout" : "incomplete";
      this.#failure = {
        kind: why,
        message: `the run ended (${exit.reason}) before step ${pending.index} ` +
          `(--${pending.kind} '${pending.arg}') was done`,
      };
      pending.error ??= this.#failure.message;
      if (status === 0) status = 1;
      say(`vmrun: ${this.#failure.message}\n`);
    } else if (!this.#failure && status !== 0) {
      this.#failure = {
        kind: exit.reason === "timeout"
          ? "timeout"
          : exit.reason === "stopped"
          ? "signal"
          : "guest",
        message: `${exit.reason}${exit.detail ? `: ${exit.detail}` : ""}`,
      };
    }
    if (exit.reason === "timeout" || this.#failure?.kind === "incomplete") {
      say(lastLinesText(this.#s.serial.lastLines()));
    }
    if (status !== 0 && this.#o.screenshotOnFail && this.#shot === null) {
      say(`vmrun: no --screenshot-on-fail: the machine had stopped before it could be taken\n`);
    }
    if (this.#o.report) await this.#writeReport(exit, status);
    return status;
  }

  async #runSteps(): Promise<void> {
    for (const [i, step] of this.#o.steps.entries()) {
      if (this.#abort.signal.aborted) return;
      const rec = this.#steps[i];
      const start = performance.now();
      rec.startMs = Math.round(start - this.#t0);
      try {
        const matched = await this.#step(step);
        if (matched !== undefined) rec.matched = matched;
        rec.status = "ok";
      } catch (e) {
        rec.status = "failed";
        rec.error = e instanceof Error ? e.message : String(e);
        if (!this.#abort.signal.aborted) this.#stepFailed(rec, e);
        return;
      } finally {
        rec.durationMs = Math.round(performance.now() - start);
      }
    }
  }

  /** Runs one step; resolves with what an expect step matched. */
  async #step(step: Step): Promise<string | undefined> {
    const timeout = this.#o.stepTimeout === null ? Infinity : this.#o.stepTimeout * 1000;
    const wait = { timeout, signal: this.#abort.signal };
    switch (step.kind) {
      case "expect":
        return (await this.#s.serial.waitFor(step.pattern, wait)).text;
      case "expect-screen": {
        const text = await this.#s.screen.waitForText(step.pattern, wait);
        return step.pattern.exec(text)?.[0];
      }
      case "send":
        await this.#s.console.write(step.bytes);
        break;
      case "type":
        await this.#s.keyboard.type(step.text);
        break;
      case "key":
        await this.#s.keyboard.press(step.arg);
        break;
      case "screenshot":
        await screenshotPng(this.#s.machine, step.arg);
        break;
    }
    return undefined;
  }

  #stepFailed(rec: StepReport, e: unknown): void {
    const what = `step ${rec.index} (--${rec.kind} '${rec.arg}')`;
    if (e instanceof WaitTimeoutError) {
      const message = `${what} not done within ${this.#o.stepTimeout} s (--step-timeout)`;
      this.#failure = { kind: "step", message };
      this.#failCode = EXIT_TIMEOUT;
      this.#ctx.end({ reason: "timeout", code: EXIT_TIMEOUT, detail: message });
      if (e.where === "screen") this.#ctx.say(lastLinesText(e.lastLines, "screen"));
    } else if (this.#s.exit === null) {
      this.#fail("step", `${what} failed: ${rec.error}`, 1);
    }
  }

  #fail(kind: string, message: string, code: number, line?: string): void {
    if (this.#failure) return;
    this.#failure = line === undefined ? { kind, message } : { kind, message, line };
    this.#failCode = code;
    this.#ctx.say(`vmrun: ${message}${line === undefined ? "" : `: ${line}`}\n`);
    this.#ctx.end({ reason: "stopped", code, detail: message });
  }

  /** Checks every complete line, and the line being written, against --fail-on and --exit-on. */
  #watchLines(): void {
    const decoder = new TextDecoder();
    let partial = "";
    this.#s.on((e) => {
      if (e.type !== "serial" || this.#failure || this.#exitOnLine !== null) return;
      const lines = (partial + decoder.decode(e.bytes, { stream: true })).split("\n");
      partial = lines.pop()!;
      // A prompt without a line end still counts, once it is all there.
      for (const raw of [...lines, partial]) {
        const line = raw.replace(/\r+$/, "");
        const bad = this.#o.failOn.find((p) => p.test(line));
        if (bad) return this.#fail("fail-on", `--fail-on '${bad.source}' matched`, 1, line);
        const good = this.#o.exitOn.find((p) => p.test(line));
        if (good) {
          this.#exitOnLine = line;
          this.#ctx.say(`vmrun: --exit-on '${good.source}' matched: ${line}\n`);
          return this.#ctx.end({ reason: "stopped", code: 0, detail: "--exit-on matched" });
        }
      }
    });
  }

  async #screenshotOnFail(): Promise<void> {
    const path = this.#o.screenshotOnFail;
    if (!path || this.#shot !== null) return;
    try {
      await screenshotPng(this.#s.machine, path);
      this.#shot = path;
    } catch (e) {
      this.#ctx.say(`vmrun: --screenshot-on-fail: ${e instanceof Error ? e.message : e}\n`);
      this.#shot = "";
    }
  }

  async #writeReport(exit: GuestExit, status: number): Promise<void> {
    const report: RunReport = {
      version: 1,
      image: this.#ctx.image,
      startedAt: this.#startedAt.toISOString(),
      durationMs: Math.round(performance.now() - this.#t0),
      status,
      exit: exit.detail === undefined
        ? { reason: exit.reason, code: exit.code }
        : { reason: exit.reason, code: exit.code, detail: exit.detail },
      steps: this.#steps,
      failure: status === 0 ? null : this.#failure,
      exitOnLine: this.#exitOnLine,
      serial: this.#s.serial.text,
      serialBytes: this.#s.serial.totalBytes,
      screen: this.#screen,
      screenshotOnFail: this.#shot || null,
    };
    try {
      await writeReport(this.#o.report!, report);
    } catch (e) {
      this.#ctx.say(`vmrun: cannot write --report: ${e instanceof Error ? e.message : e}\n`);
    }
  }
}

/** Lines for stderr under a heading. */
function lastLinesText(lines: readonly string[], what = "serial"): string {
  const body = lines.length ? lines.map((l) => `  | ${l}\n`).join("") : "  (nothing)\n";
  return `vmrun: last ${what} lines:\n${body}`;
}

/** Waits for `p`, but never longer than the grace period. */
async function bounded(p: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    p.catch(() => {}),
    new Promise((r) => timer = setTimeout(r, STOP_GRACE_MS)),
  ]);
  clearTimeout(timer);
}
