import { deepStrictEqual, strictEqual } from "node:assert";
import { DMA_PAGE_BASE, IsaDma } from "./isa_dma.ts";
import { ArrayGuestMemory } from "./testing/array_guest_memory.ts";
import { SeededRandom } from "./testing/seeded_random.ts";
import { assertRestoreIdentity, assertRestoreRejects } from "./testing/snapshot_check.ts";

function setup() {
  const mem = new ArrayGuestMemory(0x40000);
  for (let i = 0; i < 0x40000; i++) mem.writeU8(i, i & 0xff ^ (i >> 8));
  return { mem, dma: new IsaDma(mem) };
}

/** Programs an 8-bit channel (0-3) as a driver does: mask, flip-flop, mode, address, count, page. */
function program8(dma: IsaDma, ch: number, addr: number, count: number, mode: number): void {
  dma.first.write(0x0a, 1, 4 | ch);
  dma.first.write(0x0c, 1, 0);
  dma.first.write(0x0b, 1, mode | ch);
  dma.first.write(ch * 2, 1, addr & 0xff);
  dma.first.write(ch * 2, 1, (addr >> 8) & 0xff);
  dma.first.write(ch * 2 + 1, 1, count & 0xff);
  dma.first.write(ch * 2 + 1, 1, count >> 8);
  const pagePort = [0x87, 0x83, 0x81, 0x82][ch];
  dma.pages.write(pagePort - DMA_PAGE_BASE, 1, addr >> 16);
  dma.first.write(0x0a, 1, ch);
}

Deno.test("isa dma: an 8-bit single-cycle read stops and masks itself at its terminal count", () => {
  const { mem, dma } = setup();
  program8(dma, 1, 0x12340, 9, 0x48); // single mode, read memory, 10 bytes
  const buf = new Uint8Array(16);
  strictEqual(dma.readMemory(1, buf), 10);
  deepStrictEqual(buf.subarray(0, 10), mem.read(0x12340, 10));
  strictEqual(dma.first.read(0x08, 1) & 0x02, 0x02); // TC for channel 1
  strictEqual(dma.first.read(0x08, 1) & 0x02, 0x00); // cleared by the read
  strictEqual(dma.readMemory(1, buf), 0); // masked now
});

Deno.test("isa dma: auto-initialise reloads the base address and count", () => {
  const { mem, dma } = setup();
  program8(dma, 1, 0x20000, 3, 0x58); // auto-init, 4 bytes
  const buf = new Uint8Array(10);
  strictEqual(dma.readMemory(1, buf), 10);
  const four = [...mem.read(0x20000, 4)];
  deepStrictEqual([...buf], [...four, ...four, ...four.slice(0, 2)]);
  strictEqual(dma.remaining(1), 2);
});

Deno.test("isa dma: 16-bit channels count words at (page & 0xfe) << 16 | address << 1", () => {
  const { mem, dma } = setup();
  const base = 0x31000; // word address 0x8800 on page 3 (0x02 after the mask)
  dma.second.write(0x0a * 2, 1, 4 | 1); // mask channel 5
  dma.second.write(0x0c * 2, 1, 0);
  dma.second.write(0x0b * 2, 1, 0x48 | 1);
  dma.second.write(0x04, 1, ((base - 0x20000) >> 1) & 0xff); // channel 5 address: port 0xc4
  dma.second.write(0x04, 1, ((base - 0x20000) >> 9) & 0xff);
  dma.second.write(0x06, 1, 3); // 4 words
  dma.second.write(0x06, 1, 0);
  dma.pages.write(0x8b - DMA_PAGE_BASE, 1, 3);
  dma.second.write(0x0a * 2, 1, 1);
  const buf = new Uint8Array(9);
  strictEqual(dma.readMemory(5, buf), 8);
  deepStrictEqual(buf.subarray(0, 8), mem.read(base, 8));
});

Deno.test("isa dma: address and count read back through the flip-flop; page storage", () => {
  const { dma } = setup();
  program8(dma, 2, 0x5abcd, 0x1234, 0x48);
  dma.first.write(0x0c, 1, 0);
  strictEqual(dma.first.read(4, 1) | (dma.first.read(4, 1) << 8), 0xabcd);
  strictEqual(dma.first.read(5, 1) | (dma.first.read(5, 1) << 8), 0x1234);
  strictEqual(dma.pages.read(0x81 - DMA_PAGE_BASE, 1), 5);
  dma.pages.write(0x84 - DMA_PAGE_BASE, 1, 0x77);
  strictEqual(dma.pages.read(0x84 - DMA_PAGE_BASE, 1), 0x77);
  dma.first.write(0x0d, 1, 0); // master clear masks everything
  strictEqual(dma.canRead(2), false);
});

Deno.test("isa dma: snapshot/restore property (seeded)", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rng = new SeededRandom(seed);
    const a = setup();
    for (let i = rng.below(30); i > 0; i--) {
      const ch = rng.below(4);
      if (rng.chance(0.3)) {
        program8(
          a.dma,
          ch,
          rng.int(0, 0x3ffff - 0x10000),
          rng.int(0, 500),
          0x48 | (rng.chance(0.5) ? 0x10 : 0),
        );
      } else if (rng.chance(0.5)) a.dma.readMemory(ch, new Uint8Array(rng.int(1, 300)));
      else a.dma.first.write(rng.below(16), 1, rng.byte());
    }
    const b = setup();
    assertRestoreIdentity(a.dma, b.dma);
    for (let ch = 0; ch < 8; ch++) {
      const x = new Uint8Array(64);
      const y = new Uint8Array(64);
      strictEqual(b.dma.readMemory(ch, y), a.dma.readMemory(ch, x), `seed ${seed} ch ${ch}`);
      deepStrictEqual(y, x);
    }
  }
});

Deno.test("isa dma: restore refuses malformed states", () => {
  const { dma } = setup();
  const good = dma.snapshot();
  assertRestoreRejects(setup().dma, good, [
    { channels: good.channels.slice(1) },
    { extraPages: [1] },
    { controllers: [{ ...good.controllers[0], mask: 16 }, good.controllers[1]] },
  ]);
});
