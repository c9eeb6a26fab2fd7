/**
 * `vmrun ctl <socket> <command> [args]`: the client of `--control`. Prints
 * results (JSON, or the screen's text) on stdout; exit status 0 on success,
 * 1 when vmrun answers with an error, 2 for bad usage or no connection.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { resolve } from "node:path";
import { COMMANDS, EVENTS } from "../api/control_server.ts";
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors.ts";
import { unescapeText } from "../api/steps.ts";

/** Help for `vmrun ctl`. */
export const CTL_USAGE = `usage: vmrun ctl <socket> <command> [args]

commands:
  status                 run state and, once ended, how the run ended
  pause | resume | reset | quit
  powerdown              press the ACPI power button (the guest shuts down cleanly)
  balloon [MiB]          ask the guest to keep MiB of memory (virtio-balloon-pci);
                         prints the balloon (target, actual, stats) as JSON
  type <text>            type on the PS/2 keyboard (escapes: \\n \\r \\t \\e \\xHH)
  key <combo>            press keys, e.g. Ctrl+Alt+Delete
  send <text>            send to COM1 (same escapes)
  screen-text            print the text screen
  screenshot <file.png>  write the screen as PNG
  save <file> [--stop]   save the running VM (vmrun --restore <file> carries it on)
  stats                  vCPU figures as JSON
  subscribe [event...]   print events (${EVENTS.join(", ")}) as JSON lines until the run ends
`;

/** Output sinks, for tests. */
export interface CtlIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

const encoder = new TextEncoder();
const defaultIo: CtlIo = {
  out: (s) => Deno.stdout.writeSync(encoder.encode(s)),
  err: (s) => Deno.stderr.writeSync(encoder.encode(s)),
};

/** Turns `ctl` arguments into a request. */
export function ctlRequest(command: string, args: readonly string[]): Record<string, unknown> {
  const one = (name: string) => {
    if (args.length !== 1) throw new UsageError(`ctl ${command} takes one argument: <${name}>`);
    return args[0];
  };
  const none = () => {
    if (args.length) throw new UsageError(`ctl ${command} takes no arguments`);
  };
  const text = (s: string) => new TextDecoder().decode(unescapeText(s, command));
  switch (command) {
    case "type":
    case "send":
      return { cmd: command, text: text(one("text")) };
    case "key":
      return { cmd: command, combo: one("combo") };
    case "balloon": {
      if (args.length === 0) return { cmd: command };
      const mib = one("MiB");
      if (!/^\d+$/.test(mib)) {
        throw new UsageError(`ctl balloon: '${mib}' is not a whole number of MiB`);
      }
      return { cmd: command, target: Number(mib) };
    }
    case "screenshot":
      one("file.png");
      return { cmd: command };
    case "save": {
      const stop = args.includes("--stop");
      const files = args.filter((a) => a !== "--stop");
      if (files.length !== 1) throw new UsageError("ctl save takes <file> [--stop]");
      // vmrun may run in another directory: name the file from here.
      return { cmd: command, path: resolve(files[0]), stop };
    }
    case "subscribe":
      for (const e of args) {
        if (!(EVENTS as readonly string[]).includes(e)) {
          throw new UsageError(`ctl subscribe: unknown event '${e}' (${EVENTS.join(", ")})`);
        }
      }
      return { cmd: command, events: args.length ? [...args] : [...EVENTS] };
    default:
      if (!(COMMANDS as readonly string[]).includes(command)) {
        throw new UsageError(`ctl: unknown command '${command}'\n${CTL_USAGE}`);
      }
      none();
      return { cmd: command };
  }
}

/** Runs `vmrun ctl` with its arguments (after "ctl"); resolves with the exit status. */
export async function ctlMain(argv: readonly string[], io: CtlIo = defaultIo): Promise<number> {
  const help = argv[0] === "-h" || argv[0] === "--help";
  if (help || argv.length < 2) {
    (help ? io.out : io.err)(CTL_USAGE);
    return help ? 0 : EXIT_USAGE;
  }
  const [path, command, ...args] = argv;
  let request: Record<string, unknown>;
  try {
    request = { id: 1, ...ctlRequest(command, args) };
  } catch (e) {
    io.err(`vmrun: ${e instanceof Error ? e.message : e}\n`);
    return EXIT_USAGE;
  }
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (e) {
    io.err(`vmrun: cannot connect to '${path}': ${e instanceof Error ? e.message : e}\n`);
    return EXIT_USAGE;
  }
  try {
    await conn.write(encoder.encode(JSON.stringify(request) + "\n"));
    for await (const msg of jsonLines(conn.readable)) {
      if ("event" in msg) {
        io.out(JSON.stringify(msg) + "\n");
        if (msg.event === "exit") return 0;
        continue;
      }
      if (msg.ok !== true) {
        io.err(`vmrun: ${command}: ${msg.error ?? "failed"}\n`);
        return EXIT_FAILURE;
      }
      if (command !== "subscribe") return await printResult(command, args, msg.result, io);
    }
    if (command === "subscribe") return 0;
    io.err(`vmrun: the control socket closed without an answer\n`);
    return EXIT_FAILURE;
  } finally {
    try {
      conn.close();
    } catch { /* closed by the stream */ }
  }
}

async function printResult(
  command: string,
  args: readonly string[],
  result: unknown,
  io: CtlIo,
): Promise<number> {
  const r = (result ?? {}) as Record<string, unknown>;
  if (command === "screen-text") io.out(`${r.text ?? ""}\n`);
  else if (command === "screenshot") {
    await Deno.writeFile(args[0], Buffer.from(String(r.png), "base64"));
  } else if (Object.keys(r).length) io.out(JSON.stringify(r) + "\n");
  return 0;
}

/** Parses a stream of JSON lines. */
async function* jsonLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) yield JSON.parse(line);
    }
  }
}
