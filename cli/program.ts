/**
 * vmrun's command line: the commander program and its translation into a
 * validated machine configuration.
 *
 * @module
 */

import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import type { FirmwareConfig, MachineConfig } from "../machine/config.ts";
import { biosImageProblem, DEFAULT_BIOS, DEFAULT_VGA_BIOS } from "../machine/firmware.ts";
import { UsageError } from "./errors.ts";
import { withVmrunHelp } from "./help.ts";
import { applyQemuHabits } from "./qemu_args.ts";
import { parseSize } from "./sizes.ts";
import { DISPLAY_CHOICES, type DisplayChoice } from "../tui/graphics/capabilities.ts";
import { MAX_IDE_DEVICES, parseDiskSpec } from "./disk_spec.ts";
import { parseScript, type ScriptOptions } from "./steps.ts";
import { parseAudioOption, parseWatchdogOptions } from "./device_options.ts";
import { EXIT_WATCHDOG } from "../machine/watchdog.ts";
import {
  checkBootDisk,
  checkReadableFile,
  parseCpus,
  parseMemory,
  parseTimeout,
} from "./inputs.ts";

/** vmrun's version, from package.json. */
export const VERSION = "0.1.0";

/** What a parsed command line asks for. */
export interface RunRequest {
  readonly config: MachineConfig;
  readonly headless: boolean;
  /** Seconds, or null for no limit. */
  readonly timeout: number | null;
  /** A file that receives COM1's raw output too, or null. */
  readonly serialLog: string | null;
  readonly image: string;
  /** Steps, checks and the report of a scripted run (all empty when none are given). */
  readonly script: ScriptOptions;
  /** The --control socket path, or null. */
  readonly control: string | null;
  /** How the screen pane shows graphics modes (--display). */
  readonly display: DisplayChoice;
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
    .option("--vga-memory <size>", "VGA video memory (BAR0), a power of two, 1M-256M", "16M")
    // Optional devices (cli/device_options.ts).
    .option(
      "--watchdog <model[,action=a]>",
      "a watchdog: ib700 or i6300esb; action reset (default), poweroff, pause, " +
        `exit (status ${EXIT_WATCHDOG}) or none`,
    )
    .option(
      "--device <driver>",
      "add a device: ib700, i6300esb, sb16, ES1370 (repeatable)",
      collect,
      [],
    )
    .option("--watchdog-action <action>", "what the --device watchdog does when it expires")
    .option(
      "--audio <none|wav:file[,model=sb16|es1370]>",
      "record what the guest plays (PC speaker, and the sound card model=) to a WAV file",
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
  const memoryBytes = parseMemory(opts.memory, io.hostMemory);
  const cpus = parseCpus(opts.cpus);
  if (cpus > 1) {
    // The worker boundary is per vCPU, but application processors are not started yet.
    throw new UsageError(
      `--cpus ${cpus}: this build runs one vCPU; SMP guests are not supported yet`,
    );
  }
  const timeout = opts.timeout === undefined ? null : parseTimeout(opts.timeout);
  const disks = [
    ...(program.args[0] === undefined ? [] : [parseDiskSpec(program.args[0], true)]),
    ...opts.disk.map((spec) => parseDiskSpec(spec)),
  ];
  if (disks.length === 0) throw new UsageError("missing required argument 'image'");
  if (disks.filter((d) => d.interface === "ide").length > MAX_IDE_DEVICES) {
    throw new UsageError(`at most ${MAX_IDE_DEVICES} IDE disks and CD-ROMs fit on the PIIX3`);
  }
  for (const d of disks) checkReadableFile(d.path, "image");
  const firmware = opts.firmware === "none"
    ? { kind: "none" as const }
    : checkFirmware(opts.firmware);
  checkBootDisk(disks[0], firmware.kind === "none");
  return {
    image: disks[0].path,
    headless: opts.headless ?? false,
    timeout,
    serialLog: opts.serialLog ?? null,
    script: parseScript(argv, program.options, opts),
    control: opts.control ?? null,
    display: opts.display,
    config: {
      memoryBytes,
      cpus,
      firmware,
      disks,
      snapshot: opts.snapshot ?? false,
      bootMenu: opts.bootMenu ?? false,
      startTimeMs: Date.now(),
      noReboot: !opts.reboot,
      vgaMemoryBytes: parseVgaMemory(opts.vgaMemory),
      watchdog: parseWatchdogOptions(opts),
      audio: parseAudioOption(opts.audio, opts.device),
    },
  };
}

/** Parses --vga-memory: a power of two from 1 MiB to 256 MiB (the BAR0 size). */
export function parseVgaMemory(text: string): number {
  const bytes = parseSize(text);
  if (bytes === null || bytes < 2 ** 20 || bytes > 2 ** 28 || (bytes & (bytes - 1)) !== 0) {
    throw new UsageError(`--vga-memory '${text}' must be a power of two from 1M to 256M`);
  }
  return bytes;
}

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Checks a BIOS image and finds SeaVGABIOS beside the default one. */
function checkFirmware(path: string): FirmwareConfig {
  let size: number;
  try {
    size = checkReadableFile(path, "firmware").size;
  } catch (e) {
    if (e instanceof UsageError && path === DEFAULT_BIOS && /no such file/.test(e.message)) {
      throw new UsageError(
        `firmware '${path}' not found: install Debian's seabios package ` +
          `(sudo apt-get install seabios) or pass --firmware <path>`,
      );
    }
    throw e;
  }
  const problem = biosImageProblem(size);
  if (problem) throw new UsageError(`firmware '${path}' is not a BIOS image: ${problem}`);
  let vgaBiosPath: string | null = DEFAULT_VGA_BIOS;
  try {
    Deno.statSync(DEFAULT_VGA_BIOS);
  } catch {
    vgaBiosPath = null;
  }
  return { kind: "bios", path, vgaBiosPath };
}
