/**
 * The virtio_balloon fixture as its test and its benchmark run it: the
 * guest's RAM, the first balloon target, the COM1 lines that mark the
 * steps, QEMU started with the balloon, and the /proc readings of what
 * memory a process holds.
 *
 * @module
 */

import { fixture } from "../fixtures/build.ts";
import { QemuProcess } from "./qemu.ts";

/** The guest's RAM. */
export const BALLOON_RAM_MIB = 128;
/** First target: the guest keeps 96 MiB, so the balloon takes 32 MiB (8192 pages). */
export const BALLOON_INFLATE_TO_MIB = 96;
/** The fixture has filled its test pages and waits for a target. */
export const BALLOON_FILLED = "balloon: filled 00002800 pages\r\n";
/** The fixture has inflated to the first target. */
export const BALLOON_INFLATED = "balloon: inflated 00002000\r\n";

/** A field of /proc/<pid>/status in MiB ("self" for this process). */
export function statusMiB(pid: number | "self", field = "VmRSS"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** QEMU/KVM on the fixture with virtio-balloon-pci and its monitor. */
export function qemuWithBalloon(killAfterMs: number): QemuProcess {
  return new QemuProcess(fixture("virtio_balloon"), {
    memoryMiB: BALLOON_RAM_MIB,
    monitor: true,
    killAfterMs,
    extraArgs: ["-device", "virtio-balloon-pci"],
  });
}
