import { deepStrictEqual, strictEqual } from "node:assert";
import { CommandRouter } from "./commands.ts";
import { KeyParser } from "./key_parser.ts";

function route(input: string): string[] {
  const r = new CommandRouter();
  const p = new KeyParser();
  return [...p.feed(new TextEncoder().encode(input)), ...p.flush()].map((ev) => {
    const x = r.route(ev);
    if (x.to === "vmrun") return x.action;
    if (x.to === "guest") return x.event.type === "key" ? `guest:${x.event.key}` : "guest:paste";
    return "-";
  });
}

Deno.test("Ctrl-a then a letter is vmrun's; everything else is the guest's", () => {
  deepStrictEqual(route("ab\x01xc"), ["guest:a", "guest:b", "-", "quit", "guest:c"]);
  deepStrictEqual(route("\x01o\x01O"), ["-", "power-button", "-", "power-button"]);
  deepStrictEqual(route("\x01?\x01h\x01\t\x01f\x01p\x01r\x01k\x01\x1b[3~"), [
    "-",
    "help",
    "-",
    "help",
    "-",
    "focus",
    "-",
    "fullscreen",
    "-",
    "pause",
    "-",
    "reset",
    "-",
    "ctrl-alt-del",
    "-",
    "ctrl-alt-del",
  ]);
  deepStrictEqual(route("\x011\x012\x013\x014\x01X\x01q"), [
    "-",
    "toggle-screen",
    "-",
    "toggle-serial",
    "-",
    "toggle-stats",
    "-",
    "toggle-devices",
    "-",
    "quit",
    "-",
    "quit",
  ]);
});

Deno.test("Ctrl-a Ctrl-a and Ctrl-a a send the prefix; an unknown key cancels", () => {
  deepStrictEqual(route("\x01\x01\x01a\x01zq"), [
    "-",
    "send-prefix",
    "-",
    "send-prefix",
    "-",
    "-",
    "guest:q",
  ]);
});

Deno.test("the prefix survives between reads", () => {
  const r = new CommandRouter();
  const p = new KeyParser();
  deepStrictEqual(p.feed(Uint8Array.of(1)).map((e) => r.route(e).to), ["none"]);
  strictEqual(r.armed, true);
  const [x] = p.feed(new TextEncoder().encode("x")).map((e) => r.route(e));
  deepStrictEqual(x, { to: "vmrun", action: "quit" });
  strictEqual(r.armed, false);
});
