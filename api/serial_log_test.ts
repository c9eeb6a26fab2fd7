import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert";
import { VmExitedError, WaitTimeoutError } from "./errors.ts";
import { BLOCK, RETAIN, SerialLog } from "./serial_log.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("waitFor matches a string and a RegExp split across chunks", async () => {
  const log = new SerialLog();
  const s = log.waitFor("login:", { timeout: 1000 });
  log.push(enc("Welcome\r\nlog"));
  log.push(enc("in: "));
  deepStrictEqual(await s, { text: "login:", before: "Welcome\r\n", captures: [] });
  const r = log.waitFor(/Linux version (\S+)/, { timeout: 1000 });
  log.push(enc(" Linux ver"));
  log.push(enc("sion 6.1.0-rc "));
  const m = await r;
  strictEqual(m.text, "Linux version 6.1.0-rc");
  deepStrictEqual(m.captures, ["6.1.0-rc"]);
  strictEqual(m.before, "  "); // after "login:" and before "Linux"
});

Deno.test("waits start after the previous match and see output from before the call", async () => {
  const log = new SerialLog();
  log.push(enc("a1 a2 a3"));
  strictEqual((await log.waitFor(/a\d/)).text, "a1");
  strictEqual((await log.waitFor(/a\d/)).text, "a2");
  strictEqual((await log.waitFor("a")).before, " ");
  await rejects(log.waitFor("a", { timeout: 20 }), WaitTimeoutError);
});

Deno.test("a global RegExp is matched the same way every time", async () => {
  const log = new SerialLog();
  const g = /x(\d)/g;
  log.push(enc("x1 x2"));
  strictEqual((await log.waitFor(g)).text, "x1");
  strictEqual((await log.waitFor(g)).text, "x2");
});

Deno.test("a UTF-8 character split between chunks decodes whole", async () => {
  const log = new SerialLog();
  const bytes = enc("grüße");
  const w = log.waitFor("grüße", { timeout: 1000 });
  log.push(bytes.subarray(0, 3));
  log.push(bytes.subarray(3));
  strictEqual((await w).text, "grüße");
});

Deno.test("a timed-out wait carries the last lines seen", async () => {
  const log = new SerialLog();
  for (let i = 1; i <= 15; i++) log.push(enc(`line ${i}\r\n`));
  log.push(enc("partial"));
  const e = await log.waitFor("never", { timeout: 10 }).catch((e) => e);
  ok(e instanceof WaitTimeoutError);
  strictEqual(e.lastLines.length, 10);
  strictEqual(e.lastLines[0], "line 7");
  strictEqual(e.lastLines.at(-1), "partial");
  ok(e.message.includes('"never" not seen on the serial within 10 ms'), e.message);
  ok(e.message.includes("| line 15"), e.message);
});

Deno.test("the end of the run rejects pending and later waits", async () => {
  const log = new SerialLog();
  log.push(enc("booting\n"));
  const w = log.waitFor("login:");
  log.end({ reason: "debug-exit", code: 3 });
  const e = await w.catch((e) => e);
  ok(e instanceof VmExitedError);
  deepStrictEqual(e.exit, { reason: "debug-exit", code: 3 });
  deepStrictEqual(e.lastLines, ["booting"]);
  await rejects(log.waitFor("x"), VmExitedError);
  // Output already there still matches after the end.
  strictEqual((await log.waitFor("boot")).text, "boot");
});

Deno.test("an aborted wait rejects with the signal's reason", async () => {
  const log = new SerialLog();
  const ac = new AbortController();
  const w = log.waitFor("x", { signal: ac.signal });
  ac.abort("enough");
  strictEqual(await w.catch((e) => e), "enough");
});

Deno.test("streams replay what came before, follow the rest and close at the end", async () => {
  const log = new SerialLog();
  log.push(enc("one "));
  const stream = log.readable();
  log.push(enc("two"));
  log.end({ reason: "stopped", code: 0 });
  const text = await new Response(stream).text();
  strictEqual(text, "one two");
  strictEqual(await new Response(log.readable()).text(), "one two");
  strictEqual(log.totalBytes, 7);
});

Deno.test("a cancelled stream stops receiving", async () => {
  const log = new SerialLog();
  const reader = log.readable().getReader();
  log.push(enc("a"));
  deepStrictEqual(await reader.read(), { value: enc("a"), done: false });
  await reader.cancel();
  log.push(enc("b"));
  log.end({ reason: "stopped", code: 0 });
  strictEqual(log.text, "ab");
});

Deno.test("a flood keeps the log bounded; waits still match across chunks and trims", async () => {
  const log = new SerialLog();
  const line = enc(`${"x".repeat(63)}\n`);
  const chunk = new Uint8Array(4096);
  for (let i = 0; i < chunk.length; i += line.length) chunk.set(line, i);
  // A wait that starts before the flood matches where the previous one ended.
  log.push(enc("start "));
  strictEqual((await log.waitFor("start")).text, "start");
  const total = 8 * RETAIN;
  let longest = 0;
  for (let sent = 0; sent < total; sent += chunk.length) {
    log.push(chunk);
    // text() joins what is kept: look at it now and then, not on every chunk.
    if (sent % (64 * chunk.length) === 0) longest = Math.max(longest, log.text.length);
  }
  ok(longest <= 2 * RETAIN + chunk.length, `text grew to ${longest} characters`);
  ok(log.text.length >= RETAIN, `text trimmed to ${log.text.length} characters`);
  ok(log.text.endsWith("x\n") && log.lastLines(1)[0] === "x".repeat(63));
  strictEqual(log.totalBytes, "start ".length + total);
  // A marker split across two chunks right after the flood.
  const w = log.waitFor(/mar(k)er (\d+)/);
  log.push(enc("ma"));
  log.push(enc("rker 42\n"));
  const m = await w;
  strictEqual(m.text, "marker 42");
  deepStrictEqual(m.captures, ["k", "42"]);
  // `before` holds what is still kept between the two matches, not the whole flood.
  ok(m.before.length <= 2 * RETAIN && m.before.endsWith("x\n"), `before: ${m.before.length}`);
  // A replay holds the last RETAIN bytes at most, ending with the newest output.
  log.end({ reason: "stopped", code: 0 });
  const replay = await new Response(log.readable()).text();
  ok(replay.length <= RETAIN && replay.length > RETAIN - chunk.length, `${replay.length}`);
  ok(replay.endsWith("marker 42\n"));
});

Deno.test("output in small chunks is kept exactly, packed into blocks and pieces", async () => {
  const log = new SerialLog();
  // Numbered lines in chunks of about the size a 2 ms flush carries under a flood.
  let sent = "";
  let n = 0;
  while (sent.length < 3 * RETAIN) {
    let chunk = "";
    while (chunk.length < 120) chunk += `line ${n++}\n`;
    sent += chunk;
    log.push(enc(chunk));
  }
  const text = log.text;
  ok(text.length >= RETAIN && text.length <= 2 * RETAIN, `${text.length} characters`);
  strictEqual(text, sent.slice(sent.length - text.length));
  // A match spans wherever pieces were joined.
  const w = log.waitFor(/line (\d+)\nline \1(\d)\n/, { timeout: 100 });
  log.push(enc(`line 9\nline 90\n`));
  strictEqual((await w).captures[0], "9");
  sent += "line 9\nline 90\n";
  // The replay is the last RETAIN bytes, in at most one chunk more than whole blocks hold.
  log.end({ reason: "stopped", code: 0 });
  const chunks: Uint8Array[] = [];
  for await (const c of log.readable()) chunks.push(c);
  ok(chunks.every((c) => c.length <= BLOCK));
  ok(chunks.length <= RETAIN / BLOCK + 1, `${chunks.length} chunks`);
  const replay = chunks.map((c) => new TextDecoder().decode(c)).join("");
  strictEqual(replay, sent.slice(sent.length - RETAIN));
});

Deno.test("a string wait matches across the point where the log trims", async () => {
  const log = new SerialLog();
  const fill = "y".repeat(2 * RETAIN - 3);
  const w = log.waitFor("NEEDLE");
  log.push(enc(fill + "NEE")); // exactly 2 × RETAIN: kept whole
  log.push(enc("DLE")); // over: trims to RETAIN, the match spans the cut chunks
  const m = await w;
  strictEqual(m.text, "NEEDLE");
  ok(m.before.length < 2 * RETAIN && m.before.endsWith("yyy"));
});

Deno.test("a RegExp ^ anchors at a line start after earlier output was searched", async () => {
  const log = new SerialLog();
  const w = log.waitFor(/^ok (\d+)$/m);
  log.push(enc("not ok 1\nno"));
  log.push(enc("t ok 2\nok 3\n"));
  const m = await w;
  strictEqual(m.text, "ok 3");
  strictEqual(m.before, "not ok 1\nnot ok 2\n");
});
