/**
 * User-mode networking, seen from the main thread. Each NIC gets its own
 * libslirp network (as each QEMU `-nic user` gets its own netdev); all of
 * them live in one network worker (net_worker.ts).
 *
 * Design: libslirp calls back into JavaScript only on the thread that
 * calls it, and needs poll(2) on its sockets, so it cannot share the vCPU
 * worker's blocking KVM_RUN loop nor the main thread (which never blocks).
 * The network worker owns every Slirp instance and loops on poll(2) over
 * their sockets plus an eventfd. Frames travel through two
 * {@link FrameRing}s per NIC (SharedArrayBuffers): the NIC model in the
 * vCPU worker pushes a transmitted frame (one copy out of guest memory) and
 * writes the eventfd; the network worker hands the ring's view straight to
 * slirp_input. Frames slirp sends to the guest are copied once into the
 * other ring; the network worker then sets REQ.NET and kicks the vCPU out
 * of KVM_RUN, and the vCPU worker copies them into guest buffers as the
 * NIC has room. Full rings drop frames (TCP retransmits), so memory stays
 * bounded.
 *
 * virtio-net skips the kick: while vCPU 0 is inside KVM_RUN its worker
 * lends both queues to the network worker (devices/net/virtio_net_rx.ts,
 * virtio_net_tx.ts), and the kernel hands the driver's notifications
 * straight to that worker through an eventfd per queue (KVM_IOEVENTFD,
 * notify_binding.ts), as QEMU's I/O thread works: frames for the guest go
 * into its buffers through the network worker's own bounds-checked view of
 * guest RAM, frames from it go from its buffers into slirp, and neither
 * costs the vCPU an exit. The worker kicks only when the driver wants an
 * interrupt that is not already pending (the vCPU worker raises it when it
 * takes the queues back after the exit), or when it was handed a
 * notification while the queues were not lent (the vCPU worker then runs
 * the device's own path).
 *
 * @module
 */

import { type HostForward, Slirp, type SlirpOptions } from "../host/slirp.ts";
import { EventFd } from "../host/posix.ts";
import type { HostForwardConfig, NicConfig } from "./config.ts";
import type { ControlBuffers } from "./control.ts";
import { FrameRing } from "./frame_ring.ts";
import { QueueLease } from "../devices/net/virtio_net_rx.ts";

/** The two rings of one NIC. */
export interface NicChannel {
  /** Frames from the network to the guest (producer: network worker). */
  readonly toGuest: SharedArrayBuffer;
  /** Frames from the guest to the network (producer: vCPU worker). */
  readonly toHost: SharedArrayBuffer;
  /** The NIC's receive queue on lease to the network worker (virtio-net; see virtio_net_rx.ts). */
  readonly rxLease: SharedArrayBuffer;
  /**
   * An eventfd the kernel signals when the driver notifies the receive queue
   * (virtio-net, KVM_IOEVENTFD; see notify_binding.ts): the network worker
   * then fills the buffers it added, without a vCPU exit.
   */
  readonly rxNotifyFd: number;
  /** The transmit queue on lease, as {@link rxLease}. */
  readonly txLease: SharedArrayBuffer;
  /**
   * The eventfd signalled when the driver notifies the transmit queue: the
   * network worker drains it into slirp while the vCPU goes on.
   */
  readonly txNotifyFd: number;
}

/** What the vCPU worker needs to reach the network worker. */
export interface NetPorts {
  readonly channels: readonly NicChannel[];
  /** The eventfd that wakes the network worker. */
  readonly wakeFd: number;
  /** Where guest RAM is ({@link RamSlot}): published by the vCPU worker for leased receive queues. */
  readonly ram: SharedArrayBuffer;
}

/** Slots of {@link NetPorts.ram} (BigInt64): host address (0 until published) and guest RAM size. */
export const RamSlot = { ADDRESS: 0, BYTES: 1, COUNT: 2 } as const;

/** The first message of the network worker. */
export interface NetWorkerInit extends NetPorts {
  readonly nics: readonly NicConfig[];
  readonly control: ControlBuffers;
  /** Int32 flags: [0] stop request. */
  readonly flags: SharedArrayBuffer;
  /**
   * A {@link FrameRing} of JSON {@link NetCommand}s from the main thread (the
   * worker sits in poll(2) and never runs its event loop, so no messages).
   */
  readonly commands: SharedArrayBuffer;
}

/** A host forward in force, with the host port it holds. */
export interface ActiveForward extends HostForwardConfig {
  /** Index of the NIC whose network forwards. */
  readonly nic: number;
  /** The host port bound (the kernel's choice when `hostPort` is 0). */
  readonly boundPort: number;
}

/** A change of forwards asked of the network worker; answered by a "reply" event. */
export type NetCommand =
  | { id: number; type: "add"; nic: number; forward: HostForwardConfig }
  | {
    id: number;
    type: "remove";
    nic: number;
    protocol: "tcp" | "udp";
    hostAddress: string;
    /** The bound port (or the one asked for, which is the same unless it was 0). */
    hostPort: number;
  };

/** What the network worker tells the main thread. */
export type NetWorkerEvent =
  | { type: "ready"; forwards: ActiveForward[] }
  | { type: "error"; message: string }
  | { type: "guest-error"; message: string }
  | { type: "reply"; id: number; forwards: ActiveForward[]; port?: number; error?: string }
  | { type: "closed" };

/** `tcp:127.0.0.1:2222-:22` (QEMU's form) of a forward. */
export function forwardText(f: HostForwardConfig): string {
  return `${f.protocol}:${f.hostAddress}:${f.hostPort}-${f.guestAddress}:${f.guestPort}`;
}

/** True when a forward bound to `a` is the one asked for by host address `b` ("" and 0.0.0.0 are one). */
export function sameHostAddress(a: string, b: string): boolean {
  return (a || "0.0.0.0") === (b || "0.0.0.0");
}

/** Dotted form of a 32-bit address. */
function dotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");
}

/** libslirp's options for a NIC's network. */
export function slirpOptions(nic: NicConfig): SlirpOptions {
  const mask = nic.prefixLength === 0 ? 0 : (~0 << (32 - nic.prefixLength)) >>> 0;
  return {
    network: nic.network,
    netmask: dotted(mask),
    host: nic.host,
    dhcpStart: nic.dhcpStart,
    dns: nic.dns,
    restricted: nic.restrict,
    tftpPath: nic.tftp,
    bootfile: nic.bootfile,
    hostname: null,
  };
}

/** A NIC's forwards in libslirp's terms. */
export function hostForwards(nic: NicConfig): HostForward[] {
  return nic.hostForwards.map((f) => ({ ...f }));
}

/**
 * Checks on the calling thread that libslirp loads and every forward's host
 * port can be bound (then releases them for the network worker).
 * @throws {Error} with a one-line reason (SlirpUnavailableError when libslirp is missing)
 */
export function checkNetworks(nics: readonly NicConfig[]): void {
  for (const nic of nics) {
    const probe = new Slirp(slirpOptions(nic), { sendPacket: () => {} });
    try {
      for (const f of hostForwards(nic)) probe.addHostForward(f);
    } finally {
      probe.close();
    }
  }
}

/** The network worker and its shared buffers, owned by a Machine. */
export class NetHost {
  readonly ports: NetPorts;
  readonly #worker: Worker;
  readonly #wake: EventFd;
  readonly #notify: EventFd[];
  readonly #flags: Int32Array;
  readonly #commands: FrameRing;
  readonly #pending = new Map<
    number,
    { resolve: (port: number) => void; reject: (e: Error) => void }
  >();
  #nextCommand = 1;
  #forwards: ActiveForward[] = [];
  /** The worker reported its forwards (before that, and after it ends, #forwards says nothing). */
  #live = false;
  #ended: string | null = null;
  /** Settles when the worker has closed its networks (or failed to start). */
  readonly closed: Promise<void>;
  /** Settles once the networks are up (or could not be set up). */
  readonly ready: Promise<void>;

  /**
   * Starts the network worker.
   * @param onError called once if a network cannot be set up
   */
  constructor(
    nics: readonly NicConfig[],
    control: ControlBuffers,
    events: { onError: (message: string) => void; onGuestError?: (message: string) => void },
  ) {
    this.#wake = EventFd.create();
    this.#notify = nics.flatMap(() => [EventFd.create(), EventFd.create()]);
    const channels = nics.map((_, i) => ({
      toGuest: FrameRing.create(),
      toHost: FrameRing.create(),
      rxLease: QueueLease.create(),
      rxNotifyFd: this.#notify[2 * i].fd,
      txLease: QueueLease.create(),
      txNotifyFd: this.#notify[2 * i + 1].fd,
    }));
    const ram = new SharedArrayBuffer(RamSlot.COUNT * 8);
    this.ports = { channels, wakeFd: this.#wake.fd, ram };
    const flags = new SharedArrayBuffer(16);
    this.#flags = new Int32Array(flags);
    const commands = FrameRing.create(1 << 16);
    this.#commands = new FrameRing(commands);
    this.#worker = new Worker(new URL("./net_worker.ts", import.meta.url), { type: "module" });
    let resolveClosed!: () => void;
    this.closed = new Promise((r) => resolveClosed = r);
    let resolveReady!: () => void;
    this.ready = new Promise((r) => resolveReady = r);
    const end = (why: string) => {
      this.#ended ??= why;
      // The networks are gone and their host ports free.
      this.#forwards = [];
      this.#live = false;
      for (const p of this.#pending.values()) p.reject(new Error(this.#ended));
      this.#pending.clear();
      resolveReady();
      resolveClosed();
    };
    this.#worker.onmessage = (ev: MessageEvent<NetWorkerEvent>) => {
      const e = ev.data;
      if (e.type === "ready") {
        this.#forwards = e.forwards;
        this.#live = this.#ended === null;
        resolveReady();
      } else if (e.type === "reply") {
        this.#forwards = e.forwards;
        const p = this.#pending.get(e.id);
        this.#pending.delete(e.id);
        if (e.error !== undefined) p?.reject(new Error(e.error));
        else p?.resolve(e.port ?? 0);
      } else if (e.type === "error") events.onError(e.message);
      else if (e.type === "guest-error") events.onGuestError?.(e.message);
      else if (e.type === "closed") {
        this.#worker.terminate();
        this.#wake.close();
        for (const n of this.#notify) n.close();
        end("the network has stopped");
      }
    };
    this.#worker.onerror = (ev) => {
      ev.preventDefault();
      events.onError(ev.message);
      this.#worker.terminate();
      end(`the network failed: ${ev.message}`);
    };
    const init: NetWorkerInit = { ...this.ports, nics, control, flags, commands };
    this.#worker.postMessage(init);
  }

  /** The forwards in force, every NIC's, as of the last change. */
  get forwards(): readonly ActiveForward[] {
    return this.#forwards;
  }

  /**
   * The NICs' configurations with the forwards in force in place of those
   * they started with: what a save file records, so that a restore binds
   * the forwards added and not those removed while the guest ran. Each is
   * written as it was asked (host port 0 stays 0: the restore binds a new one).
   * Before the network is up, or once it has stopped, they are `nics` as given.
   */
  configsInForce(nics: readonly NicConfig[]): readonly NicConfig[] {
    if (!this.#live) return nics;
    return nics.map((n, i) => ({
      ...n,
      hostForwards: this.#forwards.filter((f) => f.nic === i).map((f) => ({
        protocol: f.protocol,
        hostAddress: f.hostAddress,
        hostPort: f.hostPort,
        guestAddress: f.guestAddress,
        guestPort: f.guestPort,
      })),
    }));
  }

  /**
   * Adds a forward to NIC `nic`'s network while the guest runs.
   * @returns the host port bound
   * @throws {Error} (rejects) when the port cannot be bound, or the network has stopped
   */
  addForward(nic: number, forward: HostForwardConfig): Promise<number> {
    return this.#command((id) => ({ id, type: "add", nic, forward: { ...forward } }));
  }

  /**
   * Removes the forward of NIC `nic` holding `hostPort` (its bound port).
   * @throws {Error} (rejects) when there is no such forward, or the network has stopped
   */
  async removeForward(
    nic: number,
    protocol: "tcp" | "udp",
    hostAddress: string,
    hostPort: number,
  ): Promise<void> {
    await this.#command((id) => ({ id, type: "remove", nic, protocol, hostAddress, hostPort }));
  }

  #command(make: (id: number) => NetCommand): Promise<number> {
    if (this.#ended !== null) return Promise.reject(new Error(this.#ended));
    const id = this.#nextCommand++;
    const bytes = new TextEncoder().encode(JSON.stringify(make(id)));
    if (!this.#commands.push(bytes)) {
      return Promise.reject(new Error("too many network changes waiting; try again"));
    }
    const done = new Promise<number>((resolve, reject) =>
      this.#pending.set(id, { resolve, reject })
    );
    this.#wake.signal();
    return done;
  }

  /** Asks the worker to close its networks (releasing forwarded ports) and end. */
  stop(): Promise<void> {
    if (this.#ended === null) {
      Atomics.store(this.#flags, 0, 1);
      this.#wake.signal();
    }
    return this.closed;
  }
}
