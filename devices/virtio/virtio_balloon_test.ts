import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { SteppedClock } from "../clock.ts";
import { assertRestoreRejects } from "../testing/snapshot_check.ts";
import {
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_LEGACY as L,
  VIRTIO_PCI_CAP,
  VIRTIO_STATUS_DRIVER_OK,
} from "./virtio_pci.ts";
import {
  BALLOON_QUEUE,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_PAGE_POISON,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_QUEUE_SIZE,
  VirtioBalloon,
  type VirtioBalloonOptions,
} from "./virtio_balloon.ts";
import {
  ArrayMemory,
  DriverRing,
  findVirtioCaps,
  prng,
  type RandomRequest,
  RandomVirtioDriver,
  RecordingIrq,
  runVirtioOps,
} from "./test_support.ts";

const SECOND = 1_000_000_000;
const QUEUE_PFNS = [0x10, 0x20, 0x30];

function setup(options: Partial<VirtioBalloonOptions> = {}) {
  const memory = new ArrayMemory(1 << 20);
  const irq = new RecordingIrq();
  const clock = new SteppedClock();
  const calls: string[] = [];
  const balloon = new VirtioBalloon({
    memory,
    irq,
    clock,
    timer: clock.timer,
    discard: (pfn, n) => calls.push(`discard ${pfn.toString(16)}+${n}`),
    reuse: (pfn, n) => calls.push(`reuse ${pfn.toString(16)}+${n}`),
    ...options,
  });
  return { memory, irq, clock, balloon, calls };
}

type Setup = ReturnType<typeof setup>;

/** Brings the device up through the legacy interface with `features`; returns the three rings. */
function legacyUp(s: Setup, features: bigint): DriverRing[] {
  const io = s.balloon.legacyIo;
  io.write(L.status, 1, 0);
  io.write(L.status, 1, 3);
  io.write(L.guestFeatures, 4, Number(features));
  const rings = QUEUE_PFNS.map((pfn, q) => {
    io.write(L.queueSelect, 2, q);
    io.write(L.queuePfn, 4, pfn);
    return DriverRing.legacy(s.memory, VIRTIO_BALLOON_QUEUE_SIZE, pfn);
  });
  io.write(L.status, 1, 3 | VIRTIO_STATUS_DRIVER_OK);
  return rings;
}

function pfnArray(memory: ArrayMemory, addr: number, pfns: number[]): number {
  pfns.forEach((p, i) => memory.writeU32(addr + 4 * i, p));
  return 4 * pfns.length;
}

function statsBuffer(memory: ArrayMemory, addr: number, entries: [number, bigint][]): number {
  entries.forEach(([tag, value], i) => {
    memory.writeU16(addr + 10 * i, tag);
    memory.writeU32(addr + 10 * i + 2, Number(value & 0xffffffffn));
    memory.writeU32(addr + 10 * i + 6, Number(value >> 32n));
  });
  return 10 * entries.length;
}

Deno.test("virtio-balloon: PCI identity and features as QEMU's virtio-balloon-pci", () => {
  const { balloon } = setup();
  strictEqual(balloon.config.read(0x00, 2), 0x1af4);
  strictEqual(balloon.config.read(0x02, 2), 0x1002);
  strictEqual(balloon.config.read(0x2c, 2), 0x1af4);
  strictEqual(balloon.config.read(0x2e, 2), 5);
  strictEqual(balloon.config.read(0x09, 4) & 0xffffff, 0x00ff00);
  strictEqual(findVirtioCaps(balloon.config).get(VIRTIO_PCI_CAP.deviceCfg)?.length, 0x1000);
  const offered = BigInt(balloon.legacyIo.read(L.hostFeatures, 4));
  strictEqual(
    offered,
    VIRTIO_BALLOON_F_STATS_VQ | VIRTIO_BALLOON_F_PAGE_POISON | VIRTIO_F_INDIRECT_DESC |
      VIRTIO_F_EVENT_IDX,
  );
  const oom = setup({ deflateOnOom: true }).balloon;
  strictEqual(
    BigInt(oom.legacyIo.read(L.hostFeatures, 4)),
    offered | VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  );
  // Three queues of 128; a fourth does not exist.
  for (let q = 0; q < 4; q++) {
    balloon.legacyIo.write(L.queueSelect, 2, q);
    strictEqual(balloon.legacyIo.read(L.queueSize, 2), q < 3 ? 128 : 0);
  }
});

Deno.test("virtio-balloon: num_pages is the host's, actual the driver's; a new target interrupts", () => {
  const s = setup();
  const io = s.balloon.legacyIo;
  s.balloon.setTarget(0x1234);
  // Before DRIVER_OK the driver reads the target when it starts: no interrupt.
  strictEqual(s.irq.level, false);
  strictEqual(io.read(L.config, 4), 0x1234);
  legacyUp(s, VIRTIO_BALLOON_F_STATS_VQ);
  s.balloon.setTarget(0x2000);
  strictEqual(s.irq.level, true);
  strictEqual(io.read(L.isr, 1), 2);
  strictEqual(s.irq.level, false);
  s.balloon.setTarget(0x2000); // unchanged: nothing to say
  strictEqual(s.irq.level, false);
  strictEqual(io.read(L.config, 2), 0x2000);
  strictEqual(io.read(L.config + 2, 2), 0);
  io.write(L.config, 4, 7); // num_pages is read-only
  io.write(L.config + 4, 4, 0x1ff0);
  io.write(L.config + 6, 1, 0x01); // byte writes land too
  strictEqual(s.balloon.targetPages, 0x2000);
  strictEqual(s.balloon.actualPages, 0x11ff0);
  // poison_val only with PAGE_POISON negotiated (it was not).
  io.write(L.config + 12, 4, 0xaa);
  strictEqual(io.read(L.config + 12, 4), 0);
  legacyUp(s, VIRTIO_BALLOON_F_PAGE_POISON);
  io.write(L.config + 12, 4, 0xaa);
  strictEqual(io.read(L.config + 12, 4), 0xaa);
  throws(() => s.balloon.setTarget(-1), RangeError);
  throws(() => s.balloon.setTarget(2 ** 32), RangeError);
  throws(() => s.balloon.setTarget(1.5), RangeError);
});

Deno.test("virtio-balloon: inflate and deflate hand contiguous runs to discard and reuse", () => {
  const s = setup();
  const [inflate, deflate] = legacyUp(s, 0n);
  const io = s.balloon.legacyIo;
  const len = pfnArray(s.memory, 0x40000, [0x100, 0x101, 0x102, 0x200, 0x201, 0x50, 0x51]);
  inflate.publish(inflate.chain([{ addr: 0x40000, len }]));
  io.write(L.queueNotify, 2, BALLOON_QUEUE.inflate);
  deepStrictEqual(s.calls, ["discard 100+3", "discard 200+2", "discard 50+2"]);
  deepStrictEqual(inflate.usedElem(0), { id: 0, len: 0 });
  strictEqual(s.irq.level, true);
  io.read(L.isr, 1);
  // A PFN split across two buffers still counts as one.
  s.calls.length = 0;
  pfnArray(s.memory, 0x41000, [0x300, 0x301, 0x302]);
  deflate.publish(deflate.chain([{ addr: 0x41000, len: 6 }, { addr: 0x41006, len: 6 }]));
  io.write(L.queueNotify, 2, BALLOON_QUEUE.deflate);
  deepStrictEqual(s.calls, ["reuse 300+3"]);
  deepStrictEqual(s.balloon.counters, { inflated: 7, deflated: 3, statsReports: 0 });
  // A PFN array in no RAM breaks the device, as every bad chain does.
  inflate.publish(inflate.chain([{ addr: 0x7ff00000, len: 8 }]));
  io.write(L.queueNotify, 2, BALLOON_QUEUE.inflate);
  ok(s.balloon.transport.broken?.includes("queue 0"));
});

Deno.test("virtio-balloon: the stats buffer is read, held and handed back every interval", () => {
  const s = setup({ statsIntervalNs: 5 * SECOND });
  const [, , stats] = legacyUp(s, VIRTIO_BALLOON_F_STATS_VQ);
  const io = s.balloon.legacyIo;
  const len = statsBuffer(s.memory, 0x42000, [
    [4, 100n << 20n], // free
    [5, 128n << 20n], // total
    [42, 7n], // unknown: ignored
    [0, 2n ** 60n], // past 2^53: clamped
  ]);
  stats.publish(stats.chain([{ addr: 0x42000, len }]));
  s.clock.advance(SECOND);
  io.write(L.queueNotify, 2, BALLOON_QUEUE.stats);
  const first = s.balloon.snapshot();
  strictEqual(first.stats.freeMemory, 100 * 2 ** 20);
  strictEqual(first.stats.totalMemory, 128 * 2 ** 20);
  strictEqual(first.stats.swapIn, Number.MAX_SAFE_INTEGER);
  strictEqual(first.stats.swapOut, null);
  strictEqual(first.statsUpdatedNs, SECOND);
  strictEqual(first.statsHead, 0);
  strictEqual(first.statsDeadlineNs, 6 * SECOND);
  // Held: nothing used yet, no interrupt.
  strictEqual(stats.usedIdx, 0);
  strictEqual(s.irq.level, false);
  s.clock.advanceTo(6 * SECOND - 1);
  strictEqual(stats.usedIdx, 0);
  s.clock.advanceTo(6 * SECOND);
  strictEqual(stats.usedIdx, 1);
  deepStrictEqual(stats.usedElem(0), { id: 0, len: 0 });
  strictEqual(s.irq.level, true);
  strictEqual(s.balloon.snapshot().statsHead, null);
  // The driver refills: the new figures replace the old ones entirely.
  io.read(L.isr, 1);
  const again = statsBuffer(s.memory, 0x42000, [[6, 64n << 20n]]);
  stats.publish(stats.chain([{ addr: 0x42000, len: again }]));
  io.write(L.queueNotify, 2, BALLOON_QUEUE.stats);
  const second = s.balloon.snapshot();
  strictEqual(second.stats.availableMemory, 64 * 2 ** 20);
  strictEqual(second.stats.freeMemory, null);
  strictEqual(second.counters.statsReports, 2);
  // A device reset drops the held buffer and the timer; the target stays.
  s.balloon.setTarget(99);
  io.write(L.config + 4, 4, 50);
  io.write(L.status, 1, 0);
  const reset = s.balloon.snapshot();
  strictEqual(reset.statsHead, null);
  strictEqual(reset.statsDeadlineNs, null);
  strictEqual(reset.numPages, 99);
  strictEqual(reset.actual, 0);
  s.clock.advance(60 * SECOND);
  strictEqual(stats.usedIdx, 1);
});

Deno.test("virtio-balloon: with a zero interval the stats buffer is never handed back", () => {
  const s = setup({ statsIntervalNs: 0 });
  const [, , stats] = legacyUp(s, VIRTIO_BALLOON_F_STATS_VQ);
  stats.publish(stats.chain([{ addr: 0x42000, len: statsBuffer(s.memory, 0x42000, [[4, 1n]]) }]));
  s.balloon.legacyIo.write(L.queueNotify, 2, BALLOON_QUEUE.stats);
  strictEqual(s.balloon.stats.freeMemory, 1);
  s.clock.advance(3600 * SECOND);
  strictEqual(stats.usedIdx, 0);
  throws(() => setup({ statsIntervalNs: -1 }), RangeError);
});

function randomRequest(next: (n: number) => number, queue: number): RandomRequest {
  if (queue === BALLOON_QUEUE.stats) {
    const entries = 1 + next(6);
    const data = new Uint8Array(10 * entries);
    const view = new DataView(data.buffer);
    for (let i = 0; i < entries; i++) {
      view.setUint16(10 * i, next(12), true);
      view.setUint32(10 * i + 2, next(2 ** 30), true);
    }
    return { readable: [data], writable: [] };
  }
  const count = 1 + next(16);
  const data = new Uint8Array(4 * count);
  const view = new DataView(data.buffer);
  let pfn = next(0x1000);
  for (let i = 0; i < count; i++) {
    pfn = next(3) === 0 ? next(0x1000) : pfn + 1;
    view.setUint32(4 * i, pfn, true);
  }
  return { readable: [data], writable: [] };
}

Deno.test("virtio-balloon: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  let heldSeen = 0;
  let runsSeen = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const next = prng(seed);
    const a = setup({ statsIntervalNs: SECOND });
    const features = [0n, VIRTIO_BALLOON_F_STATS_VQ | VIRTIO_F_INDIRECT_DESC][next(2)];
    const driver = new RandomVirtioDriver(
      next,
      [VIRTIO_BALLOON_QUEUE_SIZE, VIRTIO_BALLOON_QUEUE_SIZE, VIRTIO_BALLOON_QUEUE_SIZE],
      features,
      randomRequest,
    );
    runVirtioOps(a.balloon, a.memory, a.irq, driver.bringUp());
    a.balloon.setTarget(next(5000));
    for (let round = 0; round < 3; round++) {
      runVirtioOps(a.balloon, a.memory, a.irq, driver.ops(10 + next(40)));
      // Host time is fractional nanoseconds: so are the saved deadlines.
      a.clock.advance(next(2) * SECOND + 0.25);
    }
    const saved = a.balloon.snapshot();
    if (saved.statsHead !== null) heldSeen++;

    const b = setup({ statsIntervalNs: SECOND });
    b.clock.advanceTo(a.clock.nowNs());
    b.memory.bytes.set(a.memory.bytes);
    b.balloon.restore(structuredClone(saved));
    deepStrictEqual(b.balloon.snapshot(), saved);
    strictEqual(b.irq.level, a.irq.level);
    a.calls.length = 0;
    const more = driver.ops(60);
    const target = next(5000);
    for (const s of [a, b]) s.balloon.setTarget(target);
    deepStrictEqual(
      runVirtioOps(b.balloon, b.memory, b.irq, more),
      runVirtioOps(a.balloon, a.memory, a.irq, more),
    );
    // The held stats buffer goes back at the saved deadline in both.
    for (const s of [a, b]) s.clock.advance(2 * SECOND);
    deepStrictEqual(b.calls, a.calls);
    if (a.calls.length) runsSeen++;
    deepStrictEqual(b.balloon.snapshot(), a.balloon.snapshot());
    ok(b.memory.bytes.every((v, i) => v === a.memory.bytes[i]), `seed ${seed}: memory differs`);
  }
  ok(heldSeen > 3, `only ${heldSeen} seeds saved with a stats buffer held`);
  ok(runsSeen > 10, `only ${runsSeen} seeds inflated or deflated after the restore`);
});

Deno.test("virtio-balloon: restore refuses malformed states and changes nothing", () => {
  const s = setup();
  legacyUp(s, VIRTIO_BALLOON_F_STATS_VQ);
  const good = s.balloon.snapshot();
  assertRestoreRejects(s.balloon, good, [
    { numPages: -1 },
    { actual: 2 ** 32 },
    { statsHead: 128 },
    { statsHead: null, statsDeadlineNs: 5 },
    { statsDeadlineNs: Infinity },
    { statsUpdatedNs: "now" },
    { stats: { ...good.stats, freeMemory: 1.5 } },
    { stats: null },
    { counters: { inflated: 0, deflated: -1, statsReports: 0 } },
    { queues: [] },
  ]);
});
