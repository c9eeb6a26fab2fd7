/**
 * The PC board's optional devices: those added with `--device <name>`, named
 * as QEMU's `-device` names them. Each is declared once here with its
 * options and its registry entry (see pc_devices.ts).
 *
 * PCI slots: optional devices take the slots after the virtio disks, in the
 * order given on the command line, as QEMU places `-device`s without `addr=`
 * in order. With no virtio disk the first one sits at 00:03.0, where QEMU
 * puts it behind `-nodefaults -vga std`.
 *
 * @module
 */

import {
  DEFAULT_STATS_INTERVAL_NS,
  VIRTIO_BALLOON_PAGE_SIZE,
  VirtioBalloon,
} from "../devices/virtio/virtio_balloon.ts";
import { VirtioConsole } from "../devices/virtio/virtio_console.ts";
import { VirtioRng } from "../devices/virtio/virtio_rng.ts";
import type { DeviceConfig } from "./config.ts";
import type { DeviceEntry } from "./pc_devices.ts";

/** One optional device: what `--help` and errors say of it, its options and its entry. */
export interface OptionalDevice<D> {
  /** One line for help and error messages. */
  readonly description: string;
  /** Known option names, with a line each. */
  readonly options: Readonly<Record<string, string>>;
  /** Checks an option value; returns why it is wrong, or null. */
  readonly checkOption?: (key: string, value: string) => string | null;
  /** The registry entry for an instance in PCI slot `slot`. */
  readonly entry: (slot: number, options: Readonly<Record<string, string>>) => DeviceEntry<D>;
}

function optional<D>(d: OptionalDevice<D>): OptionalDevice<D> {
  return d;
}

/** QEMU's spellings of a boolean property. */
const ON_OFF: ReadonlyMap<string, boolean> = new Map([
  ["on", true],
  ["off", false],
  ["true", true],
  ["false", false],
  ["yes", true],
  ["no", false],
]);

/** Every optional device, by its QEMU `-device` name. */
export const OPTIONAL_DEVICES = {
  "virtio-rng-pci": optional({
    description: "virtio entropy source fed from the host's getrandom",
    options: {},
    entry: (slot) => ({
      create: (c) =>
        new VirtioRng({
          memory: c.ram,
          irq: c.pciIrq(slot, 1),
          source: c.env.entropy ?? noEntropy,
        }),
      pci: (d) => ({ slot, fn: 0, function: d, bars: { 0: d.legacyIo, 4: d.modernMmio } }),
    }),
  }),
  "virtio-serial-pci": optional({
    description: "virtio console: hvc0 (port 0) and a named port (port 1) for scripts",
    options: { name: "port 1's name (default org.vmrun.port1)" },
    checkOption: (_key, value) =>
      /^[\x21-\x7e]{1,255}$/.test(value) ? null : "must be 1-255 printable ASCII characters",
    entry: (slot, options) => ({
      create: (c) => {
        const console = new VirtioConsole({
          memory: c.ram,
          irq: c.pciIrq(slot, 1),
          output: (port, bytes) => c.env.onConsole?.(port, bytes),
          portName: options.name,
        });
        return console;
      },
      pci: (d) => ({ slot, fn: 0, function: d, bars: { 0: d.legacyIo, 4: d.modernMmio } }),
    }),
  }),
  "virtio-balloon-pci": optional({
    description: "virtio memory balloon: vmrun asks the guest for RAM back and frees it",
    options: {
      "deflate-on-oom": "on: the guest may take pages back when it runs out (default off)",
      "guest-stats-polling-interval": `seconds between the guest's memory stats, 0 never (default ${
        DEFAULT_STATS_INTERVAL_NS / 1e9
      })`,
    },
    checkOption: (key, value) =>
      key === "deflate-on-oom"
        ? (ON_OFF.has(value) ? null : "must be on or off")
        : /^\d{1,6}$/.test(value)
        ? null
        : "must be a whole number of seconds",
    entry: (slot, options) => ({
      create: (c) =>
        new VirtioBalloon({
          memory: c.ram,
          irq: c.pciIrq(slot, 1),
          clock: c.clock,
          timer: c.clock.timer,
          discard: (pfn, count) =>
            c.ram.discard(pfn * VIRTIO_BALLOON_PAGE_SIZE, count * VIRTIO_BALLOON_PAGE_SIZE),
          // Deflated pages fault back in, zeroed, when the guest touches them.
          reuse: () => {},
          deflateOnOom: ON_OFF.get(options["deflate-on-oom"] ?? "off"),
          statsIntervalNs: options["guest-stats-polling-interval"] === undefined
            ? DEFAULT_STATS_INTERVAL_NS
            : Number(options["guest-stats-polling-interval"]) * 1e9,
        }),
      pci: (d) => ({ slot, fn: 0, function: d, bars: { 0: d.legacyIo, 4: d.modernMmio } }),
    }),
  }),
} as const;

/** The name of an optional device. */
export type OptionalDeviceName = keyof typeof OPTIONAL_DEVICES;

/** The names `--device` knows, in order. */
export const OPTIONAL_DEVICE_NAMES = Object.keys(OPTIONAL_DEVICES) as OptionalDeviceName[];

/** A device built from an optional entry. */
export type OptionalDeviceInstance = ReturnType<
  ReturnType<(typeof OPTIONAL_DEVICES)[OptionalDeviceName]["entry"]>["create"]
>;

/** A `--device` that names no known device, or an option it does not have. */
export class DeviceSpecError extends Error {
  /** @param message one line, naming what is known */
  constructor(message: string) {
    super(message);
    this.name = "DeviceSpecError";
  }
}

/** Whether `name` is an optional device. */
export function isOptionalDevice(name: string): name is OptionalDeviceName {
  return Object.hasOwn(OPTIONAL_DEVICES, name);
}

/**
 * Parses `name[,key=value...]` as `--device` takes it and checks it against
 * the registry.
 * @throws {DeviceSpecError} for an unknown device or option, or a bad value
 */
export function parseDeviceSpec(spec: string): DeviceConfig {
  const [name, ...parts] = spec.split(",");
  const options: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new DeviceSpecError(`--device ${spec}: '${part}' is not key=value`);
    options[part.slice(0, eq)] = part.slice(eq + 1);
  }
  const device = { name, options };
  checkDeviceConfig(device, `--device ${spec}`);
  return device;
}

/** QEMU's NIC device names and their `--nic model=`. */
const NIC_DEVICE_MODELS: Readonly<Record<string, string>> = {
  "virtio-net-pci": "virtio",
  e1000: "e1000",
  rtl8139: "rtl8139",
  ne2k_pci: "ne2k_pci",
};

/**
 * Checks a device config against the registry.
 * @param what how to name it in messages
 * @throws {DeviceSpecError} for an unknown device or option, or a bad value
 */
export function checkDeviceConfig(device: DeviceConfig, what = `--device ${device.name}`): void {
  if (!isOptionalDevice(device.name)) {
    const nic = NIC_DEVICE_MODELS[device.name];
    throw new DeviceSpecError(
      nic
        ? `${what}: a NIC comes with its network: --nic user,model=${nic}`
        : `${what}: unknown device '${device.name}' (known: ${OPTIONAL_DEVICE_NAMES.join(", ")})`,
    );
  }
  const d = OPTIONAL_DEVICES[device.name] as OptionalDevice<unknown>;
  const known = Object.keys(d.options);
  for (const [key, value] of Object.entries(device.options)) {
    if (!known.includes(key)) {
      const has = known.length ? `it has ${known.join(", ")}` : "it has none";
      throw new DeviceSpecError(`${what}: ${device.name} has no option '${key}' (${has})`);
    }
    const problem = d.checkOption?.(key, value);
    if (problem) throw new DeviceSpecError(`${what}: ${key} ${problem}`);
  }
}

/** The registry entry of `device` in PCI slot `slot` (the config was checked). */
export function optionalDeviceEntry(
  device: DeviceConfig,
  slot: number,
): DeviceEntry<OptionalDeviceInstance> {
  checkDeviceConfig(device);
  // Each entry's create and pci agree on its own device type.
  const d = OPTIONAL_DEVICES[device.name as OptionalDeviceName] as OptionalDevice<
    OptionalDeviceInstance
  >;
  return d.entry(slot, device.options);
}

/** Without a source the board has no entropy to give: refuse loudly rather than hand out zeros. */
function noEntropy(): never {
  throw new Error("virtio-rng-pci: the board was built without an entropy source");
}
