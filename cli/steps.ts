/**
 * Script steps of a headless run (`--expect`, `--expect-screen`, `--send`,
 * `--type`, `--key`, `--screenshot`) and the checks around them
 * (`--exit-on`, `--fail-on`, `--step-timeout`, ...), validated up front.
 * Commander gives each option its own array, so the command-line order of
 * the steps comes from the raw argv.
 *
 * @module
 */

import { makeStep, pattern, type ScriptOptions, type StepKind } from "../api/steps.ts";
import { UsageError } from "./errors.ts";

/** The options that are steps, by their flag. */
export const STEP_FLAGS = {
  "--expect": "expect",
  "--expect-screen": "expect-screen",
  "--send": "send",
  "--type": "type",
  "--key": "key",
  "--screenshot": "screenshot",
} as const;

/** Whether a run asks for script features, which only headless runs provide. */
export function isScripted(script: ScriptOptions): boolean {
  return script.steps.length > 0 || script.exitOn.length > 0 || script.failOn.length > 0 ||
    script.report !== null || script.screenshotOnFail !== null;
}

/**
 * Parses a number of seconds (fractions allowed).
 * @throws {UsageError} naming `flag` unless it is a positive number
 */
export function parseSeconds(text: string, flag: string): number {
  const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n > 0)) throw new UsageError(`${flag} '${text}' must be a positive number of seconds`);
  return n;
}

/** The option values commander collected for a script. */
export interface ScriptValues {
  readonly expect: string[];
  readonly expectScreen: string[];
  readonly send: string[];
  readonly type: string[];
  readonly key: string[];
  readonly screenshot: string[];
  readonly stepTimeout?: string;
  readonly exitOn: string[];
  readonly failOn: string[];
  readonly screenshotOnFail?: string;
  readonly report?: string;
}

/** What the argv scan needs to know of an option. */
export interface OptionShape {
  readonly long?: string;
  readonly short?: string;
  readonly required: boolean;
  readonly optional: boolean;
}

/**
 * Validates a script.
 * @param argv the raw arguments (without the program name), for the steps' order
 * @param options the program's options, to tell values from flags in argv
 * @throws {UsageError} for a bad timeout
 * @throws {ConfigError} for a bad pattern, key or escape
 */
export function parseScript(
  argv: readonly string[],
  options: readonly OptionShape[],
  values: ScriptValues,
): ScriptOptions {
  const ordered = orderedSteps(argv, options);
  const byKind: Record<StepKind, string[]> = {
    "expect": values.expect,
    "expect-screen": values.expectScreen,
    "send": values.send,
    "type": values.type,
    "key": values.key,
    "screenshot": values.screenshot,
  };
  for (const [kind, list] of Object.entries(byKind)) {
    const seen = ordered.filter((s) => s.kind === kind).map((s) => s.arg);
    if (JSON.stringify(seen) !== JSON.stringify(list)) {
      throw new Error(`steps out of step with the parser for --${kind}: ${JSON.stringify(seen)}`);
    }
  }
  return {
    steps: ordered.map(({ kind, arg }) => makeStep(kind, arg)),
    stepTimeout: values.stepTimeout === undefined
      ? null
      : parseSeconds(values.stepTimeout, "--step-timeout"),
    exitOn: values.exitOn.map((p) => pattern(p, "--exit-on")),
    failOn: values.failOn.map((p) => pattern(p, "--fail-on")),
    screenshotOnFail: values.screenshotOnFail ?? null,
    report: values.report ?? null,
  };
}

/** The step options in argv, in order, skipping other options' values. */
export function orderedSteps(
  argv: readonly string[],
  options: readonly OptionShape[],
): { kind: StepKind; arg: string }[] {
  const steps: { kind: StepKind; arg: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") break;
    if (token.startsWith("--")) {
      const eq = token.indexOf("=");
      const flag = eq < 0 ? token : token.slice(0, eq);
      const opt = options.find((o) => o.long === flag);
      if (!opt?.required || eq >= 0) {
        // Values given with "=" and options without values are one token.
        if (eq >= 0 && flag in STEP_FLAGS) {
          steps.push({
            kind: STEP_FLAGS[flag as keyof typeof STEP_FLAGS],
            arg: token.slice(eq + 1),
          });
        }
        continue;
      }
      const value = argv[++i];
      if (value !== undefined && flag in STEP_FLAGS) {
        steps.push({ kind: STEP_FLAGS[flag as keyof typeof STEP_FLAGS], arg: value });
      }
    } else if (/^-[^-]$/.test(token)) {
      // A short option with a value takes the next token ("-m 64M"; "-m64M" is one).
      if (options.find((o) => o.short === token)?.required) i++;
    }
  }
  return steps;
}
