import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { FALLBACK_GROUP, HELP_GROUPS, HELP_WIDTH } from "./help.ts";
import { buildProgram, parseCommandLine } from "./program.ts";

/** The help text as `vmrun --help` prints it, on a terminal `columns` wide. */
function helpText(columns?: number): string {
  let out = "";
  const program = buildProgram((s) => out += s, () => {});
  if (columns !== undefined) program.configureOutput({ getOutHelpWidth: () => columns });
  try {
    program.parse(["--help"], { from: "user" });
  } catch { /* commander's exit override after printing */ }
  return out;
}

/** The help's sections: heading -> its lines. */
function sections(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of text.split("\n")) {
    if (/^[A-Z][\w ]*:$/.test(line)) map.set(line, current = []);
    else current.push(line);
  }
  return map;
}

Deno.test("--help lines are at most 80 columns, on a pipe and on a wide terminal", () => {
  for (const columns of [undefined, 80, 200]) {
    const text = helpText(columns);
    ok(text.length > 500, "help was printed");
    for (const line of text.split("\n")) {
      ok(line.length <= HELP_WIDTH, `${line.length} columns: ${line}`);
    }
  }
});

Deno.test("--help is what parseCommandLine prints for --help and -help", () => {
  for (const arg of ["--help", "-h", "-help"]) {
    let out = "";
    try {
      parseCommandLine([arg], { out: (s) => out += s, err: () => {}, hostMemory: 2 ** 30 });
    } catch { /* CommanderError with status 0 */ }
    strictEqual(out, helpText(), arg);
  }
});

Deno.test("--help groups every option under Machine, Disks, Console, Scripting, Other", () => {
  const text = helpText();
  const groups = sections(text);
  deepStrictEqual(
    [...groups.keys()].filter((g) => g !== "Usage:"),
    ["Arguments:", ...HELP_GROUPS.map(([g]) => g), "Commands:", "Examples:"],
  );
  ok(!groups.has(FALLBACK_GROUP), "an option has no group: add it to HELP_GROUPS");
  const options = [...buildProgram(() => {}, () => {}).options.map((o) => o.long!), "--help"];
  for (const [group, flags] of HELP_GROUPS) {
    const lines = groups.get(group)!.join("\n");
    for (const flag of flags) ok(new RegExp(`^  (-\\w, )?${flag}\\b`, "m").test(lines), flag);
  }
  deepStrictEqual(
    options.toSorted(),
    HELP_GROUPS.flatMap(([, flags]) => flags).toSorted(),
    "every option is in exactly one group",
  );
});

Deno.test("--help shows defaults only where they say something", () => {
  const text = helpText();
  for (const bad of ["default: []", "default: false", "default: true", 'default: ""', '"']) {
    ok(!text.includes(bad), bad);
  }
  ok(text.includes("(default: 256M)"));
  const flowing = text.replace(/\s+/g, " ");
  ok(flowing.includes("(auto, text, sixel, kitty, blocks, none; default: auto)"));
  ok(/^Usage: vmrun \[options\] \[image\]$/m.test(text));
  ok(/^ +vmrun ctl <socket> <command> \[args\]$/m.test(text));
  ok(/^ +vmrun completions bash\|zsh\|fish$/m.test(text));
  ok(/^ {2}vmrun .*guest\.img$/m.test(text), "an example");
});
