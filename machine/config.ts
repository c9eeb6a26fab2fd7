/**
 * What a machine is built from: plain data, validated on the main thread and
 * sent to the vCPU worker as is.
 *
 * @module
 */

import type { VgaModel } from "./vga_models.ts";
import type { AudioConfig } from "./audio.ts";
import type { WatchdogAction } from "./watchdog.ts";
import type { CpuFeatureConfig } from "./cpu_features.ts";

/** A disk attached to the machine. */
export interface DiskConfig {
  /** A path Deno's file APIs open (`/proc/self/fd/<n>` for a name that is not UTF-8). */
  readonly path: string;
  /** How messages show the image (bytes that are not UTF-8 as `\xHH`); `path` when absent. */
  readonly name?: string;
  readonly interface: "ide" | "virtio";
  /** CD-ROM media (ATAPI) instead of a hard disk. */
  readonly media: "disk" | "cdrom";
  readonly readonly: boolean;
}

/** An optional device added with `--device` (see optional_devices.ts). */
export interface DeviceConfig {
  /** Its QEMU `-device` name, e.g. "virtio-rng-pci". */
  readonly name: string;
  readonly options: Readonly<Record<string, string>>;
}

/** NIC models, by QEMU's `-nic model=` names. */
export const NIC_MODELS = ["virtio", "e1000", "rtl8139", "ne2k_pci"] as const;
/** A NIC model. */
export type NicModel = typeof NIC_MODELS[number];

/** A host-to-guest port forward (QEMU's `hostfwd=`). */
export interface HostForwardConfig {
  readonly protocol: "tcp" | "udp";
  /** Host address to bind; "" for any. */
  readonly hostAddress: string;
  /** Host port; 0 lets the host pick one. */
  readonly hostPort: number;
  /** Guest address; "" for the first DHCP address. */
  readonly guestAddress: string;
  readonly guestPort: number;
}

/** A NIC on a user-mode (libslirp) network, as QEMU's `-nic user,...`. */
export interface NicConfig {
  readonly model: NicModel;
  /** Six bytes. */
  readonly mac: readonly number[];
  /** Guest network address and its prefix length (QEMU's `net=`, 10.0.2.0/24). */
  readonly network: string;
  readonly prefixLength: number;
  /** The gateway/host address (QEMU's `host=`, network + 2). */
  readonly host: string;
  /** First DHCP address (QEMU's `dhcpstart=`, network + 15). */
  readonly dhcpStart: string;
  /** Virtual DNS server (QEMU's `dns=`, network + 3). */
  readonly dns: string;
  /** `restrict=on`: no traffic leaves the virtual network except forwards. */
  readonly restrict: boolean;
  readonly hostForwards: readonly HostForwardConfig[];
  /** TFTP root, or null. */
  readonly tftp: string | null;
  /** DHCP boot file name, or null. */
  readonly bootfile: string | null;
  /** Write every frame to this pcap file, or null. */
  readonly pcap: string | null;
  /** Option ROM: a path, "" for none, null for the model's ROM from ipxe-qemu. */
  readonly romfile: string | null;
}

/** Firmware choice. */
export type FirmwareConfig =
  /** No BIOS: the first disk's boot sector runs at 0000:7c00 in real mode. */
  | { readonly kind: "none" }
  /** A BIOS image mapped below 4 GiB; the vCPU starts at the reset vector. */
  | { readonly kind: "bios"; readonly path: string; readonly vgaBiosPath: string | null };

/** A kernel to boot directly (`--kernel`, `--initrd`, `--append`). */
export interface KernelConfig {
  /** A bzImage, or an ELF vmlinux with the PVH entry note. */
  readonly path: string;
  readonly initrd: string | null;
  /** The command line, passed as given (no console= or other defaults added). */
  readonly cmdline: string;
}

/** Everything needed to build a machine. */
export interface MachineConfig {
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly firmware: FirmwareConfig;
  readonly disks: readonly DiskConfig[];
  /** Keep all disk writes in memory. */
  readonly snapshot: boolean;
  readonly bootMenu: boolean;
  /** Guest wall-clock time at start, epoch ms (the RTC's base). */
  readonly startTimeMs: number;
  /** The display adapter (`--vga`); "std" when absent. */
  readonly vga?: VgaModel;
  /** VGA video RAM (BAR0) in bytes, a power of two; 16 MiB when absent. */
  readonly vgaMemoryBytes?: number;
  /** A reset ends the run (reason "reset") instead of rebooting. */
  readonly noReboot?: boolean;
  /**
   * Optional devices (watchdogs and sound cards among them), in command-line
   * order: PCI ones take the slots after the virtio disks; none when absent.
   */
  readonly devices?: readonly DeviceConfig[];
  /** Boot this kernel instead of the first disk's boot sector (without firmware), or through SeaBIOS. */
  readonly kernel?: KernelConfig;
  /** What a watchdog device's expiry does (QEMU's `-action watchdog=`); reset when absent. */
  readonly watchdogAction?: WatchdogAction;
  /**
   * Record what the guest plays (the PC speaker and any sound card in
   * `devices`) to a WAV file; nothing is recorded when absent.
   */
  readonly audio?: AudioConfig;
  /** CPUID features turned on or off with `--cpu host,...` (QEMU's names); none when absent. */
  readonly cpuFeatures?: readonly CpuFeatureConfig[];
  /** NICs, each on its own user-mode network; none when absent. */
  readonly nics?: readonly NicConfig[];
}

/** The largest guest vmrun will build. */
export const MAX_CPUS = 16;
