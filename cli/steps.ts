/**
 * Script steps of a headless run (`--expect`, `--expect-screen`, `--send`,
 * `--type`, `--key`, `--screenshot`) and the checks around them
 * (`--exit-on`, `--fail-on`, `--step-timeout`, ...), validated up front.
 * Commander gives each option its own array, so the command-line order of
 * the steps comes from the raw argv.
 *
 * @module
 */

import { parseKeyCombo } from "../devices/keymap.ts";
import { UsageError } from "./errors.ts";
import { parseTimeout } from "./inputs.ts";

/** The options that are steps, by their flag. */
export const STEP_FLAGS = {
  "--expect": "expect",
  "--expect-screen": "expect-screen",
  "--send": "send",
  "--type": "type",
  "--key": "key",
  "--screenshot": "screenshot",
} as const;

/** One step, as given and as it will run. */
export type Step =
  | { readonly kind: "expect" | "expect-screen"; readonly arg: string; readonly pattern: RegExp }
  | { readonly kind: "send"; readonly arg: string; readonly bytes: Uint8Array }
  | { readonly kind: "type"; readonly arg: string; readonly text: string }
  | { readonly kind: "key" | "screenshot"; readonly arg: string };

/** Everything a scripted run asks for. */
export interface ScriptOptions {
  readonly steps: readonly Step[];
  /** Seconds, or null for no limit but the run's. */
  readonly stepTimeout: number | null;
  readonly exitOn: readonly RegExp[];
  readonly failOn: readonly RegExp[];
  readonly screenshotOnFail: string | null;
  readonly report: string | null;
}

/** Whether a run asks for script features, which only headless runs provide. */
export function isScripted(req: { script: ScriptOptions; control: string | null }): boolean {
  const s = req.script;
  return s.steps.length > 0 || s.exitOn.length > 0 || s.failOn.length > 0 ||
    s.report !== null || s.screenshotOnFail !== null || req.control !== null;
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
 * @throws {UsageError} for a bad pattern, key, escape or timeout
 */
export function parseScript(
  argv: readonly string[],
  options: readonly OptionShape[],
  values: ScriptValues,
): ScriptOptions {
  const ordered = orderedSteps(argv, options);
  const byKind: Record<Step["kind"], string[]> = {
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
    steps: ordered.map(({ kind, arg }) => toStep(kind, arg)),
    stepTimeout: values.stepTimeout === undefined ? null : stepTimeout(values.stepTimeout),
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
): { kind: Step["kind"]; arg: string }[] {
  const steps: { kind: Step["kind"]; arg: string }[] = [];
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

function stepTimeout(text: string): number {
  try {
    return parseTimeout(text);
  } catch {
    throw new UsageError(`--step-timeout '${text}' must be a positive number of seconds`);
  }
}

function toStep(kind: Step["kind"], arg: string): Step {
  switch (kind) {
    case "expect":
    case "expect-screen":
      return { kind, arg, pattern: pattern(arg, `--${kind}`) };
    case "send":
      return { kind, arg, bytes: unescapeText(arg, "--send") };
    case "type":
      return { kind, arg, text: new TextDecoder().decode(unescapeText(arg, "--type")) };
    case "key":
      try {
        parseKeyCombo(arg);
      } catch (e) {
        throw new UsageError(`--key '${arg}': ${e instanceof Error ? e.message : e}`);
      }
      return { kind, arg };
    case "screenshot":
      if (arg === "") throw new UsageError("--screenshot needs a file name");
      return { kind, arg };
  }
}

/**
 * Compiles a regular expression given on the command line.
 * @throws {UsageError} naming the option when it does not compile
 */
export function pattern(source: string, flag: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new UsageError(
      `${flag} '${source}' is not a regular expression: ${e instanceof Error ? e.message : e}`,
    );
  }
}

const ESCAPES: Record<string, number> = {
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  e: 0x1b,
  a: 0x07,
  b: 0x08,
  "0": 0x00,
  "\\": 0x5c,
};

/**
 * Turns `\n`, `\r`, `\t`, `\e` (Escape), `\a`, `\b`, `\0`, `\\` and `\xHH`
 * into bytes; the rest is UTF-8.
 * @throws {UsageError} for an unknown or cut-short escape
 */
export function unescapeText(text: string, flag: string): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== "\\") {
      const cp = text.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      out.push(...enc.encode(s));
      i += s.length - 1;
      continue;
    }
    const next = text[++i];
    if (next === "x" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (next !== undefined && next in ESCAPES) {
      out.push(ESCAPES[next]);
    } else {
      throw new UsageError(
        `${flag} '${text}': unknown escape '\\${
          next ?? ""
        }' (use \\n \\r \\t \\e \\a \\b \\0 \\\\ \\xHH)`,
      );
    }
  }
  return Uint8Array.from(out);
}
