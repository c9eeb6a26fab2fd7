/**
 * What every NIC model shares: the contract the board drives (frames in,
 * a sink for frames out, a hook when the guest gives receive buffers), the
 * traffic counters the devices pane shows, and Ethernet helpers.
 *
 * @module
 */

import type { AccessSize, BusDevice, GuestMemory, IrqLine } from "../types.ts";
import type { PciFunction } from "../pci/config_space.ts";
import type { StateShape } from "../state_shape.ts";

/** Receives a frame the guest transmitted; the view is only valid during the call. */
export type FrameSink = (frame: Uint8Array) => void;

/** Traffic counters of a NIC. */
export interface NicCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Frames refused by the receive filter or too big for the guest's buffers. */
  rxDropped: number;
}

/** A NIC model as the board and the vCPU worker see it. */
export interface Nic extends PciFunction {
  /** The NIC's MAC address. */
  readonly mac: Uint8Array;
  /** Live traffic counters (snapshots copy them). */
  readonly counters: NicCounters;
  /**
   * Offers a frame from the network. Returns false when the guest has no
   * receive buffer for it now (the caller keeps it and retries after
   * {@link onRxReady}); true when it was taken or dropped by the filter.
   */
  receive(frame: Uint8Array): boolean;
  /** Called when the guest makes receive buffers available. */
  onRxReady: (() => void) | null;
}

/** Constructor options every NIC model takes. */
export interface NicOptions {
  readonly mac: Uint8Array;
  /** Guest RAM the NIC reaches by DMA. */
  readonly memory: GuestMemory;
  readonly irq: IrqLine;
  /** Where transmitted frames go. */
  readonly transmit: FrameSink;
  /** Option ROM image (iPXE), or none. */
  readonly rom?: Uint8Array;
}

/** Fresh zero counters. */
export function zeroCounters(): NicCounters {
  return { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 };
}

/** Reads counters back from a saved state. */
export function readCounters(s: StateShape): NicCounters {
  const max = Number.MAX_SAFE_INTEGER;
  return {
    rxPackets: s.int("rxPackets", 0, max),
    rxBytes: s.int("rxBytes", 0, max),
    txPackets: s.int("txPackets", 0, max),
    txBytes: s.int("txBytes", 0, max),
    rxDropped: s.int("rxDropped", 0, max),
  };
}

/** Shortest Ethernet frame without its FCS; shorter ones are padded on receive, as on a wire. */
export const MIN_FRAME = 60;

/** `frame` padded with zeros to {@link MIN_FRAME} bytes (the same array when long enough). */
export function padFrame(frame: Uint8Array): Uint8Array {
  if (frame.length >= MIN_FRAME) return frame;
  const out = new Uint8Array(MIN_FRAME);
  out.set(frame);
  return out;
}

/** Whether `frame` is addressed to ff:ff:ff:ff:ff:ff. */
export function isBroadcast(frame: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (frame[i] !== 0xff) return false;
  return true;
}

/** Whether `frame` is addressed to `mac`. */
export function isAddressedTo(frame: Uint8Array, mac: ArrayLike<number>): boolean {
  for (let i = 0; i < 6; i++) if (frame[i] !== mac[i]) return false;
  return true;
}

/** "52:54:00:12:34:56" for six bytes. */
export function formatMac(mac: ArrayLike<number>): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

let crcTable: Uint32Array | null = null;

/** The Ethernet FCS (CRC-32, IEEE 802.3) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The bit a multicast address selects in a 64-bit hash filter (RTL8139
 * MAR, DP8390 MAR): the top six bits of the big-endian Ethernet CRC.
 */
export function multicastHashBit(dst: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of dst.subarray(0, 6)) {
    let b = byte;
    for (let i = 0; i < 8; i++, b >>= 1) {
      const carry = ((crc >>> 31) ^ (b & 1)) !== 0;
      crc = (crc << 1) >>> 0;
      if (carry) crc = (crc ^ 0x04c11db7) >>> 0;
    }
  }
  return crc >>> 26;
}

/** Whether the 64-bit hash filter `mar` (eight bytes, bit 0 first) passes `frame`'s multicast address. */
export function multicastHashHit(mar: ArrayLike<number>, frame: Uint8Array): boolean {
  const bit = multicastHashBit(frame);
  return ((mar[bit >> 3] >> (bit & 7)) & 1) !== 0;
}

/** An expansion ROM for a PCI BAR: its size (a power of two ≥ 2 KiB, 0 for none) and its reads. */
export function romBar(data: Uint8Array | undefined): { size: number; device: BusDevice } {
  const length = data?.length ?? 0;
  let size = 0;
  if (length > 0) { for (size = 2048; size < length; size *= 2); }
  const image = new Uint8Array(size);
  if (data) image.set(data);
  return {
    size,
    device: {
      read: (offset: number, width: AccessSize) => {
        let v = 0;
        for (let i = width - 1; i >= 0; i--) {
          const at = offset + i;
          v = v * 256 + (at < image.length ? image[at] : 0xff);
        }
        return v;
      },
      write: () => {},
    },
  };
}
