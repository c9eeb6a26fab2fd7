/**
 * Turns port-I/O and MMIO exits into bus accesses, reading and writing the
 * data in the vCPU's `kvm_run` page, and counts exits for the stats pane.
 *
 * @module
 */

import type { Bus } from "../devices/bus.ts";
import type { AccessSize } from "../devices/types.ts";
import type { IoExit, MmioExit } from "../kvm/exits.ts";
import { LAYOUTS } from "../kvm/structs.ts";

const MMIO_DATA = LAYOUTS.kvm_run.fields["mmio.data"];

/** Exit counters by kind, and per port. */
export class ExitStats {
  readonly byKind: Record<string, number> = {};
  readonly portCounts = new Uint32Array(0x10000);
  total = 0;
  /** Milliseconds spent inside KVM_RUN. */
  guestMs = 0;

  /** Counts one exit. */
  count(kind: string): void {
    this.total++;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
  }

  /** The `n` ports with the most exits. */
  busiestPorts(n: number): { port: number; exits: number }[] {
    const out: { port: number; exits: number }[] = [];
    for (let p = 0; p < 0x10000; p++) {
      const c = this.portCounts[p];
      if (c) out.push({ port: p, exits: c });
    }
    return out.sort((a, b) => b.exits - a.exits).slice(0, n);
  }
}

/** Performs a port-I/O exit against `bus`. */
export function handleIo(bus: Bus, run: Uint8Array, view: DataView, exit: IoExit): void {
  const { port, size, count, dataOffset } = exit;
  if (count === 1) {
    if (exit.direction === "out") bus.write(port, size, readData(view, dataOffset, size));
    else writeData(view, dataOffset, size, bus.read(port, size));
    return;
  }
  // String I/O: `count` elements packed at dataOffset.
  const range = bus.find(port);
  const data = run.subarray(dataOffset, dataOffset + count * size);
  if (range && exit.direction === "in" && range.device.readBlock) {
    range.device.readBlock(port - range.base, size, data);
    return;
  }
  if (range && exit.direction === "out" && range.device.writeBlock) {
    range.device.writeBlock(port - range.base, size, data);
    return;
  }
  for (let i = 0; i < count; i++) {
    const off = dataOffset + i * size;
    if (exit.direction === "out") bus.write(port, size, readData(view, off, size));
    else writeData(view, off, size, bus.read(port, size));
  }
}

/** Performs an MMIO exit against `bus`; 8-byte accesses become two 4-byte ones. */
export function handleMmio(bus: Bus, view: DataView, exit: MmioExit): void {
  const { addr, len } = exit;
  if (len === 8) {
    if (exit.isWrite) {
      bus.write(addr, 4, view.getUint32(MMIO_DATA, true));
      bus.write(addr + 4, 4, view.getUint32(MMIO_DATA + 4, true));
    } else {
      view.setUint32(MMIO_DATA, bus.read(addr, 4), true);
      view.setUint32(MMIO_DATA + 4, bus.read(addr + 4, 4), true);
    }
    return;
  }
  const size = (len === 1 || len === 2 || len === 4 ? len : 1) as AccessSize;
  if (exit.isWrite) bus.write(addr, size, readData(view, MMIO_DATA, size));
  else writeData(view, MMIO_DATA, size, bus.read(addr, size));
}

function readData(view: DataView, off: number, size: AccessSize): number {
  return size === 1
    ? view.getUint8(off)
    : size === 2
    ? view.getUint16(off, true)
    : view.getUint32(off, true);
}

function writeData(view: DataView, off: number, size: AccessSize, value: number): void {
  if (size === 1) view.setUint8(off, value);
  else if (size === 2) view.setUint16(off, value, true);
  else view.setUint32(off, value >>> 0, true);
}
