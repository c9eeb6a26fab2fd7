/**
 * The device models a board loads only when its configuration has them: the
 * display cards other than the standard VGA, virtio disks, the NIC models
 * and the optional devices, and likewise direct kernel boot and the vCPU thread's
 * side of the network (issue 11: each isolate pays for the code it loads). The
 * vCPU worker awaits {@link loadDeviceModules} once, before it builds the
 * board; the registries' constructors then take the classes from
 * {@link deviceModule}, synchronously.
 *
 * The fixed devices and the standard VGA are imported statically by
 * pc_devices.ts: every board has them.
 *
 * @module
 */

import type { MachineConfig } from "./config.ts";
import { DEFAULT_VGA_MODEL } from "./vga_models.ts";

/** The modules loaded on demand, by a short name. */
interface DeviceModules {
  readonly cirrus: typeof import("../devices/vga/cirrus.ts");
  readonly virtioVga: typeof import("../devices/virtio/virtio_gpu_vga.ts");
  readonly noVga: typeof import("../devices/vga/no_vga.ts");
  readonly virtioBlk: typeof import("../devices/virtio/virtio_blk.ts");
  readonly e1000: typeof import("../devices/net/e1000.ts");
  readonly virtioNet: typeof import("../devices/net/virtio_net.ts");
  readonly rtl8139: typeof import("../devices/net/rtl8139.ts");
  readonly ne2kPci: typeof import("../devices/net/ne2k_pci.ts");
  /** The optional devices' entries, which import every optional device. */
  readonly optional: typeof import("./optional_device_entries.ts");
  /** Direct kernel boot (`--kernel`). */
  readonly linuxBoot: typeof import("./linux_boot.ts");
  /** The vCPU thread's side of the network (NICs). */
  readonly netLink: typeof import("./net_link.ts");
}

/** The name of a module loaded on demand. */
export type DeviceModuleName = keyof DeviceModules;

/** Where each is, relative to this module. */
const PATHS: { readonly [K in DeviceModuleName]: string } = {
  cirrus: "../devices/vga/cirrus.ts",
  virtioVga: "../devices/virtio/virtio_gpu_vga.ts",
  noVga: "../devices/vga/no_vga.ts",
  virtioBlk: "../devices/virtio/virtio_blk.ts",
  e1000: "../devices/net/e1000.ts",
  virtioNet: "../devices/net/virtio_net.ts",
  rtl8139: "../devices/net/rtl8139.ts",
  ne2kPci: "../devices/net/ne2k_pci.ts",
  optional: "./optional_device_entries.ts",
  linuxBoot: "./linux_boot.ts",
  netLink: "./net_link.ts",
};

/** The module of each `--vga` model that has one of its own (std is always there). */
const VGA_MODULES = { cirrus: "cirrus", virtio: "virtioVga", none: "noVga" } as const;
/** The module of each `--nic model=`. */
const NIC_MODULES = {
  e1000: "e1000",
  virtio: "virtioNet",
  rtl8139: "rtl8139",
  ne2k_pci: "ne2kPci",
} as const satisfies Record<NonNullable<MachineConfig["nics"]>[number]["model"], DeviceModuleName>;

const loaded: { -readonly [K in DeviceModuleName]?: DeviceModules[K] } = {};

/** The modules a board of `config` needs beyond the fixed devices. */
export function deviceModulesFor(config: MachineConfig): DeviceModuleName[] {
  const names = new Set<DeviceModuleName>();
  const vga = config.vga ?? DEFAULT_VGA_MODEL;
  if (vga !== "std") names.add(VGA_MODULES[vga]);
  if (config.disks.some((d) => d.interface === "virtio")) names.add("virtioBlk");
  for (const nic of config.nics ?? []) names.add(NIC_MODULES[nic.model]);
  if ((config.nics ?? []).length > 0) names.add("netLink");
  if ((config.devices ?? []).length > 0) names.add("optional");
  if (config.kernel) names.add("linuxBoot");
  return [...names];
}

/**
 * Loads the modules a board of `config` needs (once each). A specifier
 * Deno cannot read ahead keeps them out of the worker's start-up graph.
 */
export async function loadDeviceModules(config: MachineConfig): Promise<void> {
  for (const name of deviceModulesFor(config)) {
    if (loaded[name]) continue;
    const module = await import(new URL(PATHS[name], import.meta.url).href);
    (loaded as Record<DeviceModuleName, unknown>)[name] = module;
  }
}

/**
 * A module loaded by {@link loadDeviceModules}.
 * @throws {Error} when it was not loaded: the board's config and the loaded modules disagree
 */
export function deviceModule<K extends DeviceModuleName>(name: K): DeviceModules[K] {
  const module = loaded[name];
  if (!module) throw new Error(`${PATHS[name]} is not loaded: loadDeviceModules(config) first`);
  return module as DeviceModules[K];
}
