import { deepStrictEqual } from "node:assert";
import { EscapeFilter } from "./escape.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("plain input passes through", () => {
  const r = new EscapeFilter().feed(bytes("ls -l\r"));
  deepStrictEqual([...r.toGuest], [...bytes("ls -l\r")]);
  deepStrictEqual(r.commands, []);
});

Deno.test("Ctrl-a x quits and Ctrl-a Ctrl-a sends one Ctrl-a", () => {
  const r = new EscapeFilter().feed(bytes("a\x01\x01b\x01x"));
  deepStrictEqual([...r.toGuest], [0x61, 0x01, 0x62]);
  deepStrictEqual(r.commands, ["quit"]);
});

Deno.test("the prefix carries across chunks", () => {
  const f = new EscapeFilter();
  deepStrictEqual([...f.feed(bytes("z\x01")).toGuest], [0x7a]);
  const r = f.feed(bytes("h"));
  deepStrictEqual(r.commands, ["help"]);
  deepStrictEqual([...r.toGuest], []);
});

Deno.test("an unknown key after the prefix is swallowed", () => {
  const r = new EscapeFilter().feed(bytes("\x01qz"));
  deepStrictEqual([...r.toGuest], [0x7a]);
  deepStrictEqual(r.commands, []);
});
