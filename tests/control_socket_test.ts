/**
 * The --control socket of a running vmrun: every command, events, and
 * survival of bad clients; `vmrun ctl` as its client.
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { Buffer } from "node:buffer";
import { imageCopy, pngSize } from "./api_fixtures.ts";
import { kvmTest } from "./kvm_available.ts";
import { runVmrun, VmrunProcess } from "./vmrun_process.ts";

const NONE = ["--firmware", "none", "--headless", "--snapshot", "-m", "16M"];
type Msg = Record<string, unknown>;

/** A raw JSON-lines client. */
class Client {
  #buffer = "";
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  private constructor(readonly conn: Deno.UnixConn) {
    this.#reader = conn.readable.getReader();
  }
  static async connect(path: string): Promise<Client> {
    return new Client(await Deno.connect({ transport: "unix", path }));
  }
  async write(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
  }
  /** The next message; rejects after 20 s. */
  async next(): Promise<Msg> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return JSON.parse(line);
      }
      if (Date.now() > deadline) throw new Error(`no message; have ${this.#buffer}`);
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("connection closed");
      this.#buffer += new TextDecoder().decode(value);
    }
  }
  /** Reads until an event satisfies `pred`; every event read lands in `events`. */
  async waitEvent(pred: (e: Msg) => boolean, events: Msg[]): Promise<void> {
    if (events.some(pred)) return;
    for (;;) {
      const m = await this.next();
      if (!("event" in m)) throw new Error(`a response where an event was due: ${m}`);
      events.push(m);
      if (pred(m)) return;
    }
  }
  /** Sends a request and returns its response, collecting events on the way. */
  async request(req: Msg, events: Msg[] = []): Promise<Msg> {
    await this.write(JSON.stringify(req) + "\n");
    for (;;) {
      const m = await this.next();
      if ("event" in m) events.push(m);
      else return m;
    }
  }
  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

function socketPath(): string {
  return `${Deno.makeTempDirSync()}/vm.sock`;
}

async function startWithControl(fixture: string, ready: string, path = socketPath()) {
  const p = new VmrunProcess([...NONE, imageCopy(fixture), "--control", path], {
    killAfterMs: 90_000,
  });
  await p.waitForStdout(ready, 30_000);
  return { p, path };
}

kvmTest("the control socket is private and answers every command, with events", async () => {
  const { p, path } = await startWithControl("echo", "ready");
  strictEqual(Deno.statSync(path).mode! & 0o777, 0o600);
  const c = await Client.connect(path);
  const events: Msg[] = [];
  deepStrictEqual(await c.request({ id: 1, cmd: "status" }), {
    id: 1,
    ok: true,
    result: { state: "running", exit: null },
  });
  strictEqual(
    (await c.request({ cmd: "subscribe", events: ["serial", "state", "reset"] })).ok,
    true,
  );
  strictEqual((await c.request({ cmd: "send", text: "abc" }, events)).ok, true);
  // Serial output comes in whatever chunks the worker flushed: a loaded host may split "abc".
  const serialSoFar = () =>
    events.filter((e) => e.event === "serial").map((e) => e.data as string).join("");
  await c.waitEvent(() => serialSoFar().includes("abc"), events);
  strictEqual((await c.request({ cmd: "pause" }, events)).ok, true);
  await c.waitEvent((e) => e.state === "paused", events);
  deepStrictEqual((await c.request({ cmd: "status" }, events)).result, {
    state: "paused",
    exit: null,
  });
  strictEqual((await c.request({ cmd: "resume" }, events)).ok, true);
  strictEqual((await c.request({ cmd: "type", text: "ls\n" }, events)).ok, true);
  strictEqual((await c.request({ cmd: "key", combo: "Ctrl+C" }, events)).ok, true);
  const bad = await c.request({ id: "k", cmd: "key", combo: "Ctrl+Nope" }, events);
  strictEqual(bad.ok, false);
  strictEqual(bad.id, "k");
  const screen = await c.request({ cmd: "screen-text" }, events);
  strictEqual(typeof (screen.result as Msg).text, "string");
  const shot = (await c.request({ cmd: "screenshot" }, events)).result as Msg;
  deepStrictEqual(pngSize(Buffer.from(shot.png as string, "base64")), {
    width: 720,
    height: 400,
  });
  const file = `${Deno.makeTempDirSync()}/shot.png`;
  const written = (await c.request({ cmd: "screenshot", path: file }, events)).result as Msg;
  strictEqual(written.bytes, Deno.statSync(file).size);
  const stats = (await c.request({ cmd: "stats" }, events)).result as Msg;
  ok((stats.exits as number) > 0, JSON.stringify(stats));
  strictEqual((await c.request({ cmd: "reset" }, events)).ok, true);
  await c.waitEvent((e) => e.event === "reset", events);
  await p.waitForStdout("abcready");
  strictEqual((await c.request({ cmd: "subscribe", events: ["exit"] })).ok, true);
  deepStrictEqual(await c.request({ id: 9, cmd: "quit" }), { id: 9, ok: true, result: {} });
  deepStrictEqual(await c.next(), {
    event: "exit",
    exit: { reason: "stopped", code: 0, detail: "quit over the control socket" },
  });
  const r = await p.finished();
  strictEqual(r.code, 0, r.stderr);
  c.close();
  ok(
    !(() => {
      try {
        return Deno.statSync(path);
      } catch {
        return null;
      }
    })(),
    "the socket file is removed at the end",
  );
});

kvmTest("the socket survives garbage, half lines, a 10 MB line and vanishing clients", async () => {
  const { p, path } = await startWithControl("halt", "halted");
  const c = await Client.connect(path);
  const errorOf = async (raw: string) => {
    await c.write(raw);
    const m = await c.next();
    strictEqual(m.ok, false, JSON.stringify(m));
    return m;
  };
  match((await errorOf("garbage\n")).error as string, /^malformed request/);
  match((await errorOf("[1, 2]\n")).error as string, /"cmd" string/);
  match((await errorOf('{"cmd": 42}\n')).error as string, /"cmd" string/);
  const unknown = await errorOf('{"id": 5, "cmd": "nope"}\n');
  strictEqual(unknown.id, 5);
  match(unknown.error as string, /unknown command 'nope'/);
  // 10 MB in one line: one error, then the next request is served.
  const big = new Uint8Array(10 << 20).fill(0x78);
  const writing = c.write(big).then(() => c.write('\n{"id": 6, "cmd": "status"}\n'));
  match((await c.next()).error as string, /^request longer than 1048576 bytes/);
  await writing;
  deepStrictEqual(await c.next(), { id: 6, ok: true, result: { state: "running", exit: null } });

  const half = await Client.connect(path);
  await half.write('{"id": 7, "cmd": "sta');
  half.close();
  const gone = await Client.connect(path);
  await gone.write('{"id": 8, "cmd": "screenshot"}\n{"id": 9, "cmd": "stats"}\n');
  gone.close();

  const after = await Client.connect(path);
  strictEqual((await after.request({ id: 10, cmd: "status" })).ok, true);
  strictEqual((await c.request({ id: 11, cmd: "stats" })).ok, true);
  after.close();
  c.close();
  const ctl = await runVmrun(["ctl", path, "quit"]);
  strictEqual(ctl.code, 0, ctl.stderr);
  strictEqual((await p.finished()).code, 0);
});

kvmTest("vmrun ctl: status, screen, screenshot, subscribe and quit", async () => {
  const { p, path } = await startWithControl("halt", "halted");
  const status = await runVmrun(["ctl", path, "status"]);
  deepStrictEqual([status.code, status.stdout], [0, '{"state":"running","exit":null}\n']);
  const file = `${Deno.makeTempDirSync()}/s.png`;
  strictEqual((await runVmrun(["ctl", path, "screenshot", file])).code, 0);
  deepStrictEqual(pngSize(Deno.readFileSync(file)), { width: 720, height: 400 });
  const screen = await runVmrun(["ctl", path, "screen-text"]);
  strictEqual(screen.code, 0);
  match(screen.stdout, /^\n*$/);
  const bad = await runVmrun(["ctl", path, "key", "Ctrl+Nope"]);
  strictEqual(bad.code, 1);
  match(bad.stderr, /^vmrun: key: /);
  const subscriber = new VmrunProcess(["ctl", path, "subscribe", "state", "exit"]);
  // Pause and resume until the subscriber shows it is listening.
  for (let i = 0; i < 60 && !subscriber.stdout.includes('"paused"'); i++) {
    strictEqual((await runVmrun(["ctl", path, "pause"])).code, 0);
    strictEqual((await runVmrun(["ctl", path, "resume"])).code, 0);
  }
  strictEqual((await runVmrun(["ctl", path, "quit"])).code, 0);
  const sub = await subscriber.finished();
  strictEqual(sub.code, 0);
  match(sub.stdout, /\{"event":"state","state":"paused"\}\n/);
  ok(
    sub.stdout.endsWith(
      '{"event":"exit","exit":{"reason":"stopped","code":0,"detail":"quit over the control socket"}}\n',
    ),
    sub.stdout,
  );
  strictEqual((await p.finished()).code, 0);
  strictEqual((await runVmrun(["ctl", path, "status"])).code, 2);
});

kvmTest("--control refuses a file or a live socket, and replaces a stale one", async () => {
  const file = Deno.makeTempFileSync();
  const r = await runVmrun([...NONE, imageCopy("halt"), "--control", file]);
  strictEqual(r.code, 2);
  match(r.stderr, /^vmrun: --control: control socket '.*' exists and is not a socket\n/);
  strictEqual(Deno.statSync(file).isFile, true);

  const path = socketPath();
  const live = Deno.listen({ transport: "unix", path });
  const busy = await runVmrun([...NONE, imageCopy("halt"), "--control", path]);
  strictEqual(busy.code, 2);
  match(busy.stderr, /^vmrun: --control: control socket '.*' is in use by another process\n/);
  live.close();
  // A process that exits without closing its listener leaves the file behind.
  const script = `Deno.listen({ transport: "unix", path: ${JSON.stringify(path)} }); Deno.exit(0);`;
  strictEqual(
    (await new Deno.Command(Deno.execPath(), { args: ["eval", script] }).output()).code,
    0,
  );
  ok(Deno.lstatSync(path).isSocket, "a stale socket file");

  const { p } = await startWithControl("halt", "halted", path);
  strictEqual((await runVmrun(["ctl", path, "quit"])).code, 0);
  strictEqual((await p.finished()).code, 0);
});
