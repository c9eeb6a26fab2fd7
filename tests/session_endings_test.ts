/**
 * How headless runs end, decided once by the session core: every ending
 * reaches the control socket's subscribers with its own reason and the
 * status vmrun exits with; a stdout nobody reads holds none of them up.
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert";
import { imageCopy } from "./api_fixtures.ts";
import { kvmTest } from "./kvm_available.ts";
import { PtyVmrun } from "./tui_pty.ts";
import { CLI, VmrunProcess } from "./vmrun_process.ts";

const NONE = ["--firmware", "none", "--headless", "--snapshot", "-m", "16M"];
type Msg = Record<string, unknown>;

/** Subscribes to a control socket's exit event; resolves with it. */
async function subscribeExit(path: string): Promise<{ ready: Promise<void>; exit: Promise<Msg> }> {
  const conn = await Deno.connect({ transport: "unix", path });
  await conn.write(new TextEncoder().encode('{"id":1,"cmd":"subscribe","events":["exit"]}\n'));
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => resolveReady = r);
  const exit = (async () => {
    let buffered = "";
    const decoder = new TextDecoder();
    try {
      for await (const chunk of conn.readable) {
        buffered += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const msg = JSON.parse(buffered.slice(0, nl)) as Msg;
          buffered = buffered.slice(nl + 1);
          if (msg.id === 1) resolveReady();
          if (msg.event === "exit") return msg.exit as Msg;
        }
      }
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    throw new Error(`the socket closed without an exit event: ${buffered}`);
  })();
  return { ready, exit };
}

/** Starts the echo fixture with a control socket and an exit subscriber. */
async function echoWithSubscriber(args: string[]) {
  const path = `${Deno.makeTempDirSync()}/vm.sock`;
  const p = new VmrunProcess([...NONE, imageCopy("echo"), "--control", path, ...args], {
    killAfterMs: 60_000,
  });
  await p.waitForStdout("ready", 30_000);
  const sub = await subscribeExit(path);
  await sub.ready;
  return { p, exit: sub.exit };
}

/** The subscriber's exit event and vmrun's status agree, and say `reason` and `code`. */
async function expectEnding(
  run: { p: VmrunProcess; exit: Promise<Msg> },
  reason: string,
  code: number,
): Promise<Msg> {
  const [exit, done] = await Promise.all([run.exit, run.p.finished()]);
  strictEqual(done.code, code, done.stderr);
  strictEqual(exit.reason, reason, JSON.stringify(exit));
  strictEqual(exit.code, code, JSON.stringify(exit));
  return exit;
}

kvmTest("control-socket subscribers see --timeout's real ending: timeout, 124", async () => {
  const exit = await expectEnding(await echoWithSubscriber(["--timeout", "4"]), "timeout", 124);
  strictEqual(exit.detail, "no exit within 4 s");
});

kvmTest("control-socket subscribers see SIGTERM's ending: signal, 143", async () => {
  const run = await echoWithSubscriber([]);
  run.p.child.kill("SIGTERM");
  deepStrictEqual(await expectEnding(run, "signal", 143), {
    reason: "signal",
    code: 143,
    detail: "SIGTERM",
  });
});

kvmTest("control-socket subscribers see --fail-on's ending: fail-on, 1", async () => {
  const run = await echoWithSubscriber(["--fail-on", "boom"]);
  await run.p.write("boom\n");
  const exit = await expectEnding(run, "fail-on", 1);
  match(String(exit.detail), /--fail-on 'boom' matched: boom/);
});

kvmTest("control-socket subscribers see --exit-on's ending: exit-on, 0", async () => {
  const run = await echoWithSubscriber(["--exit-on", "done"]);
  await run.p.write("done\n");
  const exit = await expectEnding(run, "exit-on", 0);
  match(String(exit.detail), /--exit-on 'done' matched: done/);
});

kvmTest("control-socket subscribers see --step-timeout's ending: timeout, 124", async () => {
  const run = await echoWithSubscriber(["--expect", "never", "--step-timeout", "4"]);
  const exit = await expectEnding(run, "timeout", 124);
  match(String(exit.detail), /step 1 \(--expect 'never'\) not done within 4 s/);
});

kvmTest("control-socket subscribers see Ctrl-a x's ending on a terminal: stopped, 0", async () => {
  const path = `${Deno.makeTempDirSync()}/vm.sock`;
  const p = new PtyVmrun([...NONE, imageCopy("echo"), "--control", path]);
  try {
    await p.waitFor("ready", () => p.output.includes("ready"));
    const sub = await subscribeExit(path);
    await sub.ready;
    p.type("\x01x");
    const [exit, done] = await Promise.all([sub.exit, p.exited]);
    deepStrictEqual(exit, { reason: "stopped", code: 0, detail: "Ctrl-a x" });
    strictEqual(done.exitCode, 0);
  } finally {
    p.dispose();
  }
});

kvmTest("a guest's own exit reaches subscribers as it is", async () => {
  const run = await echoWithSubscriber([]);
  await run.p.write("q");
  deepStrictEqual(await expectEnding(run, "debug-exit", 0), { reason: "debug-exit", code: 0 });
});

/** vmrun on the COM1 flood fixture with stdout a pipe nobody reads. */
function floodIntoStuckPipe(args: string[]) {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...NONE, imageCopy("flood"), ...args],
    stdin: "null",
    stdout: "piped", // and never read
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const status = child.status.then((s) => {
    clearTimeout(guard);
    return { code: s.code, seconds: (performance.now() - t0) / 1000 };
  });
  return { child, status, stderr };
}

/** Resident memory of a process, in bytes. */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return Number(m![1]) * 1024;
}

kvmTest("--timeout ends a COM1 flood into a pipe nobody reads, with 124", async () => {
  // Long enough for the flood to outgrow the 4 MiB queue even on a loaded host (2 s was not).
  const run = floodIntoStuckPipe(["--timeout", "8"]);
  const { code, seconds } = await run.status;
  const stderr = await run.stderr;
  strictEqual(code, 124, stderr);
  // A hang guard, not a speed check: before the fix it ran until the reader went away.
  ok(seconds < 30, `took ${seconds} s`);
  match(stderr, /vmrun: timed out: no exit within 8 s/);
  match(stderr, /vmrun: \d+ bytes of COM1 output dropped: stdout did not take them\n$/);
  await run.child.stdout.cancel();
});

kvmTest(
  "SIGTERM ends a COM1 flood into a pipe nobody reads, with 143; memory stays bounded",
  async () => {
    const run = floodIntoStuckPipe([]);
    const stderr = run.stderr;
    // Let the pipe fill and the queue behind it reach its limit.
    await new Promise((r) => setTimeout(r, 4_000));
    const rss = rssBytes(run.child.pid);
    run.child.kill("SIGTERM");
    const { code } = await run.status;
    strictEqual(code, 143, await stderr);
    match(await stderr, /bytes of COM1 output dropped/);
    // The queue holds at most 4 MiB; vmrun with a 16M guest is far below this.
    ok(rss < 512 * 2 ** 20, `RSS ${rss}`);
    await run.child.stdout.cancel();
  },
);

kvmTest(
  "Ctrl-a from a pipe goes to COM1 as it is; the pipe's end does not end the run",
  async () => {
    const p = new VmrunProcess([...NONE, imageCopy("echo")], { killAfterMs: 60_000 });
    await p.waitForStdout("ready", 30_000);
    await p.write("\x01xab");
    await p.closeStdin();
    // The echo fixture sends back what it receives: Ctrl-a and x reached the guest.
    await p.waitForStdout("\x01xab");
    await new Promise((r) => setTimeout(r, 1_000));
    strictEqual(await Promise.race([p.finished().then(() => "ended"), "running"]), "running");
    p.child.kill("SIGTERM");
    strictEqual((await p.finished()).code, 143);
  },
);

kvmTest("--control works with the console: a script drives what a user watches", async () => {
  const path = `${Deno.makeTempDirSync()}/vm.sock`;
  const p = new PtyVmrun(["--firmware", "none", "-m", "16M", imageCopy("echo"), "--control", path]);
  try {
    // The console, not the line mode: its panes are drawn.
    await p.waitForText("Stats");
    await p.waitFor("the socket", () => {
      try {
        return Deno.lstatSync(path).isSocket === true;
      } catch {
        return false;
      }
    });
    const sub = await subscribeExit(path);
    await sub.ready;
    const conn = await Deno.connect({ transport: "unix", path });
    await conn.write(new TextEncoder().encode('{"id":2,"cmd":"send","text":"xyz"}\n'));
    await p.waitForText("xyz");
    await conn.write(new TextEncoder().encode('{"id":3,"cmd":"quit"}\n'));
    const [exit, done] = await Promise.all([sub.exit, p.exited]);
    conn.close();
    deepStrictEqual(exit, { reason: "stopped", code: 0, detail: "quit over the control socket" });
    strictEqual(done.exitCode, 0);
  } finally {
    p.kill("SIGKILL");
    p.dispose();
  }
});
