/**
 * The vCPU worker's end of the network: each NIC's transmit sink pushes
 * into its ring and wakes the network worker (once the vCPU is about to
 * run again); frames for the guest are moved from the other ring into the
 * NIC while it has buffers; virtio-net's queues are lent to the network
 * worker while the vCPU runs (see net.ts).
 *
 * @module
 */

import { EventFd } from "../host/posix.ts";
import type { Nic } from "../devices/net/nic.ts";
import type { NicConfig } from "./config.ts";
import { FrameRing } from "./frame_ring.ts";
import { type NetPorts, RamSlot } from "./net.ts";
import type { VirtioNet } from "../devices/net/virtio_net.ts";
import type { Vm } from "../kvm/kvm.ts";
import { NOT_BOUND, NotifyBinding } from "./notify_binding.ts";
import { QueueLease, VIRTIO_NET_RX, VIRTIO_NET_TX } from "../devices/net/virtio_net_rx.ts";
import type { NicPort } from "./pc_devices.ts";

/** Where each model's iPXE option ROM lives in Debian's ipxe-qemu (QEMU's choice for `pc`). */
export const IPXE_ROMS: Record<NicConfig["model"], string> = {
  virtio: "/usr/lib/ipxe/qemu/efi-virtio.rom",
  e1000: "/usr/lib/ipxe/qemu/efi-e1000.rom",
  rtl8139: "/usr/lib/ipxe/qemu/efi-rtl8139.rom",
  ne2k_pci: "/usr/lib/ipxe/qemu/efi-ne2k_pci.rom",
};

/** A NIC's option ROM: its romfile, the model's iPXE ROM when installed, or none. */
export function loadNicRom(nic: NicConfig): Uint8Array | null {
  if (nic.romfile === "") return null;
  const path = nic.romfile ?? IPXE_ROMS[nic.model];
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    // A missing default ROM only costs PXE boot; a named one was checked by the CLI.
    if (nic.romfile === null && e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** A channel's virtio-net queue leases and notify eventfds (used when its NIC is virtio-net). */
interface QueueLinks {
  readonly rxLease: QueueLease;
  readonly txLease: QueueLease;
  readonly rxNotify: NotifyBinding;
  readonly txNotify: NotifyBinding;
}

/** A virtio-net NIC whose queues the network worker may run, and its notify eventfds. */
interface Lendable extends QueueLinks {
  readonly nic: VirtioNet;
}

/** The NICs' ends of the frame rings, in the vCPU worker. */
export class NetLink {
  /** One port per NIC for the board. */
  readonly ports: NicPort[];
  readonly #toGuest: FrameRing[];
  readonly #queues: QueueLinks[];
  readonly #ram: BigInt64Array;
  #nics: Nic[] = [];
  /** The virtio-net NICs with their leases (the queues the network worker may run). */
  #lendable: Lendable[] = [];
  #vm: Vm | null = null;
  #lent = false;
  readonly #wake: EventFd;
  /** Frames went into a ring to the host since the network worker was last woken. */
  #wakePending = false;

  /** @param nics the NIC configs, @param net the rings and eventfd from the main thread */
  constructor(nics: readonly NicConfig[], net: NetPorts) {
    this.#wake = EventFd.of(net.wakeFd);
    this.#toGuest = net.channels.map((c) => new FrameRing(c.toGuest));
    this.#queues = net.channels.map((c) => ({
      rxLease: new QueueLease(c.rxLease),
      txLease: new QueueLease(c.txLease),
      rxNotify: new NotifyBinding(c.rxNotifyFd, VIRTIO_NET_RX),
      txNotify: new NotifyBinding(c.txNotifyFd, VIRTIO_NET_TX),
    }));
    this.#ram = new BigInt64Array(net.ram);
    this.ports = nics.map((nic, i) => {
      const toHost = new FrameRing(net.channels[i].toHost);
      return {
        // The network worker is woken by flush(), right before KVM_RUN.
        transmit: (frame: Uint8Array) => {
          if (toHost.push(frame)) this.#wakePending = true;
        },
        rom: loadNicRom(nic),
      };
    });
  }

  /**
   * Tells the network worker where guest RAM is (its host address and the
   * configured size), so it can fill leased receive queues; the mapping must
   * last as long as the process.
   */
  publishRam(address: bigint, bytes: number): void {
    Atomics.store(this.#ram, RamSlot.BYTES, BigInt(bytes));
    Atomics.store(this.#ram, RamSlot.ADDRESS, BigInt.asIntN(64, address));
  }

  /**
   * Lends every running virtio-net queue to the network worker, which then
   * writes frames for the guest straight into guest memory and takes the
   * guest's frames straight out of it, and points the queues' notifications
   * at it (KVM_IOEVENTFD). Call it only right before KVM_RUN and
   * {@link reclaim} right after: no device code may run while a queue is lent.
   */
  lend(): void {
    if (this.#lent) return;
    this.#lent = true;
    const vm = this.#vm;
    for (const l of this.#lendable) {
      const rx = l.nic.lendRx(l.rxLease);
      const tx = l.nic.lendTx(l.txLease);
      // While lent, the driver's notifications go to the network worker
      // through the kernel; otherwise they exit to the device as usual.
      if (!vm) continue;
      const t = l.nic.transport;
      l.rxNotify.bind(vm, rx ? t.notifyAddresses(VIRTIO_NET_RX) : NOT_BOUND);
      l.txNotify.bind(vm, tx ? t.notifyAddresses(VIRTIO_NET_TX) : NOT_BOUND);
    }
    this.flush();
  }

  /**
   * Wakes the network worker for the frames the guest sent. {@link lend} does
   * it once the receive queues are lent, so an answer that comes back at once
   * finds them lent and goes straight in (woken earlier, the worker could
   * answer while this thread is still between exits, and have to kick it);
   * call it too before this thread stops running the guest for a while.
   */
  flush(): void {
    if (!this.#wakePending) return;
    this.#wakePending = false;
    this.#wake.signal();
  }

  /** Takes every lent queue back (what the network worker did, and the interrupts it wants). */
  reclaim(): void {
    if (!this.#lent) return;
    this.#lent = false;
    for (const l of this.#lendable) {
      l.nic.reclaimRx(l.rxLease);
      l.nic.reclaimTx(l.txLease);
    }
  }

  /** Hooks up the NICs of a (re)built board and its VM (for KVM_IOEVENTFD). */
  attach(nics: Nic[], vm: Vm | null = null): void {
    this.reclaim();
    this.#nics = nics;
    this.#vm = vm;
    const ramKnown = Atomics.load(this.#ram, RamSlot.ADDRESS) !== 0n;
    this.#lendable = [];
    nics.forEach((nic, i) => {
      // virtio-net's class is told by its name, so other boards need not load it.
      if (ramKnown && nic.name === "virtio-net") {
        this.#lendable.push({ nic: nic as VirtioNet, ...this.#queues[i] });
      }
    });
    nics.forEach((nic, i) => nic.onRxReady = () => this.#deliverTo(i));
    this.deliver();
  }

  /**
   * Moves waiting frames into every NIC that has room, and sends what the
   * drivers queued (the network worker asks for this when it could not
   * borrow a queue whose notification the kernel handed it).
   */
  deliver(): void {
    for (let i = 0; i < this.#nics.length; i++) this.#deliverTo(i);
    for (const l of this.#lendable) if (l.txNotify.bound) l.nic.transport.notify(VIRTIO_NET_TX);
  }

  #deliverTo(i: number): void {
    const ring = this.#toGuest[i];
    const nic = this.#nics[i];
    for (let f = ring.peek(); f; f = ring.peek()) {
      if (!nic.receive(f)) break;
      ring.pop();
    }
  }
}
