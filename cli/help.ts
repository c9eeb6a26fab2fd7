/**
 * `vmrun --help`: the program's options grouped (Machine, Disks, Console,
 * Scripting), every line within 80 columns, defaults shown only where they
 * say something, then the subcommands and a few examples. Built on
 * commander's own help (option groups and a configured `Help`).
 *
 * @module
 */

import { type Command, type CommandUnknownOpts, Help, type Option } from "../deps/commander.ts";

/** The help's widest line. */
export const HELP_WIDTH = 80;
/** Terms wider than this get a line of their own, the description below. */
const TERM_COLUMN = 27;

/** Each option's group, by long flag, in the order the groups are shown. */
export const HELP_GROUPS: readonly (readonly [string, readonly string[]])[] = [
  [
    "Machine:",
    [
      "--memory",
      "--cpus",
      "--cpu",
      "--firmware",
      "--boot-menu",
      "--no-reboot",
      "--vga",
      "--vga-memory",
      "--restore",
      "--force-restore",
    ],
  ],
  ["Disks:", ["--disk", "--snapshot"]],
  ["Network:", ["--nic"]],
  ["Kernel:", ["--kernel", "--initrd", "--append"]],
  ["Devices:", ["--watchdog", "--watchdog-action", "--device", "--audio"]],
  ["Console:", ["--headless", "--display", "--serial-log"]],
  [
    "Scripting:",
    [
      "--timeout",
      "--expect",
      "--expect-screen",
      "--send",
      "--type",
      "--key",
      "--screenshot",
      "--step-timeout",
      "--exit-on",
      "--fail-on",
      "--screenshot-on-fail",
      "--report",
      "--control",
    ],
  ],
  ["Other:", ["--version", "--help"]],
];

/** Where options not listed in {@link HELP_GROUPS} are shown. */
export const FALLBACK_GROUP = "Options:";

const SUBCOMMANDS: readonly (readonly [string, string])[] = [
  ["vmrun ctl <socket> <command> [args]", "drive a run started with --control (vmrun ctl -h)"],
  ["vmrun completions bash|zsh|fish", "print a shell completion script"],
];

const QEMU_NOTE = "QEMU-style options (-nographic, -m 512, -smp 1, -hda, -cdrom, -drive, " +
  "-snapshot, -serial stdio, ...) work where vmrun's meaning is the same; the others " +
  "are answered with vmrun's option.";

const EXAMPLES = [
  "vmrun --snapshot guest.img",
  "vmrun --headless --timeout 60 --exit-on 'login:' guest.img",
  "vmrun -nographic -m 512 -hda disk.img -cdrom install.iso",
];

/**
 * Gives `program` vmrun's help: groups, widths, defaults, subcommands and
 * examples. Call once, after every option is added.
 */
export function withVmrunHelp<T extends CommandUnknownOpts>(program: T): T {
  const groupOf = new Map(HELP_GROUPS.flatMap(([group, flags]) => flags.map((f) => [f, group])));
  for (const option of program.options) {
    option.helpGroup(groupOf.get(option.long ?? "") ?? FALLBACK_GROUP);
  }
  // The help option is made here so that it joins its group.
  program.optionsGroup(groupOf.get("--help") ?? FALLBACK_GROUP);
  program.helpOption("-h, --help", "show this help");
  program.configureHelp({
    prepareContext(context) {
      this.helpWidth = Math.min(HELP_WIDTH, context.helpWidth ?? HELP_WIDTH);
    },
    commandUsage(cmd) {
      const indent = " ".repeat("Usage: ".length);
      return [Help.prototype.commandUsage.call(this, cmd), ...SUBCOMMANDS.map(([u]) => u)]
        .join(`\n${indent}`);
    },
    groupItems<T extends Command | Option>(
      unsorted: T[],
      visible: T[],
      getGroup: (item: T) => string,
    ): Map<string, T[]> {
      const groups = new Help().groupItems<T>(unsorted, visible, getGroup);
      const rank = (g: string) => {
        const i = HELP_GROUPS.findIndex(([name]) => name === g);
        return i < 0 ? HELP_GROUPS.length - 1.5 : i; // unlisted ones just before "Other:"
      };
      return new Map([...groups].sort(([a], [b]) => rank(a) - rank(b)));
    },
    padWidth(cmd, helper) {
      return Math.min(TERM_COLUMN, Help.prototype.padWidth.call(this, cmd, helper));
    },
    formatItem(term, termWidth, description, helper) {
      const item = (t: string) =>
        Help.prototype.formatItem.call(this as Help, t, termWidth, description, helper);
      if (!description || helper.displayWidth(term) <= termWidth) return item(term);
      return `  ${term}\n${item("")}`;
    },
    optionDescription(option) {
      const extra: string[] = [];
      if (option.argChoices) extra.push(option.argChoices.join(", "));
      const d = option.defaultValue;
      // Empty lists and false say nothing; the flag's own text says what off means.
      if (typeof d === "string" && d !== "" && (option.required || option.optional)) {
        extra.push(`default: ${option.defaultValueDescription ?? d}`);
      }
      return extra.length ? `${option.description} (${extra.join("; ")})` : option.description;
    },
    formatHelp(cmd, helper) {
      const termWidth = helper.padWidth(cmd, helper);
      const width = helper.helpWidth ?? HELP_WIDTH;
      return [
        Help.prototype.formatHelp.call(this, cmd, helper).trimEnd(),
        "",
        ...helper.formatItemList(
          "Commands:",
          SUBCOMMANDS.map(([t, d]) => helper.formatItem(t, termWidth, d, helper)),
          helper,
        ),
        helper.boxWrap(QEMU_NOTE, width),
        "",
        "Examples:",
        ...EXAMPLES.map((e) => `  ${e}`),
        "",
      ].join("\n");
    },
  });
  return program;
}
