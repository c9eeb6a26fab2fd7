import { ok, strictEqual } from "node:assert";
import { render } from "../../deps/ink_testing_library.ts";
import { summarizeDevices } from "../device_summary.ts";
import { renderScreen } from "../screen_render.ts";
import { SerialConsole } from "../serial_console.ts";
import { StatsTracker } from "../stats_tracker.ts";
import { boardState, textScreen } from "../testing.ts";
import { initialUiState } from "../ui_state.ts";
import { DevicesPane } from "./devices_pane.tsx";
import { Header } from "./header.tsx";
import { HELP_HEIGHT, HELP_WIDTH, HelpOverlay } from "./help_overlay.tsx";
import { ScreenPane } from "./screen_pane.tsx";
import { SerialPane } from "./serial_pane.tsx";
import { StatsPane } from "./stats_pane.tsx";
import { StatusLine } from "./status_line.tsx";

// deno-lint-ignore no-control-regex
const plain = (s: string | undefined) => (s ?? "").replace(/\x1b\[[0-9;]*m/g, "");

function frameOf(el: React.ReactElement): string[] {
  const r = render(el);
  const f = plain(r.lastFrame());
  r.unmount();
  return f.split("\n");
}

Deno.test("header: image, run state, uptime, vCPUs, memory", () => {
  const ui = {
    ...initialUiState("guest.img", 1, 256 << 20),
    runState: "paused" as const,
    uptimeMs: 83_000,
  };
  const [line] = frameOf(<Header ui={ui} width={80} />);
  ok(line.includes("vmrun"), line);
  ok(line.includes("guest.img"), line);
  ok(line.includes("paused"), line);
  ok(line.includes("up 1:23 · 1 vCPU · 256 MiB"), line);
});

Deno.test("screen pane: bordered, titled, the renderer's lines inside; blank inside without lines", () => {
  const s = textScreen(80, 25, [{ row: 0, col: 0, text: "SeaBIOS", attr: 0x1f }]);
  const f = renderScreen(s, { width: 80, height: 25 }, { top: 0, left: 0 });
  const rows = frameOf(
    <ScreenPane width={82} height={27} title={f.mode} focused border lines={f.lines} />,
  );
  strictEqual(rows.length, 27);
  ok(rows[0].startsWith("╭─ Screen 80x25 text ─"), rows[0]);
  strictEqual(rows[1], "│SeaBIOS" + " ".repeat(73) + "│");
  ok(rows[26].startsWith("╰"));
  const blank = frameOf(
    <ScreenPane width={30} height={5} title="" focused={false} border lines={null} />,
  );
  strictEqual(blank[1], "│" + " ".repeat(28) + "│");
});

Deno.test("serial pane: COM1 lines with the scrollback indicator in the title", async () => {
  const c = new SerialConsole(40, 3);
  await new Promise<void>((r) =>
    c.write(new TextEncoder().encode("boot \x1b[32mok\x1b[0m\r\n$ "), r)
  );
  const rows = frameOf(
    <SerialPane
      width={42}
      height={5}
      title="↑ 3 lines back (PgDn)"
      focused={false}
      border
      lines={c.view()}
    />,
  );
  ok(rows[0].includes("Serial COM1 ↑ 3 lines back (PgDn)"), rows[0]);
  ok(rows[1].startsWith("│boot ok "), rows[1]);
  ok(rows[2].startsWith("│$ "), rows[2]);
  c.dispose();
});

Deno.test("stats pane: exits per second by reason with sparklines, guest share, ports, POST code", () => {
  const t = new StatsTracker();
  const ports = [{ port: 0x3f8, exits: 1200 }, { port: 0x402, exits: 5 }];
  t.add({ exits: 0, byKind: { io: 0, mmio: 0 }, guestMs: 0, uptimeMs: 1000, busiestPorts: ports });
  t.add({
    exits: 3000,
    byKind: { io: 2500, mmio: 500 },
    guestMs: 750,
    uptimeMs: 2000,
    busiestPorts: ports,
  });
  const text = frameOf(<StatsPane width={46} height={14} stats={t.view()} postCode={0x42} />).join(
    "\n",
  );
  for (
    const want of [
      "Stats",
      "3.0k exits/s",
      "in guest  75%",
      "IO",
      "2.5k/s",
      "MMIO",
      "500/s",
      "0x3f8×1.2k",
      "POST 0x42",
    ]
  ) {
    ok(text.includes(want), `missing ${want} in\n${text}`);
  }
  ok(/[▁-█]/.test(text), "a sparkline");
  const waiting = frameOf(<StatsPane width={46} height={6} stats={null} postCode={null} />).join(
    "\n",
  );
  ok(waiting.includes("waiting for the first snapshot"));
});

Deno.test("devices pane: sections cut to the pane's height", () => {
  const sections = summarizeDevices(boardState());
  const rows = frameOf(<DevicesPane width={46} height={40} sections={sections} />);
  const text = rows.join("\n");
  for (
    const want of [
      "COM1 16550A",
      "FIFO rx 3/16",
      "i8042",
      "Num ● Caps ○",
      "VGA",
      "Disks",
      "PCI",
      "BAR0 mem32",
    ]
  ) {
    ok(text.includes(want), `missing ${want}`);
  }
  const short = frameOf(<DevicesPane width={46} height={6} sections={sections} />);
  strictEqual(short.length, 6);
});

Deno.test("help overlay: every command key, boxed at its fixed size", () => {
  const rows = frameOf(<HelpOverlay />);
  strictEqual(rows.length, HELP_HEIGHT);
  strictEqual(rows[0].length, HELP_WIDTH);
  const text = rows.join("\n");
  for (
    const want of [
      "Ctrl-a x  q",
      "quit vmrun",
      "Ctrl-a f",
      "panels off",
      "Ctrl-a p",
      "pause",
      "Ctrl-a r",
      "Ctrl-a Del  k",
      "Ctrl-Alt-Del",
      "Ctrl-a Tab  c",
      "Ctrl-a 3",
      "PgUp PgDn",
    ]
  ) {
    ok(text.includes(want), `missing ${want}`);
  }
});

Deno.test("status line: the keyboard's target, the armed prefix, notices and squeezed panes", () => {
  const ui = initialUiState("g.img", 1, 1 << 20);
  const [idle] = frameOf(<StatusLine ui={ui} width={80} squeezed={["stats"]} />);
  ok(
    idle.includes("Ctrl-a ? help") && idle.includes("keys → screen") &&
      idle.includes("stats: no room"),
    idle,
  );
  const [armed] = frameOf(
    <StatusLine
      ui={{ ...ui, prefixArmed: true, focus: "serial", notice: "reset sent" }}
      width={80}
      squeezed={[]}
    />,
  );
  ok(
    armed.includes("Ctrl-a _") && armed.includes("keys → serial") && armed.includes("reset sent"),
    armed,
  );
});
