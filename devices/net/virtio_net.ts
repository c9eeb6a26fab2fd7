/**
 * virtio-net (virtio 1.x §5.1) on the transitional PCI transport: receive
 * queue 0 and transmit queue 1, the MAC and link status in device
 * configuration (VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS) and mergeable
 * receive buffers (VIRTIO_NET_F_MRG_RXBUF). No checksum or segmentation
 * offload is offered, so every header the driver sends is plain and every
 * header the device writes says "nothing to do". No control queue. The
 * receive queue can be lent to another thread while no device code runs
 * ({@link VirtioNet.lendRx}, virtio_net_rx.ts).
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
  VIRTIO_ISR_QUEUE,
  VIRTIO_STATUS_DRIVER_OK,
  type VirtioDeviceModel,
  VirtioPci,
  type VirtioPciState,
} from "../virtio/virtio_pci.ts";
import type { DescriptorChain } from "../virtio/virtqueue.ts";
import {
  fillRx,
  type QueueLease,
  type RxLayout,
  VIRTIO_NET_RX,
  VIRTIO_NET_TX,
} from "./virtio_net_rx.ts";
import { txFrame } from "./virtio_net_tx.ts";
import {
  formatMac,
  type FrameSink,
  type Nic,
  type NicCounters,
  type NicOptions,
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

export { VIRTIO_NET_RX, VIRTIO_NET_TX };
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
    const frame = txFrame(chain, hdr);
    if (!frame) return 0;
    this.counters.txPackets++;
    this.counters.txBytes += frame.length;
    this.#transmit(frame);
    return 0;
  }

  receive(input: Uint8Array): boolean {
    const t = this.transport;
    const queue = t.queues[VIRTIO_NET_RX];
    if (!this.#rxUsable()) return false;
    const before = queue.usedIdx;
    if (!fillRx(queue, input, rxLayout(t.negotiatedFeatures), this.counters)) return false;
    try {
      if (queue.needsInterrupt(before)) t.signalUsed();
    } catch (e) {
      if (!(e instanceof GuestMemoryError)) throw e;
    }
    return true;
  }

  #usable(index: number): boolean {
    const t = this.transport;
    return (t.status & VIRTIO_STATUS_DRIVER_OK) !== 0 && t.queues[index].ready &&
      t.broken === null;
  }

  #rxUsable(): boolean {
    return this.#usable(VIRTIO_NET_RX);
  }

  /**
   * Lends the receive queue to another thread (see virtio_net_rx.ts) when the
   * driver has it running; the machine does so only while no device code
   * can run (the vCPU is in KVM_RUN) and calls {@link reclaimRx} before any
   * runs again.
   * @returns whether it was lent
   */
  lendRx(lease: QueueLease): boolean {
    return this.#lend(VIRTIO_NET_RX, lease);
  }

  /** Takes the receive queue back from {@link lendRx}: indices, counters, and the interrupt it wants. */
  reclaimRx(lease: QueueLease): void {
    this.#reclaim(VIRTIO_NET_RX, lease);
  }

  /**
   * Lends the transmit queue as {@link lendRx} does the receive queue (the
   * borrower drains it with virtio_net_tx.ts's drainTx).
   * @returns whether it was lent
   */
  lendTx(lease: QueueLease): boolean {
    return this.#lend(VIRTIO_NET_TX, lease);
  }

  /** Takes the transmit queue back from {@link lendTx}. */
  reclaimTx(lease: QueueLease): void {
    this.#reclaim(VIRTIO_NET_TX, lease);
  }

  #lend(index: number, lease: QueueLease): boolean {
    if (!this.#usable(index)) return false;
    const t = this.transport;
    const q = t.queues[index];
    lease.lend({
      size: q.size,
      descAddr: q.descAddr,
      driverAddr: q.driverAddr,
      deviceAddr: q.deviceAddr,
      lastAvailIdx: q.lastAvailIdx,
      usedIdx: q.usedIdx,
      eventIdx: q.eventIdx,
      indirect: q.indirect,
      layout: rxLayout(t.negotiatedFeatures),
      interruptPending: (t.isr & VIRTIO_ISR_QUEUE) !== 0,
    });
    return true;
  }

  #reclaim(index: number, lease: QueueLease): void {
    const back = lease.reclaim();
    if (!back) return;
    this.transport.queues[index].setIndices(back.lastAvailIdx, back.usedIdx);
    this.counters.rxPackets += back.rxPackets;
    this.counters.rxBytes += back.rxBytes;
    this.counters.rxDropped += back.rxDropped;
    this.counters.txPackets += back.txPackets;
    this.counters.txBytes += back.txBytes;
    if (back.interrupt) this.transport.signalUsed();
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

function rxLayout(negotiated: bigint): RxLayout {
  return {
    header: headerLength(negotiated),
    mergeable: (negotiated & VIRTIO_NET_F_MRG_RXBUF) !== 0n,
  };
}
