/**
 * The devices pane's content as plain rows, read defensively from a board
 * snapshot: UART registers and FIFO fill, i8042 state and LEDs, the VGA
 * mode, disks with bytes moved, PCI functions with their BARs.
 *
 * @module
 */

import type { BoardState } from "../machine/board.ts";
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
  const regs = obj(obj(d.vga).vga);
  const cur = d.screen.cursor;
  return {
    title: "VGA",
    rows: [
      `${describeMode(d.screen)} (${d.screen.width}x${d.screen.height} px)`,
      `cursor ${cur.row},${cur.col}${cur.visible ? "" : " hidden"}` +
      `  start ${hex(num(regs.startAddress), 4)}`,
    ],
  };
}

function disks(d: BoardState): DeviceSection {
  const rows: string[] = [];
  const ide = obj((d as unknown as Obj).ide);
  for (const ch of ["primary", "secondary"] as const) {
    const channel = obj(ide[ch]);
    for (const unit of ["master", "slave"] as const) {
      const drive = channel[unit];
      if (!drive) continue;
      const s = obj(drive);
      rows.push(
        `ide ${ch.slice(0, 3)} ${unit.slice(0, 3)} ${String(s.kind ?? "disk")} ` +
          `${formatBytes(num(s.size))}`,
        `  read ${formatBytes(num(s.bytesRead))} written ${formatBytes(num(s.bytesWritten))}`,
      );
    }
  }
  for (const blk of arr(d.virtioBlk)) {
    const s = obj(blk);
    const c = obj(s.counters);
    rows.push(
      `${String(s.name ?? "virtio-blk")} ${formatBytes(num(s.capacity) * 512)}` +
        `${s.readonly ? " ro" : ""}`,
      `  read ${formatBytes(num(c.bytesRead))} written ${formatBytes(num(c.bytesWritten))}`,
    );
  }
  return { title: "Disks", rows: rows.length ? rows : ["none"] };
}

function pci(d: BoardState): DeviceSection {
  const rows: string[] = [];
  for (const f of arr(obj(d.pci).functions)) {
    const fn = obj(f);
    const st = obj(fn.state);
    // Functions nest their config space differently (state.config, state.pci[.config]).
    const cfg = [st.config, obj(st.pci).config, st.pci].map(obj).find((c) => "vendorId" in c) ?? {};
    const id = `${h2(fn.device)}.${num(fn.fn)}`;
    const ids = cfg.vendorId === undefined
      ? ""
      : ` ${num(cfg.vendorId).toString(16).padStart(4, "0")}:` +
        num(cfg.deviceId).toString(16).padStart(4, "0");
    rows.push(`${id} ${String(fn.name ?? "?")}${ids}`);
    for (const b of arr(cfg.bars)) {
      const bar = obj(b);
      const base = bar.base === null || bar.base === undefined ? "unmapped" : hex(num(bar.base));
      rows.push(`  BAR${num(bar.index)} ${String(bar.kind)} ${base} ${formatBytes(num(bar.size))}`);
    }
  }
  return { title: "PCI", rows: rows.length ? rows : ["none"] };
}

/** The devices pane's sections for a snapshot. */
export function summarizeDevices(d: BoardState): DeviceSection[] {
  return [uart(obj(d.uart)), i8042(obj(d.i8042)), vga(d), disks(d), pci(d)];
}
