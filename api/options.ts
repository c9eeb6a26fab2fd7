/**
 * `Vm.start` options: the machine's typed options (the same ones the CLI
 * parses its words into) plus the run's time limit, validated by the
 * machine layer and refused as {@link VmOptionsError}.
 *
 * @module
 */

import { ConfigError } from "../machine/config_error.ts";
import type { MachineConfig } from "../machine/config.ts";
import { parseDiskSpec } from "../machine/disk_spec.ts";
import type { MachineOptions } from "../machine/options.ts";
import { checkHostNetworks, checkKvm, prepareMachine } from "../machine/session.ts";
import { openSaveFile } from "../machine/restore.ts";
import { SaveFileError } from "../machine/save_file.ts";
import { VmOptionsError } from "./errors.ts";
import type { DiskSpec, NicSpec } from "./types.ts";

/**
 * What `Vm.start` builds. Sizes are a number of bytes, or a text such as
 * "64M" or "2G" (binary units; a bare number in text is MiB, as QEMU's `-m`).
 *
 * @example Two disks, the first on virtio-blk, nothing written back
 * ```ts
 * import { Vm, type VmOptions } from "../mod.ts";
 * const options: VmOptions = {
 *   disk: [{ path: "guest.img", interface: "virtio" }, "data.iso"],
 *   memory: "1G",
 *   snapshot: true,
 *   timeout: 120_000,
 * };
 * await using vm = await Vm.start(options);
 * ```
 */
export interface VmOptions {
  /**
   * The boot image (a path; `.iso` boots as an IDE CD-ROM), a {@link DiskSpec},
   * or a list of disks, the first one booted: each a {@link DiskSpec} or a
   * text as `--disk` takes it, `path[,if=ide|virtio][,media=disk|cdrom][,readonly]`.
   * At most 4 IDE disks and CD-ROMs, and 29 virtio disks.
   */
  readonly disk?: string | DiskSpec | readonly (string | DiskSpec)[];
  /**
   * Carry on a VM saved with `vm.save()` (or `vmrun ctl save`, Ctrl-a s)
   * instead of booting: the machine (disks, memory, CPUs, firmware) is the
   * saved one, so no other machine option may be given with it.
   */
  readonly restore?: string;
  /** With `restore`: carry on even though the disks changed since the save. */
  readonly forceRestore?: boolean;
  /** Guest RAM: a number of bytes or a size text; at least 1M. Default "256M". */
  readonly memory?: string | number;
  /** vCPUs. Default 1. */
  readonly cpus?: number;
  /**
   * The CPU, as QEMU's `-cpu` and vmrun's `--cpu` take it: "host" (or "max")
   * and features turned off or on by QEMU's names, e.g. "host,-xsave,-popcnt".
   * `+feat` only keeps a bit this host's KVM offers. Default "host".
   */
  readonly cpu?: string;
  /** "none" (the first sector runs at 0000:7c00) or a BIOS image. Default: Debian's SeaBIOS. */
  readonly firmware?: string;
  /** Keep all disk writes in memory; never write the images. */
  readonly snapshot?: boolean;
  /** Let the BIOS offer its boot menu (Esc). */
  readonly bootMenu?: boolean;
  /** Ends the run after this many milliseconds (reason "timeout", code 124). */
  readonly timeout?: number;
  /** A guest reset ends the run (reason "reset", code 0) instead of rebooting. */
  readonly noReboot?: boolean;
  /**
   * The display adapter, QEMU's `-vga` names: "std" (default: standard VGA
   * with Bochs VBE), "cirrus" (CL-GD5446 with BitBLT), "virtio" or "none"
   * (no VGA and no VGA BIOS: `vm.screen` stays blank).
   */
  readonly vga?: "std" | "cirrus" | "virtio" | "none";
  /**
   * VGA video memory (BAR0): bytes or a size text, a power of two from 1M to
   * 256M. Default "16M" ("4M", the only size, for the Cirrus).
   */
  readonly vgaMemory?: string | number;
  /**
   * Optional devices as `--device` takes them, by QEMU's `-device` names:
   * "virtio-rng-pci", "virtio-serial-pci[,name=<port 1 name>]" (see `vm.console`),
   * the watchdogs "ib700" (ISA) and "i6300esb" (PCI; see `watchdogAction`) and the
   * sound cards "sb16" (ISA) and "ES1370" (PCI; they play into `audio`). PCI
   * devices take the next free slots in the order given; ISA ones take none.
   */
  readonly device?: string | readonly string[];
  /**
   * A watchdog, as `--watchdog` takes it: "ib700" or "i6300esb", with an
   * optional ",action=<a>" (see `watchdogAction`). The same as that model in
   * `device`, placed after the other devices. Its expiries reach
   * `vm.watchdogEvents` and `vm.waitForWatchdog()`.
   */
  readonly watchdog?: string;
  /**
   * What the watchdog does when it expires (QEMU's `-action watchdog=`):
   * "reset" (the default), "poweroff" (the run ends as a power-off, code 0),
   * "pause" (`vm.resume()` carries on), "exit" (the run ends with reason
   * "watchdog", code 3) or "none" (only recorded). Needs a watchdog.
   */
  readonly watchdogAction?: "reset" | "poweroff" | "pause" | "exit" | "none";
  /**
   * Record what the guest plays to a WAV file (mono, 16-bit, 44.1 kHz): "none"
   * (the default) or "wav:<file>[,model=sb16|es1370]". The PC speaker is
   * always recorded; `model=` adds that sound card (as QEMU's `-audio
   * model=`, before the other devices), or name the card in `device`. The
   * file is created when the options are checked, so a path that cannot be
   * written is refused then.
   */
  readonly audio?: string;
  /**
   * NICs, each on its own user-mode network (libslirp), as QEMU's `-nic`:
   * "user,model=virtio,hostfwd=tcp::2222-:22", or a {@link NicSpec} object,
   * or a list of them. No NIC when absent.
   */
  readonly nic?: string | NicSpec | readonly (string | NicSpec)[];
  /** Boot this Linux kernel (bzImage, or an ELF vmlinux with the PVH note); `disk` is then optional. */
  readonly kernel?: string;
  /** An initial ramdisk for `kernel`. */
  readonly initrd?: string;
  /** The kernel command line, as given: add `console=ttyS0` to see it on `vm.serial`. */
  readonly append?: string;
}

/**
 * Validates `options` into a machine config and checks that KVM can be used.
 * @throws {VmOptionsError} naming the first problem
 * @throws {KvmUnavailableError} when /dev/kvm cannot be used
 */
export function prepareVm(
  options: VmOptions,
): { config: MachineConfig; timeoutMs: number | null; restore: string | null } {
  try {
    if (options === null || typeof options !== "object") {
      throw new ConfigError(null, "options must be an object");
    }
    const timeoutMs = timeout(options.timeout);
    if (options.restore !== undefined) return { ...restored(options), timeoutMs };
    const config = prepareMachine(machineOptions(options));
    return { config, timeoutMs, restore: null };
  } catch (e) {
    if (e instanceof ConfigError) throw new VmOptionsError(e.message);
    if (e instanceof SaveFileError) throw new VmOptionsError(e.message);
    throw e;
  }
}

/** The saved machine of `options.restore`, checked; no option may reshape it. */
function restored(o: VmOptions): { config: MachineConfig; restore: string } {
  if (typeof o.restore !== "string") throw new ConfigError(null, "restore must be a path");
  const { restore: _r, forceRestore: _f, timeout: _t, ...shaping } = o;
  const given = Object.entries(shaping).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (given.length) {
    throw new ConfigError(
      null,
      `restore carries on the saved machine as it was: drop ${given.join(", ")}`,
    );
  }
  const header = openSaveFile(o.restore, o.forceRestore ?? false);
  checkKvm(header.config);
  checkHostNetworks(header.config);
  return { config: header.config, restore: o.restore };
}

/** The machine options `options` ask for. */
function machineOptions(o: VmOptions): MachineOptions {
  const {
    disk,
    timeout: _,
    restore: _r,
    forceRestore: _f,
    device,
    nic,
    kernel,
    initrd,
    append,
    ...rest
  } = o;
  const boot = kernel === undefined && initrd === undefined && append === undefined
    ? {}
    : { kernel: { path: kernel, initrd, cmdline: append } };
  if (disk === undefined && !("kernel" in boot)) {
    throw new ConfigError("disk", "is required (or a kernel, or restore a saved VM)");
  }
  return {
    ...rest,
    disks: disk === undefined ? [] : disks(disk),
    ...(device === undefined ? {} : { devices: device }),
    ...(nic === undefined ? {} : { nics: nic }),
    ...boot,
  };
}

function disks(disk: VmOptions["disk"]): DiskSpec[] {
  if (typeof disk === "string") return [{ path: disk }];
  if (Array.isArray(disk)) {
    return disk.map((d) => typeof d === "string" ? parseDiskSpec(d) : d);
  }
  if (typeof disk === "object" && disk !== null) return [disk as DiskSpec];
  throw new ConfigError("disk", "must be a path, a disk spec or a list of them");
}

function timeout(t: unknown): number | null {
  if (t === undefined) return null;
  if (typeof t !== "number" || !(t > 0)) {
    throw new ConfigError("timeout", `${t} must be a positive number of milliseconds`);
  }
  return t;
}
