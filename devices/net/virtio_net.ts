/**
 * virtio-net (virtio 1.x §5.1) on the transitional PCI transport: receive
 * queue 0 and transmit queue 1, the MAC and link status in device
 * configuration (VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS) and mergeable
 * receive buffers (VIRTIO_NET_F_MRG_RXBUF). No checksum or segmentation
 * offload is offered, so every header the driver sends is plain and every
 * header the device writes says "nothing to do". No control queue.
 *
 * @module
 */

import type { AccessSize, BusDevice, Snapshotting } from "../types.ts";
import { GuestMemoryError } from "../types.ts";
import { readLanes } from "../byte_lanes.ts";
import type { PciConfigSpace } from "../pci/config_space.ts";
import { StateShape } from "../state_shape.ts";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  VIRTIO_STATUS_DRIVER_OK,
  type VirtioDeviceModel,
  VirtioPci,
  type VirtioPciState,
} from "../virtio/virtio_pci.ts";
import { type DescriptorChain, VirtqueueError } from "../virtio/virtqueue.ts";
import {
  formatMac,
  type FrameSink,
  type Nic,
  type NicCounters,
  type NicOptions,
  padFrame,
  readCounters,
  romBar,
  zeroCounters,
} from "./nic.ts";

/** Feature: `mac` in device configuration is valid. */
export const VIRTIO_NET_F_MAC = 1n << 5n;
/** Feature: the driver may merge receive buffers (num_buffers in the header). */
export const VIRTIO_NET_F_MRG_RXBUF = 1n << 15n;
/** Feature: `status` in device configuration is valid. */
export const VIRTIO_NET_F_STATUS = 1n << 16n;
/** Status bit: the link is up. */
export const VIRTIO_NET_S_LINK_UP = 1;

/** Queue indices. */
export const VIRTIO_NET_RX = 0;
/** @see VIRTIO_NET_RX */
export const VIRTIO_NET_TX = 1;
/** Entries per queue. */
export const VIRTIO_NET_QUEUE_SIZE = 256;
/** Bytes of device configuration exposed: mac[6], status. */
export const VIRTIO_NET_CONFIG_SIZE = 8;
/** The legacy header without num_buffers. */
const HDR_LEGACY = 10;
/** The header with num_buffers (MRG_RXBUF or VERSION_1). */
const HDR_MRG = 12;

/** Constructor options of {@link VirtioNet}. */
export type VirtioNetOptions = NicOptions;

/** Saved state of a virtio-net function. */
export interface VirtioNetState extends VirtioPciState {
  /** The MAC the state belongs to (restore refuses another). */
  readonly mac: string;
  readonly counters: NicCounters;
}

/** A virtio network device on PCI. */
export class VirtioNet implements Nic, Snapshotting<VirtioNetState> {
  /** Name in the devices pane. */
  readonly name = "virtio-net";
  readonly transport: VirtioPci;
  readonly config: PciConfigSpace;
  /** Legacy registers, for BAR0. */
  readonly legacyIo: BusDevice;
  /** Modern structures, for BAR4. */
  readonly modernMmio: BusDevice;
  /** The expansion ROM, for the ROM BAR. */
  readonly rom: BusDevice;
  readonly mac: Uint8Array;
  readonly counters: NicCounters = zeroCounters();
  onRxReady: (() => void) | null = null;
  readonly #transmit: FrameSink;
  readonly #configBytes = new Uint8Array(VIRTIO_NET_CONFIG_SIZE);

  /** @param options MAC, guest memory, interrupt line, transmit sink and ROM */
  constructor(options: VirtioNetOptions) {
    this.mac = Uint8Array.from(options.mac);
    this.#transmit = options.transmit;
    this.#configBytes.set(this.mac, 0);
    this.#configBytes[6] = VIRTIO_NET_S_LINK_UP;
    const rom = romBar(options.rom);
    this.rom = rom.device;
    const model: VirtioDeviceModel = {
      deviceType: 1,
      legacyDeviceId: 0x1000,
      classCode: 0x020000,
      features: VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS | VIRTIO_NET_F_MRG_RXBUF |
        VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX,
      queueSizes: [VIRTIO_NET_QUEUE_SIZE, VIRTIO_NET_QUEUE_SIZE],
      configSize: VIRTIO_NET_CONFIG_SIZE,
      romSize: rom.size,
      readConfig: (offset, size) => this.#readConfig(offset, size),
      writeConfig: () => {}, // the MAC is writable only with VIRTIO_NET_F_CTRL_MAC_ADDR (not offered)
      processQueue: (index, queue, negotiated) => {
        if (index === VIRTIO_NET_RX) {
          // New receive buffers: frames waiting in the ring may go in now.
          this.onRxReady?.();
          return false;
        }
        if (index !== VIRTIO_NET_TX) return false;
        const hdr = headerLength(negotiated);
        return queue.drain((chain) => this.#send(chain, hdr));
      },
      reset: () => {},
    };
    this.transport = new VirtioPci({
      name: this.name,
      device: model,
      memory: options.memory,
      irq: options.irq,
    });
    this.config = this.transport.config;
    this.legacyIo = this.transport.legacyIo;
    this.modernMmio = this.transport.modernMmio;
  }

  /** PCI reset. */
  reset(): void {
    this.transport.reset();
  }

  #readConfig(offset: number, size: AccessSize): number {
    return readLanes(offset, size, (at) => this.#configBytes[at] ?? 0);
  }

  #send(chain: DescriptorChain, hdr: number): number {
    const length = chain.readableLength - hdr;
    if (length <= 0) return 0;
    const frame = new Uint8Array(length);
    let skip = hdr;
    let at = 0;
    for (const b of chain.readable) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      frame.set(b.subarray(skip), at);
      at += b.length - skip;
      skip = 0;
    }
    this.counters.txPackets++;
    this.counters.txBytes += length;
    this.#transmit(frame);
    return 0;
  }

  receive(input: Uint8Array): boolean {
    const t = this.transport;
    const queue = t.queues[VIRTIO_NET_RX];
    if (!(t.status & VIRTIO_STATUS_DRIVER_OK) || !queue.ready || t.broken !== null) return false;
    const negotiated = t.negotiatedFeatures;
    const mergeable = (negotiated & VIRTIO_NET_F_MRG_RXBUF) !== 0n;
    const hdr = headerLength(negotiated);
    const frame = padFrame(input);
    try {
      if (queue.pending() === 0) {
        // Out of buffers: ask to be told of the next one (and look again, in
        // case it came before the driver could see the request).
        queue.suppressNotifications(false);
        if (queue.pending() === 0) return false;
      }
      const before = queue.usedIdx;
      const used: { head: number; written: number }[] = [];
      let header: Uint8Array[] | null = null;
      let at = -hdr; // negative while the header is being written
      while (at < frame.length) {
        const chain = queue.pop();
        if (!chain) break;
        let written = 0;
        for (const b of chain.writable) {
          let off = 0;
          if (at < 0) {
            // The header: zero flags and GSO type, num_buffers filled in below.
            const n = Math.min(-at, b.length);
            b.fill(0, 0, n);
            header ??= [];
            header.push(b.subarray(0, n));
            at += n;
            off = n;
            written += n;
          }
          if (at >= 0 && off < b.length && at < frame.length) {
            const n = Math.min(b.length - off, frame.length - at);
            b.set(frame.subarray(at, at + n), off);
            at += n;
            written += n;
          }
          if (at >= frame.length) break;
        }
        used.push({ head: chain.head, written });
        if (!mergeable) break;
      }
      const complete = at >= frame.length;
      if (mergeable && header) writeNumBuffers(header, used.length);
      for (const u of used) queue.push(u.head, u.written);
      if (complete) {
        this.counters.rxPackets++;
        this.counters.rxBytes += input.length;
      } else {
        // Buffers too small: the driver sees a truncated frame and drops it.
        this.counters.rxDropped++;
      }
      // While buffers remain the driver need not say it added more: each
      // notification would be an exit (QEMU's virtio-net does the same).
      if (queue.pending() > 0) queue.suppressNotifications(true);
      if (queue.needsInterrupt(before)) t.signalUsed();
    } catch (e) {
      if (!(e instanceof VirtqueueError || e instanceof GuestMemoryError)) throw e;
      this.counters.rxDropped++;
    }
    return true;
  }

  /** Transport state, MAC and counters. */
  snapshot(): VirtioNetState {
    return {
      ...this.transport.snapshot(),
      mac: formatMac(this.mac),
      counters: { ...this.counters },
    };
  }

  /** Puts the transport and counters back; the MAC must be this device's. */
  restore(state: VirtioNetState): void {
    const s = StateShape.versioned(this.name, state, 1);
    s.oneOf("mac", [formatMac(this.mac)]);
    const counters = readCounters(s.object("counters"));
    this.transport.restore(state);
    Object.assign(this.counters, counters);
  }
}

function headerLength(negotiated: bigint): number {
  return negotiated & (VIRTIO_NET_F_MRG_RXBUF | VIRTIO_F_VERSION_1) ? HDR_MRG : HDR_LEGACY;
}

/** num_buffers is the le16 at header bytes 10-11, which may straddle buffers. */
function writeNumBuffers(header: Uint8Array[], n: number): void {
  let at = 0;
  for (const b of header) {
    for (let i = 0; i < b.length; i++, at++) {
      if (at === 10) b[i] = n & 0xff;
      if (at === 11) b[i] = n >> 8;
    }
  }
}
