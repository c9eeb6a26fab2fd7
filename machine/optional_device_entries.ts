/**
 * The registry entries of the optional devices (optional_devices.ts names
 * them and checks their options): how the board builds each and where it
 * sits. Only the board loads this module, and with it the devices' code.
 *
 * @module
 */

import { VirtioBalloon } from "../devices/virtio/virtio_balloon.ts";
import {
  DEFAULT_STATS_INTERVAL_NS,
  VIRTIO_BALLOON_PAGE_SIZE,
} from "../devices/virtio/virtio_balloon_units.ts";
import { Es1370 } from "../devices/es1370.ts";
import { Sb16 } from "../devices/sb16.ts";
import { VirtioConsole } from "../devices/virtio/virtio_console.ts";
import { VirtioRng } from "../devices/virtio/virtio_rng.ts";
import { I6300esb } from "../devices/watchdog/i6300esb.ts";
import { Ib700 } from "../devices/watchdog/ib700.ts";
import type { DeviceConfig } from "./config.ts";
import { IRQ, PIO } from "./io_map.ts";
import {
  checkDeviceConfig,
  ON_OFF,
  OPTIONAL_DEVICES,
  type OptionalDeviceName,
} from "./optional_devices.ts";
import { type DeviceEntry, type PcDevices, timers, virtioPlacement } from "./pc_devices.ts";

/** The entry of a PCI optional device for an instance in PCI slot `slot`. */
type PciEntry<D> = (
  slot: number,
  options: Readonly<Record<string, string>>,
  fixed: PcDevices,
) => DeviceEntry<D>;

/** The entry of an ISA optional device (fixed ports and IRQ); it may lean on the fixed devices. */
type IsaEntry<D> = (options: Readonly<Record<string, string>>, fixed: PcDevices) => DeviceEntry<D>;

/** Each optional device's entry, of the shape its bus in {@link OPTIONAL_DEVICES} calls for. */
export const OPTIONAL_DEVICE_ENTRIES = {
  "virtio-rng-pci": ((slot) => ({
    create: (c) =>
      new VirtioRng({
        memory: c.ram,
        irq: c.pciIrq(slot, 1),
        source: c.env.entropy ?? noEntropy,
      }),
    pci: (d) => virtioPlacement(slot, d),
  })) as PciEntry<VirtioRng>,
  "virtio-serial-pci": ((slot, options) => ({
    create: (c) =>
      new VirtioConsole({
        memory: c.ram,
        irq: c.pciIrq(slot, 1),
        output: (port, bytes) => c.env.onConsole?.(port, bytes),
        portName: options.name,
      }),
    pci: (d) => virtioPlacement(slot, d),
  })) as PciEntry<VirtioConsole>,
  "virtio-balloon-pci": ((slot, options) => ({
    create: (c) =>
      new VirtioBalloon({
        memory: c.ram,
        irq: c.pciIrq(slot, 1),
        ...timers(c),
        discard: (pfn, count) =>
          c.ram.discard(pfn * VIRTIO_BALLOON_PAGE_SIZE, count * VIRTIO_BALLOON_PAGE_SIZE),
        // Deflated pages fault back in, zeroed, when the guest touches them.
        reuse: () => {},
        deflateOnOom: ON_OFF.get(options["deflate-on-oom"] ?? "off"),
        statsIntervalNs: options["guest-stats-polling-interval"] === undefined
          ? DEFAULT_STATS_INTERVAL_NS
          : Number(options["guest-stats-polling-interval"]) * 1e9,
      }),
    pci: (d) => virtioPlacement(slot, d),
  })) as PciEntry<VirtioBalloon>,
  ib700: (() => ({
    create: (c) => new Ib700({ onExpire: () => c.env.onWatchdog("ib700"), ...timers(c) }),
    pio: (d) => [["ib700", PIO.IB700, d]],
  })) as IsaEntry<Ib700>,
  i6300esb: ((slot) => ({
    create: (c) => new I6300esb({ onExpire: () => c.env.onWatchdog("i6300esb"), ...timers(c) }),
    pci: (d) => ({ slot, fn: 0, function: d, bars: { 0: d.mmio } }),
  })) as PciEntry<I6300esb>,
  sb16: ((_options, fixed) => ({
    create: (c) =>
      new Sb16({ irq: c.isaIrq(IRQ.SB16), dma: fixed.isaDma, audio: c.env.audio, ...timers(c) }),
    pio: (d) => [["sb16", PIO.SB16, d]],
    irqs: [IRQ.SB16],
  })) as IsaEntry<Sb16>,
  ES1370: ((slot) => ({
    create: (c) =>
      new Es1370({ irq: c.pciIrq(slot, 1), memory: c.ram, audio: c.env.audio, ...timers(c) }),
    pci: (d) => ({ slot, fn: 0, function: d, bars: { 0: d.io } }),
  })) as PciEntry<Es1370>,
} as const satisfies {
  readonly [
    // A PCI entry takes its slot first, an ISA one its options.
    K in OptionalDeviceName
  ]: (
    first: (typeof OPTIONAL_DEVICES)[K]["bus"] extends "pci" ? number
      : Readonly<Record<string, string>>,
    ...rest: never[]
  ) => unknown;
};

type InstanceOf<T> = T extends (...a: never[]) => DeviceEntry<infer D> ? D : never;

/** Each optional device's class, by name. */
export type OptionalDeviceInstances = {
  readonly [K in OptionalDeviceName]: InstanceOf<(typeof OPTIONAL_DEVICE_ENTRIES)[K]>;
};

/** A device built from an optional entry. */
export type OptionalDeviceInstance = OptionalDeviceInstances[OptionalDeviceName];

/**
 * The registry entry of `device` (the config was checked): a PCI device's
 * in slot `slot` (`pci` true: the slot is taken), an ISA device's without one.
 */
export function optionalDeviceEntry(
  device: DeviceConfig,
  slot: number,
  fixed: PcDevices,
): { entry: DeviceEntry<OptionalDeviceInstance>; pci: boolean } {
  checkDeviceConfig(device);
  const name = device.name as OptionalDeviceName;
  // Each entry's create and pci agree on its own device type; its bus says its shape.
  const make = OPTIONAL_DEVICE_ENTRIES[name] as unknown;
  return OPTIONAL_DEVICES[name].bus === "pci"
    ? { entry: (make as PciEntry<OptionalDeviceInstance>)(slot, device.options, fixed), pci: true }
    : { entry: (make as IsaEntry<OptionalDeviceInstance>)(device.options, fixed), pci: false };
}

/** Without a source the board has no entropy to give: refuse loudly rather than hand out zeros. */
function noEntropy(): never {
  throw new Error("virtio-rng-pci: the board was built without an entropy source");
}
