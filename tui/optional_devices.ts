/**
 * The devices pane's sections for the optional devices: the watchdog
 * (armed, time left, expiries) and what plays (PC speaker, SB16, ES1370),
 * read from their typed snapshots. Absent devices give no section.
 *
 * @module
 */

import type { BoardState } from "../machine/board.ts";
import { optionalState } from "../machine/optional_devices.ts";
import type { DeviceSection } from "./device_summary.ts";
import { balloonState } from "../machine/balloon.ts";
import { VIRTIO_BALLOON_PAGE_SIZE } from "../devices/virtio/virtio_balloon_units.ts";
import { formatBytes } from "./format.ts";

const seconds = (ns: number) => `${(ns / 1e9).toFixed(1)} s`;

function watchdog(d: BoardState): DeviceSection[] {
  const ib700 = optionalState(d.optional, "ib700");
  const w = ib700 ?? optionalState(d.optional, "i6300esb");
  if (!w) return [];
  const name = ib700 ? "ib700" : "i6300esb";
  const rows = [
    w.armed && w.remainingNs !== null ? `armed, ${seconds(w.remainingNs)} left` : "stopped",
    `expired ${w.expirations}x`,
  ];
  if ("rebootFlag" in w) {
    rows.push(`stage ${w.stage}, timeout flag ${w.rebootFlag ? "set" : "clear"}`);
  }
  return [{ title: `Watchdog ${name}`, rows }];
}

function sound(d: BoardState): DeviceSection[] {
  const rows: string[] = [];
  const spk = d.pcSpeaker;
  if (spk?.frequencyHz) rows.push(`speaker ${spk.frequencyHz.toFixed(0)} Hz`);
  const sb16 = optionalState(d.optional, "sb16");
  const es1370 = optionalState(d.optional, "ES1370");
  if (sb16) rows.push(`sb16 ${sb16.playing ?? "idle"}`);
  if (es1370) rows.push(`es1370 ${es1370.playing.join(", ") || "idle"}`);
  return rows.length ? [{ title: "Sound", rows }] : [];
}

function balloon(d: BoardState): DeviceSection[] {
  const b = balloonState(d);
  if (!b) return [];
  const size = (pages: number) => formatBytes(pages * VIRTIO_BALLOON_PAGE_SIZE);
  const rows = [`target ${size(b.numPages)} out`, `actual ${size(b.actual)} out`];
  const { freeMemory, totalMemory } = b.stats;
  if (b.statsUpdatedNs === null) rows.push("no guest stats yet");
  else if (freeMemory !== null && totalMemory !== null) {
    rows.push(`guest free ${formatBytes(freeMemory)} of ${formatBytes(totalMemory)}`);
  } else if (freeMemory !== null) rows.push(`guest free ${formatBytes(freeMemory)}`);
  return [{ title: "Balloon", rows }];
}

/** Sections for the optional devices present in `d`. */
export function optionalDeviceSections(d: BoardState): DeviceSection[] {
  return [...watchdog(d), ...sound(d), ...balloon(d)];
}
