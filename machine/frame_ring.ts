/**
 * A single-producer, single-consumer ring of Ethernet frames in a
 * SharedArrayBuffer, one per direction between the vCPU worker (NIC
 * models) and the network worker (libslirp). A frame is copied once into
 * the ring by its producer and read in place by its consumer
 * ({@link FrameRing.peek} returns a view), so frames cross threads with one
 * copy and no message passing. Records never wrap: one that does not fit
 * before the end leaves a skip marker and starts at offset 0. A full ring
 * drops the frame and counts it (memory stays bounded whatever the guest
 * or the network floods).
 *
 * @module
 */

/** Largest frame a ring carries (an Ethernet frame without offloads is 1514 bytes). */
export const MAX_FRAME = 16384;
/** Default data area of a ring. */
export const DEFAULT_RING_BYTES = 1 << 18;

const HEAD = 0; // producer position (bytes, free-running u32)
const TAIL = 1; // consumer position
const DROPPED = 2; // frames refused because the ring was full
const HEADER_INTS = 4;
const SKIP = 0xffffffff;

/** One direction of frames between two threads. */
export class FrameRing {
  readonly #ints: Int32Array;
  readonly #data: Uint8Array;
  readonly #view: DataView;
  readonly #mask: number;

  /** Allocates a ring with `bytes` of data area (a power of two). */
  static create(bytes = DEFAULT_RING_BYTES): SharedArrayBuffer {
    if (bytes < 2 * MAX_FRAME || (bytes & (bytes - 1)) !== 0) {
      throw new RangeError(`frame ring size must be a power of two ≥ ${2 * MAX_FRAME}`);
    }
    return new SharedArrayBuffer(HEADER_INTS * 4 + bytes);
  }

  /** @param buffer from {@link FrameRing.create}, shared by both ends */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.#ints = new Int32Array(buffer, 0, HEADER_INTS);
    this.#data = new Uint8Array(buffer, HEADER_INTS * 4);
    this.#view = new DataView(buffer, HEADER_INTS * 4);
    this.#mask = this.#data.length - 1;
  }

  /** Frames dropped because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.#ints, DROPPED);
  }

  /** True when no frame is waiting. */
  get empty(): boolean {
    return Atomics.load(this.#ints, HEAD) === Atomics.load(this.#ints, TAIL);
  }

  /**
   * Producer: appends a copy of `frame`.
   * @returns false (and counts a drop) when the ring is full or the frame too big
   */
  push(frame: Uint8Array): boolean {
    const head = Atomics.load(this.#ints, HEAD) >>> 0;
    const tail = Atomics.load(this.#ints, TAIL) >>> 0;
    const size = this.#data.length;
    const record = 4 + ((frame.length + 3) & ~3);
    const at = head & this.#mask;
    const skip = at + record > size ? size - at : 0;
    const used = (head - tail) >>> 0;
    if (frame.length > MAX_FRAME || used + skip + record > size) {
      Atomics.add(this.#ints, DROPPED, 1);
      return false;
    }
    let start = at;
    if (skip) {
      this.#view.setUint32(at, SKIP, true);
      start = 0;
    }
    this.#view.setUint32(start, frame.length, true);
    this.#data.set(frame, start + 4);
    // Publishing the head last makes the record visible whole.
    Atomics.store(this.#ints, HEAD, (head + skip + record) | 0);
    return true;
  }

  /** Consumer: a view of the oldest frame, valid until {@link pop}; null when empty. */
  peek(): Uint8Array | null {
    const head = Atomics.load(this.#ints, HEAD) >>> 0;
    let tail = Atomics.load(this.#ints, TAIL) >>> 0;
    if (head === tail) return null;
    let at = tail & this.#mask;
    if (this.#view.getUint32(at, true) === SKIP) {
      tail = (tail + this.#data.length - at) >>> 0;
      Atomics.store(this.#ints, TAIL, tail | 0);
      if (head === tail) return null;
      at = 0;
    }
    const length = this.#view.getUint32(at, true);
    return this.#data.subarray(at + 4, at + 4 + length);
  }

  /** Consumer: releases the frame {@link peek} returned. */
  pop(): void {
    const frame = this.peek();
    if (!frame) return;
    const tail = Atomics.load(this.#ints, TAIL) >>> 0;
    const record = 4 + ((frame.length + 3) & ~3);
    Atomics.store(this.#ints, TAIL, (tail + record) | 0);
  }
}
