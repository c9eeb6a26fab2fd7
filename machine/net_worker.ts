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
import { ControlViews, REQ } from "./control.ts";
import { FrameRing } from "./frame_ring.ts";
import { ControlKicker } from "./kick.ts";
import { hostForwards, type NetWorkerEvent, type NetWorkerInit, slirpOptions } from "./net.ts";
import { PcapWriter } from "./pcap.ts";

/** Longest poll: the stop flag is also checked this often. */
const MAX_WAIT_MS = 500;

function post(e: NetWorkerEvent): void {
  self.postMessage(e);
}

interface Network {
  readonly slirp: Slirp;
  readonly toGuest: FrameRing;
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
  let delivered = false;
  const networks: Network[] = [];
  try {
    init.nics.forEach((nic, i) => {
      const toGuest = new FrameRing(init.channels[i].toGuest);
      const pcap = nic.pcap === null ? null : PcapWriter.open(nic.pcap);
      const slirp = new Slirp(slirpOptions(nic), {
        sendPacket: (frame) => {
          pcap?.write(frame);
          if (toGuest.push(frame)) delivered = true;
        },
        guestError: (message) => post({ type: "guest-error", message }),
      });
      networks.push({ slirp, toGuest, toHost: new FrameRing(init.channels[i].toHost), pcap });
      for (const f of hostForwards(nic)) slirp.addHostForward(f);
    });
  } catch (e) {
    for (const n of networks) close(n);
    post({ type: "error", message: e instanceof Error ? e.message : String(e) });
    post({ type: "closed" });
    self.close();
    return;
  }
  post({ type: "ready" });

  const set = new PollSet();
  while (Atomics.load(flags, 0) === 0) {
    set.clear();
    set.add(wake.fd, POLL.IN);
    let wait = MAX_WAIT_MS;
    const now = performance.now();
    for (const n of networks) {
      wait = Math.min(wait, n.slirp.runTimers(now) - now);
      wait = n.slirp.fillPoll(set, Math.max(0, wait));
    }
    const ready = set.wait(wait);
    if (set.revents(0) & POLL.IN) wake.drain();
    for (const n of networks) {
      n.slirp.afterPoll(ready < 0);
      for (let f = n.toHost.peek(); f; f = n.toHost.peek()) {
        n.pcap?.write(f);
        n.slirp.input(f);
        n.toHost.pop();
      }
      n.slirp.runTimers();
    }
    if (delivered) {
      delivered = false;
      ctl.request(REQ.NET);
      kicker.kick();
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
