import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { type BusDevice, StateError } from "../types.ts";
import {
  VIRTIO_BLK_F_BLK_SIZE,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_F_SIZE_MAX,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VirtioBlk,
} from "./virtio_blk.ts";
import {
  VIRTIO_COMMON as C,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  VIRTIO_LEGACY as L,
  VIRTIO_PCI_CAP,
  VIRTIO_STATUS_ACKNOWLEDGE,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_STATUS_DRIVER,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK,
} from "./virtio_pci.ts";
import { VIRTQ_DESC_F_NEXT } from "./virtqueue.ts";
import {
  ArrayMemory,
  type DriverBuffer,
  DriverRing,
  findVirtioCaps,
  hasPendingRequests,
  MemoryDisk,
  prng,
  RandomRequest,
  RandomVirtioDriver,
  RecordingIrq,
  runVirtioOps,
} from "./test_support.ts";

const SECTORS = 128;
const HDR = 0x40000;
const DATA = 0x50000;
const STATUS = 0x60000;
const ACK_DRIVER = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

function setup(options: { readonly?: boolean; serial?: string } = {}) {
  const memory = new ArrayMemory(1 << 20);
  const disk = new MemoryDisk(SECTORS * 512, options.readonly ?? false);
  const irq = new RecordingIrq();
  const blk = new VirtioBlk({ backend: disk, memory, irq, serial: options.serial });
  return { memory, disk, irq, blk };
}

type Setup = ReturnType<typeof setup>;

function header(s: Setup, type: number, sector: number, at = HDR): DriverBuffer {
  s.memory.writeU32(at, type);
  s.memory.writeU32(at + 4, 0);
  s.memory.writeU64(at + 8, sector);
  return { addr: at, len: 16 };
}

const status: DriverBuffer = { addr: STATUS, len: 1, write: true };

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
}

/** Legacy driver bring-up (as SeaBIOS or an old Linux does it) on queue 0 at PFN 0x10. */
function legacyUp(s: Setup, features: number): DriverRing {
  const io = s.blk.legacyIo;
  io.write(L.status, 1, 0);
  io.write(L.status, 1, ACK_DRIVER);
  io.write(L.guestFeatures, 4, io.read(L.hostFeatures, 4) & features);
  io.write(L.queueSelect, 2, 0);
  const size = io.read(L.queueSize, 2);
  io.write(L.queuePfn, 4, 0x10);
  io.write(L.status, 1, ACK_DRIVER | VIRTIO_STATUS_DRIVER_OK);
  return DriverRing.legacy(s.memory, size, 0x10);
}

/** A modern driver: finds the structures through the capability list, then brings queue 0 up. */
class ModernDriver {
  readonly common: number;
  readonly device: number;
  readonly isr: number;
  readonly notifyAddr: number;
  readonly ring: DriverRing;
  readonly mmio: BusDevice;

  constructor(s: Setup, features: bigint, queueSize = 64) {
    const caps = findVirtioCaps(s.blk.config);
    const common = caps.get(VIRTIO_PCI_CAP.commonCfg)!;
    const notify = caps.get(VIRTIO_PCI_CAP.notifyCfg)!;
    strictEqual(common.bar, 4);
    this.mmio = s.blk.modernMmio;
    this.common = common.offset;
    this.device = caps.get(VIRTIO_PCI_CAP.deviceCfg)!.offset;
    this.isr = caps.get(VIRTIO_PCI_CAP.isrCfg)!.offset;
    const m = this.mmio;
    const c = this.common;
    m.write(c + C.deviceStatus, 1, 0);
    m.write(c + C.deviceStatus, 1, ACK_DRIVER);
    let offered = 0n;
    for (const half of [1, 0]) {
      m.write(c + C.deviceFeatureSelect, 4, half);
      offered = (offered << 32n) | BigInt(m.read(c + C.deviceFeature, 4));
    }
    const accepted = offered & features;
    for (const half of [0, 1]) {
      m.write(c + C.driverFeatureSelect, 4, half);
      m.write(c + C.driverFeature, 4, Number((accepted >> BigInt(32 * half)) & 0xffffffffn));
    }
    m.write(c + C.deviceStatus, 1, ACK_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    strictEqual(m.read(c + C.deviceStatus, 1) & VIRTIO_STATUS_FEATURES_OK, 8);
    m.write(c + C.queueSelect, 2, 0);
    m.write(c + C.queueSize, 2, queueSize);
    // Separate, non-contiguous areas: only the modern interface allows this.
    m.write(c + C.queueDesc, 4, 0x20000);
    m.write(c + C.queueDesc + 4, 4, 0);
    m.write(c + C.queueDriver, 4, 0x23000);
    m.write(c + C.queueDevice, 4, 0x25000);
    m.write(c + C.queueEnable, 2, 1);
    this.notifyAddr = notify.offset + m.read(c + C.queueNotifyOff, 2) * notify.multiplier!;
    m.write(
      c + C.deviceStatus,
      1,
      ACK_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK,
    );
    this.ring = new DriverRing(s.memory, queueSize, 0x20000, 0x23000, 0x25000);
  }

  submit(head: number): void {
    this.ring.publish(head);
    this.mmio.write(this.notifyAddr, 2, 0);
  }

  get status(): number {
    return this.mmio.read(this.common + C.deviceStatus, 1);
  }
}

Deno.test("legacy flow: features, configuration, OUT, IN, FLUSH, GET_ID", () => {
  const s = setup({ serial: "VMRUN-0001" });
  const io = s.blk.legacyIo;
  const host = BigInt(io.read(L.hostFeatures, 4));
  const expected = VIRTIO_BLK_F_SIZE_MAX | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE |
    VIRTIO_BLK_F_FLUSH;
  strictEqual(host & expected, expected);
  strictEqual(host & VIRTIO_BLK_F_RO, 0n);
  const ring = legacyUp(s, Number(VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_BLK_SIZE));
  strictEqual(ring.size, 256);
  // virtio_blk_config right after the 20 bytes of registers.
  strictEqual(io.read(L.config, 4) + io.read(L.config + 4, 4) * 2 ** 32, SECTORS);
  strictEqual(io.read(L.config + 8, 4), 1 << 20); // size_max
  strictEqual(io.read(L.config + 12, 4), 254); // seg_max
  strictEqual(io.read(L.config + 20, 4), 512); // blk_size

  // OUT: two sectors from two data buffers.
  const data = pattern(1024, 3);
  s.memory.write(DATA, data.subarray(0, 512));
  s.memory.write(DATA + 0x1000, data.subarray(512));
  ring.publish(ring.chain([
    header(s, VIRTIO_BLK_T_OUT, 3),
    { addr: DATA, len: 512 },
    { addr: DATA + 0x1000, len: 512 },
    status,
  ]));
  s.memory.writeU8(STATUS, 0xff);
  io.write(L.queueNotify, 2, 0);
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_OK);
  deepStrictEqual(s.disk.bytes.subarray(3 * 512, 5 * 512), data);
  deepStrictEqual(ring.usedElem(0), { id: 0, len: 1 });
  strictEqual(s.irq.level, true);
  strictEqual(io.read(L.isr, 1), 1);
  strictEqual(s.irq.level, false);

  // IN: the same sectors into three uneven buffers.
  const head = ring.chain([
    header(s, VIRTIO_BLK_T_IN, 3),
    { addr: 0x70000, len: 100, write: true },
    { addr: 0x71000, len: 900, write: true },
    { addr: 0x72000, len: 24, write: true },
    status,
  ]);
  ring.publish(head);
  io.write(L.queueNotify, 2, 0);
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_OK);
  const read = new Uint8Array([
    ...s.memory.read(0x70000, 100),
    ...s.memory.read(0x71000, 900),
    ...s.memory.read(0x72000, 24),
  ]);
  deepStrictEqual(read, data);
  deepStrictEqual(ring.usedElem(1), { id: head, len: 1025 });

  // FLUSH reaches the backend.
  ring.publish(ring.chain([header(s, VIRTIO_BLK_T_FLUSH, 0), status]));
  io.write(L.queueNotify, 2, 0);
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_OK);
  strictEqual(s.disk.flushes, 1);

  // GET_ID: 20 bytes, zero-padded.
  ring.publish(ring.chain([
    header(s, VIRTIO_BLK_T_GET_ID, 0),
    { addr: 0x73000, len: 20, write: true },
    status,
  ]));
  io.write(L.queueNotify, 2, 0);
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_OK);
  const id = s.memory.read(0x73000, 20);
  strictEqual(new TextDecoder().decode(id.subarray(0, 10)), "VMRUN-0001");
  deepStrictEqual([...id.subarray(10)], new Array(10).fill(0));
  strictEqual(ring.usedElem(3).len, 21);

  const state = s.blk.snapshot();
  deepStrictEqual(state.counters, {
    requests: 4,
    bytesRead: 1024,
    bytesWritten: 1024,
    flushes: 1,
    errors: 0,
  });
  strictEqual(state.capacity, SECTORS);
  strictEqual(BigInt(state.driverFeatures), VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_BLK_SIZE);
  strictEqual(s.blk.transport.negotiatedFeatures, VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_BLK_SIZE);
  const queue = state.queues[0];
  deepStrictEqual([queue.size, queue.ready, queue.lastAvailIdx, queue.usedIdx], [
    256,
    true,
    4,
    4,
  ]);
});

Deno.test("errors: out of range, partial sectors and unknown types complete with a status", () => {
  const s = setup();
  const ring = legacyUp(s, Number(VIRTIO_BLK_F_FLUSH));
  const run = (buffers: DriverBuffer[]) => {
    s.memory.writeU8(STATUS, 0xff);
    ring.publish(ring.chain(buffers));
    s.blk.legacyIo.write(L.queueNotify, 2, 0);
    return s.memory.readU8(STATUS);
  };
  const last = SECTORS - 1;
  strictEqual(
    run([header(s, VIRTIO_BLK_T_IN, last), { addr: DATA, len: 1024, write: true }, status]),
    VIRTIO_BLK_S_IOERR,
  );
  strictEqual(
    run([header(s, VIRTIO_BLK_T_OUT, last), { addr: DATA, len: 1024 }, status]),
    VIRTIO_BLK_S_IOERR,
  );
  strictEqual(
    run([header(s, VIRTIO_BLK_T_IN, 0), { addr: DATA, len: 100, write: true }, status]),
    VIRTIO_BLK_S_IOERR,
  );
  strictEqual(
    run([header(s, VIRTIO_BLK_T_IN, 2 ** 40), { addr: DATA, len: 512, write: true }, status]),
    VIRTIO_BLK_S_IOERR,
  );
  strictEqual(
    run([header(s, VIRTIO_BLK_T_IN, last), { addr: DATA, len: 512, write: true }, status]),
    0,
  );
  strictEqual(run([header(s, 99, 0), status]), VIRTIO_BLK_S_UNSUPP);
  strictEqual(s.blk.counters.errors, 5);
  strictEqual(s.blk.transport.broken, null);
});

Deno.test("without FLUSH negotiated, writes are write-through", () => {
  const s = setup();
  const ring = legacyUp(s, 0);
  ring.publish(ring.chain([header(s, VIRTIO_BLK_T_OUT, 0), { addr: DATA, len: 512 }, status]));
  s.blk.legacyIo.write(L.queueNotify, 2, 0);
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_OK);
  strictEqual(s.disk.flushes, 1);
});

Deno.test("modern flow through the capabilities, with any descriptor layout", () => {
  const s = setup();
  const d = new ModernDriver(s, VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_BLK_SIZE);
  strictEqual(s.blk.transport.mode, "modern");
  strictEqual(d.mmio.read(d.device, 4), SECTORS);
  strictEqual(d.mmio.read(d.device + 4, 4), 0);
  strictEqual(d.mmio.read(d.device + 20, 4), 512);
  // Header and data in one readable buffer, status alone.
  const data = pattern(512, 11);
  header(s, VIRTIO_BLK_T_OUT, 9, DATA);
  s.memory.write(DATA + 16, data);
  d.submit(d.ring.chain([{ addr: DATA, len: 16 + 512 }, status]));
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_OK);
  deepStrictEqual(s.disk.bytes.subarray(9 * 512, 10 * 512), data);
  strictEqual(s.irq.level, true);
  strictEqual(d.mmio.read(d.isr, 1), 1);
  strictEqual(s.irq.level, false);
  // Data and status in one writable buffer: the status is its last byte.
  d.submit(d.ring.chain([header(s, VIRTIO_BLK_T_IN, 9), { addr: 0x70000, len: 513, write: true }]));
  deepStrictEqual(s.memory.read(0x70000, 512), data);
  strictEqual(s.memory.readU8(0x70000 + 512), VIRTIO_BLK_S_OK);
  deepStrictEqual(d.ring.usedElem(1), { id: 2, len: 513 });
  strictEqual(s.blk.transport.driverFeatures & VIRTIO_F_VERSION_1, VIRTIO_F_VERSION_1);
});

Deno.test("indirect descriptors carry a whole request", () => {
  const s = setup();
  const d = new ModernDriver(s, VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC);
  s.disk.bytes.set(pattern(1024, 5), 20 * 512);
  d.submit(d.ring.indirect(0x30000, [
    header(s, VIRTIO_BLK_T_IN, 20),
    { addr: 0x70000, len: 512, write: true },
    { addr: 0x71000, len: 512, write: true },
    status,
  ]));
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_OK);
  deepStrictEqual(
    new Uint8Array([...s.memory.read(0x70000, 512), ...s.memory.read(0x71000, 512)]),
    pattern(1024, 5),
  );
  deepStrictEqual(d.ring.usedElem(0), { id: 0, len: 1025 });
});

Deno.test("EVENT_IDX suppresses interrupts until used_event is passed", () => {
  const s = setup();
  const d = new ModernDriver(s, VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX);
  d.ring.usedEvent = 1; // interrupt after the second completion
  d.submit(d.ring.chain([header(s, VIRTIO_BLK_T_FLUSH, 0), status]));
  strictEqual(d.ring.usedIdx, 1);
  strictEqual(s.irq.level, false);
  strictEqual(d.ring.availEvent, 1); // the device wants a kick for the next entry
  d.submit(d.ring.chain([header(s, VIRTIO_BLK_T_FLUSH, 0), status]));
  strictEqual(d.ring.usedIdx, 2);
  strictEqual(s.irq.level, true);
  strictEqual(d.ring.availEvent, 2);
});

Deno.test("a descriptor loop or an out-of-RAM buffer breaks the device without hanging", () => {
  const looped = setup();
  const d = new ModernDriver(looped, VIRTIO_F_VERSION_1);
  d.ring.writeDesc(0x20000, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
  d.ring.writeDesc(0x20000, 1, DATA, 512, VIRTQ_DESC_F_NEXT, 0);
  d.submit(0);
  strictEqual(d.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  strictEqual(d.mmio.read(d.isr, 1), 2); // configuration-change interrupt
  strictEqual(d.ring.usedIdx, 0);
  // After a reset the driver can use the device again.
  const again = new ModernDriver(looped, VIRTIO_F_VERSION_1);
  again.submit(again.ring.chain([header(looped, VIRTIO_BLK_T_FLUSH, 0), status]));
  strictEqual(again.ring.usedIdx, 1);

  const outside = setup();
  const o = new ModernDriver(outside, VIRTIO_F_VERSION_1);
  o.submit(o.ring.chain([
    header(outside, VIRTIO_BLK_T_IN, 0),
    { addr: (1 << 20) - 256, len: 512, write: true },
    status,
  ]));
  strictEqual(o.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  strictEqual(outside.blk.counters.requests, 0);

  // Legacy has no NEEDS_RESET bit: the device just stops until reset.
  const legacy = setup();
  const ring = legacyUp(legacy, 0);
  ring.writeDesc(0x10000, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 0);
  ring.publish(0);
  legacy.blk.legacyIo.write(L.queueNotify, 2, 0);
  strictEqual(typeof legacy.blk.transport.broken, "string");
  strictEqual(legacy.blk.legacyIo.read(L.status, 1), ACK_DRIVER | VIRTIO_STATUS_DRIVER_OK);
});

Deno.test("a request without a status byte breaks the device", () => {
  const s = setup();
  const d = new ModernDriver(s, VIRTIO_F_VERSION_1);
  d.submit(d.ring.chain([header(s, VIRTIO_BLK_T_FLUSH, 0)]));
  strictEqual(d.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DEVICE_NEEDS_RESET);
});

Deno.test("a read-only backend offers RO and refuses writes with IOERR", () => {
  const s = setup({ readonly: true });
  s.disk.bytes.set(pattern(512, 1));
  const d = new ModernDriver(s, VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_RO);
  strictEqual(s.blk.transport.driverFeatures & VIRTIO_BLK_F_RO, VIRTIO_BLK_F_RO);
  s.memory.write(DATA, new Uint8Array(512).fill(0xee));
  d.submit(d.ring.chain([header(s, VIRTIO_BLK_T_OUT, 0), { addr: DATA, len: 512 }, status]));
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_IOERR);
  deepStrictEqual(s.disk.bytes.subarray(0, 512), pattern(512, 1));
  d.submit(
    d.ring.chain([header(s, VIRTIO_BLK_T_IN, 0), { addr: DATA, len: 512, write: true }, status]),
  );
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_OK);
  deepStrictEqual(s.memory.read(DATA, 512), pattern(512, 1));
});

Deno.test("a failing backend completes the request with IOERR", () => {
  const s = setup();
  s.disk.read = () => {
    throw new Error("EIO");
  };
  const ring = legacyUp(s, 0);
  ring.publish(
    ring.chain([header(s, VIRTIO_BLK_T_IN, 0), { addr: DATA, len: 512, write: true }, status]),
  );
  s.blk.legacyIo.write(L.queueNotify, 2, 0);
  strictEqual(s.memory.readU8(STATUS), VIRTIO_BLK_S_IOERR);
  strictEqual(s.blk.transport.broken, null);
});

Deno.test("device reset by status 0 and PCI reset", () => {
  const s = setup();
  const d = new ModernDriver(s, VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH);
  d.submit(d.ring.chain([header(s, VIRTIO_BLK_T_FLUSH, 0), status]));
  d.mmio.write(d.common + C.deviceStatus, 1, 0);
  const state = s.blk.snapshot();
  strictEqual(state.status, 0);
  strictEqual(state.driverFeatures, "0x0");
  const queue = state.queues[0];
  deepStrictEqual([queue.size, queue.ready, queue.lastAvailIdx, queue.usedIdx], [
    256,
    false,
    0,
    0,
  ]);
  strictEqual(s.blk.counters.requests, 1); // statistics survive a reset

  s.blk.config.write(0x04, 2, 0x07);
  s.blk.reset();
  strictEqual(s.blk.config.read(0x04, 2), 0);
  strictEqual(findVirtioCaps(s.blk.config).size, 5);
  strictEqual(s.blk.config.read(0x02, 2), 0x1001);
  strictEqual(s.blk.config.read(0x2e, 2), 2);
  s.blk.flush();
  strictEqual(s.disk.flushes, 2);
});

/** A random block request: header, data, status byte (types and sectors in and out of range). */
function randomRequest(next: (n: number) => number): RandomRequest {
  const type = [VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, 7][
    next(5)
  ];
  const header = new Uint8Array(16);
  const view = new DataView(header.buffer);
  view.setUint32(0, type, true);
  view.setUint32(8, next(SECTORS + 4), true);
  const data = 512 * (1 + next(2));
  if (type === VIRTIO_BLK_T_OUT) {
    return { readable: [header, new Uint8Array(data).map(() => next(256))], writable: [1] };
  }
  if (type === VIRTIO_BLK_T_IN) return { readable: [header], writable: [data, 1] };
  if (type === VIRTIO_BLK_T_GET_ID) return { readable: [header], writable: [20, 1] };
  return { readable: [header], writable: [1] };
}

Deno.test("virtio-blk: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  let pendingSeen = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const next = prng(seed);
    const a = setup({ serial: "SNAP" });
    a.disk.bytes.forEach((_, i) => a.disk.bytes[i] = (i * 13) & 0xff);
    const features = [0n, VIRTIO_BLK_F_FLUSH | VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX][next(3)];
    const driver = new RandomVirtioDriver(next, [256], features, randomRequest);
    runVirtioOps(a.blk, a.memory, a.irq, driver.bringUp());
    runVirtioOps(a.blk, a.memory, a.irq, driver.ops(20 + next(100)));
    const saved = a.blk.snapshot();
    if (hasPendingRequests(saved.queues[0], a.memory)) pendingSeen++;

    const b = setup({ serial: "SNAP" });
    b.memory.bytes.set(a.memory.bytes);
    b.disk.bytes.set(a.disk.bytes);
    b.blk.restore(structuredClone(saved));
    deepStrictEqual(b.blk.snapshot(), saved);
    strictEqual(b.irq.level, a.irq.level);
    const more = driver.ops(150);
    deepStrictEqual(
      runVirtioOps(b.blk, b.memory, b.irq, more),
      runVirtioOps(a.blk, a.memory, a.irq, more),
    );
    deepStrictEqual(b.blk.snapshot(), a.blk.snapshot());
    ok(b.memory.bytes.every((v, i) => v === a.memory.bytes[i]), `seed ${seed}: memory differs`);
    ok(b.disk.bytes.every((v, i) => v === a.disk.bytes[i]), `seed ${seed}: disk differs`);
  }
  ok(pendingSeen > 5, `only ${pendingSeen} seeds saved with requests pending`);
});

Deno.test("virtio-blk: restore refuses a state taken with another disk", () => {
  const s = setup();
  legacyUp(s, 0);
  const saved = s.blk.snapshot();
  const other = new VirtioBlk({
    backend: new MemoryDisk(SECTORS * 512 * 2),
    memory: new ArrayMemory(1 << 20),
    irq: new RecordingIrq(),
  });
  throws(() => other.restore(saved), StateError);
  const ro = setup({ readonly: true });
  throws(() => ro.blk.restore(saved), StateError);
  throws(
    () => s.blk.restore({ ...saved, counters: { ...saved.counters, errors: -1 } }),
    StateError,
  );
  s.blk.restore(saved);
  deepStrictEqual(s.blk.snapshot(), saved);
});
