import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import {
  VIRTIO_COMMON as C,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  VIRTIO_LEGACY as L,
  VIRTIO_MODERN_LAYOUT as M,
  VIRTIO_MSI_NO_VECTOR,
  VIRTIO_PCI_CAP,
  VIRTIO_STATUS_ACKNOWLEDGE,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_STATUS_DRIVER,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK,
  type VirtioDeviceModel,
  VirtioPci,
  type VirtioPciState,
} from "./virtio_pci.ts";
import { type SplitVirtqueue, VIRTQ_DESC_F_NEXT } from "./virtqueue.ts";
import {
  ArrayMemory,
  DriverRing,
  findVirtioCaps,
  hasPendingRequests,
  prng,
  RandomVirtioDriver,
  RecordingIrq,
  runVirtioOps,
} from "./test_support.ts";

const DEVICE_BIT = 1n << 3n;
const ACK_DRIVER = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

/** A toy device: copies each chain's readable bytes into its writable bytes. */
function echoModel(): VirtioDeviceModel & { resets: number; configWrites: number[][] } {
  const config = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const model = {
    deviceType: 4,
    legacyDeviceId: 0x1005,
    classCode: 0xff0000,
    features: DEVICE_BIT | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX,
    queueSizes: [16, 8],
    configSize: 8,
    resets: 0,
    configWrites: [] as number[][],
    readConfig: (offset: number, size: number) => {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + config[offset + i];
      return v;
    },
    writeConfig: (offset: number, size: number, value: number) => {
      model.configWrites.push([offset, size, value]);
    },
    processQueue: (_index: number, queue: SplitVirtqueue) =>
      queue.drain((chain) => {
        const bytes = chain.readable.flatMap((b) => [...b]);
        let n = 0;
        for (const w of chain.writable) {
          for (let i = 0; i < w.length && n < bytes.length; i++) w[i] = bytes[n++];
        }
        return n;
      }),
    reset: () => {
      model.resets++;
    },
  };
  return model;
}

function setup() {
  const memory = new ArrayMemory(1 << 20);
  const irq = new RecordingIrq();
  const model = echoModel();
  const t = new VirtioPci({ name: "echo", device: model, memory, irq });
  return { memory, irq, model, t, io: t.legacyIo, mmio: t.modernMmio };
}

/** Brings the modern interface to DRIVER_OK with queue 0 at 0x1000/0x2000/0x3000, size 16. */
function modernUp(s: ReturnType<typeof setup>, features = VIRTIO_F_VERSION_1): DriverRing {
  const { mmio } = s;
  mmio.write(C.deviceStatus, 1, ACK_DRIVER);
  mmio.write(C.driverFeatureSelect, 4, 0);
  mmio.write(C.driverFeature, 4, Number(features & 0xffffffffn));
  mmio.write(C.driverFeatureSelect, 4, 1);
  mmio.write(C.driverFeature, 4, Number(features >> 32n));
  mmio.write(C.deviceStatus, 1, ACK_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  mmio.write(C.queueSelect, 2, 0);
  mmio.write(C.queueDesc, 4, 0x1000);
  mmio.write(C.queueDriver, 4, 0x2000);
  mmio.write(C.queueDevice, 4, 0x3000);
  mmio.write(C.queueEnable, 2, 1);
  mmio.write(C.deviceStatus, 1, ACK_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
  return new DriverRing(s.memory, 16, 0x1000, 0x2000, 0x3000);
}

Deno.test("configuration space: transitional identity and BARs", () => {
  const { t } = setup();
  const c = t.config;
  deepStrictEqual(
    [c.read(0, 2), c.read(2, 2), c.read(8, 1), c.read(0x2c, 2), c.read(0x2e, 2)],
    [0x1af4, 0x1005, 0, 0x1af4, 4],
  );
  strictEqual(c.read(0x09, 4) & 0xffffff, 0xff0000);
  strictEqual(c.read(0x3d, 1), 1); // INTA#
  strictEqual(c.read(0x06, 2) & 0x10, 0x10); // capability list
  strictEqual(c.read(0x34, 1), 0x40);
  // Firmware-style sizing: 32-byte I/O BAR0, 16 KiB 64-bit prefetchable BAR4.
  c.write(0x10, 4, 0xffffffff);
  strictEqual(c.read(0x10, 4), 0xffffffe1);
  c.write(0x20, 4, 0xffffffff);
  strictEqual(c.read(0x20, 4), 0xffffc00c);
  c.write(0x24, 4, 0xffffffff);
  strictEqual(c.read(0x24, 4), 0xffffffff);
  strictEqual(t.legacyIoSize, 32);
});

Deno.test("notifyAddresses: where each interface's notify decodes, and nowhere while off", () => {
  const { t } = setup();
  const c = t.config;
  deepStrictEqual(t.notifyAddresses(1), { port: null, mmio: null });
  c.write(0x10, 4, 0xc040);
  c.write(0x20, 4, 0xfe000000);
  c.write(0x24, 4, 0);
  deepStrictEqual(t.notifyAddresses(1), { port: null, mmio: null }, "decoding is off");
  c.write(0x04, 2, 0x0003);
  deepStrictEqual(t.notifyAddresses(0), { port: 0xc050, mmio: 0xfe003000 });
  deepStrictEqual(t.notifyAddresses(1), { port: 0xc050, mmio: 0xfe003004 });
  c.write(0x04, 2, 0x0002);
  deepStrictEqual(t.notifyAddresses(1), { port: null, mmio: 0xfe003004 });
});

Deno.test("the capability list describes the modern structures in BAR4", () => {
  const { t } = setup();
  const check = () => {
    const caps = findVirtioCaps(t.config);
    const of = (type: number) => caps.get(type)!;
    deepStrictEqual([of(VIRTIO_PCI_CAP.commonCfg).bar, of(VIRTIO_PCI_CAP.commonCfg).offset], [
      4,
      M.common,
    ]);
    deepStrictEqual([of(VIRTIO_PCI_CAP.isrCfg).bar, of(VIRTIO_PCI_CAP.isrCfg).offset], [4, M.isr]);
    deepStrictEqual([of(VIRTIO_PCI_CAP.deviceCfg).offset, of(VIRTIO_PCI_CAP.deviceCfg).length], [
      M.device,
      0x1000,
    ]);
    const notify = of(VIRTIO_PCI_CAP.notifyCfg);
    deepStrictEqual([notify.bar, notify.offset, notify.multiplier], [4, M.notify, 4]);
    strictEqual(t.config.read(notify.at + 2, 1), 20); // cap_len includes the multiplier
    strictEqual(caps.has(VIRTIO_PCI_CAP.pciCfg), true);
  };
  check();
  t.reset(); // the base configuration space reset must not lose the chain
  check();
});

Deno.test("legacy interface: features, PFN, notify, ISR read-to-clear, reset", () => {
  const s = setup();
  const { io, irq, t, memory } = s;
  strictEqual(io.read(L.hostFeatures, 4), Number(t.deviceFeatures & 0xffffffffn));
  strictEqual(BigInt(io.read(L.hostFeatures, 4)) & VIRTIO_F_VERSION_1, 0n);
  io.write(L.status, 1, ACK_DRIVER);
  io.write(L.guestFeatures, 4, 0xffffffff); // unoffered bits are dropped
  strictEqual(
    io.read(L.guestFeatures, 4),
    Number(DEVICE_BIT | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX),
  );
  io.write(L.queueSelect, 2, 1);
  strictEqual(io.read(L.queueSize, 2), 8);
  io.write(L.queueSelect, 2, 7);
  strictEqual(io.read(L.queueSize, 2), 0); // no such queue
  io.write(L.queueSelect, 2, 0);
  strictEqual(io.read(L.queueSize, 2), 16);
  io.write(L.queuePfn, 4, 0x10);
  strictEqual(io.read(L.queuePfn, 4), 0x10);
  strictEqual(t.mode, "legacy");
  const ring = DriverRing.legacy(memory, 16, 0x10);
  memory.write(0x8000, new Uint8Array([0xaa, 0xbb]));
  ring.publish(ring.chain([{ addr: 0x8000, len: 2 }, { addr: 0x9000, len: 2, write: true }]));
  // Legacy drivers may kick before DRIVER_OK.
  io.write(L.queueNotify, 2, 0);
  deepStrictEqual([...memory.read(0x9000, 2)], [0xaa, 0xbb]);
  deepStrictEqual(ring.usedElem(0), { id: 0, len: 2 });
  strictEqual(irq.level, true);
  strictEqual(t.config.read(0x06, 1) & 0x08, 0x08); // PCI status: interrupt pending
  strictEqual(io.read(L.isr, 1), 1);
  strictEqual(irq.level, false);
  strictEqual(io.read(L.isr, 1), 0);
  strictEqual(io.read(L.config + 2, 2), 0x0403); // device config after the registers
  strictEqual(io.read(L.config + 7, 2), 0xffff); // past the config: unimplemented
  io.write(L.status, 1, 0);
  strictEqual(io.read(L.status, 1), 0);
  strictEqual(io.read(L.queuePfn, 4), 0);
  strictEqual(t.mode, null);
  strictEqual(s.model.resets, 1);
});

Deno.test("modern interface: 32-bit feature windows and FEATURES_OK checks", () => {
  const { mmio, t } = setup();
  mmio.write(C.deviceFeatureSelect, 4, 0);
  strictEqual(mmio.read(C.deviceFeature, 4), Number(t.deviceFeatures & 0xffffffffn));
  mmio.write(C.deviceFeatureSelect, 4, 1);
  strictEqual(mmio.read(C.deviceFeature, 4), 1); // VERSION_1 is bit 32
  mmio.write(C.deviceFeatureSelect, 4, 2);
  strictEqual(mmio.read(C.deviceFeature, 4), 0);
  mmio.write(C.deviceStatus, 1, ACK_DRIVER);
  // Without VERSION_1 the device refuses FEATURES_OK.
  mmio.write(C.driverFeatureSelect, 4, 0);
  mmio.write(C.driverFeature, 4, Number(DEVICE_BIT));
  mmio.write(C.deviceStatus, 1, ACK_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  strictEqual(mmio.read(C.deviceStatus, 1), ACK_DRIVER);
  // Unoffered bits are refused too.
  mmio.write(C.driverFeature, 4, Number(DEVICE_BIT) | 1);
  mmio.write(C.driverFeatureSelect, 4, 1);
  mmio.write(C.driverFeature, 4, 1);
  mmio.write(C.deviceStatus, 1, ACK_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  strictEqual(mmio.read(C.deviceStatus, 1), ACK_DRIVER);
  mmio.write(C.driverFeatureSelect, 4, 0);
  mmio.write(C.driverFeature, 4, Number(DEVICE_BIT | VIRTIO_F_EVENT_IDX));
  mmio.write(C.deviceStatus, 1, ACK_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  strictEqual(mmio.read(C.deviceStatus, 1), ACK_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  strictEqual(t.driverFeatures, DEVICE_BIT | VIRTIO_F_EVENT_IDX | VIRTIO_F_VERSION_1);
  strictEqual(t.queues[0].eventIdx, true);
  strictEqual(t.queues[0].indirect, false);
  // Frozen after FEATURES_OK.
  mmio.write(C.driverFeature, 4, 0);
  strictEqual(mmio.read(C.driverFeature, 4), Number(DEVICE_BIT | VIRTIO_F_EVENT_IDX));
  strictEqual(t.mode, "modern");
});

Deno.test("modern interface: queue configuration, notify and ISR", () => {
  const s = setup();
  const { mmio, irq, memory, t } = s;
  strictEqual(mmio.read(C.numQueues, 2), 2);
  strictEqual(mmio.read(C.msixConfig, 2), VIRTIO_MSI_NO_VECTOR);
  mmio.write(C.queueSelect, 2, 1);
  strictEqual(mmio.read(C.queueSize, 2), 8);
  strictEqual(mmio.read(C.queueNotifyOff, 2), 1);
  strictEqual(mmio.read(C.queueMsixVector, 2), VIRTIO_MSI_NO_VECTOR);
  mmio.write(C.queueSize, 2, 6); // not a power of two
  strictEqual(mmio.read(C.queueSize, 2), 8);
  mmio.write(C.queueSize, 2, 16); // above the maximum
  strictEqual(mmio.read(C.queueSize, 2), 8);
  mmio.write(C.queueSize, 2, 4);
  strictEqual(mmio.read(C.queueSize, 2), 4);
  mmio.write(C.queueDesc + 4, 4, 0x1);
  mmio.write(C.queueDesc, 4, 0x2000);
  strictEqual(t.queues[1].descAddr, 0x1_0000_2000);
  strictEqual(mmio.read(C.queueDesc + 4, 4), 1);
  strictEqual(mmio.read(C.queueDesc, 2), 0x2000); // narrower reads of a field work
  mmio.write(C.queueSelect, 2, 9);
  strictEqual(mmio.read(C.queueSize, 2), 0);

  const ring = modernUp(s);
  strictEqual(mmio.read(C.queueEnable, 2), 1);
  mmio.write(C.queueSize, 2, 2); // frozen once enabled
  strictEqual(mmio.read(C.queueSize, 2), 16);
  memory.write(0x8000, new Uint8Array([5, 6, 7]));
  ring.publish(ring.chain([{ addr: 0x8000, len: 3 }, { addr: 0x9000, len: 3, write: true }]));
  mmio.write(M.notify + 0 * 4, 2, 0);
  deepStrictEqual([...memory.read(0x9000, 3)], [5, 6, 7]);
  strictEqual(irq.level, true);
  strictEqual(mmio.read(M.isr, 1), 1);
  strictEqual(irq.level, false);
  strictEqual(mmio.read(M.device + 4, 4), 0x08070605);
  mmio.write(M.device + 1, 1, 0x55);
  deepStrictEqual(s.model.configWrites, [[1, 1, 0x55]]);
});

Deno.test("modern interface: no processing before DRIVER_OK", () => {
  const s = setup();
  const ring = new DriverRing(s.memory, 16, 0x1000, 0x2000, 0x3000);
  s.mmio.write(C.deviceStatus, 1, ACK_DRIVER);
  s.mmio.write(C.queueDesc, 4, 0x1000);
  s.mmio.write(C.queueDriver, 4, 0x2000);
  s.mmio.write(C.queueDevice, 4, 0x3000);
  s.mmio.write(C.queueEnable, 2, 1);
  ring.publish(ring.chain([{ addr: 0x8000, len: 1 }]));
  s.mmio.write(M.notify, 2, 0);
  strictEqual(ring.usedIdx, 0);
  strictEqual(s.irq.level, false);
});

Deno.test("a malformed chain sets DEVICE_NEEDS_RESET and a config interrupt", () => {
  const s = setup();
  const ring = modernUp(s);
  ring.writeDesc(0x1000, 0, 0x8000, 4, VIRTQ_DESC_F_NEXT, 1);
  ring.writeDesc(0x1000, 1, 0x8000, 4, VIRTQ_DESC_F_NEXT, 0);
  ring.publish(0);
  s.mmio.write(M.notify, 2, 0);
  const status = s.mmio.read(C.deviceStatus, 1);
  strictEqual(status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  strictEqual(s.irq.level, true);
  strictEqual(s.mmio.read(M.isr, 1), 2);
  strictEqual(typeof s.t.broken, "string");
  // The driver cannot clear the bit; further kicks are ignored.
  s.mmio.write(C.deviceStatus, 1, status & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  strictEqual(s.mmio.read(C.deviceStatus, 1), status);
  ring.publish(ring.chain([{ addr: 0x8000, len: 1 }]));
  s.mmio.write(M.notify, 2, 0);
  strictEqual(ring.usedIdx, 0);
  s.mmio.write(C.deviceStatus, 1, 0);
  strictEqual(s.mmio.read(C.deviceStatus, 1), 0);
  strictEqual(s.t.broken, null);
});

Deno.test("out-of-RAM rings break the device instead of crashing; other errors propagate", () => {
  const s = setup();
  modernUp(s);
  s.t.queues[0].driverAddr = 1 << 30;
  s.mmio.write(M.notify, 2, 0);
  strictEqual(s.t.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DEVICE_NEEDS_RESET);

  const other = setup();
  modernUp(other);
  other.model.processQueue = () => {
    throw new TypeError("device bug");
  };
  throws(() => other.mmio.write(M.notify, 2, 0), TypeError);
});

Deno.test("INTx disable in the command register masks the line", () => {
  const { t, irq } = setup();
  t.signalUsed();
  strictEqual(irq.level, true);
  t.config.write(0x04, 2, 0x400);
  strictEqual(irq.level, false);
  strictEqual(t.config.read(0x06, 1) & 0x08, 0x08); // still pending
  t.config.write(0x04, 2, 0);
  strictEqual(irq.level, true);
});

Deno.test("the PCI configuration access capability reaches BAR4 registers", () => {
  const { t, irq } = setup();
  const cap = findVirtioCaps(t.config).get(VIRTIO_PCI_CAP.pciCfg)!;
  const c = t.config;
  const access = (offset: number, length: number) => {
    c.write(cap.at + 4, 1, 4);
    c.write(cap.at + 8, 4, offset);
    c.write(cap.at + 12, 4, length);
  };
  access(M.common + C.deviceStatus, 1);
  c.write(cap.at + 16, 1, VIRTIO_STATUS_ACKNOWLEDGE);
  strictEqual(t.status, VIRTIO_STATUS_ACKNOWLEDGE);
  access(M.common + C.deviceFeatureSelect, 4);
  c.write(cap.at + 16, 4, 1);
  access(M.common + C.deviceFeature, 4);
  strictEqual(c.read(cap.at + 16, 4), 1);
  t.signalConfigChange();
  access(M.isr, 1);
  strictEqual(c.read(cap.at + 16, 1), 2);
  strictEqual(irq.level, false); // reading ISR through the window clears it
  access(M.common + 1, 2); // misaligned: ignored
  c.write(cap.at + 16, 4, 0);
  strictEqual(c.read(cap.at + 16, 4), 0);
});

Deno.test("PCI reset clears the transport and the configuration space", () => {
  const s = setup();
  modernUp(s);
  s.t.signalUsed();
  s.t.config.write(0x04, 2, 0x7);
  s.t.reset();
  strictEqual(s.t.status, 0);
  strictEqual(s.t.config.read(0x04, 2), 0);
  strictEqual(s.irq.level, false);
  strictEqual(s.t.queues[0].ready, false);
  strictEqual(s.t.driverFeatures, 0n);
  const state = s.t.snapshot();
  deepStrictEqual([state.status, state.queues.map((q) => q.ready)], [0, [false, false]]);
});

Deno.test("transport: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  const seen = new Set<string>();
  for (let seed = 1; seed <= 40; seed++) {
    const next = prng(seed);
    const a = setup();
    const features = [0n, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX | DEVICE_BIT][next(3)];
    const driver = new RandomVirtioDriver(next, [16, 8], features, (n) => ({
      readable: [new Uint8Array(1 + n(32)).map(() => n(256))],
      writable: [1 + n(40)],
    }));
    runVirtioOps(a.t, a.memory, a.irq, driver.bringUp());
    runVirtioOps(a.t, a.memory, a.irq, driver.ops(20 + next(120)));
    const saved = a.t.snapshot();
    if (saved.queues.some((q) => q.usedIdx > 0)) seen.add("processed");
    if (saved.queues.some((q) => hasPendingRequests(q, a.memory))) {
      seen.add("available, not processed");
    }
    if (saved.isr) seen.add("isr pending");
    if (saved.broken) seen.add("broken");

    const b = setup();
    b.memory.bytes.set(a.memory.bytes);
    b.t.restore(structuredClone(saved));
    deepStrictEqual(b.t.snapshot(), saved);
    strictEqual(b.irq.level, a.irq.level);
    strictEqual(b.t.config.read(0x06, 1), a.t.config.read(0x06, 1));
    const more = driver.ops(150);
    deepStrictEqual(
      runVirtioOps(b.t, b.memory, b.irq, more),
      runVirtioOps(a.t, a.memory, a.irq, more),
    );
    deepStrictEqual(b.t.snapshot(), a.t.snapshot());
    ok(b.memory.bytes.every((v, i) => v === a.memory.bytes[i]), `seed ${seed}: memory differs`);
  }
  deepStrictEqual([...seen].sort(), [
    "available, not processed",
    "broken",
    "isr pending",
    "processed",
  ]);
});

Deno.test("transport: restore refuses malformed states and changes nothing", () => {
  const s = setup();
  modernUp(s);
  const good = s.t.snapshot();
  const fresh = setup();
  const before = fresh.t.snapshot();
  for (
    const bad of [
      { ...good, version: 2 },
      { ...good, interface: "pci" },
      { ...good, driverFeatures: "12" },
      { ...good, isr: 4 },
      { ...good, queues: good.queues.slice(0, 1) },
      { ...good, queues: [{ ...good.queues[0], size: 12 }, good.queues[1]] },
      { ...good, queues: [good.queues[0], { ...good.queues[1], size: 16 }] }, // above its maximum
      { ...good, config: { ...good.config, bytes: new Uint8Array(16) } },
    ]
  ) throws(() => fresh.t.restore(bad as VirtioPciState), StateError);
  deepStrictEqual(fresh.t.snapshot(), before);
  strictEqual(fresh.irq.history.length, 0);
});
