/**
 * virtio-blk (virtio 1.x §5.2) on the transitional PCI transport: one request
 * queue of 256 entries, processed synchronously when the driver notifies it.
 * A request is a 16-byte header (type, reserved, sector) in device-readable
 * buffers, data, and a status byte in the last device-writable byte.
 *
 * @module
 */

import type { AccessSize, BlockBackend, GuestMemory, IrqLine } from "../types.ts";
import { readLanes } from "../byte_lanes.ts";
import type { StateShape } from "../state_shape.ts";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  type VirtioDeviceModel,
  type VirtioPciState,
} from "./virtio_pci.ts";
import { VirtioPciFunction } from "./virtio_pci_function.ts";
import { type DescriptorChain, VirtqueueError } from "./virtqueue.ts";

/** Feature: `size_max` bounds any single segment. */
export const VIRTIO_BLK_F_SIZE_MAX = 1n << 1n;
/** Feature: `seg_max` bounds the data segments of a request. */
export const VIRTIO_BLK_F_SEG_MAX = 1n << 2n;
/** Feature: the device is read-only. */
export const VIRTIO_BLK_F_RO = 1n << 5n;
/** Feature: `blk_size` holds the logical block size. */
export const VIRTIO_BLK_F_BLK_SIZE = 1n << 6n;
/** Feature: VIRTIO_BLK_T_FLUSH is supported (otherwise writes are write-through). */
export const VIRTIO_BLK_F_FLUSH = 1n << 9n;

/** Request type: read sectors into the writable buffers. */
export const VIRTIO_BLK_T_IN = 0;
/** Request type: write the readable data to sectors. */
export const VIRTIO_BLK_T_OUT = 1;
/** Request type: make completed writes durable. */
export const VIRTIO_BLK_T_FLUSH = 4;
/** Request type: return the 20-byte device ID string. */
export const VIRTIO_BLK_T_GET_ID = 8;

/** Request status: success. */
export const VIRTIO_BLK_S_OK = 0;
/** Request status: I/O error (also: out of range, write to a read-only disk). */
export const VIRTIO_BLK_S_IOERR = 1;
/** Request status: unsupported request type. */
export const VIRTIO_BLK_S_UNSUPP = 2;

/** Sector size of request addressing, fixed by the specification. */
export const VIRTIO_BLK_SECTOR_SIZE = 512;
/** Length of the GET_ID string. */
export const VIRTIO_BLK_ID_BYTES = 20;
/** Entries in the request queue. */
export const VIRTIO_BLK_QUEUE_SIZE = 256;
/** Advertised `size_max`: largest single segment. */
export const VIRTIO_BLK_SIZE_MAX = 1 << 20;
/** Advertised `seg_max`: the header and status take two descriptors. */
export const VIRTIO_BLK_SEG_MAX = VIRTIO_BLK_QUEUE_SIZE - 2;
/** Bytes of virtio_blk_config exposed (through the write-zeroes fields). */
export const VIRTIO_BLK_CONFIG_SIZE = 60;

const HEADER_BYTES = 16;

/** Constructor options of {@link VirtioBlk}. */
export interface VirtioBlkOptions {
  /** The disk image. */
  readonly backend: BlockBackend;
  /** Guest RAM, for the rings and request buffers. */
  readonly memory: GuestMemory;
  /** The function's INTx line. */
  readonly irq: IrqLine;
  /** Returned by GET_ID (up to 20 bytes of UTF-8; longer is cut). */
  readonly serial?: string;
}

/** Request counters for the stats pane. */
export interface VirtioBlkCounters {
  requests: number;
  bytesRead: number;
  bytesWritten: number;
  flushes: number;
  /** Requests completed with IOERR or UNSUPP. */
  errors: number;
}

/**
 * Saved state of a virtio-blk function: the transport's (requests complete
 * synchronously, so none is ever half-done) plus the counters, and the
 * medium the state belongs to. Disk contents belong to the backend.
 */
export interface VirtioBlkState extends VirtioPciState {
  /** Disk size in 512-byte sectors; a state only restores onto a disk of this size. */
  readonly capacity: number;
  /** Whether the disk is read-only (VIRTIO_BLK_F_RO was offered); must match too. */
  readonly readonly: boolean;
  readonly counters: VirtioBlkCounters;
}

/** A virtio block device on PCI. */
export class VirtioBlk extends VirtioPciFunction<VirtioBlkState> {
  /** Request counters (live; {@link snapshot} copies them). */
  readonly counters: VirtioBlkCounters = {
    requests: 0,
    bytesRead: 0,
    bytesWritten: 0,
    flushes: 0,
    errors: 0,
  };
  /** Disk size in 512-byte sectors. */
  readonly capacity: number;
  readonly #backend: BlockBackend;
  readonly #id: Uint8Array;
  readonly #configBytes: Uint8Array;

  /** @param options backend, guest memory, interrupt line and optional serial */
  constructor(options: VirtioBlkOptions) {
    let features = VIRTIO_BLK_F_SIZE_MAX | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE |
      VIRTIO_BLK_F_FLUSH | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX;
    if (options.backend.readonly) features |= VIRTIO_BLK_F_RO;
    const model: VirtioDeviceModel = {
      deviceType: 2,
      legacyDeviceId: 0x1001,
      classCode: 0x010000, // mass storage, SCSI controller, as QEMU reports it
      features,
      queueSizes: [VIRTIO_BLK_QUEUE_SIZE],
      configSize: VIRTIO_BLK_CONFIG_SIZE,
      readConfig: (offset, size) => this.#readConfig(offset, size),
      writeConfig: () => {}, // writeback is only writable with CONFIG_WCE, not offered
      processQueue: (_index, queue, negotiated) =>
        queue.drain((chain) => this.#handle(chain, negotiated)),
      reset: () => {},
    };
    super("virtio-blk", model, options);
    this.#backend = options.backend;
    this.capacity = Math.floor(options.backend.size / VIRTIO_BLK_SECTOR_SIZE);
    this.#id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
    this.#id.set(new TextEncoder().encode(options.serial ?? "").subarray(0, VIRTIO_BLK_ID_BYTES));
    this.#configBytes = this.#buildConfig();
  }

  /** Flushes the backend (on shutdown or snapshot). */
  flush(): void {
    this.#backend.flush();
  }

  /** The medium and the counters. */
  protected deviceSnapshot(): Omit<VirtioBlkState, keyof VirtioPciState> {
    return {
      capacity: this.capacity,
      readonly: this.#backend.readonly,
      counters: { ...this.counters },
    };
  }

  /** Checks the counters; the disk must be the one the state was taken with. */
  protected readState(s: StateShape): () => void {
    s.oneOf("capacity", [this.capacity]);
    s.oneOf("readonly", [this.#backend.readonly]);
    const c = s.object("counters");
    const max = Number.MAX_SAFE_INTEGER;
    const counters: VirtioBlkCounters = {
      requests: c.int("requests", 0, max),
      bytesRead: c.int("bytesRead", 0, max),
      bytesWritten: c.int("bytesWritten", 0, max),
      flushes: c.int("flushes", 0, max),
      errors: c.int("errors", 0, max),
    };
    return () => Object.assign(this.counters, counters);
  }

  #buildConfig(): Uint8Array {
    const bytes = new Uint8Array(VIRTIO_BLK_CONFIG_SIZE);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(this.capacity), true);
    view.setUint32(8, VIRTIO_BLK_SIZE_MAX, true);
    view.setUint32(12, VIRTIO_BLK_SEG_MAX, true);
    view.setUint32(20, VIRTIO_BLK_SECTOR_SIZE, true); // blk_size
    return bytes;
  }

  #readConfig(offset: number, size: AccessSize): number {
    return readLanes(offset, size, (at) => this.#configBytes[at]);
  }

  /** Executes one request and returns the bytes written into its writable buffers. */
  #handle(chain: DescriptorChain, negotiated: bigint): number {
    if (chain.readableLength < HEADER_BYTES || chain.writableLength < 1) {
      throw new VirtqueueError("virtio-blk request without header or status byte");
    }
    const header = new DataView(gather(chain.readable, HEADER_BYTES).buffer);
    const type = header.getUint32(0, true);
    const sectorLo = header.getUint32(8, true);
    const sectorHi = header.getUint32(12, true);
    // Sectors past 2^53 bytes cannot be in range; keep them out of float precision trouble.
    const offset = sectorHi >= 0x100000 ? Infinity : (sectorHi * 2 ** 32 + sectorLo) * 512;
    const dataIn = chain.writableLength - 1;
    this.counters.requests++;
    let status = VIRTIO_BLK_S_OK;
    let written = 0;
    try {
      switch (type) {
        case VIRTIO_BLK_T_IN:
          if (!this.#inRange(offset, dataIn)) {
            status = VIRTIO_BLK_S_IOERR;
            break;
          }
          for (const part of slices(chain.writable, 0, dataIn)) {
            this.#backend.read(offset + written, part);
            written += part.length;
          }
          this.counters.bytesRead += written;
          break;
        case VIRTIO_BLK_T_OUT: {
          const length = chain.readableLength - HEADER_BYTES;
          if (this.#backend.readonly || !this.#inRange(offset, length)) {
            status = VIRTIO_BLK_S_IOERR;
            break;
          }
          let done = 0;
          for (const part of slices(chain.readable, HEADER_BYTES, chain.readableLength)) {
            this.#backend.write(offset + done, part);
            done += part.length;
          }
          this.counters.bytesWritten += done;
          // Without negotiated FLUSH the driver expects write-through.
          if (!(negotiated & VIRTIO_BLK_F_FLUSH)) this.#backend.flush();
          break;
        }
        case VIRTIO_BLK_T_FLUSH:
          this.#backend.flush();
          this.counters.flushes++;
          break;
        case VIRTIO_BLK_T_GET_ID:
          for (const part of slices(chain.writable, 0, Math.min(dataIn, VIRTIO_BLK_ID_BYTES))) {
            part.set(this.#id.subarray(written, written + part.length));
            written += part.length;
          }
          break;
        default:
          status = VIRTIO_BLK_S_UNSUPP;
      }
    } catch (e) {
      // Host I/O failures are the guest's IOERR, not a broken queue.
      if (e instanceof VirtqueueError) throw e;
      status = VIRTIO_BLK_S_IOERR;
    }
    if (status !== VIRTIO_BLK_S_OK) this.counters.errors++;
    const last = chain.writable[chain.writable.length - 1];
    last[last.length - 1] = status;
    return written + 1;
  }

  /** Whole 512-byte sectors inside the disk. */
  #inRange(offset: number, length: number): boolean {
    return length % VIRTIO_BLK_SECTOR_SIZE === 0 &&
      offset + length <= this.capacity * VIRTIO_BLK_SECTOR_SIZE;
  }
}

/** Copies the first `length` bytes of a buffer list. */
function gather(buffers: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const b of buffers) {
    if (at >= length) break;
    const n = Math.min(b.length, length - at);
    out.set(b.subarray(0, n), at);
    at += n;
  }
  return out;
}

/** The views covering bytes `[start, end)` of a buffer list, without copying. */
function slices(buffers: readonly Uint8Array[], start: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let base = 0;
  for (const b of buffers) {
    const from = Math.max(start, base);
    const to = Math.min(end, base + b.length);
    if (from < to) out.push(b.subarray(from - base, to - base));
    base += b.length;
    if (base >= end) break;
  }
  return out;
}
