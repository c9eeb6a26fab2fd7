// The elements are rendered one at a time, never as siblings: they need no keys.
// deno-lint-ignore-file jsx-key
import { deepStrictEqual, ok } from "node:assert";
import type { ReactElement } from "../../deps/react.ts";
import { summarizeDevices } from "../device_summary.ts";
import { renderInkLines } from "../ink_layer.ts";
import { StatsTracker } from "../stats_tracker.ts";
import { DEFAULT_COLOR } from "../style.ts";
import { boardState } from "../testing.ts";
import { initialUiState, type ShownRunState } from "../ui_state.ts";
import { DevicesPane } from "./devices_pane.tsx";
import { Header } from "./header.tsx";
import { HelpOverlay } from "./help_overlay.tsx";
import { Pane } from "./pane.tsx";
import { StatsPane } from "./stats_pane.tsx";
import { StatusLine } from "./status_line.tsx";

/** ANSI colours that read on dark and light backgrounds: red, green, blue, magenta. */
const READABLE = new Set([DEFAULT_COLOR, 1, 2, 4, 5]);

Deno.test("vmrun's own chrome reads on a light background: the default colours, bold, dim, inverse, no yellow/cyan/white", () => {
  const ui = initialUiState("guest.img", 1, 256 << 20);
  const t = new StatsTracker();
  t.add({ exits: 0, byKind: { io: 0 }, guestMs: 0, uptimeMs: 1000, busiestPorts: [] });
  t.add({ exits: 10, byKind: { io: 10 }, guestMs: 1, uptimeMs: 2000, busiestPorts: [] });
  const states: ShownRunState[] = ["starting", "running", "halted", "paused", "reset", "stopped"];
  const elements: ReactElement[] = [
    ...states.map((runState) => <Header ui={{ ...ui, runState }} width={80} />),
    <Pane title="Screen" width={30} height={4} focused />,
    <Pane title="Serial" width={30} height={4} />,
    <StatusLine ui={ui} width={80} squeezed={["stats"]} />,
    <StatusLine ui={{ ...ui, prefixArmed: true, notice: "reset sent" }} width={80} squeezed={[]} />,
    <StatusLine ui={ui} width={80} squeezed={[]} panelsOff />,
    <HelpOverlay />,
    <StatsPane width={44} height={15} stats={t.view()} postCode={0x10} />,
    <DevicesPane width={44} height={30} sections={summarizeDevices(boardState())} />,
  ];
  let styled = 0;
  for (const el of elements) {
    for (const line of renderInkLines(el, 80)) {
      for (const run of line) {
        ok(READABLE.has(run.fg), `colour ${run.fg} for ${JSON.stringify(run.text)}`);
        deepStrictEqual(run.bg, DEFAULT_COLOR, `a background under ${JSON.stringify(run.text)}`);
        if (run.attrs) styled++;
      }
    }
  }
  ok(styled > 10, "emphasis is by attributes");
});
