import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { Bus, BusError } from "./bus.ts";
import type { AccessSize, BusDevice } from "./types.ts";

type Access = [op: "r" | "w", offset: number, size: AccessSize, value?: number];

/** A device that logs every access and reads back `tag + offset`. */
class Probe implements BusDevice {
  readonly log: Access[] = [];
  constructor(readonly tag: number) {}
  read(offset: number, size: AccessSize): number {
    this.log.push(["r", offset, size]);
    return this.tag + offset;
  }
  write(offset: number, size: AccessSize, value: number): void {
    this.log.push(["w", offset, size, value]);
  }
}

const SPECS: [string, number, number][] = [
  ["pic", 0x20, 2],
  ["pit", 0x40, 4],
  ["kbd", 0x60, 1],
  ["com1", 0x3f8, 8],
  ["ide", 0x1f0, 8],
  ["cmos", 0x70, 2],
];

function layout(bus: Bus): [string, number, number][] {
  return bus.ranges().map((r) => [r.name, r.base, r.length]);
}

Deno.test("Bus: ranges are sorted and routed the same whatever the registration order", () => {
  const orders = [
    SPECS,
    [...SPECS].reverse(),
    [SPECS[3], SPECS[0], SPECS[5], SPECS[1], SPECS[4], SPECS[2]],
  ];
  const sorted = [...SPECS].sort((a, b) => a[1] - b[1]);
  for (const order of orders) {
    const bus = new Bus("pio");
    for (const [name, base, length] of order) bus.register(name, base, length, new Probe(base));
    deepStrictEqual(layout(bus), sorted);
    for (const [name, base, length] of SPECS) {
      strictEqual(bus.find(base)?.name, name);
      strictEqual(bus.find(base + length - 1)?.name, name);
      strictEqual(bus.find(base + length)?.name === name, false);
      strictEqual(bus.read(base + length - 1, 1), base + length - 1);
    }
    strictEqual(bus.find(0x1f), undefined);
    strictEqual(bus.find(0x400), undefined);
    strictEqual(bus.find(0), undefined);
  }
});

Deno.test("Bus: an overlapping registration is refused, naming both ranges", () => {
  const bus = new Bus("pio");
  bus.register("com1", 0x3f8, 8, new Probe(0));
  const cases: [number, number][] = [[0x3f8, 8], [0x3f0, 9], [0x3ff, 1], [0x3fa, 2], [
    0x300,
    0x200,
  ]];
  for (const [base, length] of cases) {
    throws(
      () => bus.register("intruder", base, length, new Probe(0)),
      (e: unknown) => {
        strictEqual(e instanceof BusError, true);
        const msg = (e as Error).message;
        strictEqual(
          msg,
          `pio: intruder at 0x${base.toString(16)}-0x${(base + length - 1).toString(16)} ` +
            `overlaps com1 at 0x3f8-0x3ff`,
        );
        return true;
      },
    );
  }
  strictEqual(bus.ranges().length, 1, "refused ranges are not added");
});

Deno.test("Bus: adjacent ranges on either side are fine", () => {
  const bus = new Bus("mmio");
  const mid = new Probe(0x100);
  bus.register("mid", 0x1000, 0x100, mid);
  bus.register("below", 0xf00, 0x100, new Probe(0x200));
  bus.register("above", 0x1100, 0x100, new Probe(0x300));
  deepStrictEqual(layout(bus), [["below", 0xf00, 0x100], ["mid", 0x1000, 0x100], [
    "above",
    0x1100,
    0x100,
  ]]);
  strictEqual(bus.find(0xfff)?.name, "below");
  strictEqual(bus.find(0x1000)?.name, "mid");
  strictEqual(bus.find(0x10ff)?.name, "mid");
  strictEqual(bus.find(0x1100)?.name, "above");
});

Deno.test("Bus: malformed ranges are refused", () => {
  const bus = new Bus("pio");
  for (const [base, length] of [[0x10, 0], [0x10, -1], [-1, 4], [0.5, 4], [0x10, 1.5], [0, NaN]]) {
    throws(() => bus.register("bad", base, length, new Probe(0)), BusError);
  }
  strictEqual(bus.ranges().length, 0);
});

Deno.test("Bus: devices see offsets relative to their base", () => {
  const bus = new Bus("pio");
  const com1 = new Probe(0x1000);
  bus.register("com1", 0x3f8, 8, com1);
  strictEqual(bus.read(0x3f8, 1), 0x1000);
  strictEqual(bus.read(0x3fd, 1), 0x1005);
  bus.write(0x3f9, 1, 0x0f);
  bus.write(0x3fc, 2, 0x1234);
  bus.write(0x3f8, 4, 0xdeadbeef);
  deepStrictEqual(com1.log, [
    ["r", 0, 1],
    ["r", 5, 1],
    ["w", 1, 1, 0x0f],
    ["w", 4, 2, 0x1234],
    ["w", 0, 4, 0xdeadbeef],
  ]);
  deepStrictEqual(bus.misses, { reads: 0, writes: 0 });
});

Deno.test("Bus: misses are counted and reads of nothing are all ones for the size", () => {
  const bus = new Bus("pio");
  const dev = new Probe(0);
  bus.register("dev", 0x80, 1, dev);
  strictEqual(bus.read(0x81, 1), 0xff);
  strictEqual(bus.read(0x81, 2), 0xffff);
  strictEqual(bus.read(0x7f, 4), 0xffffffff);
  bus.write(0x81, 1, 0);
  bus.write(0x1000, 4, 0);
  deepStrictEqual(bus.misses, { reads: 3, writes: 2 });
  strictEqual(dev.log.length, 0);
  bus.write(0x80, 1, 0x55);
  deepStrictEqual(bus.misses, { reads: 3, writes: 2 });
  deepStrictEqual(dev.log, [["w", 0, 1, 0x55]]);
  // An empty bus misses everything.
  const empty = new Bus("mmio");
  strictEqual(empty.read(0, 4), 0xffffffff);
  deepStrictEqual(empty.misses, { reads: 1, writes: 0 });
});

Deno.test("Bus: unregister removes exactly that range and ignores unknown ones", () => {
  const bus = new Bus("pio");
  const a = bus.register("a", 0x10, 4, new Probe(0xa00));
  const b = bus.register("b", 0x20, 4, new Probe(0xb00));
  const other = new Bus("pio").register("a", 0x10, 4, new Probe(0));
  bus.unregister(other);
  strictEqual(bus.ranges().length, 2, "a range of another bus is ignored");
  bus.unregister(a);
  deepStrictEqual(layout(bus), [["b", 0x20, 4]]);
  bus.unregister(a);
  deepStrictEqual(layout(bus), [["b", 0x20, 4]]);
  strictEqual(bus.read(0x21, 1), 0xb01);
  // The freed range can be registered again.
  bus.register("a2", 0x10, 8, new Probe(0xc00));
  strictEqual(bus.read(0x17, 1), 0xc07);
  bus.unregister(b);
  strictEqual(bus.find(0x20), undefined);
});

Deno.test("Bus: find's cache never returns an unregistered range", () => {
  const bus = new Bus("pio");
  const oldDev = new Probe(0x100);
  const old = bus.register("old", 0x60, 1, oldDev);
  bus.register("next", 0x64, 1, new Probe(0x200));
  strictEqual(bus.find(0x60), old); // now cached
  strictEqual(bus.find(0x60), old);
  bus.unregister(old);
  strictEqual(bus.find(0x60), undefined);
  strictEqual(bus.read(0x60, 1), 0xff);
  strictEqual(oldDev.log.length, 0);
  const fresh = bus.register("fresh", 0x60, 1, new Probe(0x300));
  strictEqual(bus.find(0x60), fresh);
  strictEqual(bus.read(0x60, 1), 0x300);
  // Unregistering a range other than the cached one keeps lookups right.
  strictEqual(bus.find(0x64)?.name, "next");
  bus.unregister(fresh);
  strictEqual(bus.find(0x64)?.name, "next");
  strictEqual(bus.find(0x60), undefined);
});

Deno.test("Bus: lookups over many ranges find each one (binary search)", () => {
  const bus = new Bus("mmio");
  const bases: number[] = [];
  for (let i = 0; i < 100; i++) bases.push(0x1_0000 + i * 0x100);
  // Register in a scrambled order, leaving gaps of 0x80 between ranges.
  for (const i of bases.map((_, i) => (i * 37) % 100)) {
    bus.register(`r${i}`, bases[i], 0x80, new Probe(i * 0x1000));
  }
  for (let i = 0; i < 100; i++) {
    strictEqual(bus.find(bases[i] + 0x7f)?.name, `r${i}`);
    strictEqual(bus.find(bases[i] + 0x80), undefined);
    strictEqual(bus.read(bases[i] + 3, 4), i * 0x1000 + 3);
  }
});
