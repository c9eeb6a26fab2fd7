/**
 * A headless run loads none of the console's or the graphics' npm packages
 * (issue 11): vmrun runs with an import map that turns each of them into a
 * module that throws when evaluated, so loading one fails the run. The same
 * map makes `--screenshot` (which needs sharp) fail, which shows the trap
 * works.
 *
 * @module
 */

import { ok, strictEqual } from "node:assert/strict";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";
import { CLI } from "./vmrun_process.ts";

/**
 * The modules in deps/ that only the console, PNG encoding or sixel output
 * may load (every npm package is imported through deps/), and the JSX
 * runtime the console's .tsx files import by its npm: specifier.
 */
export const HEAVY_MODULES = [
  "deps/ink.ts",
  "deps/react.ts",
  "deps/chalk.ts",
  "deps/sharp_npm.ts",
  "deps/sixel.ts",
  "deps/xterm.ts",
] as const;

const ROOT = new URL("../", import.meta.url).pathname;
const JSX_RUNTIME = "npm:react@19.3.1/";

/** An import map that makes every module in {@link HEAVY_MODULES} throw on load. */
function trapMap(): string {
  const trap = (what: string) =>
    `data:text/javascript,${encodeURIComponent(`throw new Error("loaded ${what}");`)}`;
  const imports: Record<string, string> = {};
  for (const path of HEAVY_MODULES) {
    imports[`file://${ROOT}${path}`] = trap(path.replace(/^deps\/|\.ts$/g, ""));
  }
  // A prefix entry needs a URL that can take a path after it.
  imports[JSX_RUNTIME] = `${trap("react")}#`;
  return JSON.stringify({ imports }, null, 2);
}

async function runTrapped(args: string[]): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "vmrun_modules_" });
  try {
    const map = `${dir}/import_map.json`;
    await Deno.writeTextFile(map, trapMap());
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-q",
        "-A",
        "--no-prompt",
        "--config",
        `${ROOT}deno.json`,
        "--import-map",
        map,
        CLI,
        ...args.map((a) => a.replaceAll("$DIR", dir)),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    return { code: r.code, stderr: new TextDecoder().decode(r.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

kvmTest("a headless SeaBIOS boot loads no Ink, React, chalk, sharp, sixel or xterm", async () => {
  const r = await runTrapped([
    "--headless",
    "--snapshot",
    "--timeout",
    "60",
    fixture("bios_hello"),
  ]);
  ok(!r.stderr.includes("loaded "), r.stderr);
  strictEqual(r.code, 7, r.stderr);
});

kvmTest("the trap works: a PNG screenshot needs sharp and fails under the same map", async () => {
  const r = await runTrapped([
    "--headless",
    "--snapshot",
    "--timeout",
    "60",
    "--screenshot",
    "$DIR/shot.png",
    fixture("bios_hello"),
  ]);
  ok(r.stderr.includes("failed: loaded sharp"), r.stderr);
  ok(r.code !== 0, `status ${r.code}`);
});
