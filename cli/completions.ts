/**
 * `vmrun completions bash|zsh|fish`: a shell completion script generated
 * from the commander program's own options, so it cannot go stale. Values
 * are completed from each option's placeholder (`<file>`, `<path>`,
 * `<none|path>` complete file names) and choices (`--display`); `vmrun ctl`
 * completes its socket, commands and their arguments.
 *
 * @module
 */

import { COMMANDS, EVENTS } from "../api/control_server.ts";
import { EXIT_USAGE } from "./errors.ts";
import { buildProgram } from "./program.ts";

/** What completion needs to know of one of the program's options. */
export interface OptionLike {
  readonly flags: string;
  readonly description: string;
  readonly long?: string;
  readonly short?: string;
  readonly required: boolean;
  readonly optional: boolean;
  readonly argChoices?: readonly string[];
  readonly defaultValue?: unknown;
}

/** One option, as the completion scripts see it. */
export interface CompletionOption {
  /** Its flags, short first: `["-m", "--memory"]`. */
  readonly names: readonly string[];
  readonly description: string;
  /** Null for a flag; else what its value completes to. */
  readonly value: null | {
    /** The placeholder's name, for zsh's message. */
    readonly name: string;
    readonly files: boolean;
    /** Literal words (choices, or `none` of `<none|path>`). */
    readonly words: readonly string[];
  };
  /** It may be given more than once. */
  readonly repeatable: boolean;
}

/** The shells with a completion script. */
export const SHELLS = ["bash", "zsh", "fish"] as const;
/** A shell with a completion script. */
export type Shell = (typeof SHELLS)[number];

/** Words `vmrun` takes in place of an image. */
const SUBCOMMANDS = ["ctl", "completions"];
/** ctl commands whose argument is a file to write. */
const CTL_FILE_COMMANDS = ["screenshot"];

const HELP_OPTION: CompletionOption = {
  names: ["-h", "--help"],
  description: "show this help",
  value: null,
  repeatable: false,
};

/** Describes `options` for the scripts (the help option is added). */
export function completionModel(options: readonly OptionLike[]): CompletionOption[] {
  const model = options.map((o): CompletionOption => {
    const names = [o.short, o.long].filter((n): n is string => n !== undefined);
    const repeatable = Array.isArray(o.defaultValue);
    if (!o.required && !o.optional) {
      return { names, description: o.description, value: null, repeatable };
    }
    const placeholder = /[<[]([^>\]]*)[>\]]/.exec(o.flags)?.[1] ?? "value";
    // "<path[,if=...]>": the part before any "[" is what the word starts with.
    const head = placeholder.split("[")[0];
    const alternatives = head.split("|");
    const isFile = (w: string) => /^(path|file)(\..+)?$/.test(w);
    const files = alternatives.some(isFile);
    const words = o.argChoices
      ? [...o.argChoices]
      : files
      ? alternatives.filter((w) => !isFile(w))
      : [];
    return {
      names,
      description: o.description,
      value: { name: head.replace(/\|/g, " or "), files, words },
      repeatable,
    };
  });
  return [...model, HELP_OPTION];
}

/** The completion script for `shell`. */
export function completionScript(shell: Shell, options: readonly OptionLike[]): string {
  const model = completionModel(options);
  switch (shell) {
    case "bash":
      return bashScript(model);
    case "zsh":
      return zshScript(model);
    case "fish":
      return fishScript(model);
  }
}

/** Output sinks, for tests. */
export interface CompletionsIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

const encoder = new TextEncoder();

/** Runs `vmrun completions <shell>` (argv after "completions"); resolves with the exit status. */
export function completionsMain(
  argv: readonly string[],
  io: CompletionsIo = {
    out: (s) => Deno.stdout.writeSync(encoder.encode(s)),
    err: (s) => Deno.stderr.writeSync(encoder.encode(s)),
  },
): number {
  const usage = "usage: vmrun completions bash|zsh|fish (see the README to install one)\n";
  if (argv[0] === "-h" || argv[0] === "--help") {
    io.out(usage);
    return 0;
  }
  const shell = argv[0];
  if (argv.length !== 1 || !(SHELLS as readonly string[]).includes(shell)) {
    io.err(
      argv.length === 0
        ? `vmrun: completions: name a shell: ${SHELLS.join(", ")}\n`
        : `vmrun: completions: '${argv.join(" ")}' is not one of ${SHELLS.join(", ")}\n`,
    );
    return EXIT_USAGE;
  }
  const noop = () => {};
  io.out(completionScript(shell as Shell, buildProgram(noop, noop).options));
  return 0;
}

/** Single-quotes a word for bash and zsh. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Single-quotes a word for fish. */
function fq(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function bashScript(model: readonly CompletionOption[]): string {
  const all = model.flatMap((o) => o.names);
  const cases = model.flatMap((o) => {
    const v = o.value;
    if (!v) return [];
    const actions = [
      ...(v.files ? ["_vmrun_files"] : []),
      ...(v.words.length ? [`_vmrun_words ${v.words.join(" ")}`] : []),
    ];
    return [
      `    ${o.names.join("|")})\n      ${[...actions, "return 0"].join("\n      ")}\n      ;;`,
    ];
  });
  return `# bash completion for vmrun (generated by \`vmrun completions bash\`).
# Install: vmrun completions bash > ~/.local/share/bash-completion/completions/vmrun
# or add to ~/.bashrc: source <(vmrun completions bash)

_vmrun_words() {
  local IFS=$' \\t\\n'
  COMPREPLY+=($(compgen -W "$*" -P "$pre" -- "$cur"))
}

_vmrun_files() {
  local IFS=$'\\n'
  compopt -o filenames 2>/dev/null
  COMPREPLY+=($(compgen -f -P "$pre" -- "$cur"))
}

_vmrun() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" opt="" pre=""
  ((COMP_CWORD > 0)) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  # "--option=value": bash splits the word at "=" (COMP_WORDBREAKS) or leaves it whole.
  if [[ $cur == "=" ]]; then
    opt="$prev"
    cur=""
  elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
    opt="\${COMP_WORDS[COMP_CWORD-2]}"
  elif [[ $cur == --*=* ]]; then
    opt="\${cur%%=*}"
    pre="$opt="
    cur="\${cur#*=}"
  else
    opt="$prev"
  fi

  if [[ \${COMP_WORDS[1]} == ctl ]] && ((COMP_CWORD >= 2)); then
    case $COMP_CWORD in
    2) _vmrun_files ;;
    3) _vmrun_words ${COMMANDS.join(" ")} ;;
    *)
      case \${COMP_WORDS[3]} in
      subscribe) _vmrun_words ${EVENTS.join(" ")} ;;
      ${CTL_FILE_COMMANDS.join("|")}) ((COMP_CWORD == 4)) && _vmrun_files ;;
      esac
      ;;
    esac
    return 0
  fi
  if [[ \${COMP_WORDS[1]} == completions ]] && ((COMP_CWORD >= 2)); then
    ((COMP_CWORD == 2)) && _vmrun_words ${SHELLS.join(" ")}
    return 0
  fi

  case $opt in
${cases.join("\n")}
  esac

  if [[ $cur == -* ]]; then
    _vmrun_words ${all.join(" ")}
    return 0
  fi
  _vmrun_files
  ((COMP_CWORD == 1)) && _vmrun_words ${SUBCOMMANDS.join(" ")}
  return 0
}

complete -F _vmrun vmrun
`;
}

/** Text safe inside zsh's `_arguments` brackets and single quotes. */
function zshText(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\[/g, "(").replace(/\]/g, ")").replace(/:/g, "\\:");
}

function zshScript(model: readonly CompletionOption[]): string {
  const specs = model.map((o) => {
    const exclusive = o.names.length > 1 && !o.repeatable ? sq(`(${o.names.join(" ")})`) : "";
    const star = o.repeatable ? "*" : "";
    const suffix = (n: string) => (o.value ? (n.startsWith("--") ? "=" : "+") : "");
    const forms = o.names.map((n) => `${star}${n}${suffix(n)}`);
    const body = `[${zshText(o.description)}]`;
    let value = "";
    if (o.value) {
      const v = o.value;
      const action = v.files && v.words.length
        ? `{_files; compadd -- ${v.words.join(" ")}}`
        : v.files
        ? "_files"
        : v.words.length
        ? `(${v.words.join(" ")})`
        : " ";
      value = `:${zshText(v.name)}:${action}`;
    }
    return forms.length > 1
      ? `${exclusive}{${forms.join(",")}}${sq(body + value)}`
      : sq(forms[0] + body + value);
  });
  return `#compdef vmrun
# zsh completion for vmrun (generated by \`vmrun completions zsh\`).
# Install: vmrun completions zsh > ~/.zfunc/_vmrun, with fpath=(~/.zfunc $fpath)
# before compinit in ~/.zshrc; or, after compinit: source <(vmrun completions zsh)

_vmrun_image() {
  _files
  ((CURRENT == 2)) && compadd -- ${SUBCOMMANDS.join(" ")}
}

_vmrun() {
  if [[ \${words[2]} == ctl ]] && ((CURRENT > 2)); then
    case $CURRENT in
    3) _files ;;
    4) compadd -- ${COMMANDS.join(" ")} ;;
    *)
      case \${words[4]} in
      subscribe) compadd -- ${EVENTS.join(" ")} ;;
      ${CTL_FILE_COMMANDS.join("|")}) ((CURRENT == 5)) && _files ;;
      esac
      ;;
    esac
    return
  fi
  if [[ \${words[2]} == completions ]] && ((CURRENT > 2)); then
    ((CURRENT == 3)) && compadd -- ${SHELLS.join(" ")}
    return
  fi
  _arguments -s -S \\
    ${specs.join(" \\\n    ")} \\
    '1:image:_vmrun_image'
}

if [[ \${funcstack[1]} == _vmrun ]]; then
  _vmrun "$@"
elif (($+functions[compdef])); then
  compdef _vmrun vmrun
fi
`;
}

function fishScript(model: readonly CompletionOption[]): string {
  const main = "'not __vmrun_in ctl; and not __vmrun_in completions'";
  const lines = model.map((o) => {
    const parts = ["complete -c vmrun -n", main];
    for (const n of o.names) {
      parts.push(n.startsWith("--") ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`);
    }
    if (o.value) {
      parts.push(o.value.files ? "-r -F" : "-x");
      if (o.value.words.length) parts.push("-a", fq(o.value.words.join(" ")));
    }
    parts.push("-d", fq(o.description));
    return parts.join(" ");
  });
  return `# fish completion for vmrun (generated by \`vmrun completions fish\`).
# Install: vmrun completions fish > ~/.config/fish/completions/vmrun.fish

function __vmrun_in --description 'the command line is in vmrun subcommand $argv[1]'
    set -l words (commandline -opc)
    test (count $words) -ge 2; and test "$words[2]" = $argv[1]
end

function __vmrun_words --description 'the cursor is at word $argv[1] (vmrun is 0)'
    test (count (commandline -opc)) -eq $argv[1]
end

function __vmrun_ctl --description 'the ctl command is one of $argv'
    set -l words (commandline -opc)
    test (count $words) -ge 4; and contains -- $words[4] $argv
end

complete -c vmrun -f
${lines.join("\n")}
complete -c vmrun -n ${main} -F
complete -c vmrun -n '__vmrun_words 1' -a ${fq(SUBCOMMANDS.join(" "))}
complete -c vmrun -n '__vmrun_in ctl; and __vmrun_words 2' -F
complete -c vmrun -n '__vmrun_in ctl; and __vmrun_words 3' -a ${fq(COMMANDS.join(" "))}
complete -c vmrun -n '__vmrun_in ctl; and __vmrun_ctl subscribe' -a ${fq(EVENTS.join(" "))}
complete -c vmrun -n '__vmrun_in ctl; and __vmrun_words 4; and __vmrun_ctl ${
    CTL_FILE_COMMANDS.join(" ")
  }' -F
complete -c vmrun -n '__vmrun_in completions; and __vmrun_words 2' -a ${fq(SHELLS.join(" "))}
`;
}
