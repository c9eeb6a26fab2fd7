/**
 * The network worker: owns every NIC's libslirp network and loops on
 * poll(2) over slirp's sockets and the wake-up eventfd, moving frames
 * between the rings and slirp (see net.ts for the design). Its poll blocks
 * only this worker.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { Slirp } from "../host/slirp.ts";
import { EventFd, POLL, PollSet } from "../host/posix.ts";
import { ControlViews, CTRL, REQ } from "./control.ts";
import { FrameRing } from "./frame_ring.ts";
import { ControlKicker } from "./kick.ts";
import {
  type ActiveForward,
  hostForwards,
  type NetCommand,
  type NetWorkerEvent,
  type NetWorkerInit,
  RamSlot,
  sameHostAddress,
  slirpOptions,
} from "./net.ts";
import { PcapWriter } from "./pcap.ts";
import { GuestRam } from "./guest_ram.ts";
import { ramLayout } from "./memory_map.ts";
import { viewHostMemory } from "../kvm/host.ts";
import { fillRx, QueueLease } from "../devices/net/virtio_net_rx.ts";
import { drainTx } from "../devices/net/virtio_net_tx.ts";

/** Longest poll: the stop flag is also checked this often. */
const MAX_WAIT_MS = 500;
/**
 * First poll timeout while frames wait for a lent queue's receive buffers:
 * they go in when the driver notifies its next buffer, and a look at the
 * ring after this bounds the wait should that notification be missed (a
 * driver without the barrier virtio asks for between publishing a buffer
 * and reading the notification flag). Doubles while nothing goes in.
 */
const BACKLOG_WAIT_MS = 5;

function post(e: NetWorkerEvent): void {
  self.postMessage(e);
}

interface Network {
  readonly slirp: Slirp;
  readonly toGuest: FrameRing;
  readonly lease: QueueLease | null;
  /** Signalled by the kernel when the driver adds receive buffers (virtio-net). */
  readonly rxNotify: EventFd | null;
  /** The transmit queue's lease and notify eventfd (virtio-net). */
  readonly txLease: QueueLease | null;
  readonly txNotify: EventFd | null;
  readonly toHost: FrameRing;
  readonly pcap: PcapWriter | null;
}

self.onmessage = (ev: MessageEvent<NetWorkerInit>) => {
  self.onmessage = null;
  const init = ev.data;
  const ctl = new ControlViews(init.control);
  const kicker = new ControlKicker(ctl);
  const flags = new Int32Array(init.flags);
  const wake = EventFd.of(init.wakeFd);
  /**
   * Tells the vCPU that frames wait, at once (the guest may be polling for
   * them). A kick it has not answered yet covers this frame too: it takes
   * everything in the ring when it does.
   */
  const announce = () => {
    if (Atomics.load(ctl.ints, CTRL.REQUEST) & REQ.NET) return;
    ctl.request(REQ.NET);
    kicker.kick();
  };
  const ramSlots = new BigInt64Array(init.ram);
  let ram: GuestRam | null = null;
  let ramAddress = 0n;
  /** Guest RAM, once the vCPU worker published it; through GuestRam's checks like every access. */
  const guestRam = (): GuestRam | null => {
    const address = Atomics.load(ramSlots, RamSlot.ADDRESS);
    if (address === 0n) return null;
    if (address !== ramAddress) {
      const layout = ramLayout(Number(Atomics.load(ramSlots, RamSlot.BYTES)));
      ram = new GuestRam(layout, viewHostMemory(BigInt.asUintN(64, address), layout.total));
      ramAddress = address;
    }
    return ram;
  };
  /**
   * Moves frames from the ring straight into the NIC's receive queue when
   * the vCPU worker lent it (virtio-net while the vCPU runs), as QEMU's I/O
   * thread does: the guest sees them without a vCPU exit. Frames left for
   * want of buffers wait in the ring: the queue then asks the driver to
   * notify its next buffer, which reaches this worker (KVM_IOEVENTFD) or the
   * device (an exit) either way, so no kick is needed for them.
   * @returns "done" when no interrupt must be raised (the vCPU need not be
   *   kicked), "kick" when one must be, "not-lent" when the vCPU is outside
   *   the guest (or the driver not ready)
   */
  const deliverLent = (ring: FrameRing, lease: QueueLease): "done" | "kick" | "not-lent" => {
    const memory = guestRam();
    if (!memory) return "not-lent";
    const done = lease.borrow(memory, (queue, layout, counters) => {
      for (let f = ring.peek(); f; f = ring.peek()) {
        if (!fillRx(queue, f, layout, counters)) break;
        ring.pop();
      }
    });
    if (done === null) return "not-lent";
    return done.interrupt ? "kick" : "done";
  };
  /**
   * A frame from slirp straight into the lent receive queue when nothing
   * waits before it (no trip through the ring).
   * @returns whether it went in; if not, it belongs in the ring
   */
  const receiveLent = (frame: Uint8Array, lease: QueueLease): boolean => {
    const memory = guestRam();
    if (!memory) return false;
    const done = lease.borrow(
      memory,
      (queue, layout, counters) => fillRx(queue, frame, layout, counters),
    );
    if (!done?.result) return false;
    if (done.interrupt) announce();
    return true;
  };
  /** Hands slirp the frames the vCPU worker's device path put in the ring. */
  const sendRing = (n: Network): void => {
    for (let f = n.toHost.peek(); f; f = n.toHost.peek()) {
      n.pcap?.write(f);
      n.slirp.input(f);
      n.toHost.pop();
    }
  };
  /**
   * Drains a lent transmit queue into slirp (the driver notified it through
   * the kernel): the buffers go back to the guest before the frames go out.
   * When the queue is not lent (the vCPU is outside the guest) or looks
   * malformed, the vCPU worker is asked to run the device's own path.
   */
  const sendLent = (n: Network, lease: QueueLease): void => {
    const memory = guestRam();
    const frames: Uint8Array[] = [];
    const done = memory &&
      lease.borrow(
        memory,
        (queue, layout, counters) => drainTx(queue, layout.header, counters, frames),
      );
    // Frames the device sent earlier go first.
    sendRing(n);
    for (const f of frames) {
      n.pcap?.write(f);
      n.slirp.input(f);
    }
    if (!done || !done.result || done.interrupt) announce();
  };
  /** Frames for the guest wait in `ring`: in they go, or the vCPU is told. */
  const deliver = (ring: FrameRing, lease: QueueLease | null): void => {
    if (!lease || deliverLent(ring, lease) !== "done") announce();
  };
  const networks: Network[] = [];
  let forwards: ActiveForward[] = [];
  const commands = new FrameRing(init.commands);
  try {
    init.nics.forEach((nic, i) => {
      const toGuest = new FrameRing(init.channels[i].toGuest);
      const lease = nic.model === "virtio" ? new QueueLease(init.channels[i].rxLease) : null;
      const pcap = nic.pcap === null ? null : PcapWriter.open(nic.pcap);
      const slirp = new Slirp(slirpOptions(nic), {
        sendPacket: (frame) => {
          pcap?.write(frame);
          if (lease && toGuest.empty && receiveLent(frame, lease)) return;
          if (toGuest.push(frame)) deliver(toGuest, lease);
        },
        guestError: (message) => post({ type: "guest-error", message }),
      });
      const c = init.channels[i];
      const rxNotify = lease ? EventFd.of(c.rxNotifyFd) : null;
      const txLease = lease ? new QueueLease(c.txLease) : null;
      const txNotify = lease ? EventFd.of(c.txNotifyFd) : null;
      const toHost = new FrameRing(c.toHost);
      networks.push({ slirp, toGuest, lease, rxNotify, txLease, txNotify, toHost, pcap });
      for (const f of hostForwards(nic)) {
        forwards.push({ ...f, nic: i, boundPort: slirp.addHostForward(f) });
      }
    });
  } catch (e) {
    for (const n of networks) close(n);
    post({ type: "error", message: e instanceof Error ? e.message : String(e) });
    post({ type: "closed" });
    self.close();
    return;
  }
  post({ type: "ready", forwards });

  /** Carries out one change of forwards and answers it. */
  const run = (c: NetCommand): void => {
    const net = networks[c.nic];
    if (!net) {
      const error = `no NIC ${c.nic} (the VM has ${networks.length})`;
      return post({ type: "reply", id: c.id, forwards, error });
    }
    if (c.type === "add") {
      try {
        const boundPort = net.slirp.addHostForward(c.forward);
        forwards = [...forwards, { ...c.forward, nic: c.nic, boundPort }];
        post({ type: "reply", id: c.id, forwards, port: boundPort });
      } catch (e) {
        // A HostForwardError's message names the forward and why it failed.
        const error = e instanceof Error ? e.message : String(e);
        post({ type: "reply", id: c.id, forwards, error });
      }
      return;
    }
    const found = forwards.find((f) =>
      f.nic === c.nic && f.protocol === c.protocol && f.boundPort === c.hostPort &&
      sameHostAddress(f.hostAddress, c.hostAddress)
    );
    if (!found || !net.slirp.removeHostForward(c.protocol, c.hostAddress, c.hostPort)) {
      const error = `no ${c.protocol} forward from host port ` +
        `${c.hostAddress || "0.0.0.0"}:${c.hostPort} on NIC ${c.nic}`;
      return post({ type: "reply", id: c.id, forwards, error });
    }
    forwards = forwards.filter((f) => f !== found);
    post({ type: "reply", id: c.id, forwards, port: found.boundPort });
  };
  const decoder = new TextDecoder();

  const set = new PollSet();
  let backlogWait = BACKLOG_WAIT_MS;
  const notifyAt = networks.map(() => -1);
  const sentAt = networks.map(() => -1);
  while (Atomics.load(flags, 0) === 0) {
    set.clear();
    set.add(wake.fd, POLL.IN);
    for (let i = 0; i < networks.length; i++) {
      const n = networks[i];
      notifyAt[i] = n.rxNotify ? set.add(n.rxNotify.fd, POLL.IN) : -1;
      sentAt[i] = n.txNotify ? set.add(n.txNotify.fd, POLL.IN) : -1;
    }
    let backlog = false;
    for (const n of networks) backlog ||= n.lease !== null && !n.toGuest.empty;
    if (!backlog) backlogWait = BACKLOG_WAIT_MS;
    let wait = backlog ? backlogWait : MAX_WAIT_MS;
    const now = performance.now();
    for (const n of networks) {
      wait = Math.min(wait, n.slirp.runTimers(now) - now);
      wait = n.slirp.fillPoll(set, Math.max(0, wait));
    }
    const ready = set.wait(wait);
    if (backlog && ready === 0) {
      backlogWait = Math.min(MAX_WAIT_MS, backlogWait * 2);
      for (const n of networks) {
        if (!n.lease || n.toGuest.empty) continue;
        // Not lent: the vCPU worker, told when the frames came, moves them itself.
        if (deliverLent(n.toGuest, n.lease) === "kick") announce();
      }
    }
    if (set.revents(0) & POLL.IN) wake.drain();
    // Plain loops: this runs on every wake-up, and closures would be garbage each time.
    for (let i = 0; i < networks.length; i++) {
      const n = networks[i];
      if (notifyAt[i] < 0 || !(set.revents(notifyAt[i]) & POLL.IN)) continue;
      n.rxNotify!.drain();
      // The driver added receive buffers: frames waiting in the ring go in.
      if (!n.toGuest.empty) deliver(n.toGuest, n.lease);
    }
    for (let i = 0; i < networks.length; i++) {
      const n = networks[i];
      if (sentAt[i] < 0 || !(set.revents(sentAt[i]) & POLL.IN)) continue;
      n.txNotify!.drain();
      sendLent(n, n.txLease!);
    }
    for (let c = commands.peek(); c; c = commands.peek()) {
      const command = JSON.parse(decoder.decode(c)) as NetCommand;
      commands.pop();
      run(command);
    }
    for (const n of networks) {
      n.slirp.afterPoll(ready < 0);
      sendRing(n);
      n.slirp.runTimers();
    }
  }
  for (const n of networks) close(n);
  post({ type: "closed" });
  self.close();
};

function close(n: Network): void {
  n.slirp.close();
  n.pcap?.close();
}
