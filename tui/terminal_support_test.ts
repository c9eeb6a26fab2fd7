import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { consoleRefusal, lineModeNote, parseTerminfo, readTerminfo } from "./terminal_support.ts";

/** A compiled terminfo entry with booleans set at `bools` and strings at their indices. */
function compile(
  strings: Record<number, string>,
  bools: number[] = [],
  wide = false,
): Uint8Array {
  const names = new TextEncoder().encode("test|a test terminal\0");
  const boolCount = 10, numCount = 3, strCount = 20;
  let table = "";
  const offsets: number[] = [];
  for (let i = 0; i < strCount; i++) {
    if (strings[i] === undefined) offsets.push(-1);
    else {
      offsets.push(table.length);
      table += strings[i] + "\0";
    }
  }
  const numSize = wide ? 4 : 2;
  let size = 12 + names.length + boolCount;
  if (size % 2) size++;
  size += numCount * numSize + strCount * 2 + table.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  [wide ? 0o1036 : 0o432, names.length, boolCount, numCount, strCount, table.length]
    .forEach((n, i) => v.setInt16(i * 2, n, true));
  out.set(names, 12);
  let at = 12 + names.length;
  for (const b of bools) out[at + b] = 1;
  at += boolCount;
  if (at % 2) at++;
  for (let i = 0; i < numCount; i++, at += numSize) v.setInt16(at, -1, true);
  for (const o of offsets) {
    v.setInt16(at, o, true);
    at += 2;
  }
  for (const ch of table) out[at++] = ch.charCodeAt(0);
  return out;
}

const ANSI_CUP = "\x1b[%i%p1%d;%p2%dH";

Deno.test("terminfo: the capabilities the console needs, in both formats", () => {
  deepStrictEqual(parseTerminfo(compile({ 10: ANSI_CUP, 5: "\x1b[H\x1b[2J" })), {
    hardcopy: false,
    generic: false,
    cursorAddress: ANSI_CUP,
  });
  deepStrictEqual(parseTerminfo(compile({ 10: "\x1bY%p1%' '%+%c" }, [7], true)), {
    hardcopy: true,
    generic: false,
    cursorAddress: "\x1bY%p1%' '%+%c",
  });
  strictEqual(parseTerminfo(compile({}, [6]))?.cursorAddress, null);
  strictEqual(parseTerminfo(new Uint8Array(4)), null);
  strictEqual(parseTerminfo(new TextEncoder().encode("not a terminfo entry at all")), null);
  // Cut short: the string table is not there.
  strictEqual(parseTerminfo(compile({ 10: ANSI_CUP }).subarray(0, 40)), null);
});

Deno.test("terminal: TERM unset, dumb, or not able to address the cursor in ANSI -> line mode", () => {
  const none = () => null;
  strictEqual(consoleRefusal({}, none), "TERM is not set");
  strictEqual(consoleRefusal({ TERM: "" }, none), "TERM is not set");
  strictEqual(consoleRefusal({ TERM: "dumb" }, none), "TERM=dumb");
  strictEqual(
    consoleRefusal({ TERM: "frobterm" }, none),
    "TERM=frobterm is unknown (no terminfo entry)",
  );
  const entry = (bytes: Uint8Array) => (t: string) => t === "frobterm" ? bytes : null;
  strictEqual(consoleRefusal({ TERM: "frobterm" }, entry(compile({ 10: ANSI_CUP }))), null);
  strictEqual(
    consoleRefusal({ TERM: "frobterm" }, entry(compile({ 10: "\x1bY%p1%c%p2%c" }))),
    "TERM=frobterm does not take ANSI cursor sequences",
  );
  strictEqual(
    consoleRefusal({ TERM: "frobterm" }, entry(compile({}))),
    "TERM=frobterm cannot move the cursor",
  );
  strictEqual(
    consoleRefusal({ TERM: "frobterm" }, entry(compile({ 10: ANSI_CUP }, [7]))),
    "TERM=frobterm is not a screen terminal",
  );
  strictEqual(
    consoleRefusal({ TERM: "frobterm" }, entry(new Uint8Array(3))),
    "TERM=frobterm is unknown (no terminfo entry)",
  );
});

Deno.test("terminal: the common emulators run the console without a terminfo entry", () => {
  const none = () => null;
  for (
    const term of [
      "xterm",
      "xterm-256color",
      "xterm-kitty",
      "xterm-ghostty",
      "screen-256color",
      "tmux-256color",
      "rxvt-unicode-256color",
      "linux",
      "vt100",
      "vt220",
      "alacritty",
      "foot",
      "wezterm",
      "st-256color",
      "putty",
      "ansi",
    ]
  ) strictEqual(consoleRefusal({ TERM: term }, none), null, term);
  // Prefixes are whole names: "stupid" is not st.
  ok(consoleRefusal({ TERM: "stupid" }, none));
});

Deno.test("terminal: the system's own terminfo decides for names not on the list", () => {
  // ncurses-base ships these on every Debian system: dumb has no cup, sun and mach have ANSI ones.
  const env = { HOME: "/nonexistent" };
  ok(readTerminfo("dumb", env), "ncurses-base's dumb entry");
  strictEqual(parseTerminfo(readTerminfo("dumb", env)!)?.cursorAddress, null);
  strictEqual(consoleRefusal({ ...env, TERM: "sun" }, (t) => readTerminfo(t, env)), null);
  strictEqual(consoleRefusal({ ...env, TERM: "mach" }, (t) => readTerminfo(t, env)), null);
  strictEqual(readTerminfo("../../etc/passwd", env), null);
  strictEqual(readTerminfo("no-such-terminal", env), null);
  // TERMINFO first.
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/f`);
    Deno.writeFileSync(`${dir}/f/frobterm`, compile({ 10: "\x1bY" }));
    const env2 = { TERMINFO: dir, TERM: "frobterm" };
    strictEqual(
      consoleRefusal(env2, (t) => readTerminfo(t, env2)),
      "TERM=frobterm does not take ANSI cursor sequences",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("terminal: the note is one line that says why and how to get the console", () => {
  strictEqual(lineModeNote({ TERM: "xterm-256color" }), null);
  const note = lineModeNote({ TERM: "dumb" })!;
  strictEqual(note.split("\n").length, 2);
  ok(note.startsWith("vmrun: TERM=dumb: "), note);
  ok(note.includes("Ctrl-a h") && note.includes("TERM=xterm for the console"), note);
  ok(note.length <= 81, "fits 80 columns");
});
