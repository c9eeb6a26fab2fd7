import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import { VIRTIO_LEGACY as L } from "../virtio/virtio_pci.ts";
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC } from "../virtio/virtio_pci.ts";
import { type RandomRequest, RandomVirtioDriver, runVirtioOps } from "../virtio/test_support.ts";
import {
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_QUEUE_SIZE,
  VirtioNet,
} from "./virtio_net.ts";
import {
  assertSnapshotTwins,
  MAC,
  type NicRig,
  nicRig,
  savedAfterTraffic,
} from "./test_support.ts";
import { virtioNetLegacyUp } from "./virtio_net_test_support.ts";

const setup = (mac = MAC) => nicRig((options) => new VirtioNet(options), mac);

type Setup = NicRig<VirtioNet>;

function frame(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

Deno.test("virtio-net: legacy config space has the MAC and link up; features are honest", () => {
  const s = setup();
  const io = s.nic.legacyIo;
  const offered = BigInt(io.read(L.hostFeatures, 4));
  ok(offered & VIRTIO_NET_F_MAC);
  ok(offered & VIRTIO_NET_F_STATUS);
  ok(offered & VIRTIO_NET_F_MRG_RXBUF);
  strictEqual(offered & 1n, 0n, "no checksum offload offered");
  strictEqual(offered & (1n << 11n), 0n, "no TSO offered");
  // Legacy device config starts at 0x14 without MSI-X.
  deepStrictEqual(Array.from({ length: 6 }, (_, i) => io.read(0x14 + i, 1)), [...MAC]);
  strictEqual(io.read(0x14 + 6, 2), 1, "VIRTIO_NET_S_LINK_UP");
  strictEqual(s.nic.config.read(0x00, 4), 0x10001af4);
});

Deno.test("virtio-net: a transmitted chain reaches the sink without its header", () => {
  const s = setup();
  const { tx } = virtioNetLegacyUp(s, 0n);
  const payload = frame(90, 1);
  s.memory.write(0x40000, new Uint8Array(10));
  s.memory.write(0x40100, payload.subarray(0, 40));
  s.memory.write(0x40200, payload.subarray(40));
  tx.publish(tx.chain([
    { addr: 0x40000, len: 10 },
    { addr: 0x40100, len: 40 },
    { addr: 0x40200, len: 50 },
  ]));
  s.nic.legacyIo.write(L.queueNotify, 2, 1);
  deepStrictEqual(s.sent, [payload]);
  strictEqual(tx.usedIdx, 1);
  strictEqual(s.nic.counters.txPackets, 1);
  strictEqual(s.nic.counters.txBytes, 90);
  ok(s.irq.level, "the used buffer raised INTx");
  strictEqual(s.nic.legacyIo.read(L.isr, 1), 1);
  strictEqual(s.irq.level, false, "reading ISR lowers it");
});

Deno.test("virtio-net: receive fills a posted buffer (legacy header), pads, and waits when none", () => {
  const s = setup();
  const { rx } = virtioNetLegacyUp(s, 0n);
  strictEqual(s.nic.receive(frame(100, 2)), false, "no buffer posted yet");
  rx.publish(rx.chain([{ addr: 0x50000, len: 1600, write: true }]));
  s.nic.legacyIo.write(L.queueNotify, 2, 0);
  strictEqual(s.rxReadyCount(), 1, "posting buffers tells the board");
  strictEqual(s.nic.receive(frame(100, 2)), true);
  deepStrictEqual(rx.usedElem(0), { id: 0, len: 110 });
  deepStrictEqual(s.memory.bytes.subarray(0x50000, 0x5000a), new Uint8Array(10));
  deepStrictEqual(s.memory.bytes.subarray(0x5000a, 0x5000a + 100), frame(100, 2));
  // A runt is padded to 60 bytes, as on a wire.
  rx.publish(rx.chain([{ addr: 0x51000, len: 1600, write: true }]));
  strictEqual(s.nic.receive(frame(42, 3)), true);
  deepStrictEqual(rx.usedElem(1), { id: 1, len: 70 });
  strictEqual(s.nic.counters.rxPackets, 2);
  strictEqual(s.nic.counters.rxBytes, 142);
  strictEqual(s.nic.receive(frame(60, 4)), false, "the ring is empty again");
});

Deno.test("virtio-net: RX notifications are off while buffers remain and on once they run out", () => {
  const s = setup();
  const { rx } = virtioNetLegacyUp(s, 0n);
  strictEqual(rx.usedFlags & 1, 0, "notify while the device has nothing");
  rx.publish(rx.chain([{ addr: 0x50000, len: 1600, write: true }]));
  rx.publish(rx.chain([{ addr: 0x51000, len: 1600, write: true }]));
  strictEqual(s.nic.receive(frame(100, 1)), true);
  strictEqual(rx.usedFlags & 1, 1, "VRING_USED_F_NO_NOTIFY: a buffer is left");
  strictEqual(s.nic.receive(frame(100, 2)), true);
  strictEqual(s.nic.receive(frame(100, 3)), false, "no buffer left");
  strictEqual(rx.usedFlags & 1, 0, "the driver must say when it posts the next");
  // A buffer published without a notification (the flag was still set) is found.
  rx.publish(rx.chain([{ addr: 0x52000, len: 1600, write: true }]));
  strictEqual(s.nic.receive(frame(100, 3)), true);
  deepStrictEqual(rx.usedElem(2), { id: 2, len: 110 });
});

Deno.test("virtio-net: with MRG_RXBUF a frame spans buffers and num_buffers says how many", () => {
  const s = setup();
  const { rx } = virtioNetLegacyUp(s, VIRTIO_NET_F_MRG_RXBUF);
  for (let i = 0; i < 3; i++) {
    rx.publish(rx.chain([{ addr: 0x50000 + i * 0x1000, len: 512, write: true }]));
  }
  const f = frame(1000, 5);
  strictEqual(s.nic.receive(f), true);
  strictEqual(rx.usedIdx, 2);
  deepStrictEqual(rx.usedElem(0), { id: 0, len: 512 });
  deepStrictEqual(rx.usedElem(1), { id: 1, len: 1012 - 512 });
  strictEqual(s.memory.readU16(0x50000 + 10), 2, "num_buffers");
  deepStrictEqual(s.memory.bytes.subarray(0x5000c, 0x50200), f.subarray(0, 500));
  deepStrictEqual(s.memory.bytes.subarray(0x51000, 0x51000 + 500), f.subarray(500));
  // Without room for the whole frame it is truncated and counted as dropped.
  strictEqual(s.nic.receive(frame(1400, 6)), true);
  strictEqual(s.nic.counters.rxDropped, 1);
});

/** RX requests are writable buffers; TX requests a header and a frame. */
function randomRequest(next: (n: number) => number, queue: number): RandomRequest {
  if (queue === 0) return { readable: [], writable: [64 + next(449)] };
  const header = new Uint8Array(10 + 2 * next(2));
  return { readable: [header, frame(14 + next(480), next(256))], writable: [] };
}

/** Driver accesses interleaved with frames arriving from the network, as data. */
type Step = { ops: ReturnType<RandomVirtioDriver["ops"]>; frame: Uint8Array | null };

function steps(driver: RandomVirtioDriver, next: (n: number) => number, count: number): Step[] {
  return Array.from({ length: count }, () => ({
    ops: driver.ops(1 + next(6)),
    frame: next(3) === 0 ? frame(20 + next(1500), next(256)) : null,
  }));
}

/** Applies `list`; returns everything the driver read, the IRQ level and the frames sent. */
function apply(s: Setup, list: readonly Step[]): unknown[] {
  const seen: unknown[] = [];
  for (const step of list) {
    seen.push(runVirtioOps(s.nic, s.memory, s.irq, step.ops));
    if (step.frame) seen.push(s.nic.receive(step.frame), s.irq.level);
    seen.push(s.sent.splice(0).map((f) => [...f]));
  }
  return seen;
}

Deno.test("virtio-net: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  const saves = assertSnapshotTwins(30, () => setup(), (a, next) => {
    const features = [
      0n,
      VIRTIO_NET_F_MRG_RXBUF,
      VIRTIO_NET_F_MRG_RXBUF | VIRTIO_F_EVENT_IDX | VIRTIO_F_INDIRECT_DESC,
    ][next(3)];
    const driver = new RandomVirtioDriver(
      next,
      [VIRTIO_NET_QUEUE_SIZE, VIRTIO_NET_QUEUE_SIZE],
      features | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS,
      randomRequest,
    );
    runVirtioOps(a.nic, a.memory, a.irq, driver.bringUp());
    apply(a, steps(driver, next, 10 + next(40)));
    const more = steps(driver, next, 80);
    return (rig) => apply(rig, more);
  });
  const traffic = savedAfterTraffic(saves);
  ok(traffic > 10, `only ${traffic} seeds saved after traffic both ways`);
});

Deno.test("virtio-net: restore refuses another MAC, another version and malformed counters", () => {
  const s = setup();
  virtioNetLegacyUp(s, 0n);
  const saved = s.nic.snapshot();
  const other = setup(Uint8Array.of(0x52, 0x54, 0, 0, 0, 1));
  throws(() => other.nic.restore(saved), StateError);
  throws(() => s.nic.restore({ ...saved, version: 2 } as never), StateError);
  throws(() => s.nic.restore({ ...saved, counters: { rxPackets: -1 } } as never), StateError);
});
