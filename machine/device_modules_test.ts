import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { deviceModule, deviceModulesFor, loadDeviceModules } from "./device_modules.ts";
import type { MachineConfig } from "./config.ts";

/** Only the fields deviceModulesFor reads; the rest of a config plays no part. */
function config(part: Partial<MachineConfig>): MachineConfig {
  return { disks: [], ...part } as MachineConfig;
}

Deno.test("a plain board needs no module beyond the fixed devices and std VGA", () => {
  deepStrictEqual(deviceModulesFor(config({})), []);
  deepStrictEqual(deviceModulesFor(config({ vga: "std", nics: [], devices: [] })), []);
});

Deno.test("each display card, NIC model, optional device and --kernel brings its module", () => {
  deepStrictEqual(deviceModulesFor(config({ vga: "cirrus" })), ["cirrus"]);
  deepStrictEqual(deviceModulesFor(config({ vga: "virtio" })), ["virtioVga"]);
  deepStrictEqual(deviceModulesFor(config({ vga: "none" })), ["noVga"]);
  const disk = (i: "ide" | "virtio") => ({ interface: i }) as MachineConfig["disks"][number];
  deepStrictEqual(deviceModulesFor(config({ disks: [disk("ide")] })), []);
  deepStrictEqual(deviceModulesFor(config({ disks: [disk("ide"), disk("virtio")] })), [
    "virtioBlk",
  ]);
  const nic = (model: string) => ({ model }) as NonNullable<MachineConfig["nics"]>[number];
  deepStrictEqual(
    deviceModulesFor(config({ nics: [nic("e1000"), nic("e1000"), nic("ne2k_pci")] })).sort(),
    ["e1000", "ne2kPci", "netLink"],
  );
  deepStrictEqual(
    deviceModulesFor(config({ devices: [{ name: "sb16", options: {} }] })),
    ["optional"],
  );
  deepStrictEqual(
    deviceModulesFor(config({ kernel: {} as MachineConfig["kernel"] })),
    ["linuxBoot"],
  );
});

Deno.test("a module not loaded is an error naming it; once loaded it is there", async () => {
  throws(() => deviceModule("rtl8139"), /rtl8139\.ts is not loaded/);
  const nic = { model: "rtl8139" } as NonNullable<MachineConfig["nics"]>[number];
  await loadDeviceModules(config({ nics: [nic] }));
  strictEqual(typeof deviceModule("rtl8139").Rtl8139, "function");
  ok(deviceModule("netLink").NetLink);
});
