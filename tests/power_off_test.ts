/**
 * Guest power-off through the PIIX4's ACPI registers, under vmrun and, as
 * the reference, under QEMU with KVM:
 * - acpi_off walks the ACPI tables SeaBIOS installed from vmrun's fw_cfg
 *   files (RSDP in the F segment, RSDT, FADT, the DSDT's \_S5_) and writes
 *   SLP_TYP | SLP_EN to PM1a_CNT;
 * - apm_off asks SeaBIOS's APM BIOS to power off, which writes SLP_EN to
 *   the PM1a_CNT it found on the PIIX4.
 * Both must end the run with status 0 and reason "shutdown" (QEMU exits 0).
 */

import { deepStrictEqual, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import type { MachineConfig } from "../machine/config.ts";
import { DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { Machine } from "../machine/machine.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";

const ACPI_OFF_OUTPUT = "pm1a_cnt 0604\r\ns5 00\r\noff\r\n";
const APM_OFF_OUTPUT = "apm off\r\n";

function config(image: string): MachineConfig {
  return {
    memoryBytes: 128 << 20,
    cpus: 1,
    firmware: { kind: "bios", path: DEFAULT_BIOS, vgaBiosPath: DEFAULT_VGA_BIOS },
    disks: [{ path: image, interface: "ide", media: "disk", readonly: true }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 10, 25, 12),
  };
}

/** Runs `name` in a Machine until it ends, with its COM1 output. */
async function runMachine(name: string) {
  let serial = "";
  const dec = new TextDecoder();
  const machine = new Machine(config(fixture(name)), { serial: (b) => serial += dec.decode(b) });
  const timeout = setTimeout(() => machine.stop(), 60_000);
  try {
    const exit = await machine.exited;
    return { exit, serial };
  } finally {
    clearTimeout(timeout);
  }
}

for (const [name, output] of [["acpi_off", ACPI_OFF_OUTPUT], ["apm_off", APM_OFF_OUTPUT]]) {
  kvmTest(`power off: ${name} ends the run with reason "shutdown", status 0`, async () => {
    const { exit, serial } = await runMachine(name);
    strictEqual(serial, output);
    deepStrictEqual(exit, { reason: "shutdown", code: 0 });
  });

  kvmTest(`power off: ${name} makes the vmrun CLI exit 0`, async () => {
    const r = await runVmrun(["--headless", "--timeout", "60", "--snapshot", fixture(name)]);
    strictEqual(r.stdout, output, r.stderr);
    strictEqual(r.code, 0, r.stderr);
  });

  kvmTest(`power off: ${name} makes QEMU/KVM exit 0 with the same output`, async () => {
    const qemu = new QemuProcess(fixture(name), { killAfterMs: 60_000 });
    const r = await qemu.finished();
    strictEqual(r.signal, null, r.stderr);
    strictEqual(r.code, 0, r.stderr);
    strictEqual(r.stdout, output);
  });
}
