import { deepStrictEqual } from "node:assert";
import { encodePathBytes } from "../machine/host_path.ts";
import { recoverArgs } from "./argv.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const join = (...parts: Uint8Array[]) => {
  const out: number[] = [];
  for (const p of parts) out.push(...p, 0);
  return Uint8Array.from(out);
};

Deno.test("arguments without U+FFFD are Deno's as they are", () => {
  deepStrictEqual(recoverArgs(["-m", "64M", "a.img"], null), ["-m", "64M", "a.img"]);
});

Deno.test("an argument with bytes that are not UTF-8 comes back from the command line", () => {
  const raw = Uint8Array.from([...enc("/tmp/a"), 0xff, ...enc(".img")]);
  const cmdline = join(enc("deno"), enc("run"), enc("-A"), enc("cli/main.ts"), enc("-m"), raw);
  const args = recoverArgs(["-m", "/tmp/a\ufffd.img"], cmdline);
  deepStrictEqual(args[0], "-m");
  deepStrictEqual([...encodePathBytes(args[1])], [...raw]);
});

Deno.test("a command line that does not match Deno's arguments is not used", () => {
  const cmdline = join(enc("deno"), enc("something-else"));
  deepStrictEqual(recoverArgs(["x\ufffd"], cmdline), ["x\ufffd"]);
  deepStrictEqual(recoverArgs(["a", "b", "x\ufffd"], cmdline), ["a", "b", "x\ufffd"]);
});
