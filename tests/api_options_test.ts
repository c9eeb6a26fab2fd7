/**
 * Vm.start validates its typed options in the machine layer (as the CLI's
 * are) and throws VmOptionsError naming the option; the refusals never
 * reach KVM.
 */

import { ok, rejects } from "node:assert";
import { Vm, VmOptionsError } from "../mod.ts";
import type { VmOptions } from "../mod.ts";
import { imageCopy } from "./api_fixtures.ts";
import { kvmTest } from "./kvm_available.ts";

Deno.test("Vm.start refuses bad options with VmOptionsError naming the option", async () => {
  const img = imageCopy("hello");
  const dir = Deno.makeTempDirSync();
  const cases: [VmOptions, RegExp][] = [
    [{ disk: `${dir}/missing.img` }, /cannot open image '.*missing\.img': no such file/],
    [{ disk: dir }, /is a directory/],
    [{ disk: [] }, /missing required argument 'image'/],
    [{ disk: [`${img},if=scsi`] }, /unknown option 'if=scsi'/],
    [{ disk: img, memory: "lots" }, /^memory 'lots' is not a size/],
    // A number is bytes.
    [{ disk: img, memory: 1000 }, /^memory 1000 bytes is too small: the least is 1M/],
    [{ disk: img, memory: 1.5 }, /^memory 1\.5 must be a whole number of bytes/],
    [{ disk: img, memory: 2 ** 20 + 1 }, /^memory 1048577 bytes is not a whole number of 4K pages/],
    [{ disk: img, cpus: 0 }, /^cpus '0' must be a whole number/],
    [{ disk: img, vgaMemory: "3M" }, /^vgaMemory '3M' must be a power of two/],
    [{ disk: img, vga: "vmware" as "std" }, /^vga 'vmware' is not a VGA model/],
    [{ disk: img, vga: "cirrus", vgaMemory: "16M" }, /^vgaMemory '16M': the cirrus VGA has 4M/],
    [{ disk: { path: img, interface: "scsi" as "ide" } }, /interface must be "ide" or "virtio"/],
    [{ disk: [{ path: img }, { path: img, media: "cdrom", interface: "virtio" }] }, /IDE only/],
    [
      { disk: Array.from({ length: 30 }, () => ({ path: img, interface: "virtio" as const })) },
      /^30 virtio disks: at most 29 fit/,
    ],
    [{ disk: Array.from({ length: 5 }, () => img) }, /^5 IDE disks and CD-ROMs: at most 4 fit/],
    [{ disk: img, firmware: `${dir}/bios.bin` }, /cannot open firmware/],
    [{ disk: img, timeout: -1 }, /timeout -1 must be a positive number of milliseconds/],
    [{ disk: img, snapshot: "yes" as unknown as boolean }, /snapshot must be true or false/],
    [{ disk: 42 as unknown as string }, /disk must be a path, a disk spec or a list of them/],
    [{ disk: img, nic: "user,model=pcnet" }, /^nic unknown model 'pcnet'/],
    [
      { disk: img, nic: { mac: "ff:ff:ff:ff:ff:ff" } },
      /^nic mac 'ff:ff:ff:ff:ff:ff' is a multicast/,
    ],
    [{ disk: img, nic: ["none", "user"] }, /^nic none cannot be combined/],
    [{ disk: img, nic: { tftp: `${dir}/nope` } }, /^nic tftp directory '.*nope' does not exist/],
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

kvmTest("memory as a number of bytes and disks as specs start the machine", async () => {
  await using vm = await Vm.start({
    disk: { path: imageCopy("hello"), interface: "ide" },
    firmware: "none",
    memory: 16 * 2 ** 20,
    snapshot: true,
  });
  await vm.serial.waitFor("Hello");
});
