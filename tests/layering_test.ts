/**
 * Imports flow one way: cli -> api -> machine (with the session core) ->
 * devices and kvm. This reads every module's imports (static, dynamic and
 * re-exports) and fails on any that points the wrong way, and on a device
 * model that reaches for Deno itself.
 */

import { ok } from "node:assert";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Which top-level folders each folder must not import from. */
const FORBIDDEN: Record<string, readonly string[]> = {
  api: ["cli", "tui"],
  machine: ["cli", "api", "tui"],
  kvm: ["cli", "api", "tui", "machine", "devices"],
  devices: ["cli", "api", "tui", "machine", "kvm"],
};

/** Every .ts/.tsx file under `dir` (relative to the checkout). */
function modules(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${ROOT}${dir}`)) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...modules(rel));
    else if (/\.tsx?$/.test(e.name)) out.push(rel);
  }
  return out;
}

/** The specifiers a module imports, exports from, or loads dynamically or as a worker. */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /new\s+URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
  ];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]);
  return found;
}

/** The top-level folder a relative specifier in `from` lands in, or null. */
function target(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const url = new URL(specifier, `file:///${from}`);
  return url.pathname.slice(1).split("/")[0];
}

Deno.test("the import checker sees every kind of import", () => {
  const seen = importsOf(`
    import { a } from "../cli/a.ts";
    import type { B } from '../api/b.ts';
    export { c } from "../cli/c.ts";
    import "../cli/side.ts";
    const d = await import("../cli/d.ts");
    new Worker(new URL("./w.ts", import.meta.url));
    // import { e } from "../cli/e.ts";
  `);
  ok(
    JSON.stringify(seen.sort()) ===
      JSON.stringify([
        "../api/b.ts",
        "../cli/a.ts",
        "../cli/c.ts",
        "../cli/d.ts",
        "../cli/side.ts",
        "./w.ts",
      ]),
    JSON.stringify(seen),
  );
});

Deno.test("no module imports against the layering", () => {
  const wrong: string[] = [];
  for (const [dir, banned] of Object.entries(FORBIDDEN)) {
    for (const file of modules(dir)) {
      // Tests may reach across layers to set things up; the modules may not.
      if (/_test\.tsx?$/.test(file)) continue;
      for (const spec of importsOf(Deno.readTextFileSync(`${ROOT}${file}`))) {
        const to = target(file, spec);
        if (to !== null && banned.includes(to)) wrong.push(`${file} imports ${spec}`);
      }
    }
  }
  ok(wrong.length === 0, `imports against the layering:\n${wrong.join("\n")}`);
});

Deno.test("device models use no Deno API (clocks, files and I/O are injected)", () => {
  const wrong = modules("devices")
    .filter((f) => !/_test\.tsx?$/.test(f))
    .filter((f) => {
      const code = Deno.readTextFileSync(`${ROOT}${f}`)
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "");
      return /\bDeno\./.test(code);
    });
  ok(wrong.length === 0, `devices using Deno.*:\n${wrong.join("\n")}`);
});
