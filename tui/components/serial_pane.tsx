/**
 * The COM1 serial console pane. Given lines, Ink draws them; given null, the
 * content area is left for the compositor.
 *
 * @module
 */

import type { ReactElement } from "../../deps/react.ts";
import type { StyledLine } from "../style.ts";
import { Pane } from "./pane.tsx";
import { StyledText } from "./styled_text.tsx";

/** Props of {@link SerialPane}. */
export interface SerialPaneProps {
  readonly width: number;
  readonly height: number;
  /** Scrollback indicator, or "". */
  readonly title: string;
  readonly focused: boolean;
  readonly border: boolean;
  readonly lines: readonly StyledLine[] | null;
}

/** The serial pane. */
export function SerialPane(p: SerialPaneProps): ReactElement {
  return (
    <Pane
      title={`Serial COM1 ${p.title}`.trim()}
      width={p.width}
      height={p.height}
      focused={p.focused}
      border={p.border}
    >
      {p.lines?.map((line, i) => <StyledText key={i} line={line} />)}
    </Pane>
  );
}
