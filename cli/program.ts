/**
 * vmrun's command line: the commander program and its translation into a
 * validated machine configuration.
 *
 * @module
 */

import { VGA_MODELS } from "../machine/vga_models.ts";
import { Command, CommanderError, Option } from "../deps/commander.ts";
import type { ScriptOptions } from "../api/steps.ts";
import { ConfigError, type OptionName } from "../machine/config_error.ts";
import type { MachineConfig } from "../machine/config.ts";
import { parseDiskSpec } from "../machine/disk_spec.ts";
import { DEFAULT_BIOS } from "../machine/firmware.ts";
import { displayPath, hasEscapedBytes } from "../machine/host_path.ts";
import { machineConfig, type MachineOptions, vgaMemorySize } from "../machine/options.ts";
import { openSaveFile } from "../machine/restore.ts";
import { SaveFileError } from "../machine/save_file.ts";
import type { SaveHeader } from "../machine/saved_vm.ts";
import { OPTIONAL_DEVICE_NAMES } from "../machine/optional_devices.ts";
import { withVmrunHelp } from "./help.ts";
import { applyQemuHabits } from "./qemu_args.ts";
import { DISPLAY_CHOICES, type DisplayChoice } from "../tui/graphics/capabilities.ts";
import { UsageError } from "./errors.ts";
import { parseScript, parseSeconds } from "./steps.ts";
import { EXIT_WATCHDOG } from "../machine/watchdog.ts";

import { VERSION } from "./version.ts";
export { VERSION };

/** What a parsed command line asks for. */
export interface RunRequest {
  /** The machine as the options ask for it. */
  readonly options: MachineOptions;
  /** The same, validated. */
  readonly config: MachineConfig;
  readonly headless: boolean;
  /** Seconds, or null for no limit. */
  readonly timeout: number | null;
  /** A file that receives COM1's raw output too, or null. */
  readonly serialLog: string | null;
  /** The boot image as messages and the report name it. */
  readonly image: string;
  /** Steps, checks and the report of a scripted run (all empty when none are given). */
  readonly script: ScriptOptions;
  /** The --control socket path, or null. */
  readonly control: string | null;
  /** How the screen pane shows graphics modes (--display). */
  readonly display: DisplayChoice;
  /** The save file to carry on from (--restore), or null. */
  readonly restore: string | null;
}

/** Builds the commander program; `out`/`err` receive help and error text. */
export function buildProgram(out: (s: string) => void, err: (s: string) => void) {
  const program = new Command()
    .name("vmrun")
    .description("Run a PC virtual machine on KVM from the terminal.")
    .version(VERSION, "-V, --version")
    .argument("[image]", "disk image to boot (the first disk; IDE, or an IDE CD-ROM for .iso)")
    .option("-m, --memory <size>", "guest RAM (e.g. 64M, 2G)", "256M")
    .option("--cpus <n>", "number of vCPUs", "1")
    .option(
      "--cpu <host[,-feat|+feat...]>",
      "CPUID features to hide (-) or keep (+), QEMU's names, e.g. host,-xsave",
    )
    .option(
      "--firmware <none|path>",
      "BIOS image, or 'none' to run the image's first sector directly",
      DEFAULT_BIOS,
    )
    .option("--headless", "no console UI: COM1 on stdin/stdout")
    .option(
      "--disk <path[,if=ide|virtio][,media=disk|cdrom][,readonly]>",
      "another disk (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--snapshot", "keep all disk writes in memory; never write the images")
    .option("--serial-log <file>", "also write COM1's raw output to this file")
    .option("--boot-menu", "let the BIOS offer its boot menu (Esc)")
    .addOption(
      new Option("--timeout <seconds>", "stop the guest after this long (exit status 124)"),
    )
    .option("--no-reboot", "a guest reset ends the run (status 0) instead of rebooting")
    .option("--expect <regex>", "step: wait for this on COM1 (steps run in order)", collect, [])
    .option("--expect-screen <regex>", "step: wait for this on the text screen", collect, [])
    .option("--send <text>", "step: send to COM1 (\\n \\r \\t \\e \\xHH)", collect, [])
    .option("--type <text>", "step: type on the PS/2 keyboard (same escapes)", collect, [])
    .option("--key <combo>", "step: press keys, e.g. Ctrl+Alt+Delete", collect, [])
    .option("--screenshot <file>", "step: write the screen as PNG", collect, [])
    .option("--step-timeout <seconds>", "fail a step that takes longer (status 124)")
    .option("--exit-on <regex>", "end with status 0 when COM1 shows this", collect, [])
    .option("--fail-on <regex>", "end with status 1 when COM1 shows this", collect, [])
    .option("--screenshot-on-fail <file>", "write the screen as PNG when the run fails")
    .option("--report <file.json>", "write what happened as JSON")
    .option("--control <path>", "serve a JSON-lines control socket (mode 0600)")
    .addOption(
      new Option("--display <kind>", "how the screen pane shows graphics modes")
        .choices(DISPLAY_CHOICES).default("auto" as DisplayChoice),
    )
    .addOption(
      new Option(
        "--vga <model>",
        "display adapter, QEMU's -vga names: standard VGA with Bochs VBE, Cirrus CL-GD5446, virtio-gpu, or none (serial only)",
      ).choices(VGA_MODELS).default("std"),
    )
    .option(
      "--vga-memory <size>",
      "VGA video memory (BAR0), a power of two, 1M-256M (default: 16M; cirrus: 4M only)",
    )
    .option("--restore <file>", "carry on a VM saved with Ctrl-a s, vmrun ctl save or vm.save()")
    .option("--force-restore", "restore even though the disks changed since the save")
    .option(
      "--device <name[,opt=val...]>",
      "add a device by QEMU's -device name (repeatable): " +
        OPTIONAL_DEVICE_NAMES.join(", "),
      collect,
      [],
    )
    .option(
      "--nic <user[,model=...,hostfwd=...]|none>",
      "a NIC (e1000, virtio, rtl8139, ne2k_pci) on a user-mode network, QEMU's -nic syntax (repeatable; none by default)",
      collect,
      [],
    )
    // Direct kernel boot (QEMU's names).
    .option("--kernel <file>", "boot this Linux kernel (bzImage, or ELF vmlinux with PVH)")
    .option("--initrd <file>", "initial ramdisk for --kernel")
    .option("--append <cmdline>", "kernel command line, as given (add console=ttyS0 for COM1)")
    .option(
      "--watchdog <model[,action=a]>",
      "a watchdog: ib700 or i6300esb; action reset (default), poweroff, pause, " +
        `exit (status ${EXIT_WATCHDOG}) or none`,
    )
    .option(
      "--watchdog-action <action>",
      "what the watchdog (--device ib700|i6300esb) does when it expires: reset, poweroff, " +
        "pause, exit or none (QEMU's -action watchdog=)",
    )
    .option(
      "--audio <none|wav:file[,model=sb16|es1370]>",
      "record what the guest plays (PC speaker, and a sound card: --device sb16|ES1370 " +
        "or model=) to a WAV file",
    )
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err, outputError: () => {} })
    .showHelpAfterError(false);
  return withVmrunHelp(program);
}

/**
 * Parses and validates `argv` (without the program name).
 * @throws {UsageError} for any bad option or input
 * @throws {CommanderError} for --help and --version (exit code 0)
 */
export function parseCommandLine(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void; hostMemory: number },
): RunRequest {
  const program = buildProgram(io.out, io.err);
  argv = applyQemuHabits(argv, program.options, io.err);
  try {
    program.parse(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode !== 0) {
      throw new UsageError(e.message.replace(/^error: /, ""));
    }
    throw e;
  }
  const opts = program.opts();
  return usageErrors(() => {
    const cpus = /^\s*\d+\s*$/.test(opts.cpus) ? Number(opts.cpus) : NaN;
    if (Number.isNaN(cpus)) throw new ConfigError("cpus", `'${opts.cpus}' must be a whole number`);
    const timeout = opts.timeout === undefined ? null : parseSeconds(opts.timeout, "--timeout");
    if (opts.restore !== undefined) return restoreRequest(program, opts.restore, timeout);
    const disks = [
      ...(program.args[0] === undefined ? [] : [parseDiskSpec(program.args[0], true)]),
      ...opts.disk.map((spec) => parseDiskSpec(spec)),
    ];
    const options: MachineOptions = {
      memory: opts.memory,
      cpus,
      ...(opts.cpu === undefined ? {} : { cpu: opts.cpu }),
      firmware: opts.firmware,
      disks,
      snapshot: opts.snapshot ?? false,
      bootMenu: opts.bootMenu ?? false,
      noReboot: !opts.reboot,
      vga: opts.vga,
      vgaMemory: opts.vgaMemory,
      devices: opts.device,
      ...(opts.watchdog === undefined ? {} : { watchdog: opts.watchdog }),
      ...(opts.watchdogAction === undefined ? {} : { watchdogAction: opts.watchdogAction }),
      ...(opts.audio === undefined ? {} : { audio: opts.audio }),
      ...(opts.nic.length ? { nics: opts.nic } : {}),
      ...(opts.kernel === undefined && opts.initrd === undefined && opts.append === undefined
        ? {}
        : { kernel: { path: opts.kernel, initrd: opts.initrd, cmdline: opts.append } }),
    };
    const config = machineConfig(options, { memoryBytes: io.hostMemory });
    const script = parseScript(argv, program.options, opts);
    checkOutputNames([
      ["--serial-log", opts.serialLog],
      ["--report", script.report],
      ["--screenshot-on-fail", script.screenshotOnFail],
      ["--control", opts.control],
      ...script.steps.filter((s) => s.kind === "screenshot").map((s) => ["--screenshot", s.arg]),
    ] as [string, string | null | undefined][]);
    return {
      options,
      config,
      image: displayPath(disks[0]?.path ?? config.kernel?.path ?? ""),
      headless: opts.headless ?? false,
      timeout,
      serialLog: opts.serialLog ?? null,
      script,
      control: opts.control ?? null,
      display: opts.display,
      restore: null,
    };
  });

  /** --restore: the machine is the saved one; options that would change it are refused. */
  function restoreRequest(
    p: typeof program,
    file: string,
    timeout: number | null,
  ): RunRequest {
    const changing = MACHINE_FLAGS.filter((f) => p.getOptionValueSource(f.key) === "cli");
    if (p.args.length || changing.length) {
      const what = p.args.length ? "an image" : changing.map((f) => f.flag).join(", ");
      throw new UsageError(`--restore carries on the saved machine as it was: drop ${what}`);
    }
    let header: SaveHeader;
    try {
      header = openSaveFile(file, opts.forceRestore ?? false);
    } catch (e) {
      if (e instanceof SaveFileError) throw new UsageError(e.message);
      throw e;
    }
    const config = header.config;
    const script = parseScript(argv, p.options, opts);
    return {
      options: { disks: config.disks, memory: config.memoryBytes, cpus: config.cpus },
      config,
      image: displayPath(config.disks[0]?.path ?? file),
      headless: opts.headless ?? false,
      timeout,
      serialLog: opts.serialLog ?? null,
      script,
      control: opts.control ?? null,
      display: opts.display,
      restore: file,
    };
  }
}

/** Options that shape the machine, which a restore takes from the save file. */
const MACHINE_FLAGS = [
  { key: "memory", flag: "--memory" },
  { key: "cpus", flag: "--cpus" },
  { key: "cpu", flag: "--cpu" },
  { key: "firmware", flag: "--firmware" },
  { key: "disk", flag: "--disk" },
  { key: "snapshot", flag: "--snapshot" },
  { key: "bootMenu", flag: "--boot-menu" },
  { key: "reboot", flag: "--no-reboot" },
  { key: "vga", flag: "--vga" },
  { key: "vgaMemory", flag: "--vga-memory" },
  { key: "device", flag: "--device" },
  { key: "nic", flag: "--nic" },
  { key: "kernel", flag: "--kernel" },
  { key: "initrd", flag: "--initrd" },
  { key: "append", flag: "--append" },
  { key: "watchdog", flag: "--watchdog" },
  { key: "watchdogAction", flag: "--watchdog-action" },
  { key: "audio", flag: "--audio" },
] as const;

/**
 * Files vmrun creates are named in UTF-8: Deno cannot create a name with
 * other bytes, and must not create a different one instead.
 */
function checkOutputNames(names: [string, string | null | undefined][]): void {
  for (const [flag, name] of names) {
    if (name && hasEscapedBytes(name)) {
      throw new UsageError(
        `${flag} '${displayPath(name)}': vmrun creates files only under names that are UTF-8`,
      );
    }
  }
}

/** The flag that gives each machine option. */
const FLAGS: Record<OptionName, string> = {
  memory: "--memory",
  cpus: "--cpus",
  cpu: "--cpu",
  firmware: "--firmware",
  disk: "--disk",
  vga: "--vga",
  vgaMemory: "--vga-memory",
  snapshot: "--snapshot",
  bootMenu: "--boot-menu",
  noReboot: "--no-reboot",
  startTime: "--start-time",
  timeout: "--timeout",
  control: "--control",
  initrd: "--initrd",
  append: "--append",
  nic: "--nic",
  watchdog: "--watchdog",
  watchdogAction: "--watchdog-action",
  audio: "--audio",
};

/** A {@link ConfigError} in the command line's words. */
export function usageError(e: ConfigError): UsageError {
  return new UsageError(e.option === null ? e.problem : `${FLAGS[e.option]} ${e.problem}`);
}

/** Runs `f`, turning a {@link ConfigError} into a {@link UsageError}. */
export function usageErrors<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof ConfigError ? usageError(e) : e;
  }
}

/** Parses --vga-memory: a power of two from 1 MiB to 256 MiB (the BAR0 size). */
export function parseVgaMemory(text: string): number {
  return usageErrors(() => vgaMemorySize(text));
}

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
