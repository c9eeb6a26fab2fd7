/**
 * `--cpu host,-feat...` against QEMU's `-cpu host,-feat...` on this host:
 * the cpuid_report fixture prints what CPUID tells the guest (leaf 1
 * ECX/EDX, leaf 7 EBX/ECX/EDX, leaf 0xD.1 EAX, 0x8000_0001 ECX/EDX), and
 * vmrun must show the guest exactly what QEMU shows it with the same masks.
 * On this PVM-backed KVM only some bits can be hidden at all (see the
 * README's table); the comparison holds whatever the host lets through.
 * Bad `--cpu` values end with one line and status 2, in the CLI and the API.
 */

import { deepStrictEqual, match, notStrictEqual, rejects, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { Kvm } from "../kvm/kvm.ts";
import { CPU_FEATURES, kvmSupports } from "../machine/cpu_features.ts";
import { Vm, VmOptionsError } from "../mod.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { runVmrun } from "./vmrun_process.ts";

/**
 * The masks compared. QEMU's `-cpu host` needs `-arch-capabilities` here
 * (KVM refuses its MSR); `-topoext` because QEMU's host model leaves
 * TOPOEXT out by itself while vmrun passes on what KVM offers.
 */
const MASKS = "-cx16,-x2apic,-tsc-deadline,-hypervisor,-xsave,-popcnt,-smap,-lm,-nx,-syscall";
const QEMU_CPU = `host,-arch-capabilities,-topoext,${MASKS}`;

/** The fixture's report: register values by "leaf register". */
function report(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\r\n").filter((l) => l)) {
    const [leaf, ...rest] = line.split(" ");
    for (let i = 0; i + 1 < rest.length; i += 2) {
      out[`${leaf} ${rest[i]}`] = parseInt(rest[i + 1], 16);
    }
  }
  return out;
}

async function vmrunReport(cpuArgs: string[]): Promise<Record<string, number>> {
  const r = await runVmrun(
    ["--headless", "--snapshot", "--timeout", "60", ...cpuArgs, fixture("cpuid_report")],
    { killAfterMs: 90_000 },
  );
  strictEqual(r.code, 0x21, r.stderr);
  return report(r.stdout);
}

kvmTest("--cpu hides from the guest what QEMU's -cpu hides, on the same host", async () => {
  const qemu = new QemuProcess(fixture("cpuid_report"), {
    killAfterMs: 90_000,
    extraArgs: ["-cpu", QEMU_CPU],
  });
  const [plain, masked, qemuWords, q] = await Promise.all([
    vmrunReport([]),
    vmrunReport(["--cpu", `host,-topoext,${MASKS}`]),
    vmrunReport(["-cpu", QEMU_CPU]),
    qemu.finished(),
  ]);
  strictEqual(q.debugExit, 0x21, q.stderr);
  const oracle = report(q.stdout);
  deepStrictEqual(Object.keys(oracle).length, 8, q.stdout);
  deepStrictEqual(masked, oracle, "vmrun --cpu and QEMU -cpu show the guest the same CPUID");
  deepStrictEqual(qemuWords, oracle, "QEMU's -cpu words in vmrun mean the same");
  // x2APIC is KVM's own (in-kernel LAPIC), so every KVM offers it and can hide it.
  notStrictEqual(plain["1 ecx"] & (1 << 21), 0, "x2apic shown by default");
  strictEqual(masked["1 ecx"] & (1 << 21), 0, "x2apic hidden");
  // Whatever the host lets through, a bit hidden is never shown.
  for (const key of Object.keys(plain)) {
    strictEqual(masked[key] & ~plain[key], 0, `${key}: no bit appears`);
  }
});

kvmTest(
  "--cpu: +feat that KVM does not offer, or a bad name, is one line with status 2",
  async () => {
    const kvm = Kvm.open("/dev/kvm");
    const supported = kvm.supportedCpuid();
    kvm.close();
    const absent = [...CPU_FEATURES.keys()].find((n) => !kvmSupports(supported, n));
    const cases: [string, RegExp][] = [
      ["host,-xsav", /^vmrun: --cpu unknown CPU feature 'xsav' \(did you mean xsave/],
      ["qemu64", /^vmrun: --cpu 'qemu64': the only CPU model is the host's/],
      ["host,xsave=sometimes", /^vmrun: --cpu 'xsave=sometimes': a feature is on or off$/],
    ];
    if (absent) cases.push([`host,+${absent}`, new RegExp(`\\+${absent}: not offered`)]);
    for (const [spec, pattern] of cases) {
      const r = await runVmrun(["--headless", "--cpu", spec, fixture("cpuid_report")]);
      strictEqual(r.code, 2, r.stderr);
      strictEqual(r.stdout, "");
      const lines = r.stderr.split("\n").filter((l) => l);
      strictEqual(lines.length, 1, r.stderr);
      match(lines[0], pattern);
    }
    await rejects(
      Vm.start({ disk: fixture("cpuid_report"), cpu: "host,-popcount" }),
      (e) => e instanceof VmOptionsError && /cpu unknown CPU feature 'popcount'/.test(e.message),
    );
    if (absent) {
      await rejects(
        Vm.start({ disk: fixture("cpuid_report"), cpu: `max,${absent}=on` }),
        (e) => e instanceof VmOptionsError && /not offered by this host's KVM/.test(e.message),
      );
    }
  },
);
