/**
 * Inputs a hostile user gives vmrun: an image whose name is not UTF-8, and
 * more disks than the machine has room for. Each is either used as asked
 * or refused with one line and status 2.
 */

import { match, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";
import { CLI, runVmrun } from "./vmrun_process.ts";

const NONE = ["--firmware", "none", "--headless", "--snapshot", "-m", "16M"];

/** Runs vmrun through sh, so that `$(printf ...)` can pass bytes that are not UTF-8. */
async function runShell(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = `exec '${Deno.execPath()}' run -A '${CLI}' ${line}`;
  const r = await new Deno.Command("sh", {
    args: ["-c", cmd],
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

kvmTest(
  "an image whose name has a 0xff byte boots; a missing one is named with \\xff",
  async () => {
    const dir = Deno.makeTempDirSync();
    const made = await new Deno.Command("sh", {
      args: ["-c", `cp '${fixture("hello")}' "$(printf '${dir}/guest\\377.img')"`],
    }).output();
    strictEqual(made.code, 0);
    const ok0 = await runShell(`${NONE.join(" ")} "$(printf '${dir}/guest\\377.img')"`);
    strictEqual(ok0.code, 0, ok0.stderr);
    match(ok0.stdout, /Hello from vmrun!/);
    // As a --disk too, and without --snapshot, so the lock and the writable open take it.
    const asDisk = await runShell(
      `--firmware none --headless -m 16M --disk "$(printf '${dir}/guest\\377.img'),if=ide"`,
    );
    strictEqual(asDisk.code, 0, asDisk.stderr);
    const missing = await runShell(`${NONE.join(" ")} "$(printf '${dir}/other\\377.img')"`);
    strictEqual(missing.code, 2);
    strictEqual(
      missing.stderr,
      `vmrun: cannot open image '${dir}/other\\xff.img': no such file\n`,
    );
  },
);

Deno.test("30 virtio disks are refused with the limit named, status 2", async () => {
  const img = fixture("hello");
  const disks = Array.from({ length: 30 }, () => ["--disk", `${img},if=virtio`]).flat();
  const r = await runVmrun([...NONE, img, ...disks]);
  strictEqual(r.code, 2, r.stderr);
  strictEqual(
    r.stderr,
    "vmrun: 30 virtio disks: at most 29 fit (one PCI slot each, slots 3-31)\n",
  );
});

Deno.test("5 IDE disks are refused with the limit named, status 2", async () => {
  const img = fixture("hello");
  const r = await runVmrun([...NONE, img, ...Array(4).fill(["--disk", img]).flat()]);
  strictEqual(r.code, 2, r.stderr);
  match(r.stderr, /^vmrun: 5 IDE disks and CD-ROMs: at most 4 fit on the PIIX3/);
  ok(r.stderr.split("\n").length === 2, r.stderr);
});

kvmTest("29 virtio disks still work", async () => {
  const dir = Deno.makeTempDirSync();
  const disks: string[] = [];
  for (let i = 0; i < 29; i++) {
    const path = `${dir}/d${i}.img`;
    Deno.writeFileSync(path, new Uint8Array(4096));
    disks.push("--disk", `${path},if=virtio`);
  }
  const r = await runVmrun([...NONE, fixture("hello"), ...disks]);
  strictEqual(r.code, 0, r.stderr);
});

Deno.test("an output file named with bytes that are not UTF-8 is refused, not renamed", async () => {
  const dir = Deno.makeTempDirSync();
  const r = await runShell(
    `${NONE.join(" ")} '${fixture("hello")}' --serial-log "$(printf '${dir}/log\\377')"`,
  );
  strictEqual(r.code, 2, r.stderr);
  strictEqual(
    r.stderr,
    `vmrun: --serial-log '${dir}/log\\xff': vmrun creates files only under names that are UTF-8\n`,
  );
  strictEqual([...Deno.readDirSync(dir)].length, 0);
});
