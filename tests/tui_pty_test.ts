/**
 * End-to-end tests of the console TUI: vmrun runs a fixture guest in a
 * pseudo-terminal and a headless xterm reads what it draws.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";
import { PtyVmrun } from "./tui_pty.ts";

const TRUECOLOR = { COLORTERM: "truecolor" };

/** The leave sequence's parts, in the order vmrun writes them. */
const RESTORED = ["\x1b[?2004l", "\x1b[?25h", "\x1b[?1049l"];

function assertRestored(p: PtyVmrun): void {
  const tail = p.output.slice(p.output.lastIndexOf("\x1b[?2026l\x1b[0m\x1b[?7h"));
  for (const s of RESTORED) ok(tail.includes(s), `missing ${JSON.stringify(s)} at the end`);
  strictEqual(p.term.buffer.active.type, "normal");
  strictEqual(p.term.modes.bracketedPasteMode, false);
  strictEqual(p.term.modes.wraparoundMode, true);
}

kvmTest(
  "tui: the guest's VGA text appears in the screen pane in its colours, at the guest's cursor",
  async () => {
    const p = new PtyVmrun([fixture("keys")], { env: TRUECOLOR });
    try {
      // The screen pane's content starts at column 1, row 2 (header, then the border).
      // COM1 shows "keys?" before the next screen snapshot does: wait for the screen.
      await p.waitFor("keys? on the screen", () => p.row(4).startsWith("│keys?"));
      ok(p.row(2).startsWith("│SeaBIOS (version"), p.row(2));
      const c = p.cell(1, 2);
      // Attribute 07: light grey on black, as the VGA's DAC has them, in 24-bit colour.
      deepStrictEqual(
        [c.getChars(), c.isFgRGB(), c.getFgColor(), c.isBgRGB(), c.getBgColor()],
        ["S", true, 0xaaaaaa, true, 0x000000],
      );
      ok(p.row(0).includes("keys.img"), p.row(0));
      await p.waitFor("the cursor on the guest's", () => {
        const b = p.term.buffer.active;
        return b.cursorY === 5 && b.cursorX === 1;
      });
      p.type("\x01x");
      strictEqual((await p.exited).exitCode, 0);
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  },
);

kvmTest(
  "tui: keys typed into the terminal reach a guest reading int 16h as the right keys",
  async () => {
    const p = new PtyVmrun([fixture("keys")]);
    try {
      await p.waitForText("keys?");
      // Letters, shift, digits, Enter, Backspace, Tab, Ctrl and Alt combinations, F1, arrows.
      p.type("aB1\r\x7f\t\x03\x1bx\x1bOP\x1b[A");
      const want = "61:1e 42:30 31:02 0d:1c 08:0e 09:0f 03:2e 00:2d 00:3b 00:48";
      await p.waitForText(want);
      ok(p.screen().includes(want));
      // Esc ends the guest with status 0 (after the ESC timeout tells it from a sequence).
      p.type("\x1b");
      strictEqual((await p.exited).exitCode, 0);
      assertRestored(p);
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  },
);

kvmTest(
  "tui: Ctrl-a x quits and leaves the terminal as it found it (screen, modes, termios)",
  async () => {
    const p = new PtyVmrun([fixture("keys")], {
      shell: "stty -a | grep -o -- '-\\?icanon' > /dev/null; VMRUN; echo \"status=$?\"; stty -a",
    });
    try {
      await p.waitForText("keys?");
      p.type("\x01x");
      await p.waitForText("status=0");
      await p.exited;
      assertRestored(p);
      const after = p.screen();
      ok(/(^|\s)icanon(\s|$)/m.test(after), "canonical mode is back");
      ok(/(^|\s)echo(\s|$)/m.test(after), "echo is back");
      ok(!after.includes("Stats"), "the console is gone from the normal screen");
      // The transcript: COM1's last line and how the run ended, before the shell's next words.
      ok(/keys\?\s*\nvmrun: quit \(status 0\)\nstatus=0/.test(after), after);
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  },
);

kvmTest("tui: a resize is followed; a small terminal crops the screen and says so", async () => {
  const p = new PtyVmrun([fixture("keys")]);
  try {
    await p.waitForText("keys?");
    ok(p.screen().includes("Stats"));
    p.resize(70, 20);
    await p.waitFor("the 70x20 layout", () => p.row(19).includes("Ctrl-a ? help"));
    await p.waitForText("cropped");
    await p.waitForText("stats, devices: no room");
    ok(p.row(19).includes("Ctrl-a ? help"), p.row(19));
    ok(p.row(1).startsWith("╭─ Screen 80x25 text"), p.row(1));
    strictEqual(p.row(1).length, 70);
    p.resize(140, 45);
    await p.waitFor("the side panes back", () => p.screen().includes("Devices"));
    ok(p.row(44).includes("Ctrl-a ? help"), p.row(44));
    p.type("\x01q");
    strictEqual((await p.exited).exitCode, 0);
  } finally {
    p.kill("SIGKILL");
    p.dispose();
  }
});

kvmTest(
  "tui: the guest's own exit ends vmrun with its status and the terminal restored",
  async () => {
    const p = new PtyVmrun([fixture("bios_hello")]);
    try {
      strictEqual((await p.exited).exitCode, 7);
      ok(p.output.includes("\x1b[?1049h"), "the console ran");
      assertRestored(p);
      // What it printed and how it ended stay on the terminal, as with QEMU's -nographic.
      const after = p.screen();
      ok(after.includes("vmrun booted this sector"), after);
      ok(after.includes("vmrun: the guest exited with status 7"), after);
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  },
);

for (const [sig, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  kvmTest(`tui: ${sig} ends vmrun with ${code} and the terminal restored`, async () => {
    const p = new PtyVmrun([fixture("keys")]);
    try {
      await p.waitForText("keys?");
      p.kill(sig);
      strictEqual((await p.exited).exitCode, code);
      if (sig === "SIGTERM") {
        assertRestored(p);
        ok(p.screen().includes("vmrun: stopped by SIGTERM (status 143)"), p.screen());
      }
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  });
}

kvmTest("tui: with stdout not a terminal, vmrun runs headless instead", async () => {
  const p = new PtyVmrun(["--firmware", "none", fixture("hello")], { shell: "VMRUN | cat" });
  try {
    await p.exited;
    ok(p.output.includes("Hello from vmrun!"), JSON.stringify(p.output));
    ok(!p.output.includes("\x1b[?1049h"), "no alternate screen");
  } finally {
    p.kill("SIGKILL");
    p.dispose();
  }
});

kvmTest("tui: NO_COLOR gives a console without colours", async () => {
  const p = new PtyVmrun([fixture("keys")], { env: { NO_COLOR: "1", COLORTERM: "truecolor" } });
  try {
    await p.waitForText("keys?");
    // deno-lint-ignore no-control-regex
    const sgrs = [...p.output.matchAll(/\x1b\[([0-9;]*)m/g)].map((m) => m[1]);
    ok(sgrs.length > 0, "styles are still used (bold, inverse)");
    const colour = (n: number) => (n >= 30 && n <= 48) || (n >= 90 && n <= 107);
    deepStrictEqual(sgrs.filter((s) => s.split(";").map(Number).some(colour)), []);
    p.type("\x01x");
    await p.exited;
  } finally {
    p.kill("SIGKILL");
    p.dispose();
  }
});

/** Row `row` of the screen_grid fixture as the console shows it (CP437 as Unicode, or ASCII). */
function gridRow(row: number, ascii = false): string {
  const cells = Array.from({ length: 80 }, (_, c) => String(c % 10));
  cells[0] = "r";
  cells[1] = String(Math.floor(row / 10));
  cells[2] = String(row % 10);
  cells[79] = ascii ? "|" : "│";
  if (row === 1) {
    const glyphs = ascii ? "+=+ :## e" : "╔═╗ ░▒▓ é";
    [...glyphs].forEach((g, i) => cells[40 + i] = g);
  }
  return cells.join("");
}

/** Checks that the terminal shows guest rows `first..first + 23`, each cell at its own column. */
function assertGridAt(p: PtyVmrun, first: number, ascii = false): void {
  for (let y = 0; y < 24; y++) {
    const want = [...gridRow(first + y, ascii)];
    const got = want.map((_, x) => p.cell(x, y).getChars() || " ");
    deepStrictEqual(got.join(""), want.join(""), `terminal row ${y}`);
  }
}

kvmTest(
  "tui: an 80x24 terminal shows the 80x25 screen at full width, 24 rows following the cursor; Ctrl-a f brings the panels; the transcript stays",
  async () => {
    const p = new PtyVmrun([fixture("screen_grid")], { cols: 80, rows: 24 });
    try {
      // The guest's cursor is on row 24: the view shows rows 1-24 (once the start hint is gone).
      await p.waitFor("rows 1-24", () => p.row(0).startsWith("r01") && p.row(23).startsWith("r24"));
      assertGridAt(p, 1);
      const b = p.term.buffer.active;
      deepStrictEqual([b.cursorY, b.cursorX], [23, 0]);
      p.type("\x01f");
      await p.waitFor("the panels", () => p.row(0).includes("screen_grid.img"));
      ok(p.row(1).startsWith("╭─ Screen 80x25 text ◂ cropped"), p.row(1));
      ok(p.row(23).includes("Ctrl-a ? help"), p.row(23));
      p.type("\x01f");
      await p.waitFor("the screen alone again", () => p.row(0).startsWith("r01"));
      // Any key ends the guest (status 0x21); its COM1 lines and the ending stay on the terminal.
      p.type("q");
      strictEqual((await p.exited).exitCode, 0x21);
      assertRestored(p);
      const after = p.screen();
      for (
        const line of [
          "screen_grid: 80x25 cells",
          "cursor at row 24",
          "press a key",
          "vmrun: the guest exited with status 33",
        ]
      ) ok(after.includes(line), `missing ${line} in\n${after}`);
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  },
);

kvmTest(
  "tui: LANG=C: nothing but ASCII reaches the terminal; CP437 shows as look-alikes in their columns",
  async () => {
    const p = new PtyVmrun([fixture("screen_grid")], { cols: 80, rows: 24, env: { LANG: "C" } });
    try {
      await p.waitFor("rows 1-24", () => p.row(0).startsWith("r01") && p.row(23).startsWith("r24"));
      assertGridAt(p, 1, true);
      p.type("\x01f");
      await p.waitFor("the panels", () => p.row(0).includes("screen_grid.img"));
      ok(p.row(1).startsWith("+- Screen 80x25 text < cropped"), p.row(1));
      p.type("\x01x");
      strictEqual((await p.exited).exitCode, 0);
      ok(p.screen().includes("vmrun: quit (status 0)"), p.screen());
      // deno-lint-ignore no-control-regex
      ok(/^[\x00-\x7f]*$/.test(p.output), "only ASCII was written");
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  },
);

kvmTest(
  "tui: TERM=dumb gets the line-mode console with a one-line note; COM1 is readable, Ctrl-a x quits",
  async () => {
    const p = new PtyVmrun([fixture("screen_grid")], {
      cols: 80,
      rows: 24,
      env: { TERM: "dumb" },
    });
    try {
      await p.waitForText("press a key");
      const note = p.screen().split("\n").filter((l) => l.startsWith("vmrun: TERM=dumb"));
      strictEqual(note.length, 1, p.screen());
      ok(note[0].includes("Ctrl-a h") && note[0].includes("TERM=xterm for the console"), note[0]);
      ok(!p.output.includes("\x1b[?1049h"), "no alternate screen");
      // vmrun itself writes no escape sequence to a dumb terminal.
      const fromVmrun = p.output.slice(p.output.indexOf("vmrun: TERM=dumb"));
      ok(!fromVmrun.includes("\x1b"), JSON.stringify(fromVmrun));
      for (const line of ["screen_grid: 80x25 cells", "cursor at row 24"]) {
        ok(p.screen().includes(line), p.screen());
      }
      p.type("\x01x");
      strictEqual((await p.exited).exitCode, 0);
    } finally {
      p.kill("SIGKILL");
      p.dispose();
    }
  },
);

kvmTest("tui: hvc0's output shows in the serial pane with its lines marked", async () => {
  const p = new PtyVmrun([
    "--snapshot",
    "--device",
    "virtio-serial-pci",
    fixture("virtio_console"),
  ]);
  try {
    // COM1's report and hvc0's greeting share the pane; only hvc0's line has the mark.
    await p.waitForText("hvc0| hello hvc0");
    ok(p.screen().includes("host open: 0 1"), p.screen());
    ok(!p.screen().includes("hvc0| host open"), p.screen());
    p.type("\x01x");
    strictEqual((await p.exited).exitCode, 0);
  } finally {
    p.kill("SIGKILL");
    p.dispose();
  }
});
