/**
 * The bottom line: where the keyboard goes, the Ctrl-a prompt, notices.
 *
 * @module
 */

import { Box, Text } from "../../deps/ink.ts";
import type { ReactElement } from "../../deps/react.ts";
import type { UiState } from "../ui_state.ts";

const ARMED = " Ctrl-a _ ";
const HINT = " Ctrl-a ? help ";

/** Props of {@link StatusLine}. */
export interface StatusLineProps {
  readonly ui: UiState;
  readonly width: number;
  /** Panes that were asked for but do not fit. */
  readonly squeezed: readonly string[];
  /** The focused pane is shown alone: say how to get the panels. */
  readonly panelsOff?: boolean;
}

/** The status line. */
export function StatusLine({ ui, width, squeezed, panelsOff }: StatusLineProps): ReactElement {
  const note = ui.notice ??
    (squeezed.length ? `${squeezed.join(", ")}: no room` : panelsOff ? "Ctrl-a f panels" : "");
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate-end">
        {ui.prefixArmed ? <Text inverse bold>{ARMED}</Text> : <Text dimColor>{HINT}</Text>}
        <Text>{` keys → `}</Text>
        <Text bold>{ui.focus}</Text>
        {note ? <Text bold>{`  ${note}`}</Text> : null}
      </Text>
    </Box>
  );
}
