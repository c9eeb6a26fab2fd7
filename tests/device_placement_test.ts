/**
 * Where the optional devices sit on PCI bus 0, under vmrun and, as the
 * reference, under QEMU (`info pci` on a stopped `-S` machine): the
 * watchdogs and sound cards are registry entries like the virtio devices,
 * PCI ones in the next free slots in command-line order, ISA ones (ib700,
 * sb16) in none, and QEMU's `-audio model=` card before the `-device`s.
 */

import { deepStrictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { Vm } from "../mod.ts";
import { kvmTest } from "./kvm_available.ts";
import { QEMU_BINARY, VMRUN_BOARD_ARGS } from "./qemu.ts";

/** QEMU's PCI IDs of the optional devices, by registry name. */
const PCI_IDS: Record<string, string> = {
  "1274:5000": "ES1370",
  "8086:25ab": "i6300esb",
  "1af4:1005": "virtio-rng-pci",
  "1af4:1003": "virtio-serial-pci",
};

/** The optional devices QEMU places with `args`, as [name, slot], by slot. */
async function qemuPlacement(args: string[]): Promise<[string, number][]> {
  const child = new Deno.Command(QEMU_BINARY, {
    args: [
      ...VMRUN_BOARD_ARGS,
      "-accel",
      "kvm",
      "-display",
      "none",
      "-S",
      "-monitor",
      "stdio",
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("info pci\nquit\n"));
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  const found: [string, number][] = [];
  for (
    const m of text.matchAll(/Bus +0, device +(\d+), function 0:\s*\n.*PCI device ([0-9a-f:]+)/g)
  ) {
    const name = PCI_IDS[m[2]];
    if (name) found.push([name, Number(m[1])]);
  }
  return found;
}

/** The optional devices vmrun places with `options`, as [name, slot] (PCI ones only), by slot. */
async function vmrunPlacement(
  options: { device: string[]; audio?: string },
): Promise<[string, number][]> {
  await using vm = await Vm.start({ disk: fixture("spin"), firmware: "none", ...options });
  const d = await vm.devices();
  return (d?.optional ?? [])
    .filter((o) => o.slot !== null)
    .map((o) => [o.name, o.slot as number] as [string, number])
    .sort((a, b) => a[1] - b[1]);
}

kvmTest("optional devices: the watchdogs and sound cards sit where QEMU puts them", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmrun-placement-" });
  try {
    const wav = `${dir}/a.wav`;
    const cases: { vmrun: { device: string[]; audio?: string }; qemu: string[] }[] = [
      {
        vmrun: { device: ["virtio-rng-pci", "ib700"], audio: `wav:${wav},model=es1370` },
        qemu: [
          "-audio",
          `driver=wav,model=es1370,path=${wav}`,
          "-device",
          "virtio-rng-pci",
          "-device",
          "ib700",
        ],
      },
      {
        vmrun: { device: ["sb16", "i6300esb", "virtio-serial-pci"], audio: `wav:${wav}` },
        qemu: [
          "-audiodev",
          `wav,id=a,path=${wav}`,
          "-device",
          "sb16,audiodev=a",
          "-device",
          "i6300esb",
          "-device",
          "virtio-serial-pci",
        ],
      },
      {
        vmrun: { device: ["ib700", "ES1370", "virtio-rng-pci"], audio: `wav:${wav}` },
        qemu: [
          "-audiodev",
          `wav,id=a,path=${wav}`,
          "-device",
          "ib700",
          "-device",
          "ES1370,audiodev=a",
          "-device",
          "virtio-rng-pci",
        ],
      },
    ];
    for (const c of cases) {
      const theirs = await qemuPlacement(c.qemu);
      // Two PCI devices each time (the third is ISA): the comparison is never of nothing.
      deepStrictEqual(theirs.length, 2, `QEMU placed ${JSON.stringify(theirs)}`);
      deepStrictEqual(await vmrunPlacement(c.vmrun), theirs, c.qemu.join(" "));
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
