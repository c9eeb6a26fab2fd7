/**
 * vmrun's HPET against QEMU's, as a guest sees it: the hpet fixture, booted
 * by the same SeaBIOS under vmrun and under QEMU with KVM (128 MiB, one
 * CPU), reads the capabilities, the period and each timer's configuration,
 * watches the counter stand still and then run, truncates a comparator in
 * 32-bit mode, lets a level-triggered timer set and clear its status bit,
 * sees legacy replacement hold off the PIT's IRQ 0 (KVM's in-kernel PIT on
 * both) and let it go again, and takes one interrupt from timer 0 in legacy
 * replacement mode through the I/O APIC's pin 2 (see fixtures/src/hpet.asm).
 * Both must print the same.
 */

import { deepStrictEqual, ok } from "node:assert";
import { kvmTest } from "./kvm_available.ts";
import { bootBoth } from "./side_by_side.ts";

/** The fixture's isa-debug-exit value after "end". */
const HPET_EXIT = 0x25;
// A hang guard, not a performance check: either run takes a few seconds on a quiet host.
const RUN_LIMIT_MS = 90_000;

/** The fixture's report lines, in order ("name: value"). */
function report(stdout: string): string[] {
  ok(stdout.includes("end\r\n"), `the fixture did not finish: ${JSON.stringify(stdout)}`);
  return stdout.split("\r\n").filter((l) => /^\w+: /.test(l));
}

kvmTest("hpet vs QEMU: registers, counter, status and a legacy-mode interrupt agree", async () => {
  const both = await bootBoth("hpet", HPET_EXIT, RUN_LIMIT_MS);
  const mine = report(both.vmrun);
  const theirs = report(both.qemu);
  deepStrictEqual(mine, theirs);
  // What QEMU's HPET is, so that agreeing means something.
  deepStrictEqual(theirs, [
    "cap: 8086a201",
    "period: 00989680",
    "timers: 00000030:00000004 00000030:00000004 00000030:00000004",
    "cmp: ffffffff:ffffffff",
    "halted: y",
    "advances: y",
    "cmp32: 00000000",
    "level: 04 00",
    "pit: yy",
    "irq: 01",
  ]);
});
