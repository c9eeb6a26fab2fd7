import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import { ArrayGuestMemory } from "../testing/array_guest_memory.ts";
import { BM_ST_INTERRUPT, BusMaster, type BusMasterState } from "./bus_master.ts";
import { prng } from "./test_utils.ts";
import type { DmaRequest } from "./ide_drive.ts";

/** A device-to-memory transfer of `length` bytes counting up from 1. */
class FakeTransfer implements DmaRequest {
  moved = 0;
  failed = false;
  done = false;
  constructor(readonly length: number, readonly toMemory = true) {}
  get remaining(): number {
    return this.failed || this.done ? 0 : this.length - this.moved;
  }
  transfer(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) chunk[i] = (this.moved + i + 1) & 0xff;
    this.moved += chunk.length;
    if (this.moved === this.length) this.done = true;
  }
  fail(): void {
    this.failed = true;
  }
}

function setup(masterEnabled = () => true) {
  const memory = new ArrayGuestMemory(0x20000);
  const bm = new BusMaster({ memory, masterEnabled });
  let pending: FakeTransfer | null = null;
  bm.attach(0, { pendingDma: () => pending && pending.remaining > 0 ? pending : null });
  return {
    memory,
    bm,
    post(t: FakeTransfer) {
      pending = t;
      bm.kick(0);
    },
  };
}

function prd(memory: ArrayGuestMemory, table: number, entries: [number, number][]): void {
  entries.forEach(([addr, count], i) => {
    memory.writeU32(table + 8 * i, addr);
    memory.writeU32(
      table + 8 * i + 4,
      (count & 0xffff) | (i === entries.length - 1 ? 0x80000000 : 0),
    );
  });
}

Deno.test("bus master: register layout and write-one-to-clear status bits", () => {
  const { bm } = setup();
  bm.write(4, 4, 0x12345677);
  strictEqual(bm.read(4, 4), 0x12345674); // dword aligned
  bm.write(0x0c, 4, 0xfffffff0);
  strictEqual(bm.read(0x0c, 4), 0xfffffff0);
  strictEqual(bm.read(0x0d, 1), 0xff);
  bm.write(0, 1, 0xff);
  strictEqual(bm.read(0, 1), 0x09); // start and read/write control only
  strictEqual(bm.read(2, 1) & 0x01, 0x01); // active
  bm.write(2, 1, 0x60);
  strictEqual(bm.read(2, 1), 0x61); // drive DMA-capable bits are plain storage
  bm.interrupt(0);
  strictEqual(bm.read(2, 1) & 0x04, 0x04);
  bm.write(2, 1, 0x04 | 0x60);
  strictEqual(bm.read(2, 1) & 0x04, 0);
  bm.write(0, 1, 0x08);
  strictEqual(bm.read(2, 1) & 0x01, 0); // stopping clears active
  strictEqual(bm.read(8, 1), 0); // the secondary engine is untouched
  bm.reset();
  deepStrictEqual([bm.read(0, 4), bm.read(4, 4)], [0, 0]);
});

Deno.test("bus master: scatters a transfer over the PRD table and stops at its end", () => {
  const { memory, bm, post } = setup();
  prd(memory, 0x100, [[0x1000, 6], [0x3000, 10]]);
  bm.write(4, 4, 0x100);
  bm.write(0, 1, 0x09);
  const t = new FakeTransfer(16);
  post(t);
  strictEqual(t.done, true);
  deepStrictEqual([...memory.view(0x1000, 7)], [1, 2, 3, 4, 5, 6, 0]);
  deepStrictEqual([...memory.view(0x3000, 10)], [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  strictEqual(bm.read(2, 1) & 0x01, 0); // table exhausted together with the transfer
});

Deno.test("bus master: a transfer posted before start waits for it", () => {
  const { memory, bm, post } = setup();
  prd(memory, 0x200, [[0x1000, 0]]); // 0 means 64 KiB
  bm.write(4, 4, 0x200);
  const t = new FakeTransfer(0x10000);
  post(t);
  strictEqual(t.moved, 0);
  bm.write(0, 1, 0x09);
  strictEqual(t.done, true);
  strictEqual(memory.bytes[0x1000 + 0xffff], 0x00);
  strictEqual(memory.bytes[0x1000 + 0xfffe], 0xff);
});

Deno.test("bus master: a PRD table larger than the transfer leaves active set", () => {
  const { memory, bm, post } = setup();
  prd(memory, 0x100, [[0x1000, 512], [0x2000, 512]]);
  bm.write(4, 4, 0x100);
  bm.write(0, 1, 0x09);
  post(new FakeTransfer(512));
  strictEqual(bm.read(2, 1) & 0x01, 0x01);
});

Deno.test("bus master: a short PRD table stops the engine; a restart continues the transfer", () => {
  const { memory, bm, post } = setup();
  prd(memory, 0x100, [[0x1000, 8]]);
  bm.write(4, 4, 0x100);
  bm.write(0, 1, 0x09);
  const t = new FakeTransfer(12);
  post(t);
  strictEqual(t.moved, 8);
  strictEqual(bm.read(2, 1) & 0x01, 0);
  prd(memory, 0x180, [[0x1800, 4]]);
  bm.write(4, 4, 0x180);
  bm.write(0, 1, 0x08);
  bm.write(0, 1, 0x09);
  strictEqual(t.done, true);
  deepStrictEqual([...memory.view(0x1800, 4)], [9, 10, 11, 12]);
});

Deno.test("bus master: a buffer outside guest memory sets the error bit and fails the transfer", () => {
  const { memory, bm, post } = setup();
  prd(memory, 0x100, [[0x7fff0000, 512]]);
  bm.write(4, 4, 0x100);
  bm.write(0, 1, 0x09);
  const t = new FakeTransfer(512);
  post(t);
  strictEqual(t.failed, true);
  strictEqual(bm.read(2, 1) & 0x03, 0x02);
});

Deno.test("bus master: nothing moves while PCI bus mastering is disabled", () => {
  let enabled = false;
  const { memory, bm, post } = setup(() => enabled);
  prd(memory, 0x100, [[0x1000, 4]]);
  bm.write(4, 4, 0x100);
  bm.write(0, 1, 0x09);
  const t = new FakeTransfer(4);
  post(t);
  strictEqual(t.moved, 0);
  enabled = true;
  bm.kick(0);
  strictEqual(t.done, true);
});

Deno.test("bus master: snapshot", () => {
  const { bm } = setup();
  bm.write(4, 4, 0x100);
  bm.interrupt(0);
  const [c0, c1] = bm.snapshot().channels;
  deepStrictEqual([c0.prdTable, c0.status, c1.status], [0x100, BM_ST_INTERRUPT, 0]);
});

Deno.test("bus master: restore resumes a transfer part-way through its PRD table", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const next = prng(seed);
    const a = setup();
    const entries: [number, number][] = [];
    for (let i = 0, n = 1 + next(3); i < n; i++) {
      entries.push([0x1000 + 0x2000 * i, 2 * (1 + next(600))]);
    }
    prd(a.memory, 0x100, entries);
    a.bm.write(4, 4, 0x100);
    a.bm.write(0, 1, 0x09);
    // Half of a transfer bigger than the table: the engine stops at end of table.
    const total = entries.reduce((t, [, n]) => t + n, 0);
    const t = new FakeTransfer(total + 2 * (1 + next(100)));
    a.post(t);
    const saved = a.bm.snapshot();
    strictEqual(saved.channels[0].status & 1, 0); // inactive: table exhausted
    const b = setup();
    b.memory.bytes.set(a.memory.bytes);
    b.bm.restore(saved);
    deepStrictEqual(b.bm.snapshot(), saved);
    // The same transfer waits on both; each engine gets a fresh table and starts again.
    const rest = new FakeTransfer(t.length - t.moved);
    b.post(rest);
    strictEqual(rest.moved, 0);
    for (const x of [a, b]) {
      prd(x.memory, 0x200, [[0x8000, 0x400]]);
      x.bm.write(4, 4, 0x200);
      x.bm.write(0, 1, 0x00);
      x.bm.write(0, 1, 0x09);
    }
    deepStrictEqual([rest.done, rest.remaining], [t.done, t.remaining]);
    deepStrictEqual(b.bm.snapshot(), a.bm.snapshot());
    for (let reg = 0; reg < 16; reg++) strictEqual(b.bm.read(reg, 1), a.bm.read(reg, 1));
  }
});

Deno.test("bus master: restore refuses malformed registers", () => {
  const { bm } = setup();
  const good = bm.snapshot();
  const c = good.channels[0];
  for (
    const bad of [
      { ...good, version: 2 },
      { ...good, channels: [c] },
      { ...good, channels: [{ ...c, command: 0x02 }, c] },
      { ...good, channels: [{ ...c, prdTable: 0x102 }, c] },
      { ...good, channels: [c, { ...c, status: 0x80 }] },
    ]
  ) throws(() => bm.restore(bad as BusMasterState), StateError);
});
