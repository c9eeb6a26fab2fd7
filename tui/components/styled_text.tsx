/**
 * Styled lines as Ink text, for panes rendered through Ink.
 *
 * @module
 */

import { Text } from "../../deps/ink.ts";
import type { ReactElement } from "../../deps/react.ts";
import { paletteRgb } from "../colors.ts";
import { ATTR, type Color, DEFAULT_COLOR, isRgb, type StyledLine } from "../style.ts";

/** An Ink colour string for a {@link Color}, or undefined for the default. */
export function inkColor(c: Color): string | undefined {
  if (c === DEFAULT_COLOR) return undefined;
  const v = isRgb(c) ? c & 0xffffff : paletteRgb(c);
  return "#" + v.toString(16).padStart(6, "0");
}

/** One styled line as nested Ink `<Text>`s. */
export function StyledText({ line }: { line: StyledLine }): ReactElement {
  return (
    <Text wrap="truncate-end">
      {line.length === 0 ? " " : line.map((r, i) => (
        <Text
          key={i}
          color={inkColor(r.fg)}
          backgroundColor={inkColor(r.bg)}
          bold={(r.attrs & ATTR.BOLD) !== 0}
          dimColor={(r.attrs & ATTR.DIM) !== 0}
          italic={(r.attrs & ATTR.ITALIC) !== 0}
          underline={(r.attrs & ATTR.UNDERLINE) !== 0}
          inverse={(r.attrs & ATTR.INVERSE) !== 0}
        >
          {r.text}
        </Text>
      ))}
    </Text>
  );
}
