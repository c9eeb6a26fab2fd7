/**
 * The devices pane: one titled group per device, cut to the pane's height.
 *
 * @module
 */

import { Text } from "../../deps/ink.ts";
import type { ReactElement } from "../../deps/react.ts";
import type { DeviceSection } from "../device_summary.ts";
import { Pane } from "./pane.tsx";

/** Props of {@link DevicesPane}. */
export interface DevicesPaneProps {
  readonly width: number;
  readonly height: number;
  readonly sections: readonly DeviceSection[] | null;
}

/** The devices pane. */
export function DevicesPane(p: DevicesPaneProps): ReactElement {
  const rows: { text: string; title: boolean }[] = [];
  for (const s of p.sections ?? []) {
    rows.push({ text: s.title, title: true });
    for (const r of s.rows) rows.push({ text: r, title: false });
  }
  if (rows.length === 0) rows.push({ text: "waiting for the first snapshot", title: false });
  return (
    <Pane title="Devices" width={p.width} height={p.height}>
      {rows.slice(0, Math.max(0, p.height - 2)).map((r, i) => (
        <Text key={i} wrap="truncate-end" bold={r.title}>
          {r.text}
        </Text>
      ))}
    </Pane>
  );
}
