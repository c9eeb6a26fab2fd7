/**
 * `--report <file.json>`: what a headless run did, for CI. The shape is
 * documented in the README ("Testing guests in CI") and checked by
 * {@link reportProblems}.
 *
 * @module
 */

/** How a step went. */
export type StepStatus = "ok" | "failed" | "not-run";

/** One step in the report. */
export interface StepReport {
  /** 1-based position on the command line. */
  index: number;
  /** "expect", "expect-screen", "send", "type", "key" or "screenshot". */
  kind: string;
  /** The option's value as given. */
  arg: string;
  status: StepStatus;
  /** When the step started, ms after the run started; null if it never did. */
  startMs: number | null;
  /** How long it took (or ran until it failed); null if it never started. */
  durationMs: number | null;
  /** The text an expect step matched. */
  matched?: string;
  /** Why it failed. */
  error?: string;
}

/** Why a run failed, when it did. */
export interface FailureReport {
  /** "step", "fail-on", "timeout", "guest", "signal", "incomplete" or "control". */
  kind: string;
  message: string;
  /** The serial line that matched --fail-on. */
  line?: string;
}

/** The report file's contents. */
export interface RunReport {
  version: 1;
  image: string;
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  /** vmrun's exit status. */
  status: number;
  /** How the guest run ended (reason as in the API: "debug-exit", "shutdown", "reset", ...). */
  exit: { reason: string; code: number; detail?: string };
  steps: StepReport[];
  failure: FailureReport | null;
  /** The --exit-on line that ended the run, or null. */
  exitOnLine: string | null;
  /** COM1's output (the last 16 MiB). */
  serial: string;
  serialBytes: number;
  /** The VGA text screen as last seen ("" in graphics modes). */
  screen: string;
  /** The --screenshot-on-fail file, if one was written. */
  screenshotOnFail: string | null;
  /** Every watchdog expiry, oldest first: model, action, and when (ms after the start). */
  watchdog: WatchdogReport[];
  /** The --audio WAV file written (its size, and how long it plays), or null without --audio. */
  audio: AudioReport | null;
}

/** A watchdog expiry in the report. */
export interface WatchdogReport {
  /** "ib700" or "i6300esb". */
  model: string;
  /** "reset", "poweroff", "pause", "exit" or "none". */
  action: string;
  atMs: number;
}

/** The WAV file of --audio in the report. */
export interface AudioReport {
  file: string;
  bytes: number;
  seconds: number;
}

/**
 * Writes a report as pretty JSON.
 * @throws {Error} when the file cannot be written
 */
export async function writeReport(path: string, report: RunReport): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(report, null, 2) + "\n");
}

type Check = (v: unknown) => boolean;
const isString: Check = (v) => typeof v === "string";
const isInt: Check = (v) => Number.isInteger(v);
const isNumber: Check = (v) => typeof v === "number" && Number.isFinite(v) && v >= 0;
const orNull = (c: Check): Check => (v) => v === null || c(v);
const optional = (c: Check): Check => (v) => v === undefined || c(v);
const oneOf = (...values: unknown[]): Check => (v) => values.includes(v);

const SHAPE: Record<string, Check> = {
  version: oneOf(1),
  image: isString,
  startedAt: (v) => isString(v) && !Number.isNaN(Date.parse(v as string)),
  durationMs: isNumber,
  status: isInt,
  steps: Array.isArray,
  failure: (v) => v === null || typeof v === "object",
  exitOnLine: orNull(isString),
  serial: isString,
  serialBytes: isInt,
  screen: isString,
  screenshotOnFail: orNull(isString),
  exit: (v) => typeof v === "object" && v !== null,
  watchdog: Array.isArray,
  audio: (v) => v === null || typeof v === "object",
};

const WATCHDOG_SHAPE: Record<string, Check> = {
  model: oneOf("ib700", "i6300esb"),
  action: oneOf("reset", "poweroff", "pause", "exit", "none"),
  atMs: isNumber,
};

const AUDIO_SHAPE: Record<string, Check> = {
  file: isString,
  bytes: isInt,
  seconds: isNumber,
};

const STEP_SHAPE: Record<string, Check> = {
  index: isInt,
  kind: oneOf("expect", "expect-screen", "send", "type", "key", "screenshot"),
  arg: isString,
  status: oneOf("ok", "failed", "not-run"),
  startMs: orNull(isNumber),
  durationMs: orNull(isNumber),
  matched: optional(isString),
  error: optional(isString),
};

const EXIT_SHAPE: Record<string, Check> = {
  reason: isString,
  code: isInt,
  detail: optional(isString),
};

const FAILURE_SHAPE: Record<string, Check> = {
  kind: oneOf("step", "fail-on", "timeout", "guest", "signal", "incomplete", "control"),
  message: isString,
  line: optional(isString),
};

function check(v: unknown, shape: Record<string, Check>, where: string): string[] {
  if (typeof v !== "object" || v === null) return [`${where} is not an object`];
  const obj = v as Record<string, unknown>;
  const problems = Object.entries(shape)
    .filter(([k, ok]) => !ok(obj[k]))
    .map(([k]) => `${where}.${k} is ${JSON.stringify(obj[k]) ?? "missing"}`);
  for (const k of Object.keys(obj)) if (!(k in shape)) problems.push(`${where}.${k} is unknown`);
  return problems;
}

/** What is wrong with a parsed report file; [] when it has the documented shape. */
export function reportProblems(v: unknown): string[] {
  const problems = check(v, SHAPE, "report");
  if (problems.length) return problems;
  const r = v as RunReport;
  problems.push(...check(r.exit, EXIT_SHAPE, "report.exit"));
  if (r.failure !== null) problems.push(...check(r.failure, FAILURE_SHAPE, "report.failure"));
  r.steps.forEach((s, i) => problems.push(...check(s, STEP_SHAPE, `report.steps[${i}]`)));
  r.watchdog.forEach((w, i) => problems.push(...check(w, WATCHDOG_SHAPE, `report.watchdog[${i}]`)));
  if (r.audio !== null) problems.push(...check(r.audio, AUDIO_SHAPE, "report.audio"));
  return problems;
}
