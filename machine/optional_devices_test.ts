import { deepStrictEqual, match, strictEqual, throws } from "node:assert";
import { UsageError } from "../cli/errors.ts";
import { buildProgram, parseCommandLine } from "../cli/program.ts";
import { translateQemuArgs } from "../cli/qemu_args.ts";
import { fixture } from "../fixtures/build.ts";
import {
  DeviceSpecError,
  OPTIONAL_DEVICE_NAMES,
  OPTIONAL_DEVICES,
  parseDeviceSpec,
} from "./optional_devices.ts";
import { VirtioConsole } from "../devices/virtio/virtio_console.ts";
import { VirtioRng } from "../devices/virtio/virtio_rng.ts";

const noop = () => {};
const OPTIONS = buildProgram(noop, noop).options;
const qemu = (...argv: string[]) => translateQemuArgs(argv, OPTIONS);

function usageError(run: () => unknown, pattern: RegExp): void {
  throws(run, (e: unknown) => {
    if (!(e instanceof UsageError)) return false;
    match(e.message, pattern);
    strictEqual(e.exitCode, 2);
    strictEqual(e.message.includes("\n"), false, "one line");
    return true;
  });
}

Deno.test("--device names are QEMU's, each declared once, with its options", () => {
  deepStrictEqual(OPTIONAL_DEVICE_NAMES, ["virtio-rng-pci", "virtio-serial-pci"]);
  deepStrictEqual(parseDeviceSpec("virtio-rng-pci"), { name: "virtio-rng-pci", options: {} });
  deepStrictEqual(parseDeviceSpec("virtio-serial-pci,name=org.test.x"), {
    name: "virtio-serial-pci",
    options: { name: "org.test.x" },
  });
  throws(() => parseDeviceSpec("virtio-gpu-pci"), (e: unknown) => {
    if (!(e instanceof DeviceSpecError)) return false;
    match(
      e.message,
      /unknown device 'virtio-gpu-pci' \(known: virtio-rng-pci, virtio-serial-pci\)/,
    );
    return true;
  });
  throws(() => parseDeviceSpec("virtio-rng-pci,rng=rng0"), /has no option 'rng' \(it has none\)/);
  throws(() => parseDeviceSpec("virtio-serial-pci,name="), /name must be 1-255/);
  throws(() => parseDeviceSpec("virtio-serial-pci,name"), /'name' is not key=value/);
});

Deno.test("registry entries build the right device in the slot they are given", () => {
  const ctx = {
    ram: { readU16: () => 0 },
    pciIrq: (slot: number, pin: number) => {
      strictEqual([slot, pin].join(), "5,1");
      return { set: noop };
    },
    env: { entropy: noop, onConsole: noop },
  };
  // deno-lint-ignore no-explicit-any
  const c = ctx as any;
  const rngEntry = OPTIONAL_DEVICES["virtio-rng-pci"].entry(5, {});
  const rng = rngEntry.create(c);
  strictEqual(rng instanceof VirtioRng, true);
  strictEqual(rngEntry.pci!(rng)!.slot, 5);
  const conEntry = OPTIONAL_DEVICES["virtio-serial-pci"].entry(5, { name: "a.b" });
  const con = conEntry.create(c);
  strictEqual(con instanceof VirtioConsole, true);
  deepStrictEqual(con.portNames, [null, "a.b"]);
  deepStrictEqual(Object.keys(conEntry.pci!(con)!.bars), ["0", "4"]);
});

Deno.test("the command line: --device is repeatable; an unknown name lists the known ones", () => {
  const image = fixture("hello");
  const parse = (...argv: string[]) =>
    parseCommandLine([...argv, image], { out: noop, err: noop, hostMemory: 2 ** 34 });
  deepStrictEqual(
    parse("--device", "virtio-rng-pci", "--device", "virtio-serial-pci").config
      .devices,
    [
      { name: "virtio-rng-pci", options: {} },
      { name: "virtio-serial-pci", options: {} },
    ],
  );
  deepStrictEqual(parse().config.devices ?? [], []);
  usageError(() => parse("--device", "pcnet"), /known: virtio-rng-pci, virtio-serial-pci/);
  usageError(
    () => parse("--device", "e1000"),
    /a NIC comes with its network: --nic user,model=e1000/,
  );
  usageError(() => parse("--device", "virtio-rng-pci,max-bytes=1"), /no option 'max-bytes'/);
  const many = Array.from({ length: 30 }, () => ["--device", "virtio-rng-pci"]).flat();
  usageError(() => parse(...many), /free PCI slots/);
});

Deno.test("QEMU's -device names for the virtio devices become --device", () => {
  deepStrictEqual(qemu("-device", "virtio-rng-pci", "a.img").argv, [
    "--device",
    "virtio-rng-pci",
    "a.img",
  ]);
  const serial = qemu(
    "-device",
    "virtio-serial-pci,id=vs",
    "-device",
    "virtconsole",
    "-device",
    "virtserialport,name=org.test.port",
    "a.img",
  );
  deepStrictEqual(serial.argv, ["--device", "virtio-serial-pci,name=org.test.port", "a.img"]);
  match(serial.notes.join("\n"), /hvc0/);
  usageError(() => qemu("-device", "virtconsole", "a.img"), /needs -device virtio-serial-pci/);
  usageError(
    () => qemu("-device", "virtio-rng-pci,rng=r0", "a.img"),
    /does not support 'rng'/,
  );
  usageError(
    () => qemu("-device", "pcnet", "a.img"),
    /unknown device 'pcnet' \(known: virtio-rng-pci, virtio-serial-pci, /,
  );
});
