import { deepStrictEqual, strictEqual } from "node:assert";
import { KeyParser, type TermEvent } from "./key_parser.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Events as compact strings: "C-A-S-key" or "paste:text". */
function names(events: TermEvent[]): string[] {
  return events.map((e) =>
    e.type === "paste"
      ? `paste:${e.text}`
      : `${e.ctrl ? "C-" : ""}${e.alt ? "A-" : ""}${e.shift ? "S-" : ""}${e.key}`
  );
}

function parse(s: string): string[] {
  const p = new KeyParser();
  return names([...p.feed(enc(s)), ...p.flush()]);
}

Deno.test("printable characters, control characters and UTF-8", () => {
  deepStrictEqual(parse("aZ!~ "), ["a", "Z", "!", "~", " "]);
  deepStrictEqual(parse("\r\t\x7f\x08"), ["Enter", "Tab", "Backspace", "Backspace"]);
  deepStrictEqual(parse("\x01\x03\x1a\x00\x1c"), ["C-a", "C-c", "C-z", "C- ", "C-\\"]);
  deepStrictEqual(parse("é中"), ["é", "中"]);
});

Deno.test("CSI and SS3 keys with xterm modifiers", () => {
  deepStrictEqual(parse("\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F"), [
    "ArrowUp",
    "ArrowDown",
    "ArrowRight",
    "ArrowLeft",
    "Home",
    "End",
  ]);
  deepStrictEqual(parse("\x1bOA\x1bOP\x1bOS"), ["ArrowUp", "F1", "F4"]);
  deepStrictEqual(parse("\x1b[2~\x1b[3~\x1b[5~\x1b[6~\x1b[1~\x1b[4~"), [
    "Insert",
    "Delete",
    "PageUp",
    "PageDown",
    "Home",
    "End",
  ]);
  deepStrictEqual(parse("\x1b[15~\x1b[17~\x1b[21~\x1b[23~\x1b[24~"), [
    "F5",
    "F6",
    "F10",
    "F11",
    "F12",
  ]);
  deepStrictEqual(parse("\x1b[1;5C\x1b[1;2A\x1b[3;3~\x1b[1;8P\x1b[Z"), [
    "C-ArrowRight",
    "S-ArrowUp",
    "A-Delete",
    "C-A-S-F1",
    "S-Tab",
  ]);
  deepStrictEqual(parse("\x1b[[A\x1b[[E"), ["F1", "F5"]);
});

Deno.test("Alt as an ESC prefix, and a lone ESC once nothing follows", () => {
  deepStrictEqual(parse("\x1bx\x1bX\x1b\x01\x1b\x1b[A"), ["A-x", "A-X", "C-A-a", "A-ArrowUp"]);
  const p = new KeyParser();
  deepStrictEqual(p.feed(enc("\x1b")), []);
  strictEqual(p.waiting, true);
  deepStrictEqual(names(p.flush()), ["Escape"]);
  strictEqual(p.waiting, false);
});

Deno.test("sequences split across reads are joined; unknown and private ones dropped", () => {
  const p = new KeyParser();
  deepStrictEqual(names(p.feed(enc("a\x1b[1;"))), ["a"]);
  strictEqual(p.waiting, true);
  deepStrictEqual(names(p.feed(enc("5D"))), ["C-ArrowLeft"]);
  deepStrictEqual(names(p.feed(Uint8Array.of(0xe4, 0xb8))), []);
  deepStrictEqual(names(p.feed(Uint8Array.of(0xad))), ["中"]);
  deepStrictEqual(parse("\x1b[<0;10;5M\x1b[?1;2cq\x1b[99~"), ["q"]);
});

Deno.test("bracketed paste arrives as one event, even split across reads", () => {
  deepStrictEqual(parse("x\x1b[200~hello\x1b[A\r\nworld\x1b[201~y"), [
    "x",
    "paste:hello\x1b[A\r\nworld",
    "y",
  ]);
  const p = new KeyParser();
  const events = [
    ...p.feed(enc("\x1b[20")),
    ...p.feed(enc("0~ab")),
    ...p.feed(enc("c\x1b[20")),
    ...p.feed(enc("1~")),
  ];
  deepStrictEqual(names(events), ["paste:abc"]);
});

Deno.test("raw bytes of each key are kept for the serial port", () => {
  const p = new KeyParser();
  const ev = p.feed(enc("\x1b[1;5Ca"));
  deepStrictEqual(ev.map((e) => e.type === "key" ? [...e.raw] : []), [
    [...enc("\x1b[1;5C")],
    [0x61],
  ]);
});
