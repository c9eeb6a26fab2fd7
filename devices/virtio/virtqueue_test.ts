import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { GuestMemoryError, StateError } from "../types.ts";
import {
  SplitVirtqueue,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_USED_F_NO_NOTIFY,
  VirtqueueError,
  type VirtqueueState,
} from "./virtqueue.ts";
import { ArrayMemory, DriverRing, prng } from "./test_support.ts";

const SIZE = 8;

function setup(): { memory: ArrayMemory; q: SplitVirtqueue; ring: DriverRing } {
  const memory = new ArrayMemory(1 << 20);
  const q = new SplitVirtqueue(memory, SIZE);
  q.descAddr = 0x1000;
  q.driverAddr = 0x2000;
  q.deviceAddr = 0x3000;
  q.ready = true;
  return { memory, q, ring: new DriverRing(memory, SIZE, 0x1000, 0x2000, 0x3000) };
}

Deno.test("legacy PFN: avail follows the table, used starts on the next 4096 boundary", () => {
  const memory = new ArrayMemory(1 << 20);
  const big = new SplitVirtqueue(memory, 256);
  big.setLegacyPfn(0x10);
  deepStrictEqual([big.descAddr, big.driverAddr, big.deviceAddr], [0x10000, 0x11000, 0x12000]);
  strictEqual(big.legacyPfn, 0x10);
  const small = new SplitVirtqueue(memory, 8);
  small.setLegacyPfn(0x20);
  deepStrictEqual([small.descAddr, small.driverAddr, small.deviceAddr], [
    0x20000,
    0x20080,
    0x21000,
  ]);
  small.setLegacyPfn(0);
  strictEqual(small.ready, false);
  strictEqual(small.legacyPfn, 0);
});

Deno.test("pop returns the chain as views in order; push fills the used ring", () => {
  const { memory, q, ring } = setup();
  memory.write(0x8000, new TextEncoder().encode("hello"));
  memory.write(0x8100, new Uint8Array([1, 2, 3]));
  const head = ring.chain([
    { addr: 0x8000, len: 5 },
    { addr: 0x8100, len: 3 },
    { addr: 0x9000, len: 0, write: true },
    { addr: 0x9000, len: 4, write: true },
  ]);
  ring.publish(head);
  strictEqual(q.pending(), 1);
  const chain = q.pop()!;
  strictEqual(chain.head, head);
  strictEqual(chain.readableLength, 8);
  strictEqual(chain.writableLength, 4);
  strictEqual(chain.writable.length, 1); // the zero-length buffer is dropped
  strictEqual(new TextDecoder().decode(chain.readable[0]), "hello");
  deepStrictEqual([...chain.readable[1]], [1, 2, 3]);
  chain.writable[0].set([9, 8, 7, 6]);
  deepStrictEqual([...memory.read(0x9000, 4)], [9, 8, 7, 6]);
  strictEqual(q.pop(), null);
  q.push(chain.head, 4);
  strictEqual(ring.usedIdx, 1);
  deepStrictEqual(ring.usedElem(0), { id: head, len: 4 });
  strictEqual(q.lastAvailIdx, 1);
  strictEqual(q.usedIdx, 1);
});

Deno.test("drain: NO_NOTIFY while draining, interrupts unless NO_INTERRUPT", () => {
  const { q, ring } = setup();
  ring.publish(ring.chain([{ addr: 0x8000, len: 4 }, { addr: 0x9000, len: 2, write: true }]));
  const flagsSeen: number[] = [];
  strictEqual(
    q.drain((chain) => {
      flagsSeen.push(ring.usedFlags);
      return chain.writableLength;
    }),
    true,
  );
  deepStrictEqual(flagsSeen, [VIRTQ_USED_F_NO_NOTIFY]);
  strictEqual(ring.usedFlags, 0);
  deepStrictEqual(ring.usedElem(0).len, 2);
  ring.availFlags = VIRTQ_AVAIL_F_NO_INTERRUPT;
  ring.publish(ring.chain([{ addr: 0x8000, len: 4 }]));
  strictEqual(q.drain(() => 0), false);
  strictEqual(ring.usedIdx, 2);
  strictEqual(q.drain(() => 0), false); // nothing used: never an interrupt
});

Deno.test("EVENT_IDX: interrupt only when the used index passes used_event", () => {
  const { q, ring } = setup();
  q.eventIdx = true;
  ring.availFlags = VIRTQ_AVAIL_F_NO_INTERRUPT; // ignored with EVENT_IDX
  ring.usedEvent = 2; // interrupt once entry 2 is used
  ring.publish(ring.chain([{ addr: 0x8000, len: 1 }]));
  ring.publish(ring.chain([{ addr: 0x8000, len: 1 }]));
  strictEqual(q.drain(() => 0), false); // used 0 -> 2 has not passed 2
  strictEqual(ring.availEvent, 2); // device asks to be notified at the next index
  ring.publish(ring.chain([{ addr: 0x8000, len: 1 }]));
  strictEqual(q.drain(() => 0), true); // used 2 -> 3 passed 2
  strictEqual(ring.availEvent, 3);
  strictEqual(ring.usedFlags, 0); // NO_NOTIFY is not used with EVENT_IDX
});

Deno.test("indirect tables, alone or after normal descriptors", () => {
  const { memory, q, ring } = setup();
  const buffers = [
    { addr: 0x8000, len: 16 },
    { addr: 0x9000, len: 512, write: true },
    { addr: 0x9200, len: 1, write: true },
  ];
  const head = ring.indirect(0x5000, buffers);
  ring.publish(head);
  throws(() => q.pop(), VirtqueueError); // not negotiated
  q.reset();
  Object.assign(q, { descAddr: 0x1000, driverAddr: 0x2000, deviceAddr: 0x3000, ready: true });
  q.indirect = true;
  const chain = q.pop()!;
  strictEqual(chain.head, head);
  deepStrictEqual([chain.readableLength, chain.writableLength], [16, 513]);
  // Normal descriptor 4 (header) chained to descriptor 5, which is an indirect table.
  ring.writeDesc(0x1000, 4, 0x8000, 16, VIRTQ_DESC_F_NEXT, 5);
  ring.writeDesc(0x1000, 5, 0x6000, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
  ring.writeDesc(0x6000, 0, 0x9000, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  ring.writeDesc(0x6000, 1, 0x9100, 1, VIRTQ_DESC_F_WRITE, 0);
  ring.publish(4);
  const mixed = q.pop()!;
  deepStrictEqual([mixed.head, mixed.readableLength, mixed.writableLength], [4, 16, 9]);
  strictEqual(memory.readU16(0x2002), 2);
});

Deno.test("malformed indirect descriptors are refused", () => {
  const cases: [string, (ring: DriverRing) => void][] = [
    ["INDIRECT with NEXT", (r) => r.writeDesc(0x1000, 0, 0x5000, 16, 5, 1)],
    ["length not a multiple of 16", (r) => r.writeDesc(0x1000, 0, 0x5000, 24, 4, 0)],
    ["zero length", (r) => r.writeDesc(0x1000, 0, 0x5000, 0, 4, 0)],
    ["too large", (r) => r.writeDesc(0x1000, 0, 0x5000, 16 * 2048, 4, 0)],
    ["nested", (r) => {
      r.writeDesc(0x1000, 0, 0x5000, 16, 4, 0);
      r.writeDesc(0x5000, 0, 0x6000, 16, 4, 0);
    }],
  ];
  for (const [name, build] of cases) {
    const { q, ring } = setup();
    q.indirect = true;
    build(ring);
    ring.publish(0);
    throws(() => q.pop(), VirtqueueError, name);
  }
});

Deno.test("a descriptor loop throws instead of hanging, in the ring and in an indirect table", () => {
  const { q, ring } = setup();
  ring.writeDesc(0x1000, 0, 0x8000, 4, VIRTQ_DESC_F_NEXT, 1);
  ring.writeDesc(0x1000, 1, 0x8000, 4, VIRTQ_DESC_F_NEXT, 0);
  ring.publish(0);
  throws(() => q.pop(), /loops/);

  const second = setup();
  second.q.indirect = true;
  second.ring.writeDesc(0x1000, 0, 0x5000, 48, VIRTQ_DESC_F_INDIRECT, 0);
  second.ring.writeDesc(0x5000, 0, 0x8000, 4, VIRTQ_DESC_F_NEXT, 1);
  second.ring.writeDesc(0x5000, 1, 0x8000, 4, VIRTQ_DESC_F_NEXT, 2);
  second.ring.writeDesc(0x5000, 2, 0x8000, 4, VIRTQ_DESC_F_NEXT, 0);
  second.ring.publish(0);
  throws(() => second.q.pop(), /loops/);
});

Deno.test("out-of-range indices and addresses throw", () => {
  const nextOut = setup();
  nextOut.ring.writeDesc(0x1000, 0, 0x8000, 4, VIRTQ_DESC_F_NEXT, SIZE);
  nextOut.ring.publish(0);
  throws(() => nextOut.q.pop(), VirtqueueError);

  const headOut = setup();
  headOut.ring.publish(SIZE + 3);
  throws(() => headOut.q.pop(), VirtqueueError);

  const bufferOut = setup();
  bufferOut.ring.publish(bufferOut.ring.chain([{ addr: (1 << 20) - 2, len: 4 }]));
  throws(() => bufferOut.q.pop(), GuestMemoryError);

  const hugeAddr = setup();
  hugeAddr.memory.writeU32(0x1000 + 4, 0xffffffff); // high half of descriptor 0's address
  hugeAddr.memory.writeU32(0x1000 + 8, 4);
  hugeAddr.ring.publish(0);
  throws(() => hugeAddr.q.pop(), VirtqueueError);

  const availJump = setup();
  availJump.memory.writeU16(0x2002, SIZE + 1);
  throws(() => availJump.q.pop(), /available index moved/);

  const ringOut = setup();
  ringOut.q.driverAddr = 1 << 21;
  throws(() => ringOut.q.pop(), GuestMemoryError);
});

Deno.test("a readable buffer after a writable one is refused", () => {
  const { q, ring } = setup();
  ring.publish(ring.chain([{ addr: 0x9000, len: 1, write: true }, { addr: 0x8000, len: 4 }]));
  throws(() => q.pop(), /readable buffer after a writable/);
});

Deno.test("reset returns to the unconfigured state", () => {
  const { q, ring } = setup();
  q.size = 4;
  ring.publish(ring.chain([{ addr: 0x8000, len: 1 }]));
  q.drain(() => 0);
  q.reset();
  deepStrictEqual(q.snapshot(), {
    version: 1,
    size: SIZE,
    ready: false,
    descAddr: 0,
    driverAddr: 0,
    deviceAddr: 0,
    lastAvailIdx: 0,
    usedIdx: 0,
  });
  strictEqual(q.pop(), null);
});

Deno.test("snapshot -> restore -> snapshot is the identity, with chains pending and processed", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const next = prng(seed);
    const a = setup();
    const publish = (n: number) => {
      for (let i = 0; i < n; i++) {
        a.ring.publish(a.ring.chain([{ addr: 0x8000 + 16 * i, len: 1 + next(8) }, {
          addr: 0x9000 + 16 * i,
          len: 4,
          write: true,
        }]));
      }
    };
    publish(1 + next(4));
    for (let i = next(3); i > 0; i--) {
      const chain = a.q.pop();
      if (chain) a.q.push(chain.head, next(5));
    }
    publish(next(3)); // available, not taken yet
    const saved = a.q.snapshot();
    const b = new SplitVirtqueue(new ArrayMemory(a.memory.bytes.slice()), SIZE);
    b.restore(saved);
    deepStrictEqual(b.snapshot(), saved);
    strictEqual(b.pending(), a.q.pending());
    // Both drain what is left the same way and publish the same used entries.
    const handle = (chain: { readableLength: number }) => chain.readableLength;
    strictEqual(b.drain(handle), a.q.drain(handle));
    deepStrictEqual(b.snapshot(), a.q.snapshot());
    deepStrictEqual(
      (b.memory as ArrayMemory).bytes.subarray(0x3000, 0x3100),
      a.memory.bytes.subarray(0x3000, 0x3100),
    );
  }
  const { q } = setup();
  const good = q.snapshot();
  for (
    const bad of [
      { ...good, size: 16 },
      { ...good, size: 6 },
      { ...good, usedIdx: 0x10000 },
      { ...good, descAddr: -1 },
      { ...good, version: 0 },
    ]
  ) throws(() => q.restore(bad as VirtqueueState), StateError);
});
