/**
 * The README's "Testing guests in CI" examples, taken from README.md and run
 * as a user would: the Deno test in a project of its own (its deno.json, its
 * import map) with vmrun checked out in ./vmrun, the CLI example with this
 * checkout's bin/vmrun on the PATH.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fileURLToPath } from "node:url";
import { reportProblems } from "../api/report.ts";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The code blocks of one README section, by language. */
function readmeBlocks(section: string): { lang: string; code: string }[] {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const start = readme.indexOf(`\n## ${section}\n`);
  ok(start >= 0, `README has a "${section}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/^```(\w+)\n(.*?)^```$/gms)].map((m) => ({ lang: m[1], code: m[2] }));
}

/** A working directory like a user's: guest.img and vmrun checked out in ./vmrun. */
function workspace(): string {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-readme-" });
  Deno.copyFileSync(fixture("keys"), `${dir}/guest.img`);
  Deno.symlinkSync(ROOT, `${dir}/vmrun`);
  return dir;
}

async function run(cmd: string, args: string[], cwd: string, env?: Record<string, string>) {
  const r = await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

kvmTest("the README's Deno test example passes against the keys fixture", async () => {
  const blocks = readmeBlocks("Testing guests in CI");
  const [config] = blocks.filter((b) => b.lang === "json");
  const [example] = blocks.filter((b) => b.lang === "ts");
  ok(example.code.includes("Deno.test("), example.code);
  const dir = workspace();
  Deno.writeTextFileSync(`${dir}/deno.json`, config.code);
  Deno.writeTextFileSync(`${dir}/guest_test.ts`, example.code);
  const r = await run(Deno.execPath(), ["test", "-A", "guest_test.ts"], dir);
  strictEqual(r.code, 0, r.out);
  ok(/1 passed/.test(r.out), r.out);
});

kvmTest("the README's CLI example exits 0 and writes a valid report", async () => {
  const [example] = readmeBlocks("Testing guests in CI")
    .filter((b) => b.lang === "sh" && b.code.includes("--report"));
  ok(example.code.startsWith("vmrun "), example.code);
  const dir = workspace();
  const PATH = `${ROOT}bin:${Deno.env.get("PATH")}`;
  const r = await run("bash", ["-e", "-c", example.code], dir, { PATH });
  strictEqual(r.code, 0, r.out);
  const report = JSON.parse(Deno.readTextFileSync(`${dir}/report.json`));
  deepStrictEqual(reportProblems(report), []);
  strictEqual(report.status, 0);
  ok(report.steps.every((s: { status: string }) => s.status === "ok"), JSON.stringify(report));
});
