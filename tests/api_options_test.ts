/**
 * Vm.start validates like the CLI and throws typed errors; none of these
 * reach KVM.
 */

import { ok, rejects } from "node:assert";
import { Vm, VmOptionsError } from "../mod.ts";
import type { VmOptions } from "../mod.ts";
import { imageCopy } from "./api_fixtures.ts";

Deno.test("Vm.start refuses bad options with VmOptionsError in the CLI's words", async () => {
  const img = imageCopy("hello");
  const dir = Deno.makeTempDirSync();
  const cases: [VmOptions, RegExp][] = [
    [{ disk: `${dir}/missing.img` }, /cannot open image '.*missing\.img': no such file/],
    [{ disk: dir }, /is a directory/],
    [{ disk: [] }, /missing required argument 'image'/],
    [{ disk: [`${img},if=scsi`] }, /unknown option 'if=scsi'/],
    [{ disk: img, memory: "lots" }, /--memory 'lots' is not a size/],
    [{ disk: img, memory: 1000 }, /--memory 1000B is too small/],
    [{ disk: img, memory: 1.5 }, /memory 1\.5 must be a whole number of bytes/],
    [{ disk: img, cpus: 0 }, /--cpus '0' must be a whole number/],
    [{ disk: img, firmware: `${dir}/bios.bin` }, /cannot open firmware/],
    [{ disk: img, timeout: -1 }, /timeout -1 must be a positive number of milliseconds/],
    [{ disk: img, snapshot: "yes" as unknown as boolean }, /snapshot must be true or false/],
    [{ disk: 42 as unknown as string }, /disk must be a path or a list of disk specs/],
  ];
  for (const [options, message] of cases) {
    await rejects(Vm.start({ firmware: "none", ...options }), (e) => {
      ok(e instanceof VmOptionsError, `${JSON.stringify(options)}: ${e}`);
      ok(message.test(e.message), `${JSON.stringify(options)}: ${e.message}`);
      return true;
    });
  }
});

Deno.test("a disk path that looks like an option is still a path", async () => {
  await rejects(
    Vm.start({ disk: "--help", firmware: "none" }),
    (e) => e instanceof VmOptionsError && /cannot open image '--help'/.test(e.message),
  );
});
