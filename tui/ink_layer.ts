/**
 * Ink components rendered to styled lines, once per change: each layer is
 * rendered with Ink's renderToString only when its key (a digest of what it
 * shows) changes, since an Ink render costs milliseconds.
 *
 * @module
 */

import chalk from "../deps/chalk.ts";
import { renderToString } from "../deps/ink.ts";
import type { ReactElement } from "../deps/react.ts";
import { parseAnsiLines } from "./ansi_lines.ts";
import type { StyledLine } from "./style.ts";

// Ink's colours are parsed back into cells and re-coloured for the terminal's
// depth (or none), so Ink always emits full colour.
chalk.level = 3;

/** Renders an Ink element `width` columns wide to styled lines. */
export function renderInkLines(element: ReactElement, width: number): StyledLine[] {
  return parseAnsiLines(renderToString(element, { columns: width }));
}

/** Rendered layers by name, re-rendered when their key changes. */
export class InkLayerCache {
  readonly #cache = new Map<string, { key: string; lines: StyledLine[] }>();
  /** Ink renders done, for benchmarks. */
  renders = 0;

  /** The lines of layer `name`; `make` is called only when `key` differs from last time. */
  get(name: string, key: string, width: number, make: () => ReactElement): StyledLine[] {
    const hit = this.#cache.get(name);
    const fullKey = `${width}|${key}`;
    if (hit && hit.key === fullKey) return hit.lines;
    this.renders++;
    const lines = renderInkLines(make(), width);
    this.#cache.set(name, { key: fullKey, lines });
    return lines;
  }

  /** Forgets every layer. */
  clear(): void {
    this.#cache.clear();
  }
}
