/**
 * A scripted run: steps in command-line order, `--exit-on` and `--fail-on`
 * watches on COM1, screenshots and the report. The script ends the run
 * only through the session core ({@link RunSession.end}) and judges a run
 * whose steps were not done through its verdict, so the one ending it
 * gives is what the process, the report and the control socket see.
 *
 * @module
 */

import type { VmExit } from "../machine/exit.ts";
import { EXIT_FAILURE, EXIT_TIMEOUT } from "../machine/exit.ts";
import { WaitTimeoutError } from "./errors.ts";
import type { AudioReport, FailureReport, RunReport, StepReport } from "./report.ts";
import { wavFileInfo } from "../machine/wav_sink.ts";
import { writeReport } from "./report.ts";
import { screenshotPng } from "./screenshot.ts";
import type { Session } from "./session.ts";
import type { ScriptOptions, Step } from "./steps.ts";

/** What a scripted run needs besides its session. */
export interface ScriptContext {
  /** The boot image, as the report names it. */
  readonly image: string;
  /** Writes vmrun's own words to stderr. */
  readonly say: (text: string) => void;
}

/** How long a match in an unfinished line waits for the rest of the line. */
const PARTIAL_LINE_SETTLE_MS = 100;

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
  #exitOnLine: string | null = null;
  #screen = "";
  #shot: string | null = null;

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
    // A failing run keeps its screen (--screenshot-on-fail) before the machine goes.
    session.run.beforeStop(async (exit) => {
      await this.#s.screen.read();
      if (exit.code !== 0) await this.#screenshotOnFail();
    });
    session.run.verdict((exit) => this.#verdict(exit));
    if (options.exitOn.length || options.failOn.length) this.#watchLines();
    this.#done = this.#runSteps();
  }

  /** After the run ended: says what failed, writes the report; resolves with the exit status. */
  async finish(exit: VmExit): Promise<number> {
    this.#abort.abort();
    await this.#done;
    const say = this.#ctx.say;
    this.#screen = this.#s.screen.text();
    if (exit.code !== 0 && !this.#failure) this.#failure = failureOf(exit);
    const unfinished = this.#failure?.kind === "incomplete" ||
      (this.#failure?.kind === "timeout" && this.#failure.message.startsWith("the run ended"));
    if (unfinished) say(`vmrun: ${this.#failure!.message}\n`);
    if (exit.reason === "timeout" || this.#failure?.kind === "incomplete") {
      say(lastLinesText(this.#s.serial.lastLines()));
    }
    if (exit.code !== 0 && this.#o.screenshotOnFail && this.#shot === null) {
      say(`vmrun: no --screenshot-on-fail: the machine had stopped before it could be taken\n`);
    }
    if (this.#o.report) await this.#writeReport(exit);
    return exit.code;
  }

  /** A run that ended with steps not done fails, though the guest's own ending was clean. */
  #verdict(exit: VmExit): VmExit {
    const pending = this.#steps.find((s) => s.status !== "ok");
    if (this.#failure || this.#exitOnLine !== null || !pending) return exit;
    const message = `the run ended (${exit.reason}) before step ${pending.index} ` +
      `(--${pending.kind} '${pending.arg}') was done`;
    pending.error ??= message;
    this.#failure = { kind: exit.reason === "timeout" ? "timeout" : "incomplete", message };
    if (exit.code !== 0) return exit;
    return { reason: "incomplete", code: EXIT_FAILURE, detail: message };
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
    if (this.#s.run.ending) return;
    if (e instanceof WaitTimeoutError) {
      const message = `${what} not done within ${this.#o.stepTimeout} s (--step-timeout)`;
      this.#failure = { kind: "step", message };
      this.#s.end({ reason: "timeout", code: EXIT_TIMEOUT, detail: message });
      if (e.where === "screen") this.#ctx.say(lastLinesText(e.lastLines, "screen"));
    } else {
      this.#fail("step", "step-failed", `${what} failed: ${rec.error}`);
    }
  }

  /** Records the script's failure and ends the run with it (status 1). */
  #fail(kind: string, reason: "fail-on" | "step-failed", message: string, line?: string): void {
    if (this.#failure || this.#s.run.ending) return;
    this.#failure = line === undefined ? { kind, message } : { kind, message, line };
    const said = `${message}${line === undefined ? "" : `: ${line}`}`;
    this.#ctx.say(`vmrun: ${said}\n`);
    this.#s.end({ reason, code: EXIT_FAILURE, detail: said });
  }

  /**
   * Checks every complete line, and the line being written, against
   * --fail-on and --exit-on. A match in the line being written waits a
   * moment for the rest of it, so the line reported is whole; a prompt that
   * never gets a line end still counts once it has stood still that long.
   */
  #watchLines(): void {
    const decoder = new TextDecoder();
    let partial = "";
    let settle: ReturnType<typeof setTimeout> | undefined;
    const done = () => this.#failure !== null || this.#exitOnLine !== null || !!this.#s.run.ending;
    /** Acts on `raw` if it matches; true when it did. */
    const check = (raw: string): boolean => {
      const line = raw.replace(/\r+$/, "");
      const bad = this.#o.failOn.find((p) => p.test(line));
      if (bad) {
        this.#fail("fail-on", "fail-on", `--fail-on '${bad.source}' matched`, line);
        return true;
      }
      const good = this.#o.exitOn.find((p) => p.test(line));
      if (!good) return false;
      this.#exitOnLine = line;
      const said = `--exit-on '${good.source}' matched: ${line}`;
      this.#ctx.say(`vmrun: ${said}\n`);
      void this.#s.end({ reason: "exit-on", code: 0, detail: said });
      return true;
    };
    const matches = (raw: string) => {
      const line = raw.replace(/\r+$/, "");
      return [...this.#o.failOn, ...this.#o.exitOn].some((p) => p.test(line));
    };
    this.#s.on((e) => {
      if (e.type !== "serial" || done()) return;
      clearTimeout(settle);
      const lines = (partial + decoder.decode(e.bytes, { stream: true })).split("\n");
      partial = lines.pop()!;
      for (const line of lines) if (check(line)) return;
      if (!matches(partial)) return;
      settle = setTimeout(() => {
        if (!done()) check(partial);
      }, PARTIAL_LINE_SETTLE_MS);
      Deno.unrefTimer(settle);
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

  /** The --audio file as written (the machine has stopped, so its header is final). */
  #audio(): AudioReport | null {
    const path = this.#s.machine.config.audio?.wavPath;
    if (path === undefined) return null;
    return wavFileInfo(path) ?? { file: path, bytes: 0, seconds: 0 };
  }

  async #writeReport(exit: VmExit): Promise<void> {
    const status = exit.code;
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
      watchdog: [...this.#s.watchdog.expiries],
      audio: this.#audio(),
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

/** The report's failure for an ending the script did not cause. */
function failureOf(exit: VmExit): FailureReport {
  const kind = exit.reason === "timeout"
    ? "timeout"
    : exit.reason === "signal" || exit.reason === "stopped"
    ? "signal"
    : exit.reason === "incomplete"
    ? "incomplete"
    : "guest";
  return { kind, message: `${exit.reason}${exit.detail ? `: ${exit.detail}` : ""}` };
}
