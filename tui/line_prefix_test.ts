import { strictEqual } from "node:assert";
import { LinePrefixer } from "./line_prefix.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("line prefix: each line starts with the prefix, across chunk boundaries", () => {
  const p = new LinePrefixer("> ");
  const out = ["hel", "lo\r\nwor", "ld\r\n", "", "\nx"].map((s) =>
    dec.decode(p.feed(enc.encode(s)))
  );
  strictEqual(out.join(""), "> hello\r\n> world\r\n> \n> x");
});

Deno.test("line prefix: nothing is added before a line starts", () => {
  const p = new LinePrefixer("> ");
  strictEqual(p.feed(new Uint8Array(0)).length, 0);
  strictEqual(dec.decode(p.feed(enc.encode("a\n"))), "> a\n");
  strictEqual(p.feed(new Uint8Array(0)).length, 0);
});
