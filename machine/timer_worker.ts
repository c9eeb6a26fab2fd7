/**
 * The timer thread: sleeps until the deadline the vCPU worker published and
 * kicks the vCPU out of KVM_RUN so device timers (RTC, UART timeout, serial
 * flushing) fire on time even when the guest makes no exits.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { type ControlBuffers, ControlViews, CTRL, CTRL_F64, REQ } from "./control.ts";
import { ControlKicker } from "./kick.ts";

self.onmessage = (ev: MessageEvent<ControlBuffers>) => {
  self.onmessage = null;
  const ctl = new ControlViews(ev.data);
  const kicker = new ControlKicker(ctl);
  const ints = ctl.ints;
  let kickedFor = NaN;
  while (Atomics.load(ints, CTRL.TIMER_STOP) === 0) {
    const gen = Atomics.load(ints, CTRL.DEADLINE_GEN);
    const deadline = ctl.floats[CTRL_F64.DEADLINE];
    const wait = deadline - ControlViews.wallMs();
    if (wait <= 0 && deadline !== kickedFor) {
      kickedFor = deadline;
      Atomics.or(ints, CTRL.REQUEST, REQ.TIMER);
      kicker.kick();
      continue;
    }
    // Sleep until the deadline or until the worker publishes a new one.
    Atomics.wait(ints, CTRL.DEADLINE_GEN, gen, wait > 0 ? Math.min(wait, 1000) : 1000);
  }
  self.close();
};
