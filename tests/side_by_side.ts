/**
 * A fixture booted by the same SeaBIOS under vmrun and under QEMU with KVM
 * at once (128 MiB, one CPU, the image untouched), for tests that compare
 * what the guest prints on COM1.
 *
 * @module
 */

import { strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";

/**
 * Boots fixture `name` on both; each must end with isa-debug-exit value
 * `exit` within `limitMs` (a hang guard). Resolves with both COM1 outputs.
 */
export async function bootBoth(
  name: string,
  exit: number,
  limitMs: number,
): Promise<{ vmrun: string; qemu: string }> {
  const [v, q] = await Promise.all([
    runVmrun([
      "--headless",
      "-m",
      "128M",
      "--timeout",
      String(limitMs / 1000),
      "--snapshot",
      fixture(name),
    ], { killAfterMs: limitMs + 10_000 }),
    new QemuProcess(fixture(name), { killAfterMs: limitMs }).finished(),
  ]);
  strictEqual(v.code, exit, `vmrun: status ${v.code}\n${v.stdout}\n${v.stderr}`);
  strictEqual(q.debugExit, exit, `qemu: status ${q.code}\n${q.stdout}\n${q.stderr}`);
  return { vmrun: v.stdout, qemu: q.stdout };
}
