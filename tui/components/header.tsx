/**
 * The header line: image, run state, uptime, vCPUs, memory.
 *
 * @module
 */

import { Box, Text } from "../../deps/ink.ts";
import type { ReactElement } from "../../deps/react.ts";
import { formatBytes, formatUptime } from "../format.ts";
import type { ShownRunState, UiState } from "../ui_state.ts";

/**
 * Colours that read on dark and light backgrounds alike (no yellow, cyan or
 * white); undefined is the terminal's own foreground. Paused stands out inverse.
 */
const STATE_COLORS: Record<ShownRunState, string | undefined> = {
  starting: undefined,
  running: "green",
  halted: "blue",
  paused: undefined,
  reset: "magenta",
  stopped: "red",
};

const LOGO = " vmrun ";

/** Props of {@link Header}. */
export interface HeaderProps {
  readonly ui: UiState;
  readonly width: number;
}

/** The header line. */
export function Header({ ui, width }: HeaderProps): ReactElement {
  const cpus = `${ui.cpus} vCPU${ui.cpus === 1 ? "" : "s"}`;
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        <Text bold inverse>{LOGO}</Text>
        <Text bold>{` ${ui.image} `}</Text>
        <Text color={STATE_COLORS[ui.runState]} bold inverse={ui.runState === "paused"}>
          {` ${ui.runState} `}
        </Text>
        <Text dimColor>
          {` up ${formatUptime(ui.uptimeMs)} · ${cpus} · ${formatBytes(ui.memoryBytes)}`}
        </Text>
      </Text>
    </Box>
  );
}
