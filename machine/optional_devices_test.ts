import { deepStrictEqual, match, strictEqual, throws } from "node:assert";
import { UsageError } from "../cli/errors.ts";
import { buildProgram, parseCommandLine } from "../cli/program.ts";
import { translateQemuArgs } from "../cli/qemu_args.ts";
import { fixture } from "../fixtures/build.ts";
import { DeviceSpecError, OPTIONAL_DEVICE_NAMES, parseDeviceSpec } from "./optional_devices.ts";
import { VirtioConsole } from "../devices/virtio/virtio_console.ts";
import { VirtioRng } from "../devices/virtio/virtio_rng.ts";
import {
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VirtioBalloon,
} from "../devices/virtio/virtio_balloon.ts";
import { IsaDma } from "../devices/isa_dma.ts";
import { Sb16 } from "../devices/sb16.ts";
import { Es1370 } from "../devices/es1370.ts";
import { I6300esb } from "../devices/watchdog/i6300esb.ts";
import { Ib700 } from "../devices/watchdog/ib700.ts";
import { SteppedClock } from "../devices/clock.ts";
import type { PcDevices } from "./pc_devices.ts";
import { IRQ, PIO } from "./io_map.ts";
import { OPTIONAL_DEVICE_ENTRIES, optionalDeviceEntry } from "./optional_device_entries.ts";

const noop = () => {};
/** The board's fixed devices, for entries that do not lean on them. */
const NO_FIXED = {} as PcDevices;
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
  deepStrictEqual(OPTIONAL_DEVICE_NAMES, [
    "virtio-rng-pci",
    "virtio-serial-pci",
    "virtio-balloon-pci",
    "ib700",
    "i6300esb",
    "sb16",
    "ES1370",
  ]);
  // QEMU's names are the registry's; another case of the same name is read as it.
  deepStrictEqual(parseDeviceSpec("es1370"), { name: "ES1370", options: {} });
  deepStrictEqual(parseDeviceSpec("SB16"), { name: "sb16", options: {} });
  deepStrictEqual(parseDeviceSpec("virtio-rng-pci"), { name: "virtio-rng-pci", options: {} });
  deepStrictEqual(parseDeviceSpec("virtio-serial-pci,name=org.test.x"), {
    name: "virtio-serial-pci",
    options: { name: "org.test.x" },
  });
  throws(() => parseDeviceSpec("virtio-gpu-pci"), (e: unknown) => {
    if (!(e instanceof DeviceSpecError)) return false;
    match(
      e.message,
      /unknown device 'virtio-gpu-pci' \(known: virtio-rng-pci, virtio-serial-pci, virtio-balloon-pci, ib700, i6300esb, sb16, ES1370\)/,
    );
    return true;
  });
  throws(() => parseDeviceSpec("virtio-rng-pci,rng=rng0"), /has no option 'rng' \(it has none\)/);
  throws(() => parseDeviceSpec("virtio-serial-pci,name="), /name must be 1-255/);
  throws(() => parseDeviceSpec("virtio-serial-pci,name"), /'name' is not key=value/);
  deepStrictEqual(
    parseDeviceSpec("virtio-balloon-pci,deflate-on-oom=on,guest-stats-polling-interval=10"),
    {
      name: "virtio-balloon-pci",
      options: { "deflate-on-oom": "on", "guest-stats-polling-interval": "10" },
    },
  );
  throws(() => parseDeviceSpec("virtio-balloon-pci,deflate-on-oom=maybe"), /must be on or off/);
  throws(
    () => parseDeviceSpec("virtio-balloon-pci,guest-stats-polling-interval=-1"),
    /whole number of seconds/,
  );
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
  const rngEntry = OPTIONAL_DEVICE_ENTRIES["virtio-rng-pci"](5, {}, NO_FIXED);
  const rng = rngEntry.create(c);
  strictEqual(rng instanceof VirtioRng, true);
  strictEqual(rngEntry.pci!(rng)!.slot, 5);
  const conEntry = OPTIONAL_DEVICE_ENTRIES["virtio-serial-pci"](5, { name: "a.b" }, NO_FIXED);
  const con = conEntry.create(c);
  strictEqual(con instanceof VirtioConsole, true);
  deepStrictEqual(con.portNames, [null, "a.b"]);
  deepStrictEqual(Object.keys(conEntry.pci!(con)!.bars), ["0", "4"]);
  // The balloon frees inflated pages through guest RAM's one bounds-checked place.
  const discarded: number[][] = [];
  const clock = new SteppedClock();
  const balloonEntry = OPTIONAL_DEVICE_ENTRIES["virtio-balloon-pci"](5, {
    "deflate-on-oom": "on",
  }, NO_FIXED);
  const balloon = balloonEntry.create({
    ...c,
    clock,
    ram: { discard: (addr: number, len: number) => discarded.push([addr, len]) },
  });
  strictEqual(balloon instanceof VirtioBalloon, true);
  strictEqual(
    BigInt(balloon.legacyIo.read(0, 4)) & VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
    VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  );
  deepStrictEqual(Object.keys(balloonEntry.pci!(balloon)!.bars), ["0", "4"]);
});

Deno.test("ISA entries take no slot and lean on the fixed devices; PCI ones take theirs", () => {
  const clock = new SteppedClock();
  const lines: number[] = [];
  const ctx = {
    clock,
    ram: { readU16: () => 0 },
    isaIrq: (gsi: number) => (lines.push(gsi), { set: noop }),
    pciIrq: (slot: number) => (lines.push(100 + slot), { set: noop }),
    env: { audio: { play: noop }, onWatchdog: noop },
  };
  // deno-lint-ignore no-explicit-any
  const c = ctx as any;
  const fixed = { isaDma: new IsaDma(c.ram) } as unknown as PcDevices;
  const place = (name: string) => optionalDeviceEntry({ name, options: {} }, 7, fixed);

  const ib700 = place("ib700");
  strictEqual(ib700.pci, false);
  const wdt = ib700.entry.create(c);
  strictEqual(wdt instanceof Ib700, true);
  strictEqual(ib700.entry.pci, undefined);
  deepStrictEqual(ib700.entry.pio!(wdt).map(([n, r]) => [n, r]), [["ib700", PIO.IB700]]);

  const sb16 = place("sb16");
  strictEqual(sb16.pci, false);
  const card = sb16.entry.create(c);
  strictEqual(card instanceof Sb16, true);
  deepStrictEqual(sb16.entry.pio!(card).map(([n, r]) => [n, r]), [["sb16", PIO.SB16]]);
  deepStrictEqual(sb16.entry.irqs, [IRQ.SB16]);

  for (const [name, type] of [["i6300esb", I6300esb], ["ES1370", Es1370]] as const) {
    const p = place(name);
    strictEqual(p.pci, true);
    const d = p.entry.create(c);
    strictEqual(d instanceof type, true);
    strictEqual(p.entry.pci!(d)!.slot, 7);
  }
  deepStrictEqual(lines, [IRQ.SB16, 107]);
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
  usageError(
    () => parse("--device", "pcnet"),
    /known: virtio-rng-pci, virtio-serial-pci, virtio-balloon-pci/,
  );
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
  deepStrictEqual(qemu("-device", "virtio-balloon-pci,id=b,deflate-on-oom=on", "a.img").argv, [
    "--device",
    "virtio-balloon-pci,deflate-on-oom=on",
    "a.img",
  ]);
  usageError(
    () => qemu("-device", "virtio-balloon-pci,free-page-hint=on", "a.img"),
    /does not support 'free-page-hint'/,
  );
  usageError(() => qemu("-device", "virtconsole", "a.img"), /needs -device virtio-serial-pci/);
  usageError(
    () => qemu("-device", "virtio-rng-pci,rng=r0", "a.img"),
    /does not support 'rng'/,
  );
  usageError(
    () => qemu("-device", "pcnet", "a.img"),
    /unknown device 'pcnet' \(known: virtio-rng-pci, virtio-serial-pci, virtio-balloon-pci, /,
  );
});
