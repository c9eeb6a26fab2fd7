import { deepStrictEqual, strictEqual } from "node:assert";
import xterm from "../deps/xterm.ts";
import { buildTranscript, endingLine, serialTail } from "./transcript.ts";

async function terminal(bytes: string, cols = 20, rows = 5) {
  const t = new xterm.Terminal({ cols, rows, scrollback: 100, allowProposedApi: true });
  await new Promise<void>((r) => t.write(bytes, r));
  return t;
}

Deno.test("transcript: the last lines, wrapped rows joined, control sequences already acted on", async () => {
  const t = await terminal(
    "one\r\n\x1b[31mtwo\x1b[0m in red\r\nthree, a line longer than twenty columns\r\n" +
      "four\x1b[2Kfive\r\nsix \x1b]0;title\x07\r\n$ ",
  );
  deepStrictEqual(serialTail(t.buffer.active, 10), [
    "one",
    "two in red",
    "three, a line longer than twenty columns",
    "    five",
    "six",
    "$",
  ]);
  deepStrictEqual(serialTail(t.buffer.active, 2), ["six", "$"]);
  // Lines that scrolled into the scrollback count too.
  const long = await terminal(Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\r\n"));
  deepStrictEqual(serialTail(long.buffer.active, 3), ["line 27", "line 28", "line 29"]);
  deepStrictEqual(serialTail((await terminal("")).buffer.active, 5), []);
  const blank = await terminal("\r\n\r\nlate\r\n\r\n");
  deepStrictEqual(serialTail(blank.buffer.active, 5), ["late"]);
  for (const x of [t, long]) x.dispose();
});

Deno.test("transcript: one line for how the run ended, where stderr does not say it already", () => {
  strictEqual(
    endingLine({ reason: "debug-exit", code: 7 }),
    "vmrun: the guest exited with status 7",
  );
  strictEqual(endingLine({ reason: "stopped", code: 0 }), "vmrun: quit (status 0)");
  strictEqual(
    endingLine({ reason: "stopped", code: 143, detail: "SIGTERM" }),
    "vmrun: stopped by SIGTERM (status 143)",
  );
  strictEqual(
    endingLine({ reason: "stopped", code: 129, detail: "terminal lost" }),
    "vmrun: stopped: terminal lost (status 129)",
  );
  strictEqual(
    endingLine({ reason: "shutdown", code: 0 }),
    "vmrun: the guest powered off (status 0)",
  );
  strictEqual(endingLine({ reason: "timeout", code: 124, detail: "no exit within 5 s" }), null);
  strictEqual(endingLine({ reason: "triple-fault", code: 1 }), null);
});

Deno.test("transcript: text made harmless, folded to ASCII under a non-UTF-8 locale", () => {
  const exit = { reason: "debug-exit" as const, code: 0 };
  strictEqual(
    buildTranscript(["ok ✓ café", "bell\x07 esc\x1b[2J"], exit, "utf-8"),
    "ok ✓ café\nbell? esc?[2J\nvmrun: the guest exited with status 0\n",
  );
  strictEqual(
    buildTranscript(["┌─┐ café"], exit, "ascii"),
    "+-+ cafe\nvmrun: the guest exited with status 0\n",
  );
  strictEqual(buildTranscript([], { reason: "triple-fault", code: 1 }, "utf-8"), "");
});
