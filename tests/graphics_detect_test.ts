/**
 * Terminal capability detection with scripted terminals: one that answers
 * like a sixel-capable xterm, one like kitty, one with neither, one that
 * never answers (the probe gives up quickly and half-blocks are used), and
 * multiplexers. Replies never reach the guest: they are parsed out of the
 * probe's input, and a reply arriving after the probe gave up is removed
 * by the reply filter the console reads through. The last test does all of
 * this for real through a pty.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fileURLToPath } from "node:url";
import { spawn } from "../deps/node_pty.ts";
import {
  chooseDisplay,
  PROBE_QUERIES,
  type ProbeIo,
  probeTerminal,
} from "../tui/graphics/capabilities.ts";
import { TerminalReplyFilter } from "../tui/graphics/reply_filter.ts";
import {
  cellSize,
  createRenderer,
  type HalfBlockRenderer,
  paneGeometry,
} from "../tui/graphics/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A terminal that answers the probe's queries with `chunks`, `gapMs` apart. */
function scripted(chunks: string[], gapMs = 5) {
  const queue: Uint8Array[] = [];
  const written: string[] = [];
  let wake: (() => void) | null = null;
  const io: ProbeIo = {
    write(text) {
      written.push(text);
      chunks.forEach((c, i) =>
        setTimeout(() => {
          queue.push(enc.encode(c));
          wake?.();
        }, gapMs * (i + 1))
      );
    },
    async read(ms) {
      if (!queue.length) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
      return queue.shift() ?? null;
    },
  };
  return { io, written };
}

const ENV = { TERM: "xterm-256color" };

Deno.test("a sixel terminal: DA1 lists 4, the cell size comes from CSI 16 t", async () => {
  const t = scripted(["\x1b[6;20;10t", "\x1b[4;480;800t\x1b[?63;1;2;4;6;9;15;22c"]);
  const { caps, input } = await probeTerminal(t.io, { env: ENV });
  deepStrictEqual(t.written, [PROBE_QUERIES]);
  deepStrictEqual(caps, {
    sixel: true,
    kitty: false,
    cellWidth: 10,
    cellHeight: 20,
    multiplexer: null,
    answered: true,
  });
  strictEqual(input.length, 0);
  strictEqual(chooseDisplay("auto", caps), "sixel");
  strictEqual(chooseDisplay("blocks", caps), "blocks");
});

Deno.test("a kitty terminal: the graphics query is answered OK; kitty wins over sixel", async () => {
  // The reply is split mid-sequence, as a slow link would deliver it.
  const t = scripted(["\x1b_Gi=31;OK\x1b", "\\\x1b[6;18;9t\x1b[?62;4;22c"]);
  const { caps } = await probeTerminal(t.io, { env: { TERM: "xterm-kitty" } });
  deepStrictEqual([caps.kitty, caps.sixel, caps.cellWidth, caps.cellHeight], [true, true, 9, 18]);
  strictEqual(chooseDisplay("auto", caps), "kitty");
});

Deno.test("neither: half-blocks; the cell size falls back to CSI 14 t over the cell count", async () => {
  const t = scripted(["\x1b_Gi=31;ENOTSUPPORTED:no\x1b\\\x1b[4;768;1024t\x1b[?1;2c"]);
  const { caps } = await probeTerminal(t.io, { env: ENV, cells: { cols: 128, rows: 48 } });
  deepStrictEqual([caps.kitty, caps.sixel, caps.cellWidth, caps.cellHeight], [false, false, 8, 16]);
  strictEqual(chooseDisplay("auto", caps), "blocks");
});

Deno.test("no reply at all: the probe gives up within its timeout and half-blocks are used", async () => {
  const t = scripted([]);
  const started = performance.now();
  const { caps } = await probeTerminal(t.io, { env: ENV, timeoutMs: 150 });
  const took = performance.now() - started;
  ok(took >= 140 && took < 400, `took ${took.toFixed(0)} ms`);
  deepStrictEqual([caps.answered, caps.sixel, caps.kitty], [false, false, false]);
  strictEqual(chooseDisplay("auto", caps), "blocks");
});

Deno.test("inside tmux or screen nothing is asked and auto means half-blocks", async () => {
  for (
    const [env, which] of [
      [{ TERM: "screen-256color", TMUX: "/tmp/tmux-0/default,1,0" }, "tmux"],
      [{ TERM: "tmux-256color" }, "tmux"],
      [{ TERM: "screen", STY: "1234.pts-0" }, "screen"],
    ] as const
  ) {
    const t = scripted(["\x1b[?62;4c"]);
    const { caps } = await probeTerminal(t.io, { env });
    deepStrictEqual(t.written, [], `${which}: no queries`);
    strictEqual(caps.multiplexer, which);
    strictEqual(chooseDisplay("auto", caps), "blocks");
    strictEqual(chooseDisplay("sixel", caps), "sixel", "told otherwise, it obeys");
  }
  const forced = scripted(["\x1b[?62;4c"]);
  const { caps } = await probeTerminal(forced.io, {
    env: { TERM: "tmux-256color" },
    insideMultiplexer: true,
  });
  strictEqual(caps.sixel, true, "probing inside tmux when asked to");
});

Deno.test("keys typed during the probe are kept for the guest; the replies are not", async () => {
  const t = scripted(["ab\x1b[A", "\x1b[6;16;8t", "c\x1b[?62;4c"]);
  const { caps, input } = await probeTerminal(t.io, { env: ENV });
  strictEqual(caps.sixel, true);
  strictEqual(dec.decode(input), "ab\x1b[Ac");
});

Deno.test("late replies are filtered out of the console's input, split or not", () => {
  const f = new TerminalReplyFilter();
  strictEqual(dec.decode(f.feed(enc.encode("x\x1b[?62;4;22cy"))), "xy");
  strictEqual(dec.decode(f.feed(enc.encode("\x1b_Gi=31;OK\x1b\\\x1b[6;16;8t\x1b[4;1;2t"))), "");
  strictEqual(dec.decode(f.feed(enc.encode("k\x1b[?6"))), "k");
  ok(f.holding);
  strictEqual(dec.decode(f.feed(enc.encode("2;4cz"))), "z");
  strictEqual(f.removed, 5);
  // Keys pass untouched: arrows, modified arrows, function keys, Alt+x, a lone Escape.
  const keys = "\x1b[A\x1b[1;5C\x1b[15~\x1bx\x1bOP";
  strictEqual(dec.decode(f.feed(enc.encode(keys))), keys);
  strictEqual(dec.decode(f.feed(enc.encode("\x1b"))), "");
  strictEqual(dec.decode(f.flush()), "\x1b", "a held Escape is given back on flush");
});

Deno.test("through a pty: the real stdin probe, a late reply kept from the guest", async () => {
  const cli = fileURLToPath(new URL("../tui/graphics/probe_cli.ts", import.meta.url));
  const pty = spawn(Deno.execPath(), ["run", "-A", cli, "--listen", "600"], {
    cols: 100,
    rows: 30,
    name: "xterm-256color",
    env: { ...Deno.env.toObject(), TERM: "xterm-256color", TMUX: "", STY: "" },
    cwd: Deno.cwd(),
  });
  let out = "";
  let answered = false;
  const exited = new Promise<void>((resolve) => pty.onExit(() => resolve()));
  pty.onData((d) => {
    out += d;
    if (!answered && out.includes("\x1b[c")) {
      answered = true;
      // Too late for the probe (300 ms), in time for the listening that follows.
      setTimeout(() => pty.write("\x1b_Gi=31;OK\x1b\\\x1b[6;16;8t\x1b[?62;4c"), 450);
      setTimeout(() => pty.write("hi"), 500);
    }
  });
  const guard = setTimeout(() => pty.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(guard);
  ok(out.includes(PROBE_QUERIES), "the queries went to the terminal");
  const json = JSON.parse(out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1));
  deepStrictEqual([json.caps.answered, json.display], [false, "blocks"]);
  ok(json.probeMs < 1000, `the probe took ${json.probeMs} ms`);
  strictEqual(dec.decode(Uint8Array.from(json.passed)), "hi", "only the typed keys got through");
  strictEqual(json.repliesRemoved, 3);
});

Deno.test("the cell size: as answered, else from the window's pixels, else 8x16; a renderer per mode", () => {
  const caps = {
    sixel: true,
    kitty: false,
    cellWidth: null,
    cellHeight: null,
    multiplexer: null,
    answered: true,
  };
  deepStrictEqual(cellSize({ ...caps, cellWidth: 9, cellHeight: 18 }, () => null), {
    width: 9,
    height: 18,
  });
  deepStrictEqual(cellSize(caps, () => ({ width: 7, height: 15 })), { width: 7, height: 15 });
  deepStrictEqual(cellSize(caps, () => null), { width: 8, height: 16 });
  deepStrictEqual(paneGeometry({ x: 1, y: 2, width: 80, height: 25 }, { width: 8, height: 16 }), {
    x: 1,
    y: 2,
    cols: 80,
    rows: 25,
    cellWidth: 8,
    cellHeight: 16,
  });
  deepStrictEqual(
    (["sixel", "kitty", "blocks", "text", "none"] as const).map((m) =>
      createRenderer(m, "truecolor")?.kind ?? null
    ),
    ["sixel", "kitty", "blocks", null, null],
  );
  strictEqual((createRenderer("blocks", "256") as HalfBlockRenderer).colours, "256");
});
