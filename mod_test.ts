/**
 * The public API's documentation: every export of mod.ts has JSDoc with an
 * example, and every example in mod.ts and api/ type-checks.
 */

import { deepStrictEqual, ok } from "node:assert";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL(".", import.meta.url));

async function deno(...args: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

interface DocNode {
  name: string;
  declarations: { jsDoc?: { doc?: string; tags?: { kind: string }[] } }[];
}

Deno.test("every export of mod.ts has JSDoc with an @example", async () => {
  const r = await deno("doc", "--json", "mod.ts");
  ok(r.ok, r.out);
  const json = JSON.parse(r.out.slice(0, r.out.lastIndexOf("}") + 1));
  const mod = json.nodes[new URL("./mod.ts", import.meta.url).href];
  ok(mod.module_doc.tags.some((t: { kind: string }) => t.kind === "example"), "module example");
  const symbols: DocNode[] = mod.symbols;
  for (const name of ["Vm", "VmOptions", "VmExit", "SerialConsole", "Screen", "Keyboard"]) {
    ok(symbols.some((s) => s.name === name), `${name} is exported`);
  }
  const undocumented = symbols.filter((s) =>
    !s.declarations.some((d) =>
      d.jsDoc?.doc?.trim() && d.jsDoc.tags?.some((t) => t.kind === "example")
    )
  ).map((s) => s.name);
  deepStrictEqual(undocumented, []);
});

Deno.test("the examples of mod.ts and api/ type-check", async () => {
  const r = await deno("check", "--doc", "mod.ts", "api/");
  ok(r.ok, r.out);
});
