import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { StateError } from "../types.ts";
import { assertRestoreRejects } from "../testing/snapshot_check.ts";
import {
  VIRTIO_COMMON as C,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  VIRTIO_LEGACY as L,
  VIRTIO_PCI_CAP,
  VIRTIO_STATUS_DRIVER_OK,
} from "./virtio_pci.ts";
import { VIRTIO_RNG_QUEUE_SIZE, VirtioRng } from "./virtio_rng.ts";
import {
  ArrayMemory,
  DriverRing,
  findVirtioCaps,
  hasPendingRequests,
  prng,
  type RandomRequest,
  RandomVirtioDriver,
  RecordingIrq,
  runVirtioOps,
} from "./test_support.ts";

/** A deterministic entropy source: byte i of the stream is a seeded PRNG's i-th output. */
function stream(seed: number) {
  const next = prng(seed);
  let calls = 0;
  const source = (dst: Uint8Array) => {
    calls++;
    for (let i = 0; i < dst.length; i++) dst[i] = next(256);
  };
  return { source, calls: () => calls };
}

function setup(seed = 7) {
  const memory = new ArrayMemory(1 << 20);
  const irq = new RecordingIrq();
  let src = stream(seed);
  const rng = new VirtioRng({ memory, irq, source: (dst) => src.source(dst) });
  return {
    memory,
    irq,
    rng,
    reseed: (s: number) => src = stream(s),
    calls: () => src.calls(),
  };
}

function expected(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  stream(seed).source(out);
  return out;
}

Deno.test("virtio-rng: PCI identity as QEMU's virtio-rng-pci, no device configuration", () => {
  const { rng } = setup();
  strictEqual(rng.config.read(0x00, 2), 0x1af4);
  strictEqual(rng.config.read(0x02, 2), 0x1005);
  strictEqual(rng.config.read(0x2c, 2), 0x1af4);
  strictEqual(rng.config.read(0x2e, 2), 4);
  strictEqual(rng.config.read(0x09, 4) & 0xffffff, 0x00ff00);
  strictEqual(rng.legacyIo.read(L.queueSize, 2), VIRTIO_RNG_QUEUE_SIZE);
  strictEqual(rng.legacyIo.read(L.config, 1), 0xff); // nothing past the registers
  strictEqual(findVirtioCaps(rng.config).size, 5);
});

Deno.test("virtio-rng legacy: fills writable buffers from the source and says how much", () => {
  const s = setup(3);
  const io = s.rng.legacyIo;
  io.write(L.status, 1, 3);
  io.write(L.queueSelect, 2, 0);
  io.write(L.queuePfn, 4, 0x10);
  io.write(L.status, 1, 3 | VIRTIO_STATUS_DRIVER_OK);
  const ring = DriverRing.legacy(s.memory, VIRTIO_RNG_QUEUE_SIZE, 0x10);
  ring.publish(ring.chain([{ addr: 0x40000, len: 64, write: true }]));
  io.write(L.queueNotify, 2, 0);
  deepStrictEqual(ring.usedElem(0), { id: 0, len: 64 });
  deepStrictEqual(s.memory.read(0x40000, 64), expected(3, 64));
  strictEqual(s.irq.level, true);
  strictEqual(io.read(L.isr, 1), 1);
  strictEqual(s.irq.level, false);
  // Two writable buffers, a readable one before them is left alone.
  s.memory.write(0x41000, new Uint8Array(16).fill(0xee));
  s.reseed(9);
  const head = ring.chain([
    { addr: 0x41000, len: 16 },
    { addr: 0x42000, len: 100, write: true },
    { addr: 0x43000, len: 28, write: true },
  ]);
  ring.publish(head);
  io.write(L.queueNotify, 2, 0);
  deepStrictEqual(ring.usedElem(1), { id: head, len: 128 });
  deepStrictEqual(s.memory.read(0x41000, 16), new Uint8Array(16).fill(0xee));
  const want = expected(9, 128);
  deepStrictEqual(s.memory.read(0x42000, 100), want.subarray(0, 100));
  deepStrictEqual(s.memory.read(0x43000, 28), want.subarray(100));
  deepStrictEqual(s.rng.snapshot().counters, { requests: 2, bytes: 192 });
});

Deno.test("virtio-rng: a large buffer is asked of the source in 64 KiB pieces", () => {
  const s = setup();
  const io = s.rng.legacyIo;
  io.write(L.status, 1, 3);
  io.write(L.queuePfn, 4, 0x10);
  io.write(L.status, 1, 7);
  const ring = DriverRing.legacy(s.memory, VIRTIO_RNG_QUEUE_SIZE, 0x10);
  ring.publish(ring.chain([{ addr: 0x20000, len: 0x30000, write: true }]));
  io.write(L.queueNotify, 2, 0);
  strictEqual(ring.usedElem(0).len, 0x30000);
  strictEqual(s.calls(), 3);
  const filled = s.memory.read(0x20000, 0x30000);
  ok(filled.some((b) => b !== 0));
});

Deno.test("virtio-rng modern: found through the capabilities, indirect chains", () => {
  const s = setup(5);
  const caps = findVirtioCaps(s.rng.config);
  const common = caps.get(VIRTIO_PCI_CAP.commonCfg)!.offset;
  const notify = caps.get(VIRTIO_PCI_CAP.notifyCfg)!;
  const m = s.rng.modernMmio;
  m.write(common + C.deviceStatus, 1, 3);
  m.write(common + C.driverFeatureSelect, 4, 0);
  m.write(common + C.driverFeature, 4, Number(VIRTIO_F_INDIRECT_DESC));
  m.write(common + C.driverFeatureSelect, 4, 1);
  m.write(common + C.driverFeature, 4, Number(VIRTIO_F_VERSION_1 >> 32n));
  m.write(common + C.deviceStatus, 1, 3 | 8);
  strictEqual(m.read(common + C.deviceStatus, 1), 11);
  m.write(common + C.queueSelect, 2, 0);
  strictEqual(m.read(common + C.queueSize, 2), 8);
  m.write(common + C.queueDesc, 4, 0x20000);
  m.write(common + C.queueDriver, 4, 0x21000);
  m.write(common + C.queueDevice, 4, 0x22000);
  m.write(common + C.queueEnable, 2, 1);
  m.write(common + C.deviceStatus, 1, 15);
  const ring = new DriverRing(s.memory, 8, 0x20000, 0x21000, 0x22000);
  ring.publish(ring.indirect(0x30000, [
    { addr: 0x40000, len: 32, write: true },
    { addr: 0x40100, len: 32, write: true },
  ]));
  m.write(notify.offset + m.read(common + C.queueNotifyOff, 2) * notify.multiplier!, 2, 0);
  deepStrictEqual(ring.usedElem(0), { id: 0, len: 64 });
  const want = expected(5, 64);
  deepStrictEqual(s.memory.read(0x40000, 32), want.subarray(0, 32));
  deepStrictEqual(s.memory.read(0x40100, 32), want.subarray(32));
  strictEqual(s.rng.transport.broken, null);
});

function randomRequest(next: (n: number) => number): RandomRequest {
  const parts = 1 + next(3);
  const readable = next(4) === 0 ? [new Uint8Array(1 + next(8))] : [];
  return { readable, writable: Array.from({ length: parts }, () => 1 + next(300)) };
}

Deno.test("virtio-rng: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  let pendingSeen = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const next = prng(seed);
    const a = setup(seed);
    const features = [0n, VIRTIO_F_INDIRECT_DESC][next(2)];
    const driver = new RandomVirtioDriver(next, [VIRTIO_RNG_QUEUE_SIZE], features, randomRequest);
    runVirtioOps(a.rng, a.memory, a.irq, driver.bringUp());
    runVirtioOps(a.rng, a.memory, a.irq, driver.ops(10 + next(60)));
    const saved = a.rng.snapshot();
    if (hasPendingRequests(saved.queues[0], a.memory)) pendingSeen++;

    const b = setup(seed);
    b.memory.bytes.set(a.memory.bytes);
    b.rng.restore(structuredClone(saved));
    deepStrictEqual(b.rng.snapshot(), saved);
    strictEqual(b.irq.level, a.irq.level);
    a.reseed(1000 + seed);
    b.reseed(1000 + seed);
    const more = driver.ops(80);
    deepStrictEqual(
      runVirtioOps(b.rng, b.memory, b.irq, more),
      runVirtioOps(a.rng, a.memory, a.irq, more),
    );
    deepStrictEqual(b.rng.snapshot(), a.rng.snapshot());
    ok(b.memory.bytes.every((v, i) => v === a.memory.bytes[i]), `seed ${seed}: memory differs`);
  }
  ok(pendingSeen > 3, `only ${pendingSeen} seeds saved with requests pending`);
});

Deno.test("virtio-rng: restore refuses malformed states and changes nothing", () => {
  const s = setup();
  const good = s.rng.snapshot();
  assertRestoreRejects(s.rng, good, [
    { counters: { requests: -1, bytes: 0 } },
    { counters: null },
    { queues: [] },
  ]);
  let threw = false;
  try {
    s.rng.restore({ ...good, counters: { requests: 0, bytes: 1.5 } });
  } catch (e) {
    threw = e instanceof StateError;
  }
  ok(threw);
});
