import { deepStrictEqual, strictEqual } from "node:assert";
import { Port92, ResetControl } from "./system_control.ts";
import { SeededRandom } from "./testing/seeded_random.ts";
import { assertRestoreIdentity, assertRestoreRejects } from "./testing/snapshot_check.ts";

function port92() {
  const events: string[] = [];
  const port = new Port92({
    onA20: (on) => events.push(on ? "a20-on" : "a20-off"),
    onReset: () => events.push("reset"),
  });
  return { port, events };
}

Deno.test("port 0x92 bit 1 gates A20 and reads back", () => {
  const { port, events } = port92();
  strictEqual(port.read(0, 1), 0x00);
  port.write(0, 1, 0x02);
  strictEqual(port.read(0, 1), 0x02);
  strictEqual(port.a20, true);
  port.write(0, 1, 0x02);
  port.write(0, 1, 0x00);
  deepStrictEqual(events, ["a20-on", "a20-off"]);
});

Deno.test("port 0x92 bit 0 resets on a 0 to 1 transition only", () => {
  const { port, events } = port92();
  port.write(0, 1, 0x01);
  deepStrictEqual(events, ["reset"]);
  port.write(0, 1, 0x01); // still set: no edge
  strictEqual(events.length, 1);
  port.write(0, 1, 0x00);
  port.write(0, 1, 0x03); // reset together with opening A20
  deepStrictEqual(events, ["reset", "a20-on", "reset"]);
});

Deno.test("port 0x92 reset closes the A20 gate it had opened", () => {
  const { port, events } = port92();
  port.reset();
  deepStrictEqual(events, []);
  port.write(0, 1, 0x02);
  port.reset();
  deepStrictEqual(events, ["a20-on", "a20-off"]);
  strictEqual(port.read(0, 1), 0);
});

Deno.test("0xCF9: bit 2 rising requests a reset, hard when bit 1 is set", () => {
  const resets: boolean[] = [];
  const rc = new ResetControl({ onReset: (hard) => resets.push(hard) });
  rc.write(0, 1, 0x02); // SRST alone only selects the kind
  deepStrictEqual(resets, []);
  strictEqual(rc.read(0, 1), 0x02);
  rc.write(0, 1, 0x06);
  deepStrictEqual(resets, [true]);
  strictEqual(rc.read(0, 1), 0x06);
  rc.write(0, 1, 0x06); // no edge
  deepStrictEqual(resets, [true]);
  rc.write(0, 1, 0x00);
  rc.write(0, 1, 0x04);
  deepStrictEqual(resets, [true, false]);
});

Deno.test("0xCF9 keeps only SRST and RCPU, is byte-wide and clears on reset", () => {
  const resets: boolean[] = [];
  const rc = new ResetControl({ onReset: (hard) => resets.push(hard) });
  rc.write(0, 1, 0xf9);
  strictEqual(rc.read(0, 1), 0x00);
  rc.write(0, 2, 0x0006);
  strictEqual(rc.read(0, 1), 0x00);
  strictEqual(rc.read(0, 2), 0xffff);
  deepStrictEqual(resets, []);
  rc.write(0, 1, 0x06);
  rc.reset();
  strictEqual(rc.read(0, 1), 0x00);
  rc.write(0, 1, 0x06); // the next request after reset is an edge again
  deepStrictEqual(resets, [true, true]);
});

Deno.test("snapshot/restore: port 0x92 and 0xCF9 restore without pulsing reset", () => {
  for (let seed = 1; seed <= 30; seed++) {
    const rng = new SeededRandom(seed);
    const a = port92();
    const ra = new ResetControl({ onReset: (hard) => a.events.push(`reset ${hard}`) });
    for (let i = rng.below(10); i > 0; i--) {
      a.port.write(0, 1, rng.byte());
      ra.write(0, 1, rng.byte());
    }
    const b = port92();
    const rb = new ResetControl({ onReset: (hard) => b.events.push(`reset ${hard}`) });
    const s = assertRestoreIdentity(a.port, b.port);
    assertRestoreIdentity(ra, rb);
    // Restoring reports the A20 gate it opens, and never a reset.
    deepStrictEqual(b.events, s.a20 ? ["a20-on"] : []);
    strictEqual(b.port.a20, a.port.a20);
    a.events.length = 0;
    b.events.length = 0;
    for (let i = 0; i < 20; i++) {
      const [v, w] = [rng.byte(), rng.byte()];
      a.port.write(0, 1, v);
      b.port.write(0, 1, v);
      ra.write(0, 1, w);
      rb.write(0, 1, w);
      deepStrictEqual([b.port.read(0, 1), rb.read(0, 1)], [a.port.read(0, 1), ra.read(0, 1)]);
    }
    deepStrictEqual(b.events, a.events);
    assertRestoreRejects(b.port, s, [{ value: 0x100 }, { value: "x" }]);
    assertRestoreRejects(rb, rb.snapshot(), [{ value: 0x01 }, { value: 0x08 }]);
  }
});
