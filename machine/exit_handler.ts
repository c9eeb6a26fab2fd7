/**
 * Turns port-I/O and MMIO exits into bus accesses, reading and writing the
 * data in the vCPU's `kvm_run` page, and counts exits for the stats pane.
 *
 * @module
 */

import type { Bus } from "../devices/bus.ts";
import type { AccessSize } from "../devices/types.ts";
import { LAYOUTS } from "../kvm/structs.ts";

const R = LAYOUTS.kvm_run.fields;
const MMIO_DATA = R["mmio.data"];
const MMIO_ADDR = R["mmio.phys_addr"];
const MMIO_LEN = R["mmio.len"];
const MMIO_IS_WRITE = R["mmio.is_write"];
const IO_DIRECTION = R["io.direction"];
const IO_SIZE = R["io.size"];
const IO_PORT = R["io.port"];
const IO_COUNT = R["io.count"];
const IO_DATA_OFFSET = R["io.data_offset"];
const TWO_32 = 0x1_0000_0000;

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

/** The port of the port-I/O exit in a `kvm_run` page. */
export function ioExitPort(view: DataView): number {
  return view.getUint16(IO_PORT, true);
}

/**
 * Performs the port-I/O exit described in a `kvm_run` page, read straight
 * from the page without allocating a decoded exit.
 */
export function handleIoExit(bus: Bus, run: Uint8Array, view: DataView): void {
  portIo(
    bus,
    run,
    view,
    view.getUint8(IO_DIRECTION) === 1,
    view.getUint8(IO_SIZE) as AccessSize,
    view.getUint16(IO_PORT, true),
    view.getUint32(IO_COUNT, true),
    view.getUint32(IO_DATA_OFFSET, true) + view.getUint32(IO_DATA_OFFSET + 4, true) * TWO_32,
  );
}

function portIo(
  bus: Bus,
  run: Uint8Array,
  view: DataView,
  out: boolean,
  size: AccessSize,
  port: number,
  count: number,
  dataOffset: number,
): void {
  if (count === 1) {
    if (out) bus.write(port, size, readData(view, dataOffset, size));
    else writeData(view, dataOffset, size, bus.read(port, size));
    return;
  }
  // String I/O: `count` elements packed at dataOffset.
  const range = bus.find(port);
  const data = run.subarray(dataOffset, dataOffset + count * size);
  if (range && !out && range.device.readBlock) {
    range.device.readBlock(port - range.base, size, data);
    return;
  }
  if (range && out && range.device.writeBlock) {
    range.device.writeBlock(port - range.base, size, data);
    return;
  }
  for (let i = 0; i < count; i++) {
    const off = dataOffset + i * size;
    if (out) bus.write(port, size, readData(view, off, size));
    else writeData(view, off, size, bus.read(port, size));
  }
}

/**
 * Performs the MMIO exit described in a `kvm_run` page, read straight from
 * the page without allocating a decoded exit; 8-byte accesses become two
 * 4-byte ones.
 */
export function handleMmioExit(bus: Bus, view: DataView): void {
  mmio(
    bus,
    view,
    view.getUint32(MMIO_ADDR, true) + view.getUint32(MMIO_ADDR + 4, true) * TWO_32,
    view.getUint32(MMIO_LEN, true),
    view.getUint8(MMIO_IS_WRITE) !== 0,
  );
}

function mmio(bus: Bus, view: DataView, addr: number, len: number, isWrite: boolean): void {
  if (len === 8) {
    if (isWrite) {
      bus.write(addr, 4, view.getUint32(MMIO_DATA, true));
      bus.write(addr + 4, 4, view.getUint32(MMIO_DATA + 4, true));
    } else {
      view.setUint32(MMIO_DATA, bus.read(addr, 4), true);
      view.setUint32(MMIO_DATA + 4, bus.read(addr + 4, 4), true);
    }
    return;
  }
  const size = (len === 1 || len === 2 || len === 4 ? len : 1) as AccessSize;
  if (isWrite) bus.write(addr, size, readData(view, MMIO_DATA, size));
  else writeData(view, MMIO_DATA, size, bus.read(addr, size));
}

/**
 * Performs one MMIO write KVM coalesced (see kvm/coalesced_mmio.ts), its
 * data at `dataAt` in `view`; an 8-byte write becomes two 4-byte ones, as
 * in {@link handleMmioExit}.
 */
export function handleCoalescedWrite(
  bus: Bus,
  addr: number,
  len: number,
  view: DataView,
  dataAt: number,
): void {
  if (len === 8) {
    bus.write(addr, 4, view.getUint32(dataAt, true));
    bus.write(addr + 4, 4, view.getUint32(dataAt + 4, true));
    return;
  }
  const size = (len === 1 || len === 2 || len === 4 ? len : 1) as AccessSize;
  bus.write(addr, size, readData(view, dataAt, size));
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
