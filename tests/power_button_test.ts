/**
 * The ACPI power button, as QEMU's `system_powerdown`: the power_button
 * fixture enables ACPI (ACPI_ENABLE to SMI_CMD, SCI_EN), sets
 * PM1_EN.PWRBTN_EN, says "ready", polls PM1_STS.PWRBTN_STS and then powers
 * off through \_S5_. Pressed through `vm.powerButton()` and through
 * `vmrun ctl <socket> powerdown`, the run ends with reason "shutdown",
 * status 0, the guest having seen the press; QEMU does the same with HMP
 * `system_powerdown`.
 */

import { deepStrictEqual, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { Vm } from "../mod.ts";
import { imageCopy } from "./api_fixtures.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun, withControlledVmrun } from "./vmrun_process.ts";

const READY = "ready\r\n";
const OUTPUT = "ready\r\npwrbtn\r\n";

kvmTest(
  "power button: vm.powerButton() makes an ACPI guest shut down (shutdown, status 0)",
  async () => {
    const image = imageCopy("power_button");
    try {
      await using vm = await Vm.start({ disk: image, snapshot: true, timeout: 90_000 });
      await vm.serial.waitFor(READY, { timeout: 60_000 });
      // Not pressed yet: the guest is still polling.
      await new Promise((r) => setTimeout(r, 300));
      strictEqual(vm.serial.text(), READY);
      vm.powerButton();
      deepStrictEqual(await vm.exited, { reason: "shutdown", code: 0 });
      strictEqual(vm.serial.text(), OUTPUT);
    } finally {
      Deno.removeSync(image);
    }
  },
);

kvmTest("power button: vmrun ctl <socket> powerdown ends the run with status 0", async () => {
  await withControlledVmrun(
    ["--headless", "--snapshot", "--timeout", "90", fixture("power_button")],
    { killAfterMs: 120_000 },
    async (vmrun, socket) => {
      await vmrun.waitForStdout(READY, 60_000);
      const ctl = await runVmrun(["ctl", socket, "powerdown"]);
      strictEqual(ctl.code, 0, ctl.stderr);
      strictEqual(ctl.stdout, "");
      const r = await vmrun.finished();
      strictEqual(r.code, 0, r.stderr);
      strictEqual(r.stdout, OUTPUT);
    },
  );
});

kvmTest("power button: QEMU's system_powerdown does the same to the same fixture", async () => {
  const qemu = new QemuProcess(fixture("power_button"), { monitor: true, killAfterMs: 90_000 });
  try {
    await qemu.waitForStdout(READY, 60_000);
    strictEqual(await qemu.hmp("system_powerdown"), "");
    const r = await qemu.finished();
    strictEqual(r.signal, null, r.stderr);
    strictEqual(r.code, 0, r.stderr);
    strictEqual(r.stdout, OUTPUT);
  } finally {
    qemu.kill();
    await qemu.finished();
  }
});
