/**
 * The guest's VGA screen pane. Given lines, Ink draws them; given null, the
 * pane is left blank inside for the compositor to paint (the fast path).
 *
 * @module
 */

import type { ReactElement } from "../../deps/react.ts";
import type { StyledLine } from "../style.ts";
import { Pane } from "./pane.tsx";
import { StyledText } from "./styled_text.tsx";

/** Props of {@link ScreenPane}. */
export interface ScreenPaneProps {
  readonly width: number;
  readonly height: number;
  readonly title: string;
  readonly focused: boolean;
  readonly border: boolean;
  /** The screen renderer's lines, or null to leave the content area blank. */
  readonly lines: readonly StyledLine[] | null;
}

/** The screen pane. */
export function ScreenPane(p: ScreenPaneProps): ReactElement {
  return (
    <Pane
      title={`Screen ${p.title}`.trim()}
      width={p.width}
      height={p.height}
      focused={p.focused}
      border={p.border}
    >
      {p.lines?.map((line, i) => <StyledText key={i} line={line} />)}
    </Pane>
  );
}
