/**
 * Runs qemu-system-x86_64 with KVM on a copy of a disk image, as the
 * reference machine for differential tests: COM1 on stdin/stdout,
 * isa-debug-exit at 0xf4, an optional QMP socket for monitor commands (guest
 * memory reads through HMP `xp`), and a kill timer so no test hangs.
 *
 * @module
 */

import { join } from "node:path";
import { DEFAULT_BIOS } from "../machine/firmware.ts";
import { PipedChild } from "./piped_child.ts";

/** The QEMU binary. */
export const QEMU_BINARY = "qemu-system-x86_64";

/**
 * Options that give QEMU's `pc` machine the devices vmrun's board has, and no
 * others, so a guest sees the same PC in both:
 * - `-bios`: the SeaBIOS build vmrun boots (QEMU would pick bios-256k.bin);
 * - `-nodefaults -vga std`: no NIC (its iPXE ROM prints on the screen), no
 *   floppy drive, CD-ROM or parallel port; the std VGA at 00:02.0 as in vmrun;
 * - `-boot order=cd`: vmrun's CMOS boot order, disk then CD-ROM (QEMU's
 *   default "cad" starts with the floppy).
 */
export const VMRUN_BOARD_ARGS: readonly string[] = [
  "-bios",
  DEFAULT_BIOS,
  "-nodefaults",
  "-vga",
  "std",
  "-boot",
  "order=cd",
];

/** Options for {@link QemuProcess}. */
export interface QemuOptions {
  /** Guest RAM in MiB (default 128). */
  readonly memoryMiB?: number;
  /** Open a QMP socket so {@link QemuProcess.hmp} works (default false). */
  readonly monitor?: boolean;
  /** Kill QEMU after this long (a hang guard; default 60 s). */
  readonly killAfterMs?: number;
  /** More arguments, after {@link VMRUN_BOARD_ARGS}. */
  readonly extraArgs?: readonly string[];
}

/** A finished QEMU run. */
export interface QemuFinished {
  /** QEMU's exit status (128 + signal when killed). */
  readonly code: number;
  /** The signal that killed QEMU, or null. */
  readonly signal: Deno.Signal | null;
  /**
   * The byte the guest wrote to isa-debug-exit, decoded from the exit status
   * `(value << 1) | 1`; null when QEMU exited otherwise. QEMU's own failure
   * status 1 reads as 0, so guests should exit with nonzero values.
   */
  readonly debugExit: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The isa-debug-exit value encoded in QEMU's exit status, or null. */
export function decodeDebugExit(code: number, signal: Deno.Signal | null = null): number | null {
  return signal === null && (code & 1) === 1 ? code >> 1 : null;
}

/**
 * Parses the output of HMP `xp /<n>xb <addr>` ("<addr>: 0x12 0x34 ...") into
 * bytes.
 * @throws {Error} when a line does not look like `xp` output
 */
export function parseXpBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const m = /^[0-9a-f]+:((?:\s+0x[0-9a-f]{2})+)\s*$/i.exec(line);
    if (!m) throw new Error(`not xp output: ${JSON.stringify(line)}`);
    for (const b of m[1].trim().split(/\s+/)) out.push(parseInt(b, 16));
  }
  return Uint8Array.from(out);
}

/** A running QEMU on a private copy of an image. */
export class QemuProcess extends PipedChild {
  readonly #qmpPath: string | null;
  readonly #done: Promise<QemuFinished>;

  /**
   * Starts QEMU on a copy of `image` (the original is never written or locked).
   * @param image a raw disk image, attached as the primary IDE master
   */
  constructor(image: string, opts: QemuOptions = {}) {
    const dir = Deno.makeTempDirSync({ prefix: "vmrun-qemu-" });
    const copy = join(dir, "disk.img");
    Deno.copyFileSync(image, copy);
    const qmpPath = opts.monitor ? join(dir, "qmp.sock") : null;
    const args = [
      "-enable-kvm",
      "-m",
      String(opts.memoryMiB ?? 128),
      "-display",
      "none",
      "-serial",
      "stdio",
      "-device",
      "isa-debug-exit,iobase=0xf4,iosize=1",
      "-drive",
      `file=${copy},format=raw,if=ide`,
      ...VMRUN_BOARD_ARGS,
      ...(qmpPath ? ["-qmp", `unix:${qmpPath},server=on,wait=off`] : []),
      ...(opts.extraArgs ?? []),
    ];
    super(QEMU_BINARY, { args, killAfterMs: opts.killAfterMs ?? 60_000, name: "QEMU" });
    this.#qmpPath = qmpPath;
    this.#done = this.exited().then((status) => {
      Deno.removeSync(dir, { recursive: true });
      return {
        code: status.code,
        signal: status.signal,
        debugExit: decodeDebugExit(status.code, status.signal),
        stdout: this.stdout,
        stderr: this.stderr,
      };
    });
  }

  /** Resolves once stdout contains `text`; rejects after `ms` with what was seen. */
  override waitForStdout(text: string, ms = 30_000): Promise<void> {
    return super.waitForStdout(text, ms);
  }

  /**
   * Runs an HMP command through QMP's human-monitor-command and returns its
   * output. Each call uses its own QMP connection, closed before returning.
   * A command the guest ends the run on (the key it exits after) may lose
   * its reply when QEMU quits first: when the connection drops after the
   * command was sent and QEMU then exits, the output is "" and the run's end
   * (see {@link finished}) is the answer.
   * @throws {Error} without `monitor: true`, or when QMP reports an error
   */
  async hmp(command: string): Promise<string> {
    if (this.#qmpPath === null) throw new Error("QEMU was started without monitor: true");
    const conn = await connectUnix(this.#qmpPath);
    try {
      const qmp = new QmpLines(conn);
      const greeting = await qmp.next();
      if (!("QMP" in greeting)) throw new Error(`no QMP greeting: ${JSON.stringify(greeting)}`);
      await qmp.execute("qmp_capabilities");
      let out: unknown;
      try {
        out = await qmp.execute("human-monitor-command", { "command-line": command });
      } catch (e) {
        if (e instanceof QmpError || !(await this.#exitsWithin(5_000))) throw e;
        return "";
      }
      if (typeof out !== "string") throw new Error(`HMP gave ${JSON.stringify(out)}`);
      return out;
    } finally {
      conn.close();
    }
  }

  /** Whether QEMU exits within `ms`. */
  async #exitsWithin(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
    try {
      return await Promise.race([this.#done.then(() => true, () => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads `length` bytes of guest physical memory at `address` (HMP `xp`). */
  async readPhysical(address: number, length: number): Promise<Uint8Array> {
    const bytes = parseXpBytes(await this.hmp(`xp /${length}xb 0x${address.toString(16)}`));
    if (bytes.length !== length) {
      throw new Error(`xp returned ${bytes.length} bytes, wanted ${length}`);
    }
    return bytes;
  }

  /** The run's result, once QEMU has exited. */
  finished(): Promise<QemuFinished> {
    return this.#done;
  }
}

/** Connects to a unix socket, retrying for a while until QEMU has created it. */
async function connectUnix(path: string, ms = 10_000): Promise<Deno.UnixConn> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** An error QMP answered with (not a lost connection). */
class QmpError extends Error {}

/** Newline-delimited JSON over a QMP connection. */
class QmpLines {
  readonly #conn: Deno.UnixConn;
  readonly #dec = new TextDecoder();
  #buffer = "";

  constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /** The next JSON object QEMU sends. */
  async next(): Promise<Record<string, unknown>> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl).trim();
        this.#buffer = this.#buffer.slice(nl + 1);
        if (line) return JSON.parse(line);
        continue;
      }
      const chunk = new Uint8Array(65536);
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("QMP connection closed");
      this.#buffer += this.#dec.decode(chunk.subarray(0, n), { stream: true });
    }
  }

  /** Sends a command and returns its "return" value, skipping events. */
  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const msg = JSON.stringify(args ? { execute: command, arguments: args } : { execute: command });
    const bytes = new TextEncoder().encode(msg + "\n");
    for (let done = 0; done < bytes.length;) done += await this.#conn.write(bytes.subarray(done));
    for (;;) {
      const reply = await this.next();
      if ("event" in reply) continue;
      if ("error" in reply) throw new QmpError(`QMP ${command}: ${JSON.stringify(reply.error)}`);
      if ("return" in reply) return reply.return;
    }
  }
}
