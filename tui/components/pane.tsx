/**
 * A bordered pane with its title in the top border; focused panes stand out.
 *
 * @module
 */

import { Box, Text } from "../../deps/ink.ts";
import type { ReactElement, ReactNode } from "../../deps/react.ts";

/** Props of {@link Pane}. */
export interface PaneProps {
  readonly title: string;
  readonly width: number;
  readonly height: number;
  readonly focused?: boolean;
  /** False in full-screen view: content only. */
  readonly border?: boolean;
  readonly children?: ReactNode;
}

/** The top border line with the title set into it. */
export function titleBar(title: string, width: number): string {
  if (width < 2) return "";
  const inner = width - 2;
  const label = title ? ` ${title} ` : "";
  const shown = label.length > inner - 1 ? label.slice(0, Math.max(0, inner - 1)) : label;
  return "╭─" + shown + "─".repeat(Math.max(0, inner - 1 - shown.length)) + "╮";
}

/** A pane: a rounded border with the title on top, or just the content. */
export function Pane(props: PaneProps): ReactElement {
  const { width, height, focused = false, border = true } = props;
  if (!border) {
    return <Box width={width} height={height} flexDirection="column">{props.children}</Box>;
  }
  // The terminal's own foreground, bold or dim: readable on dark and light backgrounds alike.
  return (
    <Box width={width} height={height} flexDirection="column">
      <Text bold={focused} dimColor={!focused}>{titleBar(props.title, width)}</Text>
      <Box
        width={width}
        height={Math.max(1, height - 1)}
        borderStyle="round"
        borderTop={false}
        borderDimColor={!focused}
        flexDirection="column"
        overflow="hidden"
      >
        {props.children}
      </Box>
    </Box>
  );
}
