import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { completionModel, completionScript, completionsMain, SHELLS } from "./completions.ts";
import { COMMANDS } from "../api/control_server.ts";
import { buildProgram } from "./program.ts";

const OPTIONS = buildProgram(() => {}, () => {}).options;

/** Runs `shell` with `args`, `input` on stdin, in `cwd`. */
async function sh(shell: string, args: string[], cwd: string, input = "", completion = "") {
  const child = new Deno.Command(shell, {
    args,
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { HOME: cwd, LANG: "C", VMRUN_COMPLETION: completion },
    signal: AbortSignal.timeout(60_000), // a shell waiting for input fails the test, not hangs it
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const r = await child.output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

/** A directory with a few files to complete. */
function filesDir(): string {
  const dir = Deno.makeTempDirSync();
  for (const f of ["disk.img", "dump.iso", "notes.txt"]) Deno.writeTextFileSync(`${dir}/${f}`, "");
  return dir;
}

Deno.test("each completion script passes its shell's syntax check", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const check: Record<string, string[]> = {
      bash: ["-n"],
      zsh: ["-n"],
      fish: ["--no-execute"],
    };
    for (const shell of SHELLS) {
      const file = `${dir}/vmrun.${shell}`;
      Deno.writeTextFileSync(file, completionScript(shell, OPTIONS));
      const r = await sh(shell, [...check[shell], file], dir);
      strictEqual(r.code, 0, `${shell}: ${r.err}`);
      strictEqual(r.err, "", shell);
    }
    // The check catches a broken script.
    Deno.writeTextFileSync(`${dir}/broken`, completionScript("bash", OPTIONS) + "\nif then\n");
    ok((await sh("bash", ["-n", `${dir}/broken`], dir)).code !== 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("every option of the program is in every script", () => {
  for (const shell of SHELLS) {
    const script = completionScript(shell, OPTIONS);
    for (const o of OPTIONS) {
      const long = o.long!;
      const word = shell === "fish" ? `-l ${long.slice(2)} ` : long;
      ok(script.includes(word), `${shell}: ${long}`);
    }
  }
});

Deno.test("values complete from placeholders and choices", () => {
  const model = completionModel(OPTIONS);
  const files = model.filter((o) => o.value?.files).map((o) => o.names.at(-1)).toSorted();
  deepStrictEqual(files, [
    "--control",
    "--disk",
    "--firmware",
    "--initrd",
    "--kernel",
    "--report",
    "--restore",
    "--screenshot",
    "--screenshot-on-fail",
    "--serial-log",
  ]);
  const words = (flag: string) => model.find((o) => o.names.includes(flag))?.value?.words;
  deepStrictEqual(words("--display"), ["auto", "text", "sixel", "kitty", "blocks", "none"]);
  deepStrictEqual(words("--firmware"), ["none"]);
  deepStrictEqual(words("--memory"), []);
  strictEqual(model.find((o) => o.names.includes("--headless"))?.value, null);
  ok(model.find((o) => o.names.includes("--disk"))?.repeatable);
  deepStrictEqual(model.find((o) => o.names.includes("--help"))?.names, ["-h", "--help"]);
});

/** What bash's completion function answers for a command line (words, the last being typed). */
async function bashComplete(script: string, dir: string, words: string[]): Promise<string[]> {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const r = await sh(
    "bash",
    [
      "--norc",
      "--noprofile",
      "-c",
      `${script}
COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _vmrun
printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    dir,
  );
  strictEqual(r.code, 0, r.err);
  return r.out.split("\n").filter((l) => l !== "").toSorted();
}

Deno.test("bash completes options, their values and vmrun ctl", async () => {
  const dir = filesDir();
  try {
    const s = completionScript("bash", OPTIONS);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "--disp"]), ["--display"]);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "--display", ""]), [
      "auto",
      "blocks",
      "kitty",
      "none",
      "sixel",
      "text",
    ]);
    // "--display=s": split at "=" (bash's default COMP_WORDBREAKS) or whole.
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "--display", "=", "s"]), ["sixel"]);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "--display=k"]), ["--display=kitty"]);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "--screenshot-on"]), [
      "--screenshot-on-fail",
    ]);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "--disk", "d"]), ["disk.img", "dump.iso"]);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "--firmware", ""]), [
      "disk.img",
      "dump.iso",
      "none",
      "notes.txt",
    ]);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "--memory", ""]), []);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", ""]), [
      "completions",
      "ctl",
      "disk.img",
      "dump.iso",
      "notes.txt",
    ]);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "--snapshot", "c"]), []);
    deepStrictEqual(
      await bashComplete(s, dir, ["vmrun", "ctl", "vm.sock", ""]),
      [...COMMANDS].toSorted(),
    );
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "ctl", "vm.sock", "subscribe", "s"]), [
      "serial",
      "state",
    ]);
    deepStrictEqual(await bashComplete(s, dir, ["vmrun", "completions", "z"]), ["zsh"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/**
 * Drives an interactive zsh on a pseudo-terminal (zpty): loads compinit and
 * the script, wraps compadd to print each match and _vmrun to say it ran,
 * then types the line and Tab.
 */
const ZSH_CAPTURE = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "unsetopt autolist; autoload -Uz compinit; compinit -u -D -d ./.zcompdump"
zpty -w z 'source "$VMRUN_COMPLETION"'
zpty -w z 'functions[_vmrun_script]=$functions[_vmrun]; _vmrun() { print -rl -- "" "<called>"; _vmrun_script "$@"; }'
zpty -w z 'compadd() { local -a m; builtin compadd -O m "$@"; (( $#m )) && print -rl -- "" "<match>"\${^m}; builtin compadd "$@"; }'
zpty -w z "PS1='<prompt>'; print -r -- REA''DY"
zpty -r z out '*READY*<prompt>'
zpty -w -n z "$1"$'\\t'$'\\C-u'
zpty -w z 'print -r -- "END""OFCOMP"'
zpty -r z out '*ENDOFCOMP*'
print -r -- "$out"
zpty -d z
`;

/** What zsh completes for a command line (the matches its completion functions add). */
async function zshComplete(scripts: string, dir: string, line: string): Promise<string[]> {
  // Now and then zsh beeps without calling any completer when Tab arrives with
  // typeahead; that says nothing of the script, so such a try is repeated.
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await sh("zsh", ["-f", `${scripts}/capture.zsh`, line], dir, "", `${scripts}/_vmrun`);
    strictEqual(r.code, 0, r.err);
    const lines = r.out.split(/\r?\n/);
    if (!lines.includes("<called>")) continue;
    const matches = lines.filter((l) => l.startsWith("<match>")).map((l) => l.slice(7));
    return [...new Set(matches)].toSorted();
  }
  throw new Error(`zsh never ran _vmrun for '${line}'`);
}

Deno.test("zsh completes options, their values and vmrun ctl", async () => {
  const dir = filesDir();
  const scripts = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${scripts}/capture.zsh`, ZSH_CAPTURE);
    Deno.writeTextFileSync(`${scripts}/_vmrun`, completionScript("zsh", OPTIONS));
    deepStrictEqual(await zshComplete(scripts, dir, "vmrun --disp"), ["--display"]);
    deepStrictEqual(await zshComplete(scripts, dir, "vmrun --display "), [
      "auto",
      "blocks",
      "kitty",
      "none",
      "sixel",
      "text",
    ]);
    deepStrictEqual(await zshComplete(scripts, dir, "vmrun --display=s"), ["sixel"]);
    deepStrictEqual(await zshComplete(scripts, dir, "vmrun --disk d"), ["disk.img", "dump.iso"]);
    deepStrictEqual(await zshComplete(scripts, dir, "vmrun --memory "), []);
    deepStrictEqual(await zshComplete(scripts, dir, "vmrun -m 64 --screensh"), [
      "--screenshot",
      "--screenshot-on-fail",
    ]);
    deepStrictEqual(await zshComplete(scripts, dir, "vmrun "), [
      "completions",
      "ctl",
      "disk.img",
      "dump.iso",
      "notes.txt",
    ]);
    deepStrictEqual(
      await zshComplete(scripts, dir, "vmrun ctl vm.sock "),
      [...COMMANDS].toSorted(),
    );
    deepStrictEqual(await zshComplete(scripts, dir, "vmrun ctl vm.sock subscribe s"), [
      "serial",
      "state",
    ]);
    deepStrictEqual(await zshComplete(scripts, dir, "vmrun completions "), ["bash", "fish", "zsh"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(scripts, { recursive: true });
  }
});

/** What fish completes for a command line. */
async function fishComplete(script: string, dir: string, line: string): Promise<string[]> {
  const r = await sh("fish", ["--no-config", "-c", `source; complete -C '${line}'`], dir, script);
  strictEqual(r.code, 0, r.err);
  return r.out.split("\n").filter((l) => l !== "").map((l) => l.split("\t")[0]).toSorted();
}

Deno.test("fish completes options, their values and vmrun ctl", async () => {
  const dir = filesDir();
  try {
    const s = completionScript("fish", OPTIONS);
    deepStrictEqual(await fishComplete(s, dir, "vmrun --disp"), ["--display"]);
    deepStrictEqual(await fishComplete(s, dir, "vmrun --display "), [
      "auto",
      "blocks",
      "kitty",
      "none",
      "sixel",
      "text",
    ]);
    deepStrictEqual(await fishComplete(s, dir, "vmrun --disk d"), ["disk.img", "dump.iso"]);
    deepStrictEqual(await fishComplete(s, dir, "vmrun -m "), []);
    deepStrictEqual(await fishComplete(s, dir, "vmrun "), [
      "completions",
      "ctl",
      "disk.img",
      "dump.iso",
      "notes.txt",
    ]);
    deepStrictEqual(await fishComplete(s, dir, "vmrun ctl vm.sock "), [...COMMANDS].toSorted());
    deepStrictEqual(await fishComplete(s, dir, "vmrun completions "), ["bash", "fish", "zsh"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("vmrun completions: a script on stdout, or one line and status 2", () => {
  let out = "";
  let err = "";
  const io = { out: (s: string) => out += s, err: (s: string) => err += s };
  strictEqual(completionsMain(["bash"], io), 0);
  strictEqual(out, completionScript("bash", OPTIONS));
  strictEqual(err, "");
  out = "";
  strictEqual(completionsMain(["tcsh"], io), 2);
  match(err, /^vmrun: completions: 'tcsh' is not one of bash, zsh, fish\n$/);
  err = "";
  strictEqual(completionsMain([], io), 2);
  match(err, /^vmrun: completions: name a shell: bash, zsh, fish\n$/);
  strictEqual(out, "");
});
