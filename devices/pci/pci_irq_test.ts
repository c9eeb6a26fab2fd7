import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { PciIrqRouter, pirqFor } from "./pci_irq.ts";
import { Piix3 } from "./piix3.ts";
import { assertRestoreRejects } from "../testing/snapshot_check.ts";

function setup() {
  const piix3 = new Piix3();
  const calls: [number, boolean][] = [];
  const router = new PciIrqRouter({ piix3, setGsi: (gsi, level) => calls.push([gsi, level]) });
  // SeaBIOS's PIIX routing: PIRQ A and B to IRQ 10, C and D to IRQ 11.
  piix3.config.write(0x60, 4, 0x0b0b0a0a);
  return { piix3, router, calls };
}

Deno.test("the swizzle: PIRQ = (device + pin - 1) & 3", () => {
  strictEqual(pirqFor(0, 1), 0);
  strictEqual(pirqFor(1, 1), 1);
  strictEqual(pirqFor(3, 1), 3);
  strictEqual(pirqFor(3, 2), 0);
  strictEqual(pirqFor(4, 4), 3);
  strictEqual(pirqFor(31, 4), 2);
  throws(() => pirqFor(3, 0), RangeError);
  throws(() => pirqFor(3, 5), RangeError);
  throws(() => pirqFor(32, 1), RangeError);
});

Deno.test("a line drives IOAPIC 16 + pirq and the routed ISA IRQ", () => {
  const { router, calls } = setup();
  const line = router.lineFor(3, 1); // PIRQ D
  line.set(true);
  deepStrictEqual(calls, [[11, true], [19, true]]);
  line.set(true);
  strictEqual(calls.length, 2);
  line.set(false);
  deepStrictEqual(calls.slice(2), [[11, false], [19, false]]);
  strictEqual(router.pirqLevel(3), false);
});

Deno.test("lines sharing a PIRQ are ORed", () => {
  const { router, calls } = setup();
  const a = router.lineFor(3, 1); // PIRQ D
  const b = router.lineFor(7, 1); // PIRQ D too
  a.set(true);
  b.set(true);
  strictEqual(calls.length, 2);
  a.set(false);
  strictEqual(calls.length, 2);
  strictEqual(router.pirqLevel(3), true);
  b.set(false);
  deepStrictEqual(calls.slice(2), [[11, false], [19, false]]);
});

Deno.test("PIRQs sharing an ISA IRQ are ORed there but not on the IOAPIC pins", () => {
  const { router, calls } = setup();
  const c = router.lineFor(2, 1); // PIRQ C
  const d = router.lineFor(3, 1); // PIRQ D
  c.set(true);
  d.set(true);
  deepStrictEqual(calls, [[11, true], [18, true], [19, true]]);
  c.set(false);
  deepStrictEqual(calls.slice(3), [[18, false]]);
  d.set(false);
  deepStrictEqual(calls.slice(4), [[11, false], [19, false]]);
});

Deno.test("re-routing a raised PIRQ lowers the old ISA IRQ before raising the new one", () => {
  const { piix3, router, calls } = setup();
  const line = router.lineFor(0, 1); // PIRQ A
  line.set(true);
  deepStrictEqual(calls, [[10, true], [16, true]]);
  piix3.config.write(0x60, 1, 0x05);
  deepStrictEqual(calls.slice(2), [[10, false], [5, true]]);
  piix3.config.write(0x60, 1, 0x85); // disabled
  deepStrictEqual(calls.slice(4), [[5, false]]);
  piix3.config.write(0x60, 1, 0x0d); // IRQ 13 cannot be routed
  strictEqual(calls.length, 5);
  piix3.config.write(0x60, 1, 0x0e);
  deepStrictEqual(calls.slice(5), [[14, true]]);
  piix3.reset();
  deepStrictEqual(calls.slice(6), [[14, false]]);
  strictEqual(router.pirqLevel(0), true);
  deepStrictEqual(router.snapshot().highGsis, [16]);
});

Deno.test("re-routing a low PIRQ changes nothing", () => {
  const { piix3, router, calls } = setup();
  router.lineFor(0, 1);
  piix3.config.write(0x60, 1, 0x05);
  piix3.config.write(0x60, 1, 0x80);
  deepStrictEqual(calls, []);
});

Deno.test("a PIRQ moved onto an ISA IRQ already raised by another PIRQ keeps it raised", () => {
  const { piix3, router, calls } = setup();
  const a = router.lineFor(0, 1); // PIRQ A on IRQ 10
  const c = router.lineFor(2, 1); // PIRQ C on IRQ 11
  a.set(true);
  c.set(true);
  calls.length = 0;
  piix3.config.write(0x60, 1, 0x0b); // A joins C on IRQ 11
  deepStrictEqual(calls, [[10, false]]);
  c.set(false);
  deepStrictEqual(calls.slice(1), [[18, false]]);
});

Deno.test("snapshot/restore: the routes and line levels the PIIX3 and devices restore give the same GSIs", () => {
  const a = setup();
  const lines = [a.router.lineFor(3, 1), a.router.lineFor(5, 1), a.router.lineFor(4, 2)];
  lines[0].set(true);
  lines[2].set(true);
  a.piix3.config.write(0x61, 1, 0x05);
  const saved = a.router.snapshot();
  deepStrictEqual(saved.pirqs.map((p) => [p.lines, p.isaIrq]), [[0, 10], [1, 5], [0, 11], [1, 11]]);
  deepStrictEqual(saved.highGsis, [5, 11, 17, 19]);
  // A fresh board: the PIIX3 and the devices restore first, then the router.
  const b = setup();
  const linesB = [b.router.lineFor(3, 1), b.router.lineFor(5, 1), b.router.lineFor(4, 2)];
  b.piix3.restore(a.piix3.snapshot());
  linesB[0].set(true);
  linesB[2].set(true);
  b.router.restore(structuredClone(saved));
  deepStrictEqual(b.router.snapshot(), saved);
  const high = new Map<number, boolean>();
  for (const [gsi, level] of b.calls) high.set(gsi, level);
  deepStrictEqual([...high].filter(([, l]) => l).map(([g]) => g).sort((x, y) => x - y), [
    5,
    11,
    17,
    19,
  ]);
  assertRestoreRejects(b.router, saved, [{ pirqs: [] }, { highGsis: [-1] }]);
});
