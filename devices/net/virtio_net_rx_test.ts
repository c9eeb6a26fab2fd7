import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { VIRTIO_LEGACY as L } from "../virtio/virtio_pci.ts";
import { DriverRing } from "../virtio/test_support.ts";
import { VIRTIO_NET_F_MRG_RXBUF, VirtioNet } from "./virtio_net.ts";
import { fillRx, LEASE, QueueLease } from "./virtio_net_rx.ts";
import { virtioNetLegacyUp } from "./virtio_net_test_support.ts";
import { nicRig } from "./test_support.ts";

const setup = () => nicRig((options) => new VirtioNet(options));
type Setup = ReturnType<typeof setup>;

/** Legacy bring-up with RX at PFN 0x10 and TX at PFN 0x30; `buffers` RX buffers of 2 KiB posted. */
function up(s: Setup, features: bigint, buffers: number): DriverRing {
  const { rx } = virtioNetLegacyUp(s, features);
  for (let i = 0; i < buffers; i++) {
    rx.publish(rx.chain([{ addr: 0x80000 + 0x800 * i, len: 0x800, write: true }]));
  }
  return rx;
}

function frame(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 29 + seed) & 0xff);
}

/** What the borrower (the network worker) does: frames into the lent queue until it is full. */
function borrowAll(s: Setup, lease: QueueLease, frames: Uint8Array[]) {
  return lease.borrow(s.memory, (queue, layout, counters) => {
    let n = 0;
    while (n < frames.length && fillRx(queue, frames[n], layout, counters)) n++;
    return n;
  });
}

for (const features of [0n, VIRTIO_NET_F_MRG_RXBUF]) {
  const name = features ? "mergeable buffers" : "legacy header";
  Deno.test(`virtio-net RX lease (${name}): frames through the lease leave the device as receive() would`, () => {
    const direct = setup();
    const leased = setup();
    up(direct, features, 4);
    const rx = up(leased, features, 4);
    const frames = [frame(60, 1), frame(1000, 2), frame(300, 3)];
    for (const f of frames) strictEqual(direct.nic.receive(f), true);
    const lease = new QueueLease(QueueLease.create());
    ok(leased.nic.lendRx(lease));
    strictEqual(lease.state, LEASE.LENT);
    const done = borrowAll(leased, lease, frames);
    deepStrictEqual(done, { result: 3, interrupt: true });
    strictEqual(rx.usedIdx, 3, "the guest sees the frames while lent");
    strictEqual(leased.irq.level, false, "the borrower raises no interrupt itself");
    leased.nic.reclaimRx(lease);
    strictEqual(lease.state, LEASE.OWNED);
    strictEqual(leased.irq.level, true, "the owner raises the interrupt the driver wants");
    deepStrictEqual(leased.nic.snapshot(), direct.nic.snapshot());
    deepStrictEqual(leased.memory.read(0x80000, 0x2000), direct.memory.read(0x80000, 0x2000));
    // The device carries on from where the borrower left off.
    const last = frame(100, 4);
    strictEqual(leased.nic.receive(last), true);
    strictEqual(direct.nic.receive(last), true);
    deepStrictEqual(leased.nic.snapshot(), direct.nic.snapshot());
    strictEqual(leased.nic.receive(frame(100, 5)), false, "all four buffers used");
  });
}

Deno.test("virtio-net RX lease: no interrupt asked while one is pending; a full queue stops the borrower", () => {
  const s = setup();
  const rx = up(s, 0n, 2);
  strictEqual(s.nic.receive(frame(80, 1)), true);
  strictEqual(s.irq.level, true, "ISR bit 0 set, line high");
  const lease = new QueueLease(QueueLease.create());
  ok(s.nic.lendRx(lease));
  deepStrictEqual(borrowAll(s, lease, [frame(80, 2), frame(80, 3)]), {
    result: 1,
    interrupt: false,
  });
  strictEqual(rx.usedIdx, 2);
  strictEqual(rx.usedFlags & 1, 0, "out of buffers: the driver is asked to notify");
  s.nic.reclaimRx(lease);
  strictEqual(s.nic.counters.rxPackets, 2);
  strictEqual(s.nic.legacyIo.read(L.isr, 1), 1, "reading the ISR clears it");
  strictEqual(s.irq.level, false);
  // With the interrupt no longer pending, a delivery on lease asks for it.
  rx.publish(rx.chain([{ addr: 0x90000, len: 0x800, write: true }]));
  ok(s.nic.lendRx(lease));
  deepStrictEqual(borrowAll(s, lease, [frame(80, 3)]), { result: 1, interrupt: true });
  s.nic.reclaimRx(lease);
  strictEqual(s.irq.level, true);
});

Deno.test("virtio-net RX lease: the driver's NO_INTERRUPT is honoured on lease", () => {
  const s = setup();
  const rx = up(s, 0n, 2);
  rx.availFlags = 1;
  const lease = new QueueLease(QueueLease.create());
  ok(s.nic.lendRx(lease));
  deepStrictEqual(borrowAll(s, lease, [frame(80, 1)]), { result: 1, interrupt: false });
  s.nic.reclaimRx(lease);
  strictEqual(s.irq.level, false);
  strictEqual(s.nic.counters.rxPackets, 1);
});

Deno.test("virtio-net RX lease: one holder at a time", () => {
  const s = setup();
  const lease = new QueueLease(QueueLease.create());
  strictEqual(s.nic.lendRx(lease), false, "not before the driver is up");
  strictEqual(lease.state, LEASE.OWNED);
  strictEqual(borrowAll(s, lease, [frame(60, 1)]), null, "nothing to borrow while owned");
  strictEqual(lease.reclaim(), null, "nothing to take back");
  up(s, 0n, 1);
  ok(s.nic.lendRx(lease));
  throws(() => s.nic.lendRx(lease), /out/, "lent twice");
  // A borrower that fails still returns the lease and accounts for its work.
  throws(() =>
    lease.borrow(s.memory, (queue, layout, counters) => {
      fillRx(queue, frame(60, 1), layout, counters);
      throw new Error("boom");
    }), /boom/);
  strictEqual(lease.state, LEASE.LENT);
  s.nic.reclaimRx(lease);
  strictEqual(s.nic.counters.rxPackets, 1);
  strictEqual(s.nic.receive(frame(60, 2)), false, "its one buffer was used on lease");
});

Deno.test("virtio-net RX lease: a reset after reclaim leaves nothing lent", () => {
  const s = setup();
  up(s, 0n, 1);
  const lease = new QueueLease(QueueLease.create());
  ok(s.nic.lendRx(lease));
  s.nic.reclaimRx(lease);
  s.nic.reset();
  strictEqual(s.nic.lendRx(lease), false);
  strictEqual(lease.state, LEASE.OWNED);
});

Deno.test("virtio-net RX lease: the owner's reclaim waits for a borrower at work on another thread", async () => {
  const lease = new QueueLease(QueueLease.create());
  const s = setup();
  up(s, 0n, 1);
  ok(s.nic.lendRx(lease));
  // [0] borrower started, [1] borrower finished its work
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const source = `
    import { QueueLease } from ${
    JSON.stringify(new URL("./virtio_net_rx.ts", import.meta.url).href)
  };
    self.onmessage = (ev) => {
      const lease = new QueueLease(ev.data.lease);
      const flags = new Int32Array(ev.data.flags);
      const memory = { view: () => new Uint8Array(0), readU16: () => 0, readU32: () => 0,
        writeU16: () => {}, writeU32: () => {} };
      const got = lease.borrow(memory, () => {
        Atomics.store(flags, 0, 1);
        Atomics.notify(flags, 0);
        Atomics.wait(flags, 1, 0, 200); // hold the lease a while
        Atomics.store(flags, 1, 1);
      });
      self.postMessage(got !== null);
    };`;
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    const answered = new Promise((r) => worker.onmessage = (e) => r(e.data));
    worker.postMessage({ lease: lease.buffer, flags: flags.buffer });
    // Wait (without blocking this thread's event loop for long) until the borrower holds it.
    while (Atomics.load(flags, 0) === 0) await new Promise((r) => setTimeout(r, 5));
    strictEqual(lease.state, LEASE.BUSY);
    s.nic.reclaimRx(lease);
    strictEqual(Atomics.load(flags, 1), 1, "reclaim returned only after the borrower finished");
    strictEqual(lease.state, LEASE.OWNED);
    strictEqual(await answered, true);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});
