/**
 * `Vm.start` options, validated by the CLI's own parser so the API and
 * `vmrun` accept and refuse exactly the same machines.
 *
 * @module
 */

import { CommanderError } from "../deps/commander.ts";
import { UsageError } from "../cli/errors.ts";
import { parseCommandLine } from "../cli/program.ts";
import type { MachineConfig } from "../machine/config.ts";
import { VmOptionsError } from "./errors.ts";

/**
 * What `Vm.start` builds.
 *
 * @example Two disks, the first on virtio-blk, nothing written back
 * ```ts
 * import { Vm, type VmOptions } from "../mod.ts";
 * const options: VmOptions = {
 *   disk: ["guest.img,if=virtio", "data.iso"],
 *   memory: "1G",
 *   snapshot: true,
 *   timeout: 120_000,
 * };
 * await using vm = await Vm.start(options);
 * ```
 */
export interface VmOptions {
  /**
   * The boot image (a path; `.iso` boots as an IDE CD-ROM), or a list of
   * disk specs as `--disk` takes them: `path[,if=ide|virtio][,media=disk|cdrom][,readonly]`,
   * the first one booted.
   */
  readonly disk: string | readonly string[];
  /** Guest RAM: a size such as "64M" or "2G", or a number of bytes. Default "256M". */
  readonly memory?: string | number;
  /** vCPUs. Default 1. */
  readonly cpus?: number;
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
}

/**
 * Validates `options` into a machine config.
 * @throws {VmOptionsError} naming the first problem
 */
export function machineConfig(options: VmOptions, hostMemory: number): MachineConfig {
  const argv = optionsArgv(options);
  try {
    return parseCommandLine(argv, { out: () => {}, err: () => {}, hostMemory }).config;
  } catch (e) {
    if (e instanceof UsageError || e instanceof CommanderError) {
      throw new VmOptionsError(e.message);
    }
    throw e;
  }
}

/** The timeout option in milliseconds, or null for none. */
export function timeoutMs(options: VmOptions): number | null {
  const t = options.timeout;
  if (t === undefined) return null;
  if (typeof t !== "number" || !(t > 0)) {
    throw new VmOptionsError(`timeout ${t} must be a positive number of milliseconds`);
  }
  return t;
}

/** The command line that asks for the same machine. */
function optionsArgv(o: VmOptions): string[] {
  if (o === null || typeof o !== "object") throw new VmOptionsError("options must be an object");
  const argv: string[] = [];
  const flag = (name: string, on: unknown) => {
    if (on !== undefined && typeof on !== "boolean") {
      throw new VmOptionsError(`${name} must be true or false`);
    }
    if (on) argv.push(`--${name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`);
  };
  if (o.memory !== undefined) {
    if (typeof o.memory === "number" && !Number.isInteger(o.memory)) {
      throw new VmOptionsError(`memory ${o.memory} must be a whole number of bytes`);
    }
    argv.push("--memory", typeof o.memory === "number" ? `${o.memory}B` : String(o.memory));
  }
  if (o.cpus !== undefined) argv.push("--cpus", String(o.cpus));
  if (o.firmware !== undefined) {
    if (typeof o.firmware !== "string") throw new VmOptionsError("firmware must be a string");
    argv.push("--firmware", o.firmware);
  }
  flag("snapshot", o.snapshot);
  flag("bootMenu", o.bootMenu);
  flag("noReboot", o.noReboot);
  if (typeof o.disk === "string") return [...argv, "--", o.disk];
  if (!Array.isArray(o.disk) || o.disk.some((d) => typeof d !== "string")) {
    throw new VmOptionsError("disk must be a path or a list of disk specs");
  }
  for (const spec of o.disk) argv.push("--disk", spec);
  return argv;
}
