/**
 * Styled text as the TUI's renderers produce it: runs of characters that
 * share a foreground, background and attributes. Pure data, no escapes.
 *
 * @module
 */

/**
 * A colour: {@link DEFAULT_COLOR}, an xterm palette index (0..255), or a
 * 24-bit colour tagged with {@link RGB_FLAG} (see {@link rgb}).
 */
export type Color = number;

/** The terminal's default colour. */
export const DEFAULT_COLOR = -1;

/** Tags a {@link Color} as 0xRRGGBB rather than a palette index. */
export const RGB_FLAG = 0x1000000;

/** A 24-bit colour from 0xRRGGBB. */
export function rgb(value: number): Color {
  return RGB_FLAG | (value & 0xffffff);
}

/** True when `c` is a 24-bit colour. */
export function isRgb(c: Color): boolean {
  return c >= RGB_FLAG;
}

/** Text attribute bits. */
export const ATTR = {
  BOLD: 1,
  DIM: 2,
  ITALIC: 4,
  UNDERLINE: 8,
  BLINK: 16,
  INVERSE: 32,
} as const;

/** Characters that share one style. */
export interface Run {
  readonly text: string;
  readonly fg: Color;
  readonly bg: Color;
  /** {@link ATTR} bits. */
  readonly attrs: number;
}

/** One line of styled text. */
export type StyledLine = readonly Run[];

/** A run in the terminal's default style. */
export function plainRun(text: string, attrs = 0): Run {
  return { text, fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs };
}

/** The characters of a line without styles. */
export function lineText(line: StyledLine): string {
  let s = "";
  for (const r of line) s += r.text;
  return s;
}
