/**
 * virtio-rng, the entropy device (virtio 1.x §5.4), on the transitional PCI
 * transport as QEMU's virtio-rng-pci: one request queue of 8 entries whose
 * device-writable buffers the device fills with random bytes. The bytes come
 * from an injected source (the host's getrandom in the worker, a seeded one
 * in tests), so the device stays pure.
 *
 * @module
 */

import type { GuestMemory, IrqLine } from "../types.ts";
import type { StateShape } from "../state_shape.ts";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  type VirtioDeviceModel,
  type VirtioPciState,
} from "./virtio_pci.ts";
import { VirtioPciFunction } from "./virtio_pci_function.ts";
import type { DescriptorChain } from "./virtqueue.ts";

/** Virtio device ID of the entropy device. */
export const VIRTIO_ID_RNG = 4;
/** Transitional PCI device ID (the modern one is 0x1040 + 4). */
export const VIRTIO_RNG_PCI_DEVICE_ID = 0x1005;
/** Entries in the request queue (QEMU's size). */
export const VIRTIO_RNG_QUEUE_SIZE = 8;
/**
 * Bytes asked of the source at a time: crypto.getRandomValues refuses more
 * than 65536 per call, and this keeps every source simple.
 */
export const VIRTIO_RNG_CHUNK = 65536;

/** Fills `dst` with random bytes. */
export type EntropySource = (dst: Uint8Array) => void;

/** Constructor options of {@link VirtioRng}. */
export interface VirtioRngOptions {
  /** Guest RAM, for the ring and the buffers. */
  readonly memory: GuestMemory;
  /** The function's INTx line. */
  readonly irq: IrqLine;
  /** Where the random bytes come from. */
  readonly source: EntropySource;
}

/** Request counters for the devices pane. */
export interface VirtioRngCounters {
  /** Buffers filled. */
  requests: number;
  /** Random bytes handed to the guest. */
  bytes: number;
}

/**
 * Saved state of a virtio-rng function: the transport's (requests complete
 * synchronously, so none is ever half-done) and the counters.
 */
export interface VirtioRngState extends VirtioPciState {
  readonly counters: VirtioRngCounters;
}

/** An entropy device on PCI. */
export class VirtioRng extends VirtioPciFunction<VirtioRngState> {
  /** Counters (live; {@link snapshot} copies them). */
  readonly counters: VirtioRngCounters = { requests: 0, bytes: 0 };
  readonly #source: EntropySource;

  /** @param options guest memory, interrupt line and entropy source */
  constructor(options: VirtioRngOptions) {
    const model: VirtioDeviceModel = {
      deviceType: VIRTIO_ID_RNG,
      legacyDeviceId: VIRTIO_RNG_PCI_DEVICE_ID,
      classCode: 0x00ff00, // "unclassified, other", as QEMU reports it
      features: VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX,
      queueSizes: [VIRTIO_RNG_QUEUE_SIZE],
      configSize: 0,
      readConfig: () => 0,
      writeConfig: () => {},
      processQueue: (_index, queue) => queue.drain((chain) => this.#fill(chain)),
      reset: () => {},
    };
    super("virtio-rng", model, options);
    this.#source = options.source;
  }

  /** The counters. */
  protected deviceSnapshot(): Omit<VirtioRngState, keyof VirtioPciState> {
    return { counters: { ...this.counters } };
  }

  /** Checks the counters. */
  protected readState(s: StateShape): () => void {
    const c = s.object("counters");
    const max = Number.MAX_SAFE_INTEGER;
    const counters = { requests: c.int("requests", 0, max), bytes: c.int("bytes", 0, max) };
    return () => Object.assign(this.counters, counters);
  }

  /** Fills every writable buffer of a request; readable buffers are ignored (§5.4.6.1). */
  #fill(chain: DescriptorChain): number {
    let written = 0;
    for (const buffer of chain.writable) {
      for (let at = 0; at < buffer.length; at += VIRTIO_RNG_CHUNK) {
        this.#source(buffer.subarray(at, Math.min(buffer.length, at + VIRTIO_RNG_CHUNK)));
      }
      written += buffer.length;
    }
    this.counters.requests++;
    this.counters.bytes += written;
    return written;
  }
}
