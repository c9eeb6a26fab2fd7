/**
 * The Ctrl-a ? help: vmrun's keys, over everything else.
 *
 * @module
 */

import { Box, Text } from "../../deps/ink.ts";
import type { ReactElement } from "../../deps/react.ts";
import { ACTION_HELP, COMMAND_KEYS } from "../commands.ts";

/** Width of the help box. */
export const HELP_WIDTH = 64;

const INNER = HELP_WIDTH - 4;

/** The help lines: keys and what they do. */
export function helpRows(): string[] {
  const rows = COMMAND_KEYS.filter((c) => c.label).map((c) =>
    `Ctrl-a ${c.label.padEnd(7)} ${ACTION_HELP[c.action]}`
  );
  rows.push("PgUp PgDn       scroll the serial pane back and forth");
  rows.push("other keys      go to the guest (screen: PS/2, serial: COM1)");
  return rows;
}

/** Height of the help box. */
export const HELP_HEIGHT = helpRows().length + 4;

/** The help box. */
export function HelpOverlay(): ReactElement {
  return (
    <Box
      width={HELP_WIDTH}
      height={HELP_HEIGHT}
      borderStyle="double"
      flexDirection="column"
      paddingX={1}
    >
      {/* Rows are padded so that the box hides what is under it. */}
      <Text bold>{"vmrun keys".padEnd(INNER)}</Text>
      <Text>{" ".repeat(INNER)}</Text>
      {helpRows().map((row, i) => <Text key={i} wrap="truncate-end">{row.padEnd(INNER)}</Text>)}
    </Box>
  );
}
