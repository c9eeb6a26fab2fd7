import { deepStrictEqual, match, strictEqual, throws } from "node:assert";
import { ctlMain, ctlRequest } from "./ctl.ts";
import { UsageError } from "./errors.ts";

Deno.test("ctl arguments become requests", () => {
  deepStrictEqual(ctlRequest("status", []), { cmd: "status" });
  deepStrictEqual(ctlRequest("type", ["ls\\n"]), { cmd: "type", text: "ls\n" });
  deepStrictEqual(ctlRequest("send", ["\\e"]), { cmd: "send", text: "\x1b" });
  deepStrictEqual(ctlRequest("key", ["Ctrl+Alt+Delete"]), { cmd: "key", combo: "Ctrl+Alt+Delete" });
  deepStrictEqual(ctlRequest("screenshot", ["a.png"]), { cmd: "screenshot" });
  deepStrictEqual(ctlRequest("subscribe", []), {
    cmd: "subscribe",
    events: ["serial", "state", "reset", "watchdog", "exit"],
  });
  deepStrictEqual(ctlRequest("subscribe", ["exit"]), { cmd: "subscribe", events: ["exit"] });
  deepStrictEqual(ctlRequest("balloon", []), { cmd: "balloon" });
  deepStrictEqual(ctlRequest("balloon", ["96"]), { cmd: "balloon", target: 96 });
});

Deno.test("bad ctl arguments are usage errors", () => {
  for (
    const [cmd, args] of [
      ["frobnicate", []],
      ["status", ["x"]],
      ["type", []],
      ["key", ["a", "b"]],
      ["subscribe", ["everything"]],
      ["balloon", ["-5"]],
      ["balloon", ["1.5"]],
      ["balloon", ["64M"]],
      ["balloon", ["1", "2"]],
    ] as const
  ) {
    throws(() => ctlRequest(cmd, args), UsageError);
  }
});

Deno.test("vmrun ctl without a listening socket exits 2 and says why", async () => {
  const out: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
  const dir = Deno.makeTempDirSync();
  strictEqual(await ctlMain([`${dir}/none.sock`, "status"], io), 2);
  match(out.join(""), /^vmrun: cannot connect to '.*none\.sock': /);
  out.length = 0;
  strictEqual(await ctlMain([`${dir}/none.sock`], io), 2);
  match(out.join(""), /^usage: vmrun ctl <socket> <command>/);
  out.length = 0;
  strictEqual(await ctlMain(["--help"], io), 0);
  match(out.join(""), /^usage: vmrun ctl/);
});
