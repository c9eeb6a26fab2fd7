/**
 * Shows what vmrun finds out about the terminal it runs in, as JSON:
 *
 *   deno run -A tui/graphics/probe_cli.ts [--display auto] [--listen <ms>]
 *
 * With `--listen`, input is read for that long afterwards through the
 * reply filter, and what would have reached the guest is listed as well.
 *
 * @module
 */

import {
  chooseDisplay,
  DISPLAY_CHOICES,
  type DisplayChoice,
  probeTerminal,
} from "./capabilities.ts";
import { TerminalReplyFilter } from "./reply_filter.ts";
import { cellSizeFromWindow, stdinProbe } from "./terminal_probe.ts";

function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

if (import.meta.main) {
  const display = (flag("display") ?? "auto") as DisplayChoice;
  if (!DISPLAY_CHOICES.includes(display)) throw new Error(`--display: one of ${DISPLAY_CHOICES}`);
  const listenMs = Number(flag("listen") ?? 0);
  const size = Deno.consoleSize();
  const started = performance.now();
  const probe = stdinProbe();
  const { caps, input } = await probeTerminal(probe.io, {
    env: Deno.env.toObject(),
    cells: { cols: size.columns, rows: size.rows },
  });
  const probeMs = Math.round(performance.now() - started);
  const filter = new TerminalReplyFilter();
  const passed = [...filter.feed(input)];
  if (listenMs > 0) {
    const end = performance.now() + listenMs;
    for (let left = listenMs; left > 0; left = end - performance.now()) {
      const chunk = await probe.io.read(left);
      if (chunk) passed.push(...filter.feed(chunk));
    }
    passed.push(...filter.flush());
  }
  probe.close();
  const out = {
    caps,
    display: chooseDisplay(display, caps),
    cellFromWindow: cellSizeFromWindow(),
    probeMs,
    passed,
    repliesRemoved: filter.removed,
  };
  console.log(JSON.stringify(out));
  Deno.exit(0);
}
