/**
 * The devices pane's content as plain rows from a board snapshot: UART
 * registers and FIFO fill, i8042 state and LEDs, the VGA mode, disks with
 * bytes moved, NICs with their traffic, PCI functions with their BARs, read
 * from the devices' typed snapshots.
 *
 * @module
 */

import type { I8042State } from "../devices/i8042.ts";
import type { PciHostState } from "../devices/pci/pci_host.ts";
import type { UartState } from "../devices/uart_16550a.ts";
import type { BoardState } from "../machine/board.ts";
import type { ActiveForward } from "../machine/net.ts";
import { CRTC_START_HIGH, CRTC_START_LOW } from "../devices/vga/crtc.ts";
import { DISPI_INDEX } from "../devices/vga/dispi.ts";
import { describeMode } from "./screen_render.ts";
import { formatBytes, hex } from "./format.ts";
import { optionalDeviceSections } from "./optional_devices.ts";

/** One titled group of rows. */
export interface DeviceSection {
  readonly title: string;
  readonly rows: readonly string[];
}

function num(v: unknown, fallback = 0): number {
  return typeof v === "number" ? v : fallback;
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
  if (d.vga && !("vga" in d.vga)) return { title: "VGA", rows: ["none (--vga none)"] };
  const cur = d.screen.cursor;
  const rows = [
    `${describeMode(d.screen)} (${d.screen.width}x${d.screen.height} px)`,
  ];
  if (d.vga && "sr" in d.vga) rows.push(`Cirrus CL-GD5446, SR07 ${hex(d.vga.sr[7], 2)}`);
  if (d.vga) {
    const crtc = d.vga.vga.crtc.regs;
    const dispi = d.vga.vga.dispi.regs;
    rows.push(
      `cursor ${cur.row},${cur.col}${cur.visible ? "" : " hidden"}` +
        `  start ${hex((crtc[CRTC_START_HIGH] << 8) | crtc[CRTC_START_LOW], 4)}`,
    );
    if (dispi[DISPI_INDEX.ENABLE] & 1) rows.push(`VBE bank ${dispi[DISPI_INDEX.BANK]}`);
    if ("gpu" in d.vga) {
      const g = d.vga.gpu;
      const bytes = g.resources.reduce((n, r) => n + r.width * r.height * 4, 0);
      rows.push(
        `virtio-gpu ${g.resources.length} res ${formatBytes(bytes)}` +
          `  cmds ${g.counters.commands} err ${g.counters.errors}`,
      );
    }
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

/** Each NIC's model, MAC, link, traffic and forwards; no section without NICs. */
function network(d: BoardState, forwards: readonly ActiveForward[]): DeviceSection[] {
  const nics = d.nics ?? [];
  if (nics.length === 0) return [];
  const rows = nics.flatMap((n, i) => {
    const c = n.counters;
    return [
      `net${i} ${n.model} ${n.mac} link ${n.link ? "up" : "down"}`,
      `  rx ${c.rxPackets} pkts ${formatBytes(c.rxBytes)}  tx ${c.txPackets} pkts ` +
      formatBytes(c.txBytes) + (c.rxDropped ? `  dropped ${c.rxDropped}` : ""),
      ...forwards.filter((f) => f.nic === i).map((f) =>
        `  fwd ${f.protocol} ${f.hostAddress || "*"}:${f.boundPort} -> ` +
        `${f.guestAddress || "guest"}:${f.guestPort}`
      ),
    ];
  });
  return [{ title: "Network", rows }];
}

/** The devices pane's sections for a snapshot (and the host forwards in force). */
export function summarizeDevices(
  d: BoardState,
  forwards: readonly ActiveForward[] = [],
): DeviceSection[] {
  return [
    uart(d.uart),
    i8042(d.i8042),
    vga(d),
    disks(d),
    ...network(d, forwards),
    pci(d.pci),
    ...optionalDeviceSections(d),
  ];
}
