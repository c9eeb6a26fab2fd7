/**
 * mod.ts imported from another Deno project, as a user's tests import it:
 * the project has its own deno.json, import map and compiler options, and
 * nothing of vmrun's configuration. Its test boots a fixture, reads COM1
 * and the exit status; `deno test` runs it as a child process.
 */

import { ok, strictEqual } from "node:assert";
import { pathToFileURL } from "node:url";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";
import { ROOT } from "./launcher.ts";

// (Specifiers interpolated: deps/deps_test.ts reads import lines literally.)
const TEST = `
import { strictEqual } from ${JSON.stringify("assert")};
import { Vm } from ${JSON.stringify("vmrun")};
import { Vm as ByPath } from ${JSON.stringify(`${ROOT}mod.ts`)};

Deno.test("a fixture boots and exits from another project", async () => {
  strictEqual(Vm, ByPath);
  await using vm = await Vm.start({
    disk: "hello.img",
    firmware: "none",
    memory: "16M",
    snapshot: true,
  });
  const { before } = await vm.serial.waitFor("vmrun!", { timeout: 30_000 });
  strictEqual(before, "Hello from ");
  const exited = await vm.exited;
  strictEqual(exited.code, 0);
  strictEqual(exited.reason, "debug-exit");
});
`;

kvmTest(
  "another Deno project imports mod.ts, boots a fixture and reads its serial and exit",
  async () => {
    const dir = Deno.makeTempDirSync({ prefix: "vmrun-importer-" });
    try {
      Deno.copyFileSync(fixture("hello"), `${dir}/hello.img`);
      // The project's own settings, unlike vmrun's: the classic JSX transform, an
      // import map naming vmrun by file: URL, no node_modules.
      Deno.writeTextFileSync(
        `${dir}/deno.json`,
        JSON.stringify({
          imports: { "vmrun": pathToFileURL(`${ROOT}mod.ts`).href, "assert": "node:assert" },
          compilerOptions: { strict: true, jsx: "react" },
        }),
      );
      Deno.writeTextFileSync(`${dir}/guest_test.ts`, TEST);
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", "guest_test.ts"],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      strictEqual(r.code, 0, out);
      ok(/1 passed \| 0 failed/.test(out), out);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
