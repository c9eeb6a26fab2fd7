import { deepStrictEqual, ok, strictEqual } from "node:assert";
import xterm from "../deps/xterm.ts";
import type { KeyStroke } from "../devices/keymap.ts";
import type { ScreenState } from "../devices/vga/screen.ts";
import type { RunState } from "../machine/control.ts";
import type { MachineSnapshot } from "../machine/machine.ts";
import {
  ConsoleController,
  type GraphicsPaneLike,
  type MachineLike,
} from "./console_controller.tsx";
import type { PaneGeometry } from "./graphics/mod.ts";
import type { Charset } from "./charset.ts";
import { boardState, textScreen } from "./testing.ts";

class FakeMachine implements MachineLike {
  runState: RunState = "running";
  keys: KeyStroke[][] = [];
  serial: number[] = [];
  combos: string[] = [];
  calls: string[] = [];
  screen: ScreenState = textScreen(80, 25);
  uptime = 0;
  pause() {
    this.calls.push("pause");
    this.runState = "paused";
  }
  resume() {
    this.calls.push("resume");
    this.runState = "running";
  }
  reset() {
    this.calls.push("reset");
  }
  powerButton() {
    this.calls.push("power-button");
  }
  sendSerial(b: Uint8Array) {
    this.serial.push(...b);
  }
  sendKeys(s: readonly KeyStroke[]) {
    this.keys.push([...s]);
  }
  pressKeys(c: string) {
    this.combos.push(c);
  }
  snapshot(): Promise<MachineSnapshot> {
    this.uptime += 1000;
    return Promise.resolve({
      runState: this.runState,
      devices: { ...boardState(), screen: this.screen },
      vcpu: {
        exits: this.uptime,
        byKind: { io: this.uptime },
        guestMs: 0,
        uptimeMs: this.uptime,
        busiestPorts: [],
      },
      vcpus: [],
    });
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds (a hang guard of 3 s, not a timing check). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await wait(10);
  ok(cond(), "condition never held");
}
const enc = (s: string) => new TextEncoder().encode(s);

/** A controller drawing into a headless xterm of 132x43 (or as asked). */
function setup(
  cols = 132,
  rows = 43,
  charset: Charset = "utf-8",
  balloon?: (direction: 1 | -1) => Promise<string>,
  noScreen = false,
) {
  const machine = new FakeMachine();
  const term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
  let quits = 0;
  let written = "";
  const c = new ConsoleController({
    machine,
    image: "guest.img",
    cpus: 1,
    memoryBytes: 256 << 20,
    depth: "16",
    size: () => ({ cols: term.cols, rows: term.rows }),
    write: (s) => {
      written += s;
      return new Promise<void>((r) => term.write(s, r));
    },
    quit: () => quits++,
    charset,
    balloon,
    noScreen,
  });
  const row = (y: number) => term.buffer.active.getLine(y)?.translateToString(true) ?? "";
  return { machine, term, c, row, quits: () => quits, written: () => written };
}

Deno.test("without a display (--vga none) the serial pane has the keyboard and no screen pane shows", async () => {
  const { machine, c, row } = setup(132, 43, "utf-8", undefined, true);
  machine.screen = textScreen(80, 25, [{ row: 3, col: 2, text: "Hello", attr: 0x1e }], {
    row: 3,
    col: 7,
  });
  deepStrictEqual([c.ui.focus, c.ui.show.screen], ["serial", false]);
  c.serialOutput(enc("login: "));
  c.start();
  const all = () => [...Array(43).keys()].map(row).join("\n");
  await until(() => all().includes("login:"));
  ok(!all().includes("Hello"), "the screen is not drawn");
  c.stop();
});

Deno.test("the guest's screen is drawn in its pane with its colours; the cursor sits on the guest's", async () => {
  const { machine, term, c, row } = setup();
  machine.screen = textScreen(80, 25, [{ row: 3, col: 2, text: "Hello", attr: 0x1e }], {
    row: 3,
    col: 7,
  });
  c.start();
  await until(() => row(5).includes("Hello"));
  ok(row(0).includes("guest.img"), row(0));
  strictEqual(row(5).slice(0, 10), "│  Hello  ");
  const cell = term.buffer.active.getLine(5)!.getCell(3)!;
  // Yellow on blue in 16 colours: bright yellow (11) on blue (4).
  deepStrictEqual([cell.getChars(), cell.getFgColor(), cell.getBgColor()], ["H", 11, 4]);
  deepStrictEqual([term.buffer.active.cursorY, term.buffer.active.cursorX], [5, 8]);
  ok(c.snapshots >= 1);
  c.stop();
  term.dispose();
});

Deno.test("keys go to the PS/2 keyboard, or to COM1 with the serial pane focused; Ctrl-a x quits", async () => {
  const { machine, term, c, quits } = setup();
  c.start();
  c.input(enc("a\x1b[A"));
  deepStrictEqual(machine.keys.map((k) => k.map((s) => s.key + (s.down ? "+" : "-")).join(" ")), [
    "KeyA+ KeyA-",
    "ArrowUp+ ArrowUp-",
  ]);
  c.input(enc("\x01\t"));
  strictEqual(c.ui.focus, "serial");
  c.input(enc("hi\r\x1b[A"));
  deepStrictEqual(machine.serial, [...enc("hi\r\x1b[A")]);
  c.input(enc("\x01\x01"));
  deepStrictEqual(machine.serial.at(-1), 1);
  c.input(enc("\x01"));
  strictEqual(c.ui.prefixArmed, true);
  c.input(enc("x"));
  strictEqual(quits(), 1);
  strictEqual(machine.keys.length, 2);
  await wait(50);
  c.stop();
  term.dispose();
});

Deno.test("machine actions: pause/resume, reset, power button, Ctrl-Alt-Del; help opens, and a key closes it unsent", async () => {
  const { machine, term, c, row } = setup();
  c.start();
  c.input(enc("\x01p"));
  c.input(enc("\x01p"));
  c.input(enc("\x01r"));
  c.input(enc("\x01o"));
  strictEqual(c.ui.notice, "power button pressed");
  c.input(enc("\x01k"));
  deepStrictEqual(machine.calls, ["pause", "resume", "reset", "power-button"]);
  deepStrictEqual(machine.combos, ["Ctrl+Alt+Delete"]);
  c.input(enc("\x01?"));
  strictEqual(c.ui.help, true);
  await until(() =>
    Array.from({ length: 43 }, (_, y) => row(y)).some((l) => l.includes("vmrun keys"))
  );
  c.input(enc("q"));
  strictEqual(c.ui.help, false);
  strictEqual(machine.keys.length, 0);
  c.stop();
  term.dispose();
});

Deno.test("Ctrl-a - and Ctrl-a + step the balloon; without one the console says so", async () => {
  const steps: number[] = [];
  const withBalloon = setup(132, 43, "utf-8", (d) => {
    steps.push(d);
    return Promise.resolve(`step ${d}`);
  });
  withBalloon.c.start();
  withBalloon.c.input(enc("\x01-"));
  await until(() => withBalloon.c.ui.notice === "step 1");
  withBalloon.c.input(enc("\x01+"));
  await until(() => withBalloon.c.ui.notice === "step -1");
  withBalloon.c.input(enc("\x01="));
  await until(() => steps.length === 3);
  deepStrictEqual(steps, [1, -1, -1]);
  strictEqual(withBalloon.machine.keys.length, 0);
  withBalloon.c.stop();
  withBalloon.term.dispose();
  const none = setup();
  none.c.start();
  none.c.input(enc("\x01-"));
  strictEqual(none.c.ui.notice, "no balloon (start with --device virtio-balloon-pci)");
  none.c.stop();
  none.term.dispose();
});

Deno.test("a paste is typed a character at a time; pane toggles and full screen change the layout", async () => {
  const { machine, term, c } = setup();
  c.start();
  c.input(enc("\x1b[200~ab\x1b[201~"));
  strictEqual(machine.keys.length, 1);
  await wait(120);
  strictEqual(machine.keys.length, 2);
  c.input(enc("\x013\x014"));
  await wait(20);
  strictEqual(c.layout?.panes.stats, null);
  strictEqual(c.layout?.panes.devices, null);
  c.input(enc("\x01f"));
  await wait(20);
  strictEqual(c.layout?.header, null);
  deepStrictEqual(c.layout?.panes.screen?.inner, { x: 0, y: 0, width: 132, height: 43 });
  c.stop();
  term.dispose();
});

class FakePainter implements GraphicsPaneLike {
  graphics = true;
  label = "VGA 320×200 256 colours";
  panes: (PaneGeometry | null)[] = [];
  invalidations = 0;
  setPane(pane: PaneGeometry | null) {
    this.panes.push(pane);
  }
  invalidate() {
    this.invalidations++;
  }
}

Deno.test("graphics: the pane is the painter's, titled with its mode; help, full screen and resizes move it", () => {
  const machine = new FakeMachine();
  const painter = new FakePainter();
  let size = { cols: 132, rows: 43 };
  const c = new ConsoleController({
    machine,
    image: "guest.img",
    cpus: 1,
    memoryBytes: 256 << 20,
    depth: "16",
    size: () => size,
    write: () => Promise.resolve(),
    quit: () => {},
    graphics: { painter, cell: () => ({ width: 10, height: 20 }) },
  });
  const first = c.renderFrame();
  ok(first.includes("Screen VGA 320×200 256 colours"), "the mode is the title");
  const pane = { x: 1, y: 2, cols: 80, rows: 25, cellWidth: 10, cellHeight: 20 };
  deepStrictEqual(painter.panes, [pane]);
  strictEqual(painter.invalidations, 1, "the first frame is a full redraw");
  c.renderFrame();
  strictEqual(painter.invalidations, 1, "an unchanged frame leaves the picture alone");
  c.input(enc("\x01?"));
  c.renderFrame();
  deepStrictEqual(painter.panes.at(-1), null, "help covers the pane");
  strictEqual(painter.invalidations, 2, "the overlay is drawn in full over the picture");
  c.input(enc("q"));
  c.renderFrame();
  deepStrictEqual(painter.panes.at(-1), pane);
  strictEqual(painter.invalidations, 3);
  c.input(enc("\x01f"));
  c.renderFrame();
  deepStrictEqual(
    painter.panes.at(-1),
    { ...pane, x: 0, y: 0, cols: 132, rows: 42 },
    "off the last row",
  );
  size = { cols: 100, rows: 30 };
  c.resize();
  c.renderFrame();
  deepStrictEqual(painter.panes.at(-1), { ...pane, x: 0, y: 0, cols: 100, rows: 29 });
  c.input(enc("\x011"));
  c.renderFrame();
  deepStrictEqual(painter.panes.at(-1), null, "the screen pane hidden");
  c.stop();
});

/** A screen whose every row says which row it is, with the column's last digit in every cell. */
function numberedScreen(cursor: { row: number; col: number }) {
  const writes = [];
  for (let row = 0; row < 25; row++) {
    const digits = Array.from({ length: 80 }, (_, c) => String(c % 10)).join("");
    writes.push({ row, col: 0, text: `r${String(row).padStart(2, "0")}` + digits.slice(3) });
  }
  return textScreen(80, 25, writes, cursor);
}

Deno.test("80x24: the guest screen alone, every column at its own place, following the cursor; Ctrl-a f toggles the panels", async () => {
  const { machine, term, c, row } = setup(80, 24);
  machine.screen = numberedScreen({ row: 24, col: 10 });
  c.start();
  // The cursor is on the last row: rows 1..24 are shown.
  await until(() => row(23).startsWith("r24"));
  for (let y = 0; y < 24; y++) {
    const want = `r${String(y + 1).padStart(2, "0")}` + "3456789" +
      "0123456789".repeat(7);
    ok(row(y) === want, `row ${y}: ${row(y)}`);
  }
  deepStrictEqual([term.buffer.active.cursorY, term.buffer.active.cursorX], [23, 10]);
  // The cursor moves to the top: the view follows.
  machine.screen = numberedScreen({ row: 0, col: 0 });
  await until(() => row(0).startsWith("r00"));
  ok(row(23).startsWith("r23"), row(23));
  // Ctrl-a alone shows the status line over the bottom row until the command key.
  c.input(enc("\x01"));
  await until(() => row(23).includes("Ctrl-a _"));
  c.input(enc("f"));
  await until(() => row(0).includes("guest.img"));
  ok(row(1).startsWith("╭─ Screen 80x25 text"), row(1));
  ok(row(23).includes("Ctrl-a ? help"), row(23));
  c.input(enc("\x01f"));
  await until(() => row(0).startsWith("r00"));
  c.stop();
  term.dispose();
});

Deno.test("ASCII charset: every byte written is ASCII; CP437 box drawing as + - |", async () => {
  const { machine, term, c, row, written } = setup(132, 43, "ascii");
  const screen = textScreen(80, 25, [{ row: 0, col: 0, text: "caf\x82 \xc9\xcd\xbb \xb0\xdb" }]);
  machine.screen = screen;
  c.serialOutput(enc("serial: na\u00efve \u2713\r\n"));
  c.start();
  await until(() => row(2).includes("cafe"));
  ok(row(2).startsWith("|cafe +=+ :#"), row(2));
  ok(row(1).startsWith("+- Screen 80x25 text"), row(1));
  const rows = () => Array.from({ length: 43 }, (_, y) => row(y));
  await until(() => rows().some((l) => l.startsWith("|serial: naive ?")));
  c.input(enc("\x01?"));
  await until(() => rows().some((l) => l.includes("vmrun keys")));
  // deno-lint-ignore no-control-regex
  ok(/^[\x00-\x7f]*$/.test(written()), "only ASCII");
  c.stop();
  term.dispose();
});

Deno.test("the transcript: the serial lines the guest wrote and how the run ended", async () => {
  const { c, term } = setup(80, 24);
  c.serialOutput(enc("SeaBIOS\r\nbooting\x1b[2J\x1b[Hhello\r\n"));
  strictEqual(
    await c.transcript({ reason: "debug-exit", code: 3 }),
    "hello\nvmrun: the guest exited with status 3\n",
  );
  c.stop();
  term.dispose();
});
