/**
 * The devices pane's content as plain rows from a board snapshot: UART
 * registers and FIFO fill, i8042 state and LEDs, the VGA mode, disks with
 * bytes moved, PCI functions with their BARs. The UART, i8042 and PCI
 * sections read the devices' typed snapshots; the VGA and disk sections
 * read theirs defensively.
 *
 * @module
 */

import type { I8042State } from "../devices/i8042.ts";
import type { PciHostState } from "../devices/pci/pci_host.ts";
import type { UartState } from "../devices/uart_16550a.ts";
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

function uart(s: UartState): DeviceSection {
  const lcr = s.lcr;
  const bits = 5 + (lcr & 3);
  const parity = lcr & 8 ? (lcr & 16 ? "E" : "O") : "N";
  const stop = lcr & 4 ? 2 : 1;
  const depth = s.fifoEnabled ? 16 : 1;
  return {
    title: "COM1 16550A",
    rows: [
      `IER ${h2(s.ier)} IIR ${h2(s.iir)} LCR ${h2(s.lcr)} MCR ${h2(s.mcr)}`,
      `LSR ${h2(s.lsr)} MSR ${h2(s.msr)} SCR ${h2(s.scr)}`,
      `${s.baud} baud ${bits}${parity}${stop}  irq ${s.irq ? "up" : "down"}`,
      // Transmission is instant: there is no TX FIFO fill to show.
      `FIFO rx ${s.rxFifo.length}/${depth}`,
      `tx ${formatBytes(s.txBytes)} rx ${formatBytes(s.rxBytes)}` +
      (s.overruns ? ` overruns ${s.overruns}` : ""),
    ],
  };
}

function i8042(s: I8042State): DeviceSection {
  const kbd = s.keyboard;
  const leds = kbd.leds;
  return {
    title: "i8042 keyboard controller",
    rows: [
      `status ${h2(s.status)} command ${h2(s.commandByte)} queued ${s.queued}`,
      `kbd ${kbd.enabled ? "on" : "off"} set ${kbd.scanCodeSet}` +
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

function pci(p: PciHostState): DeviceSection {
  const rows: string[] = [];
  for (const f of p.functions) {
    const c = f.config;
    rows.push(
      `${h2(f.device)}.${f.fn} ${f.name} ${c.vendorId.toString(16).padStart(4, "0")}:` +
        c.deviceId.toString(16).padStart(4, "0"),
    );
    for (const bar of c.bars) {
      const base = bar.base === null ? "unmapped" : hex(bar.base);
      rows.push(`  BAR${bar.index} ${bar.kind} ${base} ${formatBytes(bar.size)}`);
    }
  }
  return { title: "PCI", rows: rows.length ? rows : ["none"] };
}

/** The devices pane's sections for a snapshot. */
export function summarizeDevices(d: BoardState): DeviceSection[] {
  return [uart(d.uart), i8042(d.i8042), vga(d), disks(d), pci(d.pci)];
}
