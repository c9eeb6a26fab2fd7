/**
 * The network benchmark: UDP through hostfwd to the network fixture
 * (fixtures/src/net.inc's silent services), vmrun against QEMU
 * `-nic user,model=<same>` on the same image, both on KVM with SeaBIOS:
 *
 * - round-trip latency: ping-pong of 64-byte datagrams with the quiet echo
 *   (port 8), one at a time;
 * - host → guest: 1 KiB datagrams to the discard service (port 9) in
 *   windows of {@link WINDOW}, each window closed by asking the count
 *   (port 10), so the figure is what the guest took in, not what the host
 *   could send;
 * - guest → host: the blast service (port 19) sends {@link BLAST} 1 KiB
 *   datagrams as fast as the guest can, again until N have been asked for;
 *   the host counts what arrives.
 *
 * The fixture is a polling real-mode driver, so every figure is bounded by
 * the guest's own speed (ring-0 code is emulated on this host); the ratios
 * compare the VMMs' frame paths under the same guest.
 *
 *   deno run -A tests/bench_net.ts [--model virtio] [--round-trips 2000] [--datagrams 4000]
 *     [--rounds 3]
 *
 * The machine is shared, so vmrun and QEMU take turns for `--rounds`
 * rounds and each reports its best figures: other load only slows a run.
 *
 * @module
 */

import dgram from "node:dgram";
import { fixture } from "../fixtures/build.ts";
import { DEFAULT_BIOS } from "../machine/firmware.ts";
import {
  type Benchmark,
  type BenchRow,
  flagValue,
  fmt,
  intFlag,
  runBenchmarks,
} from "./bench_common.ts";
import {
  discard,
  QEMU_BIN,
  qemuAvailable,
  spawnPiped,
  vmrunCommand,
  vmrunCommandNote,
} from "./bench_qemu.ts";
import { numbered, numberOf, UdpProbe } from "./udp_probe.ts";

/** Datagrams per window of the host → guest run. */
export const WINDOW = 32;
/** Datagrams per blast of the guest → host run. */
export const BLAST = 64;
/** Payload of the throughput runs. */
export const PAYLOAD = 1024;
/** Payload of the latency run. */
export const PING_PAYLOAD = 64;
const SERVICES = { echo: 8, discard: 9, count: 10, blast: 19 } as const;

/** What one VMM did. */
export interface NetFigures {
  /** Round trips, ms: median, 99th percentile, mean. */
  readonly rttMedianMs: number;
  readonly rttP99Ms: number;
  readonly rttMeanMs: number;
  /** Datagrams per second into the guest, and how many of those sent were lost. */
  readonly inPerSec: number;
  readonly inLost: number;
  /** Datagrams per second out of the guest, and how many of those asked for never came. */
  readonly outPerSec: number;
  readonly outLost: number;
}

/** A guest under one VMM with its forwards. */
interface Guest {
  readonly ports: Record<keyof typeof SERVICES, number>;
  readonly child: Deno.ChildProcess;
}

/** A UDP port on 127.0.0.1 that was free a moment ago (QEMU needs the number). */
async function freeUdpPort(): Promise<number> {
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  const port = sock.address().port;
  await new Promise<void>((r) => sock.close(() => r()));
  return port;
}

/** Starts the fixture under `vmm` and waits for "echo ready". */
async function startGuest(vmm: "vmrun" | "qemu", model: string): Promise<Guest> {
  const image = fixture(`net_${model}`);
  const ports = {
    echo: await freeUdpPort(),
    discard: await freeUdpPort(),
    count: await freeUdpPort(),
    blast: await freeUdpPort(),
  };
  const fwd = Object.entries(ports).map(([k, p]) =>
    `hostfwd=udp:127.0.0.1:${p}-:${SERVICES[k as keyof typeof SERVICES]}`
  ).join(",");
  const nic = `user,model=${model},${fwd}`;
  const child = vmm === "vmrun"
    ? (() => {
      const line = vmrunCommand(["--headless", "--snapshot", "-m", "64", "--nic", nic, image]);
      return spawnPiped(line.cmd, line.args);
    })()
    : spawnPiped(QEMU_BIN, [
      ...["-bios", DEFAULT_BIOS, "-nodefaults", "-vga", "std", "-accel", "kvm", "-m", "64"],
      ...["-display", "none", "-serial", "stdio"],
      ...["-drive", `file=${image},format=raw,if=ide,snapshot=on`],
      ...["-nic", nic],
    ]);
  void discard(child.stderr).catch(() => {});
  const reader = child.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 60_000;
  while (!out.includes("echo ready")) {
    const { value, done } = await reader.read();
    if (done || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${vmm}: the fixture never got ready: ${JSON.stringify(out)}`);
    }
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  void discard(child.stdout).catch(() => {});
  return { ports, child };
}

async function stopGuest(g: Guest): Promise<void> {
  try {
    g.child.kill("SIGKILL");
  } catch { /* gone */ }
  await g.child.status;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Measures one VMM. */
export async function measureNet(
  vmm: "vmrun" | "qemu",
  model: string,
  roundTrips: number,
  datagrams: number,
  log: (line: string) => void = console.log,
): Promise<NetFigures> {
  const g = await startGuest(vmm, model);
  const probe = await UdpProbe.open();
  try {
    let seq = 0;
    const ping = async (size: number) => {
      const n = seq++;
      await probe.exchange(g.ports.echo, numbered(n, size), (r) => numberOf(r) === n, {
        resendMs: 500,
      });
    };
    // Warm-up: ARP, JIT, the guest's first frames, the blast path.
    for (let i = 0; i < 200; i++) await ping(PING_PAYLOAD);
    for (let i = 0; i < 4; i++) {
      const before = probe.received;
      await probe.send(g.ports.blast, numbered(BLAST, PAYLOAD));
      while (probe.received - before < BLAST && await probe.next(200)) { /* warming */ }
    }
    probe.clear();

    const rtts: number[] = [];
    for (let i = 0; i < roundTrips; i++) {
      const t0 = performance.now();
      await ping(PING_PAYLOAD);
      rtts.push(performance.now() - t0);
    }
    rtts.sort((a, b) => a - b);
    const rttMean = rtts.reduce((a, b) => a + b, 0) / rtts.length;

    // Host -> guest, windowed by the count service.
    const count = async () => {
      const n = seq++;
      const r = await probe.exchange(g.ports.count, numbered(n, 8), (r) => r.length === 8, {
        resendMs: 500,
      });
      return numberOf(r);
    };
    const payload = numbered(0, PAYLOAD);
    const first = await count();
    const t0 = performance.now();
    let sent = 0;
    while (sent < datagrams) {
      for (let i = 0; i < WINDOW && sent < datagrams; i++, sent++) {
        await probe.send(g.ports.discard, payload);
      }
      await count();
    }
    const inMs = performance.now() - t0;
    const taken = (await count()) - first;

    // Guest -> host, in blasts of BLAST datagrams: a window the host
    // socket's receive buffer holds, so the figure is the guest's sending
    // and not this process's reading.
    probe.clear();
    let arrived = 0;
    const t1 = performance.now();
    for (let asked = 0; asked < datagrams; asked += BLAST) {
      const want = Math.min(BLAST, datagrams - asked);
      const before = probe.received;
      await probe.send(g.ports.blast, numbered(want, PAYLOAD));
      while (probe.received - before < want && await probe.next(200)) { /* counted */ }
      arrived += Math.min(want, probe.received - before);
      probe.clear();
    }
    const outMs = performance.now() - t1;
    const figures: NetFigures = {
      rttMedianMs: percentile(rtts, 0.5),
      rttP99Ms: percentile(rtts, 0.99),
      rttMeanMs: rttMean,
      inPerSec: taken / (inMs / 1000),
      inLost: datagrams - taken,
      outPerSec: arrived / (outMs / 1000),
      outLost: datagrams - arrived,
    };
    log(
      `${vmm.padEnd(5)}  rtt median ${fmt(figures.rttMedianMs * 1000)} us, p99 ${
        fmt(figures.rttP99Ms * 1000)
      } us; host->guest ${fmt(figures.inPerSec)} dgram/s (${figures.inLost} lost); ` +
        `guest->host ${fmt(figures.outPerSec)} dgram/s (${figures.outLost} lost)`,
    );
    return figures;
  } finally {
    await probe.close();
    await stopGuest(g);
  }
}

/** Summary rows comparing vmrun with QEMU. */
export function netRows(v: NetFigures, q: NetFigures | null): BenchRow[] {
  const mbps = (perSec: number) => fmt((perSec * PAYLOAD) / 1e6, 2);
  const rows: BenchRow[] = [
    { metric: "vmrun UDP round trip, median us", value: fmt(v.rttMedianMs * 1000) },
    { metric: "vmrun UDP round trip, p99 us", value: fmt(v.rttP99Ms * 1000) },
    {
      metric: "vmrun host->guest, dgram/s (MB/s)",
      value: `${fmt(v.inPerSec)} (${mbps(v.inPerSec)})`,
    },
    {
      metric: "vmrun guest->host, dgram/s (MB/s)",
      value: `${fmt(v.outPerSec)} (${mbps(v.outPerSec)})`,
    },
  ];
  if (!q) return rows;
  const ratio = (metric: string, r: number, higherIsBetter: boolean) => ({
    metric,
    value: fmt(r, 2),
    goal: higherIsBetter ? ">= 1.00" : "<= 1.00",
    verdict: (higherIsBetter ? r >= 1 : r <= 1) ? "PASS" as const : "BELOW" as const,
  });
  return [
    ...rows,
    { metric: "QEMU UDP round trip, median us", value: fmt(q.rttMedianMs * 1000) },
    { metric: "QEMU host->guest, dgram/s", value: fmt(q.inPerSec) },
    { metric: "QEMU guest->host, dgram/s", value: fmt(q.outPerSec) },
    ratio("round trip vmrun/QEMU (median)", v.rttMedianMs / q.rttMedianMs, false),
    ratio("host->guest vmrun/QEMU", v.inPerSec / q.inPerSec, true),
    ratio("guest->host vmrun/QEMU", v.outPerSec / q.outPerSec, true),
  ];
}

/** The best of several runs: the lowest latency, the highest rates (load only slows a run). */
export function bestOf(runs: readonly NetFigures[]): NetFigures {
  const min = (f: (r: NetFigures) => number) => Math.min(...runs.map(f));
  const max = (f: (r: NetFigures) => number) => Math.max(...runs.map(f));
  return {
    rttMedianMs: min((r) => r.rttMedianMs),
    rttP99Ms: min((r) => r.rttP99Ms),
    rttMeanMs: min((r) => r.rttMeanMs),
    inPerSec: max((r) => r.inPerSec),
    inLost: min((r) => r.inLost),
    outPerSec: max((r) => r.outPerSec),
    outLost: min((r) => r.outLost),
  };
}

/** The network benchmark, for tests/bench.ts. */
export const netBenchmark: Benchmark = {
  name: "net",
  description: "UDP through hostfwd: round-trip latency and throughput each way, vmrun vs QEMU",
  async run(args) {
    const model = flagValue(args, "model") ?? "virtio";
    const roundTrips = intFlag(args, "round-trips", 2000);
    const datagrams = intFlag(args, "datagrams", 4000);
    const rounds = intFlag(args, "rounds", 3);
    console.log(vmrunCommandNote());
    console.log(
      `model ${model}, ${roundTrips} round trips, ${datagrams} datagrams each way, ` +
        `${rounds} rounds taking turns (best of each reported)`,
    );
    const qemu = qemuAvailable();
    if (!qemu) console.log("QEMU is not installed: no ratios");
    const v: NetFigures[] = [];
    const q: NetFigures[] = [];
    for (let i = 0; i < rounds; i++) {
      v.push(await measureNet("vmrun", model, roundTrips, datagrams));
      if (qemu) q.push(await measureNet("qemu", model, roundTrips, datagrams));
    }
    return netRows(bestOf(v), qemu ? bestOf(q) : null);
  },
};

if (import.meta.main) Deno.exit(await runBenchmarks([netBenchmark], Deno.args));
