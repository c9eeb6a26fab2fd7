import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { VIRTIO_LEGACY as L } from "../virtio/virtio_pci.ts";
import { DriverRing } from "../virtio/test_support.ts";
import { VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_TX, VirtioNet } from "./virtio_net.ts";
import { LEASE, QueueLease } from "./virtio_net_rx.ts";
import { drainTx } from "./virtio_net_tx.ts";
import { virtioNetLegacyUp } from "./virtio_net_test_support.ts";
import { nicRig } from "./test_support.ts";

const setup = () => nicRig((options) => new VirtioNet(options));
type Setup = ReturnType<typeof setup>;

/** Legacy bring-up with RX at PFN 0x10 and TX at PFN 0x30; the TX ring. */
function up(s: Setup, features: bigint): DriverRing {
  return virtioNetLegacyUp(s, features).tx;
}

function frame(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 37 + seed) & 0xff);
}

/** Queues `payload` behind a zero header of `header` bytes, split over two buffers at `at`. */
function queueFrame(s: Setup, tx: DriverRing, at: number, header: number, payload: Uint8Array) {
  s.memory.write(at, new Uint8Array(header));
  s.memory.write(at + header, payload.subarray(0, 20));
  s.memory.write(at + 0x800, payload.subarray(20));
  tx.publish(tx.chain([
    { addr: at, len: header + 20 },
    { addr: at + 0x800, len: payload.length - 20 },
  ]));
}

/** Lends `s`'s transmit queue (it must be running) and drains it as the network worker does. */
function lendAndDrain(s: Setup) {
  const lease = new QueueLease(QueueLease.create());
  ok(s.nic.lendTx(lease));
  const out: Uint8Array[] = [];
  const done = lease.borrow(
    s.memory,
    (queue, layout, counters) => drainTx(queue, layout.header, counters, out),
  );
  return { lease, out, done };
}

for (const features of [0n, VIRTIO_NET_F_MRG_RXBUF]) {
  const name = features ? "12-byte header" : "legacy header";
  Deno.test(`virtio-net TX lease (${name}): a drained queue leaves the device as a notify would`, () => {
    const header = features ? 12 : 10;
    const direct = setup();
    const leased = setup();
    const txd = up(direct, features);
    const txl = up(leased, features);
    const frames = [frame(60, 1), frame(1000, 2), frame(300, 3)];
    frames.forEach((f, i) => {
      queueFrame(direct, txd, 0x40000 + 0x1000 * i, header, f);
      queueFrame(leased, txl, 0x40000 + 0x1000 * i, header, f);
    });
    direct.nic.legacyIo.write(L.queueNotify, 2, VIRTIO_NET_TX);
    const { lease, out, done } = lendAndDrain(leased);
    deepStrictEqual(done, { result: true, interrupt: true });
    deepStrictEqual(out, frames);
    strictEqual(txl.usedIdx, 3, "the buffers went back while lent");
    strictEqual(leased.sent.length, 0, "the frames go where the borrower sends them");
    strictEqual(leased.irq.level, false, "the borrower raises no interrupt itself");
    leased.nic.reclaimTx(lease);
    strictEqual(lease.state, LEASE.OWNED);
    strictEqual(leased.irq.level, true, "the owner raises the interrupt the driver wants");
    deepStrictEqual(direct.sent, frames);
    deepStrictEqual(leased.nic.snapshot(), direct.nic.snapshot());
    // The device carries on from where the borrower left off.
    const last = frame(100, 4);
    queueFrame(leased, txl, 0x48000, header, last);
    leased.nic.legacyIo.write(L.queueNotify, 2, VIRTIO_NET_TX);
    deepStrictEqual(leased.sent, [last]);
    strictEqual(txl.usedIdx, 4);
  });
}

Deno.test("virtio-net TX lease: a malformed chain stops the borrower and is left to the device", () => {
  const s = setup();
  const tx = up(s, 0n);
  const good = frame(80, 9);
  queueFrame(s, tx, 0x40000, 10, good);
  // A chain whose head points past the descriptor table.
  tx.publish(0xfff);
  const { lease, out, done } = lendAndDrain(s);
  strictEqual(done?.result, false);
  deepStrictEqual(out, [good], "the chain before it went out");
  strictEqual(tx.usedIdx, 1);
  s.nic.reclaimTx(lease);
  s.nic.legacyIo.write(L.queueNotify, 2, VIRTIO_NET_TX);
  ok(s.nic.transport.broken !== null, "the device marks itself broken when it looks");
  deepStrictEqual(s.sent, [], "and does not send the good frame again");
});

Deno.test("virtio-net TX lease: nothing is lent before DRIVER_OK", () => {
  const s = setup();
  const lease = new QueueLease(QueueLease.create());
  strictEqual(s.nic.lendTx(lease), false);
  strictEqual(lease.state, LEASE.OWNED);
});
