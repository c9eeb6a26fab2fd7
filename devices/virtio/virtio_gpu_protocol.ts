/**
 * The virtio-gpu wire format (virtio 1.x §5.7) for the 2D command set:
 * command and response codes, the pixel formats, request sizes and the
 * little-endian readers and writers the device uses on them.
 *
 * @module
 */

/** Virtio device ID of the GPU. */
export const VIRTIO_ID_GPU = 16;

/** Feature: GET_EDID is supported. */
export const VIRTIO_GPU_F_EDID = 1n << 1n;

/** Control queue commands and cursor queue requests. */
export const GPU_CMD = {
  getDisplayInfo: 0x0100,
  resourceCreate2d: 0x0101,
  resourceUnref: 0x0102,
  setScanout: 0x0103,
  resourceFlush: 0x0104,
  transferToHost2d: 0x0105,
  resourceAttachBacking: 0x0106,
  resourceDetachBacking: 0x0107,
  getCapsetInfo: 0x0108,
  getCapset: 0x0109,
  getEdid: 0x010a,
  updateCursor: 0x0300,
  moveCursor: 0x0301,
} as const;

/** Response types. */
export const GPU_RESP = {
  okNodata: 0x1100,
  okDisplayInfo: 0x1101,
  okEdid: 0x1104,
  errUnspec: 0x1200,
  errOutOfMemory: 0x1201,
  errInvalidScanoutId: 0x1202,
  errInvalidResourceId: 0x1203,
  errInvalidContextId: 0x1204,
  errInvalidParameter: 0x1205,
} as const;

/** Header flag: the driver wants a fence signalled when the command completes. */
export const VIRTIO_GPU_FLAG_FENCE = 1;
/** Header flag: `ring_idx` names the fence's ring (with the context-init feature). */
export const VIRTIO_GPU_FLAG_INFO_RING_IDX = 2;

/** Bytes of the control header: type, flags, fence_id (le64), ctx_id, ring_idx, padding. */
export const GPU_HDR_SIZE = 24;
/** Scanouts a display-info response always lists (VIRTIO_GPU_MAX_SCANOUTS). */
export const GPU_MAX_SCANOUTS = 16;
/** Bytes of a display-info response: the header and 16 × (rect, enabled, flags). */
export const GPU_DISPLAY_INFO_SIZE = GPU_HDR_SIZE + GPU_MAX_SCANOUTS * 24;
/** Bytes of an EDID response: header, size, padding and 1024 bytes of EDID. */
export const GPU_EDID_RESPONSE_SIZE = GPU_HDR_SIZE + 8 + 1024;
/** Bytes of a cursor request (update and move share the layout). */
export const GPU_CURSOR_SIZE = GPU_HDR_SIZE + 32;

/** Request sizes (header included) by command. */
export const GPU_REQUEST_SIZE: Readonly<Record<number, number>> = {
  [GPU_CMD.getDisplayInfo]: GPU_HDR_SIZE,
  [GPU_CMD.resourceCreate2d]: GPU_HDR_SIZE + 16,
  [GPU_CMD.resourceUnref]: GPU_HDR_SIZE + 8,
  [GPU_CMD.setScanout]: GPU_HDR_SIZE + 24,
  [GPU_CMD.resourceFlush]: GPU_HDR_SIZE + 24,
  [GPU_CMD.transferToHost2d]: GPU_HDR_SIZE + 32,
  [GPU_CMD.resourceAttachBacking]: GPU_HDR_SIZE + 8,
  [GPU_CMD.resourceDetachBacking]: GPU_HDR_SIZE + 8,
  [GPU_CMD.getEdid]: GPU_HDR_SIZE + 8,
  [GPU_CMD.updateCursor]: GPU_CURSOR_SIZE,
  [GPU_CMD.moveCursor]: GPU_CURSOR_SIZE,
};

/** Bytes of one backing entry of RESOURCE_ATTACH_BACKING: le64 addr, le32 length, padding. */
export const GPU_MEM_ENTRY_SIZE = 16;

/**
 * The 2D pixel formats, named (as virtio names them) by their bytes in
 * memory from the lowest address: B8G8R8A8 is B, G, R, A. The value is
 * where red, green and blue sit in each 4-byte pixel.
 */
export const GPU_FORMATS: ReadonlyMap<number, { name: string; r: number; g: number; b: number }> =
  new Map([
    [1, { name: "B8G8R8A8", r: 2, g: 1, b: 0 }],
    [2, { name: "B8G8R8X8", r: 2, g: 1, b: 0 }],
    [3, { name: "A8R8G8B8", r: 1, g: 2, b: 3 }],
    [4, { name: "X8R8G8B8", r: 1, g: 2, b: 3 }],
    [67, { name: "R8G8B8A8", r: 0, g: 1, b: 2 }],
    [68, { name: "X8B8G8R8", r: 3, g: 2, b: 1 }],
    [121, { name: "A8B8G8R8", r: 3, g: 2, b: 1 }],
    [134, { name: "R8G8B8X8", r: 0, g: 1, b: 2 }],
  ]);

/** Bytes per pixel of every 2D format. */
export const GPU_BYTES_PER_PIXEL = 4;

/** A rectangle as the protocol carries it. */
export interface GpuRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Little-endian reads from a request's bytes (zero past the end). */
export class RequestReader {
  readonly #view: DataView;

  /** @param bytes the request as gathered from the readable buffers */
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The u32 at `at`. */
  u32(at: number): number {
    return at + 4 <= this.bytes.length ? this.#view.getUint32(at, true) : 0;
  }

  /** The u64 at `at` as a number; past 2^53 it is rounded, which only ever makes it larger. */
  u64(at: number): number {
    return this.u32(at) + this.u32(at + 4) * 2 ** 32;
  }

  /** The rect at `at`. */
  rect(at: number): GpuRect {
    return {
      x: this.u32(at),
      y: this.u32(at + 4),
      width: this.u32(at + 8),
      height: this.u32(at + 12),
    };
  }
}

/** Whether `inner` lies within a `width × height` area (without overflowing 32 bits). */
export function rectInside(inner: GpuRect, width: number, height: number): boolean {
  return inner.x <= width && inner.y <= height && inner.width <= width - inner.x &&
    inner.height <= height - inner.y;
}
