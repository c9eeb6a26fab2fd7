import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { COALESCED_MMIO_MAX, CoalescedMmioRing } from "./coalesced_mmio.ts";
import { LAYOUTS } from "./structs.ts";

const PAGE = 4096;
const RING = LAYOUTS.kvm_coalesced_mmio_ring;
const ENTRY = LAYOUTS.kvm_coalesced_mmio;

/** A vCPU mapping of three pages with the ring on page 2, and KVM's side of it. */
function area() {
  const buf = new ArrayBuffer(3 * PAGE);
  const page = new DataView(buf, 2 * PAGE, PAGE);
  const push = (addr: number, len: number, data: number[]) => {
    const last = page.getUint32(RING.fields.last, true);
    const e = RING.fields.coalesced_mmio + last * ENTRY.size;
    page.setBigUint64(e + ENTRY.fields.phys_addr, BigInt(addr), true);
    page.setUint32(e + ENTRY.fields.len, len, true);
    data.forEach((b, i) => page.setUint8(e + ENTRY.fields.data + i, b));
    page.setUint32(RING.fields.last, (last + 1) % COALESCED_MMIO_MAX, true);
  };
  return { buf, page, push };
}

Deno.test("the ring holds as many entries as fit a 4 KiB page after its header (KVM_COALESCED_MMIO_MAX)", () => {
  strictEqual(COALESCED_MMIO_MAX, 170);
});

Deno.test("queued writes replay oldest first with their address, length and data", () => {
  const { buf, page, push } = area();
  const ring = new CoalescedMmioRing(buf, 2);
  strictEqual(ring.pending(), false);
  push(0xb8000, 2, [0x41, 0x07]);
  push(0xfed0_0000_0000 + 0x10, 1, [0x55]);
  push(0xa0000, 4, [1, 2, 3, 4]);
  strictEqual(ring.pending(), true);
  const seen: [number, number, number][] = [];
  ring.drain((addr, len, view, at) => {
    seen.push([
      addr,
      len,
      len === 1
        ? view.getUint8(at)
        : len === 2
        ? view.getUint16(at, true)
        : view.getUint32(at, true),
    ]);
  });
  deepStrictEqual(seen, [
    [0xb8000, 2, 0x0741],
    [0xfed0_0000_0000 + 0x10, 1, 0x55],
    [0xa0000, 4, 0x04030201],
  ]);
  strictEqual(ring.pending(), false);
  // The consumer's index follows the producer's, so KVM may reuse the entries.
  strictEqual(page.getUint32(RING.fields.first, true), 3);
});

Deno.test("replay wraps around the end of the ring", () => {
  const { buf, page, push } = area();
  const ring = new CoalescedMmioRing(buf, 2);
  page.setUint32(RING.fields.first, COALESCED_MMIO_MAX - 1, true);
  page.setUint32(RING.fields.last, COALESCED_MMIO_MAX - 1, true);
  push(0xb8000, 1, [1]);
  push(0xb8001, 1, [2]);
  const addrs: number[] = [];
  ring.drain((addr) => addrs.push(addr));
  deepStrictEqual(addrs, [0xb8000, 0xb8001]);
  strictEqual(page.getUint32(RING.fields.first, true), 1);
});

Deno.test("a ring page outside the vCPU mapping is refused", () => {
  throws(() => new CoalescedMmioRing(new ArrayBuffer(2 * PAGE), 2), RangeError);
  throws(() => new CoalescedMmioRing(new ArrayBuffer(3 * PAGE), 0), RangeError);
});
