/**
 * The step model of a scripted run: steps (`expect`, `expect-screen`,
 * `send`, `type`, `key`, `screenshot`) as they will run, and the checks
 * around them. The CLI builds these from its options; `ScriptRun` runs
 * them. Steps are named by the CLI options that give them.
 *
 * @module
 */

import { parseKeyCombo } from "../devices/keymap.ts";
import { ConfigError } from "../machine/config_error.ts";

/** A step's kind. */
export type StepKind = "expect" | "expect-screen" | "send" | "type" | "key" | "screenshot";

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

/**
 * Builds a step from its kind and the option's text.
 * @throws {ConfigError} for a bad pattern, key, escape or file name
 */
export function makeStep(kind: StepKind, arg: string): Step {
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
        throw new ConfigError(null, `--key '${arg}': ${e instanceof Error ? e.message : e}`);
      }
      return { kind, arg };
    case "screenshot":
      if (arg === "") throw new ConfigError(null, "--screenshot needs a file name");
      return { kind, arg };
  }
}

/**
 * Compiles a regular expression given on the command line.
 * @throws {ConfigError} naming the option when it does not compile
 */
export function pattern(source: string, flag: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new ConfigError(
      null,
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
 * @throws {ConfigError} for an unknown or cut-short escape
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
      throw new ConfigError(
        null,
        `${flag} '${text}': unknown escape '\\${
          next ?? ""
        }' (use \\n \\r \\t \\e \\a \\b \\0 \\\\ \\xHH)`,
      );
    }
  }
  return Uint8Array.from(out);
}
