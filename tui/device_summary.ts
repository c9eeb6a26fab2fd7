/**
 * The devices pane's content as plain rows from a board snapshot: UART
 * registers and FIFO fill, i8042 state and LEDs, the VGA mode, disks with
 * bytes moved, PCI functions with their BARs. VGA, IDE and virtio-blk are
 * read from their typed snapshots; the rest still defensively.
 *
 * @module
 */

import type { BoardState } from "../machine/board.ts";
import type { PciConfigState, PciFunctionState } from "../devices/pci/config_space.ts";
import { CRTC_START_HIGH, CRTC_START_LOW } from "../devices/vga/crtc.ts";
import { DISPI_INDEX } from "../devices/vga/dispi.ts";
import { describeMode } from "./screen_render.ts";
import { formatBytes, hex } from "./format.ts";

/** One titled group of rows. */
export interface DeviceSection {
  readonly title: string;
  readonly rows: readonly string[];
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};
}

function num(v: unknown, fallback = 0): number {
  return typeof v === "number" ? v : fallback;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

const h2 = (v: unknown) => num(v).toString(16).padStart(2, "0");
const led = (on: unknown) => (on ? "●" : "○");

function uart(s: Obj): DeviceSection {
  const lcr = num(s.lcr);
  const bits = 5 + (lcr & 3);
  const parity = lcr & 8 ? (lcr & 16 ? "E" : "O") : "N";
  const stop = lcr & 4 ? 2 : 1;
  const depth = s.fifoEnabled ? 16 : 1;
  return {
    title: "COM1 16550A",
    rows: [
      `IER ${h2(s.ier)} IIR ${h2(s.iir)} LCR ${h2(s.lcr)} MCR ${h2(s.mcr)}`,
      `LSR ${h2(s.lsr)} MSR ${h2(s.msr)} SCR ${h2(s.scr)}`,
      `${num(s.baud)} baud ${bits}${parity}${stop}  irq ${s.irq ? "up" : "down"}`,
      `FIFO rx ${num(s.rxFifo)}/${depth} tx ${num(s.txFifo)}/${depth}`,
      `tx ${formatBytes(num(s.txBytes))} rx ${formatBytes(num(s.rxBytes))}` +
      (num(s.overruns) ? ` overruns ${num(s.overruns)}` : ""),
    ],
  };
}

function i8042(s: Obj): DeviceSection {
  const kbd = obj(s.keyboard);
  const leds = obj(kbd.leds);
  return {
    title: "i8042 keyboard controller",
    rows: [
      `status ${h2(s.status)} command ${h2(s.commandByte)} queued ${num(s.queued)}`,
      `kbd ${kbd.enabled ? "on" : "off"} set ${num(kbd.scanCodeSet, 2)}` +
      `${s.translation ? " xlat" : ""} irq1 ${s.irq1 ? "up" : "down"}`,
      `Num ${led(leds.numLock)} Caps ${led(leds.capsLock)} Scroll ${led(leds.scrollLock)}`,
    ],
  };
}

function vga(d: BoardState): DeviceSection {
  const cur = d.screen.cursor;
  const rows = [
    `${describeMode(d.screen)} (${d.screen.width}x${d.screen.height} px)`,
  ];
  if (d.vga) {
    const crtc = d.vga.vga.crtc.regs;
    const dispi = d.vga.vga.dispi.regs;
    rows.push(
      `cursor ${cur.row},${cur.col}${cur.visible ? "" : " hidden"}` +
        `  start ${hex((crtc[CRTC_START_HIGH] << 8) | crtc[CRTC_START_LOW], 4)}`,
    );
    if (dispi[DISPI_INDEX.ENABLE] & 1) rows.push(`VBE bank ${dispi[DISPI_INDEX.BANK]}`);
  }
  return { title: "VGA", rows };
}

function disks(d: BoardState): DeviceSection {
  const rows: string[] = [];
  for (const ch of ["primary", "secondary"] as const) {
    const channel = d.ide?.[ch];
    if (!channel) continue;
    for (const unit of ["master", "slave"] as const) {
      const drive = channel[unit];
      if (drive.kind === "empty") continue;
      rows.push(
        `ide ${ch.slice(0, 3)} ${unit.slice(0, 3)} ${drive.kind} ${formatBytes(drive.size)}`,
        `  read ${formatBytes(drive.bytesRead)} written ${formatBytes(drive.bytesWritten)}`,
      );
    }
  }
  (d.virtioBlk ?? []).forEach((blk, i) => {
    const c = blk.counters;
    rows.push(
      `virtio-blk${i} ${formatBytes(blk.capacity * 512)}${blk.readonly ? " ro" : ""}`,
      `  read ${formatBytes(c.bytesRead)} written ${formatBytes(c.bytesWritten)}`,
    );
  });
  return { title: "Disks", rows: rows.length ? rows : ["none"] };
}

/** A function's identity and BARs, from a typed configuration space state. */
function typedConfig(config: PciConfigState): { ids: string; bars: string[] } {
  const b = config.bytes;
  const u16 = (at: number) => (b[at] | (b[at + 1] << 8)).toString(16).padStart(4, "0");
  return {
    ids: ` ${u16(0)}:${u16(2)}`,
    bars: config.bars.map((bar) =>
      `  BAR${bar.index} ${bar.kind} ${bar.base === null ? "unmapped" : hex(bar.base)} ` +
      formatBytes(bar.size)
    ),
  };
}

/** The same from a function that still reports plain JSON. */
function untypedConfig(st: Obj): { ids: string; bars: string[] } {
  const cfg = [st.config, obj(st.pci).config, st.pci].map(obj).find((c) => "vendorId" in c) ?? {};
  const ids = cfg.vendorId === undefined
    ? ""
    : ` ${num(cfg.vendorId).toString(16).padStart(4, "0")}:` +
      num(cfg.deviceId).toString(16).padStart(4, "0");
  const bars = arr(cfg.bars).map((b) => {
    const bar = obj(b);
    const base = bar.base === null || bar.base === undefined ? "unmapped" : hex(num(bar.base));
    return `  BAR${num(bar.index)} ${String(bar.kind)} ${base} ${formatBytes(num(bar.size))}`;
  });
  return { ids, bars };
}

function pci(d: BoardState): DeviceSection {
  const rows: string[] = [];
  for (const f of arr(obj(d.pci).functions)) {
    const fn = obj(f);
    const st = obj(fn.state);
    const typed = (st as Partial<PciFunctionState>).config?.bytes instanceof Uint8Array;
    const { ids, bars } = typed
      ? typedConfig((st as unknown as PciFunctionState).config)
      : untypedConfig(st);
    rows.push(`${h2(fn.device)}.${num(fn.fn)} ${String(fn.name ?? "?")}${ids}`, ...bars);
  }
  return { title: "PCI", rows: rows.length ? rows : ["none"] };
}

/** The devices pane's sections for a snapshot. */
export function summarizeDevices(d: BoardState): DeviceSection[] {
  return [uart(obj(d.uart)), i8042(obj(d.i8042)), vga(d), disks(d), pci(d)];
}
