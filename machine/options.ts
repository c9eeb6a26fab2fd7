/**
 * Typed machine options, validated into a {@link MachineConfig}: what the
 * CLI parses its words into and what the API takes as objects. Every
 * problem is one {@link ConfigError}.
 *
 * @module
 */

import { DeviceSpecError, isPciDevice, parseDeviceSpec } from "./optional_devices.ts";
import { type DeviceShorthands, resolveDevices } from "./device_shorthands.ts";
import { type CpuFeatureConfig, CpuSpecError, parseCpuSpec } from "./cpu_features.ts";
import { KernelError } from "./kernel_error.ts";
import { planKernelBoot, readKernelFiles } from "./kernel_plan.ts";
import { ramLayout } from "./memory_map.ts";
import { ConfigError } from "./config_error.ts";
import { nicConfig, type NicSpec, parseNicSpec } from "./nic_spec.ts";
import {
  type DeviceConfig,
  type DiskConfig,
  type FirmwareConfig,
  type KernelConfig,
  type MachineConfig,
  MAX_CPUS,
  type NicConfig,
} from "./config.ts";
import { type DiskSpec, MAX_IDE_DEVICES } from "./disk_spec.ts";
import { biosImageProblem, DEFAULT_BIOS } from "./firmware.ts";
import { DEFAULT_VGA_MODEL, VGA_MODEL_INFO, type VgaModel, vgaModel } from "./vga_models.ts";
import { checkBootDisk, checkReadableFile } from "./image_checks.ts";
import { MAX_VIRTIO_DISKS, PCI_SLOT } from "./io_map.ts";
import { formatSize, parseSize } from "./sizes.ts";

/**
 * What a machine is built from. Sizes are a number of bytes or a size
 * text ("256M", "2G"; a bare number in text is MiB, as QEMU's `-m`).
 */
export interface MachineOptions extends DeviceShorthands {
  /** The disks, the first one booted. */
  readonly disks: readonly DiskSpec[];
  /** Guest RAM; default "256M". */
  readonly memory?: number | string;
  /** vCPUs; default 1. */
  readonly cpus?: number;
  /**
   * The CPU as QEMU's `-cpu` takes it: `host` (or `max`), then features
   * turned off or on, e.g. "host,-xsave,-popcnt" or "host,avx=off"; default "host".
   */
  readonly cpu?: string;
  /** "none" (the first sector runs at 0000:7c00) or a BIOS image; default Debian's SeaBIOS. */
  readonly firmware?: string;
  /** Keep all disk writes in memory; never write the images. */
  readonly snapshot?: boolean;
  /** Let the BIOS offer its boot menu (Esc). */
  readonly bootMenu?: boolean;
  /** A guest reset ends the run (reason "reset") instead of rebooting. */
  readonly noReboot?: boolean;
  /**
   * The display adapter, QEMU's `-vga` names: "std" (default), "cirrus",
   * "virtio" or "none" (no VGA and no VGA BIOS).
   */
  readonly vga?: string;
  /** VGA video memory (BAR0), a power of two from 1M to 256M; default "16M" (the Cirrus: 4M only). */
  readonly vgaMemory?: number | string;
  /** The guest's wall-clock time at start, epoch ms; default now. */
  readonly startTime?: number;
  /**
   * Boot a Linux kernel (QEMU's -kernel, -initrd, -append): without firmware
   * vmrun loads it itself, under SeaBIOS it goes through fw_cfg. The disks
   * are then optional.
   */
  readonly kernel?: { readonly path?: string; readonly initrd?: string; readonly cmdline?: string };
  /**
   * Optional devices, as `--device` takes them: `name[,key=value...]` (QEMU's
   * -device names: virtio-rng-pci, virtio-serial-pci, ib700, i6300esb, sb16, ES1370).
   */
  readonly devices?: string | readonly string[];
  /**
   * NICs, each on its own user-mode network: QEMU's `-nic` text
   * (`user,model=virtio,hostfwd=tcp::2222-:22`, or `none`) or a {@link NicSpec}.
   * No NIC when absent.
   */
  readonly nics?: string | NicSpec | readonly (string | NicSpec)[];
}

/** The smallest guest RAM vmrun builds. */
export const MIN_MEMORY = 2 ** 20;
/** The most virtio disks: one PCI slot each, from the first free one to the last. */
export { MAX_VIRTIO_DISKS };

/** What the host offers, for checks against it. */
export interface HostLimits {
  /** Host RAM in bytes. */
  readonly memoryBytes: number;
}

/**
 * Validates `options` into a machine config, checking every file.
 * @throws {ConfigError} naming the first problem
 */
export function machineConfig(options: MachineOptions, host: HostLimits): MachineConfig {
  if (options === null || typeof options !== "object") {
    throw new ConfigError(null, "options must be an object");
  }
  for (const key of ["snapshot", "bootMenu", "noReboot"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "boolean") {
      throw new ConfigError(key, "must be true or false");
    }
  }
  const memoryBytes = memorySize(options.memory ?? "256M", host.memoryBytes);
  const cpus = cpuCount(options.cpus ?? 1);
  const cpuFeatures = cpuSpec(options.cpu ?? "host");
  const vga = vgaModel(options.vga ?? DEFAULT_VGA_MODEL);
  const vgaMemoryBytes = vgaMemoryFor(vga, options.vgaMemory);
  const startTime = options.startTime ?? Date.now();
  if (typeof startTime !== "number" || !Number.isFinite(startTime)) {
    throw new ConfigError("startTime", "must be a time in epoch milliseconds");
  }
  const specs = diskSpecs(options.disks, options.kernel !== undefined);
  const firmwareName = options.firmware ?? DEFAULT_BIOS;
  if (typeof firmwareName !== "string") throw new ConfigError("firmware", "must be a string");
  const firmware: FirmwareConfig = firmwareName === "none"
    ? { kind: "none" }
    : checkFirmware(firmwareName, vga);
  const disks = specs.map((spec, i): DiskConfig => {
    const file = checkReadableFile(spec.path, "image");
    const media = spec.media ?? (/\.iso$/i.test(spec.path) ? "cdrom" : "disk");
    if (i === 0 && !options.kernel) checkBootDisk(file, media, firmware.kind === "none");
    const disk = {
      path: file.path,
      interface: spec.interface ?? "ide",
      media,
      readonly: (spec.readonly ?? false) || media === "cdrom",
    };
    return file.name === file.path ? disk : { ...disk, name: file.name };
  });
  const { devices, watchdogAction, audio } = resolveDevices(
    deviceConfigs(options.devices ?? []),
    options,
  );
  const slotsTaken = pciSlotsTaken(disks, devices);
  const kernel = kernelConfig(options.kernel, memoryBytes, firmware.kind !== "none");
  const nics = nicConfigs(options.nics ?? [], slotsTaken);
  return {
    memoryBytes,
    cpus,
    firmware,
    disks,
    snapshot: options.snapshot ?? false,
    bootMenu: options.bootMenu ?? false,
    startTimeMs: startTime,
    noReboot: options.noReboot ?? false,
    ...(vga === DEFAULT_VGA_MODEL ? {} : { vga }),
    vgaMemoryBytes,
    ...(devices.length ? { devices } : {}),
    ...(watchdogAction === undefined ? {} : { watchdogAction }),
    ...(audio === undefined ? {} : { audio }),
    ...(kernel ? { kernel } : {}),
    ...(cpuFeatures.length ? { cpuFeatures } : {}),
    ...(nics.length ? { nics } : {}),
  };
}

/**
 * The `--cpu` features, by QEMU's names (whether KVM can offer the ones
 * turned on is checked where KVM is opened: see checkCpuFeatures).
 * @throws {ConfigError} for another model or an unknown feature
 */
export function cpuSpec(value: string): CpuFeatureConfig[] {
  if (typeof value !== "string") throw new ConfigError("cpu", "must be a text such as host,-xsave");
  try {
    return parseCpuSpec(value);
  } catch (e) {
    if (e instanceof CpuSpecError) throw new ConfigError("cpu", e.message);
    throw e;
  }
}

/**
 * The NICs, checked (files they name included); they take the PCI slots
 * after the virtio disks and --devices. `none` alone means no NIC.
 * @throws {ConfigError} for a bad spec, a missing file, or too few slots
 */
function nicConfigs(
  specs: string | NicSpec | readonly (string | NicSpec)[],
  slotsTaken: number,
): NicConfig[] {
  const list = Array.isArray(specs) ? specs : [specs];
  const parsed: NicSpec[] = [];
  for (const s of list as (string | NicSpec)[]) {
    const spec = typeof s === "string" ? parseNicSpec(s) : s;
    if (spec !== null) parsed.push(spec);
  }
  if (parsed.length && parsed.length < list.length) {
    throw new ConfigError("nic", "none cannot be combined with other NICs");
  }
  if (slotsTaken + parsed.length > MAX_VIRTIO_DISKS) {
    throw new ConfigError(
      "nic",
      `${parsed.length} NICs do not fit in the PCI slots left (${MAX_VIRTIO_DISKS - slotsTaken})`,
    );
  }
  return parsed.map((spec, i) => {
    const nic = nicConfig(spec, i);
    if (nic.tftp !== null) checkDirectory(nic.tftp);
    return nic.romfile ? { ...nic, romfile: checkReadableFile(nic.romfile, "romfile").path } : nic;
  });
}

function checkDirectory(path: string): void {
  let info;
  try {
    info = Deno.statSync(path);
  } catch {
    throw new ConfigError("nic", `tftp directory '${path}' does not exist`);
  }
  if (!info.isDirectory) throw new ConfigError("nic", `tftp '${path}' is not a directory`);
}

/**
 * A kernel to boot, read and checked against the boot protocols and the RAM
 * it will have (so a bad kernel is one clear line before anything starts).
 * @throws {ConfigError} for a missing or unusable kernel or initrd
 */
function kernelConfig(
  k: MachineOptions["kernel"],
  memoryBytes: number,
  firmware: boolean,
): KernelConfig | null {
  if (k === undefined) return null;
  if (k.path === undefined) {
    if (k.initrd !== undefined) throw new ConfigError("initrd", "needs --kernel");
    throw new ConfigError("append", "needs --kernel");
  }
  const path = checkReadableFile(k.path, "kernel").path;
  const initrd = k.initrd === undefined ? null : checkReadableFile(k.initrd, "initrd").path;
  const kernel = { path, initrd, cmdline: k.cmdline ?? "" };
  try {
    planKernelBoot(readKernelFiles(kernel), ramLayout(memoryBytes), firmware);
  } catch (e) {
    if (e instanceof KernelError) throw new ConfigError(null, e.message);
    throw e;
  }
  return kernel;
}

/** The optional devices, checked against the registry. */
function deviceConfigs(specs: string | readonly string[]): DeviceConfig[] {
  const list = typeof specs === "string" ? [specs] : specs;
  if (!Array.isArray(list) || list.some((d) => typeof d !== "string")) {
    throw new ConfigError(null, "device must be a device spec or a list of them");
  }
  return list.map((spec) => {
    try {
      return parseDeviceSpec(spec);
    } catch (e) {
      if (e instanceof DeviceSpecError) throw new ConfigError(null, e.message);
      throw e;
    }
  });
}

/**
 * The PCI slots the virtio disks and PCI devices take (ISA devices take none).
 * @throws {ConfigError} when they need more than there are
 */
function pciSlotsTaken(disks: readonly DiskConfig[], devices: readonly DeviceConfig[]): number {
  const virtio = disks.filter((d) => d.interface === "virtio").length;
  const pci = devices.filter((d) => isPciDevice(d.name)).length;
  if (virtio + pci > MAX_VIRTIO_DISKS) {
    throw new ConfigError(
      null,
      `${virtio} virtio disks and ${pci} PCI --devices need more than the ` +
        `${MAX_VIRTIO_DISKS} free PCI slots (${PCI_SLOT.FIRST_VIRTIO}-${PCI_SLOT.LAST})`,
    );
  }
  return virtio + pci;
}

/**
 * Guest RAM in bytes: a number of bytes, or a size text.
 * @throws {ConfigError} when it is not a size, too small, not whole pages, or more than the host has
 */
export function memorySize(value: number | string, hostBytes: number): number {
  const bytes = sizeValue("memory", value, "256M or 2G");
  const shown = typeof value === "number" ? `${value} bytes` : value;
  if (bytes < MIN_MEMORY) {
    throw new ConfigError("memory", `${shown} is too small: the least is 1M (${MIN_MEMORY} bytes)`);
  }
  if (bytes % 4096 !== 0) {
    throw new ConfigError("memory", `${shown} is not a whole number of 4K pages`);
  }
  if (bytes > hostBytes) {
    throw new ConfigError(
      "memory",
      `${shown} is more than this host's ${formatSize(hostBytes)} of RAM`,
    );
  }
  return bytes;
}

/**
 * Video memory of `model`: `--vga-memory` for the std VGA (default 16M);
 * a model with fixed memory takes only that size.
 * @throws {ConfigError} otherwise
 */
function vgaMemoryFor(model: VgaModel, value: number | string | undefined): number {
  const fixed = VGA_MODEL_INFO[model].fixedMemory;
  if (fixed === null) return vgaMemorySize(value ?? "16M");
  if (value !== undefined && vgaMemorySize(value) !== fixed) {
    throw new ConfigError(
      "vgaMemory",
      `'${value}': the ${model} VGA has ${fixed / 2 ** 20}M of video memory, no other size`,
    );
  }
  return fixed;
}

/**
 * VGA video memory in bytes: a power of two from 1 MiB to 256 MiB (the BAR0 size).
 * @throws {ConfigError} otherwise
 */
export function vgaMemorySize(value: number | string): number {
  const bytes = typeof value === "number"
    ? value
    : typeof value === "string"
    ? parseSize(value)
    : null;
  if (
    bytes === null || !Number.isInteger(bytes) || bytes < 2 ** 20 || bytes > 2 ** 28 ||
    (bytes & (bytes - 1)) !== 0
  ) {
    throw new ConfigError("vgaMemory", `'${value}' must be a power of two from 1M to 256M`);
  }
  return bytes;
}

/**
 * The vCPU count.
 * @throws {ConfigError} unless a whole number from 1 to {@link MAX_CPUS}
 */
export function cpuCount(value: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_CPUS) {
    throw new ConfigError("cpus", `'${value}' must be a whole number from 1 to ${MAX_CPUS}`);
  }
  return value;
}

function sizeValue(
  option: "memory" | "vgaMemory",
  value: number | string,
  example: string,
): number {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) {
      throw new ConfigError(option, `${value} must be a whole number of bytes`);
    }
    return value;
  }
  const bytes = typeof value === "string" ? parseSize(value) : null;
  if (bytes === null) {
    throw new ConfigError(option, `'${value}' is not a size (try ${example})`);
  }
  return bytes;
}

/** Checks the disk list's shape and the interfaces' limits. */
function diskSpecs(disks: unknown, kernel: boolean): readonly DiskSpec[] {
  if (!Array.isArray(disks) || disks.some((d) => !isDiskSpec(d))) {
    throw new ConfigError("disk", "must be a list of disks, each with a path");
  }
  if (disks.length === 0 && !kernel) {
    throw new ConfigError(null, "missing required argument 'image' (or --kernel)");
  }
  for (const d of disks as DiskSpec[]) {
    if (d.interface !== undefined && d.interface !== "ide" && d.interface !== "virtio") {
      throw new ConfigError("disk", `'${d.path}': interface must be "ide" or "virtio"`);
    }
    if (d.media !== undefined && d.media !== "disk" && d.media !== "cdrom") {
      throw new ConfigError("disk", `'${d.path}': media must be "disk" or "cdrom"`);
    }
    if (d.readonly !== undefined && typeof d.readonly !== "boolean") {
      throw new ConfigError("disk", `'${d.path}': readonly must be true or false`);
    }
    if (d.media === "cdrom" && d.interface === "virtio") {
      throw new ConfigError("disk", `'${d.path}': CD-ROMs attach to IDE only`);
    }
  }
  const ide = disks.filter((d: DiskSpec) => (d.interface ?? "ide") === "ide").length;
  if (ide > MAX_IDE_DEVICES) {
    throw new ConfigError(
      null,
      `${ide} IDE disks and CD-ROMs: at most ${MAX_IDE_DEVICES} fit on the PIIX3 (two channels, two drives each)`,
    );
  }
  const virtio = disks.filter((d: DiskSpec) => d.interface === "virtio").length;
  if (virtio > MAX_VIRTIO_DISKS) {
    throw new ConfigError(
      null,
      `${virtio} virtio disks: at most ${MAX_VIRTIO_DISKS} fit (one PCI slot each, slots ${PCI_SLOT.FIRST_VIRTIO}-${PCI_SLOT.LAST})`,
    );
  }
  return disks;
}

function isDiskSpec(d: unknown): d is DiskSpec {
  return typeof d === "object" && d !== null && typeof (d as DiskSpec).path === "string";
}

/** Checks a BIOS image and finds the SeaVGABIOS image of the VGA `model`. */
function checkFirmware(path: string, model: VgaModel): FirmwareConfig {
  let file;
  try {
    file = checkReadableFile(path, "firmware");
  } catch (e) {
    if (e instanceof ConfigError && path === DEFAULT_BIOS && /no such file/.test(e.message)) {
      throw new ConfigError(
        null,
        `firmware '${path}' not found: install Debian's seabios package ` +
          `(sudo apt-get install seabios) or pass --firmware <path>`,
      );
    }
    throw e;
  }
  const problem = biosImageProblem(file.size);
  if (problem) {
    throw new ConfigError(null, `firmware '${file.name}' is not a BIOS image: ${problem}`);
  }
  let vgaBiosPath = VGA_MODEL_INFO[model].bios;
  try {
    if (vgaBiosPath !== null) Deno.statSync(vgaBiosPath);
  } catch {
    vgaBiosPath = null;
  }
  return { kind: "bios", path: file.path, vgaBiosPath };
}
