/**
 * The control socket (`--control <path>`), a service of any run, console
 * or headless: a Unix socket (mode 0600) speaking JSON lines. Each
 * request line gets one response line; after `subscribe`, events (`serial`,
 * `state`, `reset`, `watchdog`, `exit`) arrive between responses. Malformed, unknown and
 * oversized requests get an error response and the connection keeps going.
 *
 * Request:  {"id": 1, "cmd": "type", "text": "ls\n"}
 * Response: {"id": 1, "ok": true, "result": {}} or {"id": 1, "ok": false, "error": "..."}
 * Event:    {"event": "serial", "data": "..."}
 *           {"event": "watchdog", "watchdog": {"model": "ib700", "action": "pause", "atMs": 5012}}
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { dirname, join } from "node:path";
import { ConfigError } from "../machine/config_error.ts";
import { stoppedExit } from "../machine/exit.ts";
import { screenshotPng } from "./screenshot.ts";
import type { Session, SessionEvent } from "./session.ts";

/** The longest request line accepted, in bytes. */
export const MAX_REQUEST_BYTES = 1 << 20;
/** A connection whose unsent output grows past this is dropped (a subscriber that never reads). */
const MAX_BACKLOG_BYTES = 16 << 20;

/** The commands, for help and `vmrun ctl`. */
export const COMMANDS = [
  "status",
  "pause",
  "resume",
  "reset",
  "powerdown",
  "balloon",
  "quit",
  "type",
  "key",
  "send",
  "screen-text",
  "screenshot",
  "save",
  "stats",
  "subscribe",
] as const;

/** Events a client may subscribe to. */
export const EVENTS = ["serial", "state", "reset", "watchdog", "exit"] as const;

/** A listening control socket. */
export interface ControlServer {
  /** Starts answering for `session` (connections made before wait until then). */
  serve(session: Session): void;
  /** Stops listening, flushes and closes every connection, removes the socket file. */
  close(): Promise<void>;
}

/**
 * Creates the socket at `path` (mode 0600, replacing a socket nobody
 * listens on), before the run starts, so that a bad path fails first.
 * @throws {ConfigError} when the socket cannot be created there, or another process serves it
 */
export async function listenControlSocket(path: string): Promise<ControlServer> {
  await removeStaleSocket(path);
  const listener = listenPrivately(path);
  const conns = new Set<Connection>();
  let closing: Promise<void> | null = null;
  return {
    serve(session: Session) {
      (async () => {
        for await (const c of listener) {
          const conn = new Connection(c, session, () => conns.delete(conn));
          conns.add(conn);
        }
      })().catch(() => {});
    },
    close: () =>
      closing ??= (async () => {
        try {
          listener.close();
        } catch { /* already closed */ }
        await Promise.all([...conns].map((c) => c.close()));
        try {
          Deno.removeSync(path);
        } catch { /* gone already */ }
      })(),
  };
}

/** Listens on a socket that is never reachable with wider permissions than 0600. */
function listenPrivately(path: string): Deno.Listener {
  let dir: string;
  try {
    dir = Deno.makeTempDirSync({ dir: dirname(path), prefix: ".vmrun-control-" });
  } catch (e) {
    throw new ConfigError(null, `cannot create control socket '${path}': ${message(e)}`);
  }
  const tmp = join(dir, "socket");
  try {
    const listener = Deno.listen({ transport: "unix", path: tmp });
    Deno.chmodSync(tmp, 0o600);
    Deno.renameSync(tmp, path);
    return listener;
  } catch (e) {
    throw new ConfigError(null, `cannot create control socket '${path}': ${message(e)}`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Removes a socket file nobody listens on (left by a killed vmrun); refuses anything else. */
async function removeStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return;
  }
  if (!info.isSocket) {
    throw new ConfigError(null, `control socket '${path}' exists and is not a socket`);
  }
  try {
    (await Deno.connect({ transport: "unix", path })).close();
  } catch {
    Deno.removeSync(path);
    return;
  }
  throw new ConfigError(null, `control socket '${path}' is in use by another process`);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

type Request = Record<string, unknown> & { cmd: string };

/** One client: reads request lines, writes responses and events in order. */
class Connection {
  readonly #conn: Deno.Conn;
  readonly #session: Session;
  #chain: Promise<void> = Promise.resolve();
  #backlog = 0;
  #closed = false;
  #unsubscribe: (() => void) | null = null;
  readonly #done: Promise<void>;

  constructor(conn: Deno.Conn, session: Session, onClose: () => void) {
    this.#conn = conn;
    this.#session = session;
    this.#done = this.#read().catch(() => {}).finally(() => {
      this.#drop();
      onClose();
    });
  }

  /** Flushes what is queued (a little while at most) and closes. */
  async close(): Promise<void> {
    await Promise.race([this.#chain, new Promise((r) => setTimeout(r, 1000))]);
    this.#drop();
    await this.#done;
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(64 << 10);
    let line: Uint8Array[] = [];
    let lineBytes = 0;
    let skipping = false;
    for (;;) {
      const n = await this.#conn.read(buf);
      if (n === null) return;
      let start = 0;
      for (let nl = buf.indexOf(10, 0); start < n; nl = buf.indexOf(10, start)) {
        const end: number = nl < 0 || nl >= n ? n : nl;
        if (!skipping) {
          line.push(buf.slice(start, end));
          lineBytes += end - start;
        }
        if (!skipping && lineBytes > MAX_REQUEST_BYTES) {
          // Answer once, then drop the rest of this line.
          this.#send({
            id: null,
            ok: false,
            error: `request longer than ${MAX_REQUEST_BYTES} bytes`,
          });
          skipping = true;
          line = [];
        }
        if (end === n) break;
        if (!skipping) await this.#handle(concat(line, lineBytes));
        line = [];
        lineBytes = 0;
        skipping = false;
        start = end + 1;
      }
    }
  }

  async #handle(bytes: Uint8Array): Promise<void> {
    const text = new TextDecoder().decode(bytes).trim();
    if (text === "") return;
    let req: unknown;
    try {
      req = JSON.parse(text);
    } catch (e) {
      return this.#send({ id: null, ok: false, error: `malformed request: ${message(e)}` });
    }
    const id = isObject(req) && "id" in req ? req.id : null;
    if (!isObject(req) || typeof req.cmd !== "string") {
      return this.#send({ id, ok: false, error: 'a request is an object with a "cmd" string' });
    }
    try {
      const result = await this.#run(req as Request);
      this.#send({ id, ok: true, result });
    } catch (e) {
      this.#send({ id, ok: false, error: message(e) });
    }
  }

  async #run(req: Request): Promise<unknown> {
    const s = this.#session;
    const m = s.machine;
    if (req.cmd === "status") {
      return { state: s.exit ? "stopped" : m.runState, exit: s.exit };
    }
    if (req.cmd === "subscribe") return this.#subscribe(req.events);
    if (s.exit) throw new Error(`the run has ended (${s.exit.reason}, status ${s.exit.code})`);
    switch (req.cmd) {
      case "pause":
        m.pause();
        return {};
      case "resume":
        m.resume();
        return {};
      case "reset":
        m.reset();
        return {};
      case "powerdown":
        m.powerButton();
        return {};
      case "balloon": {
        const target = req.target;
        if (target !== undefined && typeof target !== "number") {
          throw new Error(`"target" must be a number of MiB`);
        }
        return await s.balloon(target);
      }
      case "quit":
        void s.end(stoppedExit("quit over the control socket"));
        return {};
      case "type":
        await s.keyboard.type(stringArg(req, "text"));
        return {};
      case "key":
        await s.keyboard.press(stringArg(req, "combo"));
        return {};
      case "send":
        await s.console.write(stringArg(req, "text"));
        return {};
      case "screen-text":
        return { text: await s.screen.read() };
      case "screenshot": {
        const path = req.path === undefined ? undefined : stringArg(req, "path");
        const png = await screenshotPng(m, path);
        return path === undefined
          ? { png: Buffer.from(png).toString("base64") }
          : { path, bytes: png.length };
      }
      case "save": {
        const stop = req.stop === undefined ? false : req.stop;
        if (typeof stop !== "boolean") throw new Error(`"stop" must be true or false`);
        return await s.run.save(stringArg(req, "path"), { stop });
      }
      case "stats": {
        const snap = await s.snapshot();
        return { runState: m.runState, ...(snap?.vcpu ?? {}) };
      }
      default:
        throw new Error(`unknown command '${req.cmd}' (commands: ${COMMANDS.join(", ")})`);
    }
  }

  #subscribe(events: unknown): Record<string, never> {
    const wanted = events === undefined ? [...EVENTS] : events;
    if (!Array.isArray(wanted) || wanted.some((e) => !(EVENTS as readonly unknown[]).includes(e))) {
      throw new Error(`"events" must be a list of ${EVENTS.join(", ")}`);
    }
    this.#unsubscribe?.();
    const decoder = new TextDecoder();
    const on = (e: SessionEvent) => {
      if (!wanted.includes(e.type)) return;
      if (e.type === "serial") {
        this.#send({ event: "serial", data: decoder.decode(e.bytes, { stream: true }) });
      } else if (e.type === "state") this.#send({ event: "state", state: e.state });
      else if (e.type === "exit") this.#send({ event: "exit", exit: e.exit });
      else if (e.type === "watchdog") this.#send({ event: "watchdog", watchdog: e.expiry });
      else this.#send({ event: "reset" });
    };
    this.#unsubscribe = this.#session.on(on);
    if (this.#session.exit && wanted.includes("exit")) {
      this.#send({ event: "exit", exit: this.#session.exit });
    }
    return {};
  }

  #send(msg: unknown): void {
    if (this.#closed) return;
    const bytes = new TextEncoder().encode(JSON.stringify(msg) + "\n");
    this.#backlog += bytes.length;
    if (this.#backlog > MAX_BACKLOG_BYTES) return this.#drop();
    this.#chain = this.#chain.then(async () => {
      let off = 0;
      while (off < bytes.length && !this.#closed) {
        off += await this.#conn.write(bytes.subarray(off));
      }
      this.#backlog -= bytes.length;
    }).catch(() => this.#drop());
  }

  #drop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringArg(req: Request, name: string): string {
  const v = req[name];
  if (typeof v !== "string") throw new Error(`'${req.cmd}' needs "${name}" (a string)`);
  return v;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
