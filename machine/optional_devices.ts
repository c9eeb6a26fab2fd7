/**
 * The PC board's optional devices: those added with `--device <name>`, named
 * as QEMU's `-device` names them. Each is declared once here with its bus
 * and options, which is all the main thread needs to check a command line;
 * its registry entry (how the board builds and wires it) is in
 * optional_device_entries.ts, so device code loads only where the board runs.
 *
 * PCI slots: optional PCI devices take the slots after the virtio disks, in
 * the order given on the command line, as QEMU places `-device`s without
 * `addr=` in order. With no virtio disk the first one sits at 00:03.0, where
 * QEMU puts it behind `-nodefaults -vga std`. ISA devices (ib700, sb16) take
 * no slot, so the PCI ones after them sit where they would without them, as
 * on QEMU.
 *
 * @module
 */

import { DEFAULT_STATS_INTERVAL_NS } from "../devices/virtio/virtio_balloon_units.ts";
import type { DeviceConfig } from "./config.ts";
import type { OptionalDeviceInstances } from "./optional_device_entries.ts";

/** What `--help` and errors say of an optional device, its options and its bus. */
export interface OptionalDeviceInfo {
  /** PCI devices take the next free slot; ISA ones have fixed ports and IRQs. */
  readonly bus: "pci" | "isa";
  /** One line for help and error messages. */
  readonly description: string;
  /** Known option names, with a line each. */
  readonly options: Readonly<Record<string, string>>;
  /** Checks an option value; returns why it is wrong, or null. */
  readonly checkOption?: (key: string, value: string) => string | null;
  /** Its class, where the board takes one of a kind: one watchdog, one sound card. */
  readonly kind?: "watchdog" | "sound";
}

/** QEMU's spellings of a boolean property. */
export const ON_OFF: ReadonlyMap<string, boolean> = new Map([
  ["on", true],
  ["off", false],
  ["true", true],
  ["false", false],
  ["yes", true],
  ["no", false],
]);

/**
 * Every optional device, by its QEMU `-device` name: what the main thread
 * checks a `--device` against. How each is built and wired is its entry in
 * optional_device_entries.ts, which only the board loads.
 */
export const OPTIONAL_DEVICES = {
  "virtio-rng-pci": {
    bus: "pci",
    description: "virtio entropy source fed from the host's getrandom",
    options: {},
  },
  "virtio-serial-pci": {
    bus: "pci",
    description: "virtio console: hvc0 (port 0) and a named port (port 1) for scripts",
    options: { name: "port 1's name (default org.vmrun.port1)" },
    checkOption: (_key: string, value: string) =>
      /^[\x21-\x7e]{1,255}$/.test(value) ? null : "must be 1-255 printable ASCII characters",
  },
  "virtio-balloon-pci": {
    bus: "pci",
    description: "virtio memory balloon: vmrun asks the guest for RAM back and frees it",
    options: {
      "deflate-on-oom": "on: the guest may take pages back when it runs out (default off)",
      "guest-stats-polling-interval": `seconds between the guest's memory stats, 0 never (default ${
        DEFAULT_STATS_INTERVAL_NS / 1e9
      })`,
    },
    checkOption: (key: string, value: string) =>
      key === "deflate-on-oom"
        ? (ON_OFF.has(value) ? null : "must be on or off")
        : /^\d{1,6}$/.test(value)
        ? null
        : "must be a whole number of seconds",
  },
  ib700: {
    bus: "isa",
    description: "iBASE IB700 watchdog (ISA, ports 0x441/0x443); see --watchdog-action",
    options: {},
    kind: "watchdog",
  },
  i6300esb: {
    bus: "pci",
    description: "Intel 6300ESB watchdog (PCI 8086:25ab); see --watchdog-action",
    options: {},
    kind: "watchdog",
  },
  sb16: {
    bus: "isa",
    description: "Sound Blaster 16 (ISA, port 0x220, IRQ 5, DMA 1/5); plays into --audio",
    options: {},
    kind: "sound",
  },
  ES1370: {
    bus: "pci",
    description: "Ensoniq AudioPCI ES1370 (PCI 1274:5000); plays into --audio",
    options: {},
    kind: "sound",
  },
} as const satisfies Record<string, OptionalDeviceInfo>;

/** The name of an optional device. */
export type OptionalDeviceName = keyof typeof OPTIONAL_DEVICES;

/** The names `--device` knows, in order. */
export const OPTIONAL_DEVICE_NAMES = Object.keys(OPTIONAL_DEVICES) as OptionalDeviceName[];

/** The typed state of the optional device `K`, as snapshots carry it. */
export type OptionalDeviceState<K extends OptionalDeviceName> = ReturnType<
  OptionalDeviceInstances[K]["snapshot"]
>;

/**
 * The state of the first optional device named `name` in a board state's
 * `optional` list (the TUI's and the API's typed access), or null.
 */
export function optionalState<K extends OptionalDeviceName>(
  optional: readonly { readonly name: string; readonly device: unknown }[],
  name: K,
): OptionalDeviceState<K> | null {
  // Each placed state belongs to the device its name says.
  return (optional.find((o) => o.name === name)?.device ?? null) as OptionalDeviceState<K> | null;
}

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
 * The registry's spelling of `name`: QEMU's own, or the same name in other
 * case (`es1370` for QEMU's `ES1370`); null for an unknown name.
 */
export function optionalDeviceName(name: string): OptionalDeviceName | null {
  if (isOptionalDevice(name)) return name;
  const lower = name.toLowerCase();
  return OPTIONAL_DEVICE_NAMES.find((n) => n.toLowerCase() === lower) ?? null;
}

/** Whether the optional device `name` takes a PCI slot. */
export function isPciDevice(name: string): boolean {
  const known = optionalDeviceName(name);
  return known !== null && OPTIONAL_DEVICES[known].bus === "pci";
}

/** What kind of device `name` is ("watchdog", "sound"), if one of a kind. */
export function optionalDeviceKind(name: string): "watchdog" | "sound" | null {
  const known = optionalDeviceName(name);
  return known === null ? null : (OPTIONAL_DEVICES[known] as OptionalDeviceInfo).kind ?? null;
}

/**
 * Parses `name[,key=value...]` as `--device` takes it and checks it against
 * the registry. The name is given as the registry spells it.
 * @throws {DeviceSpecError} for an unknown device or option, or a bad value
 */
export function parseDeviceSpec(spec: string): DeviceConfig {
  const [given, ...parts] = spec.split(",");
  const options: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new DeviceSpecError(`--device ${spec}: '${part}' is not key=value`);
    options[part.slice(0, eq)] = part.slice(eq + 1);
  }
  const device = { name: optionalDeviceName(given) ?? given, options };
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
  const d: OptionalDeviceInfo = OPTIONAL_DEVICES[device.name];
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
