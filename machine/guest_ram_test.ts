import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { GuestMemoryError } from "../devices/types.ts";
import { GuestRam } from "./guest_ram.ts";
import {
  FOUR_GIB,
  LOW_RAM_LIMIT,
  type RamLayout,
  ramLayout,
  SHADOW_BASE,
  VGA_WINDOW_BASE,
} from "./memory_map.ts";

const MiB = 1 << 20;
const GiB = 1 << 30;

Deno.test("ramLayout: 64 MiB is two slots around the VGA window", () => {
  deepStrictEqual(ramLayout(64 * MiB), {
    total: 64 * MiB,
    below4g: 64 * MiB,
    above4g: 0,
    slots: [
      { slot: 0, gpa: 0, size: 0xa0000, hostOffset: 0 },
      { slot: 1, gpa: 0xc0000, size: 64 * MiB - 0xc0000, hostOffset: 0xc0000 },
    ],
  });
});

Deno.test("ramLayout: exactly 3.5 GiB stays below 4 GiB", () => {
  deepStrictEqual(ramLayout(0xe0000000), {
    total: 0xe0000000,
    below4g: 0xe0000000,
    above4g: 0,
    slots: [
      { slot: 0, gpa: 0, size: 0xa0000, hostOffset: 0 },
      { slot: 1, gpa: 0xc0000, size: 0xe0000000 - 0xc0000, hostOffset: 0xc0000 },
    ],
  });
});

Deno.test("ramLayout: 5 GiB puts the part above 3.5 GiB at 4 GiB", () => {
  const layout = ramLayout(5 * GiB);
  deepStrictEqual(layout, {
    total: 5 * GiB,
    below4g: LOW_RAM_LIMIT,
    above4g: 5 * GiB - LOW_RAM_LIMIT,
    slots: [
      { slot: 0, gpa: 0, size: 0xa0000, hostOffset: 0 },
      { slot: 1, gpa: 0xc0000, size: LOW_RAM_LIMIT - 0xc0000, hostOffset: 0xc0000 },
      { slot: 2, gpa: FOUR_GIB, size: 0x60000000, hostOffset: LOW_RAM_LIMIT },
    ],
  });
  // The slots use the host mapping exactly once, except for the VGA window's 128 KiB.
  const used = layout.slots.reduce((n, s) => n + s.size, 0);
  strictEqual(used, layout.total - (SHADOW_BASE - VGA_WINDOW_BASE));
  const last = layout.slots[2];
  strictEqual(last.hostOffset + last.size, layout.total);
});

Deno.test("ramLayout: less than 640 KiB is a single slot", () => {
  deepStrictEqual(ramLayout(512 * 1024).slots, [
    { slot: 0, gpa: 0, size: 512 * 1024, hostOffset: 0 },
  ]);
});

/** 64 MiB of RAM over a plain ArrayBuffer, and a byte view of that buffer. */
function lowRam(): { ram: GuestRam; host: Uint8Array } {
  const buffer = new ArrayBuffer(64 * MiB);
  return { ram: new GuestRam(ramLayout(64 * MiB), buffer), host: new Uint8Array(buffer) };
}

/** A small layout with high RAM: 1 MiB low, 64 KiB at 4 GiB stored right after it. */
const HIGH_LAYOUT: RamLayout = {
  total: MiB + 0x10000,
  below4g: MiB,
  above4g: 0x10000,
  slots: [
    { slot: 0, gpa: 0, size: 0xa0000, hostOffset: 0 },
    { slot: 1, gpa: 0xc0000, size: MiB - 0xc0000, hostOffset: 0xc0000 },
    { slot: 2, gpa: FOUR_GIB, size: 0x10000, hostOffset: MiB },
  ],
};

function isGuestMemoryError(addr: number, length: number) {
  return (e: unknown) => {
    strictEqual(e instanceof GuestMemoryError, true, String(e));
    strictEqual((e as GuestMemoryError).addr, addr);
    strictEqual((e as GuestMemoryError).length, length);
    return true;
  };
}

Deno.test("GuestRam: accesses land at the slot's host offset, little-endian", () => {
  const { ram, host } = lowRam();
  ram.writeU8(0x7c00, 0xaa);
  strictEqual(host[0x7c00], 0xaa);
  ram.writeU16(0x100, 0x1234);
  deepStrictEqual([...host.subarray(0x100, 0x102)], [0x34, 0x12]);
  ram.writeU32(0xc0000, 0xdeadbeef);
  deepStrictEqual([...host.subarray(0xc0000, 0xc0004)], [0xef, 0xbe, 0xad, 0xde]);
  ram.writeU64(0x200000, 0x0012_3456_789a_bcde);
  deepStrictEqual([...host.subarray(0x200000, 0x200008)], [
    0xde,
    0xbc,
    0x9a,
    0x78,
    0x56,
    0x34,
    0x12,
    0,
  ]);
  ram.writeU32(0x300000, -1);
  strictEqual(ram.readU32(0x300000), 0xffffffff);

  host.set([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x17, 0x00], 0x400000);
  strictEqual(ram.readU8(0x400000), 0x11);
  strictEqual(ram.readU16(0x400000), 0x2211);
  strictEqual(ram.readU32(0x400000), 0x44332211);
  strictEqual(ram.readU64(0x400000), 0x0017_6655_4433_2211);

  ram.write(64 * MiB - 3, new Uint8Array([1, 2, 3]));
  deepStrictEqual([...host.subarray(64 * MiB - 3)], [1, 2, 3]);
  deepStrictEqual([...ram.read(64 * MiB - 3, 3)], [1, 2, 3]);
  // The last byte below the VGA window is RAM too.
  ram.writeU8(VGA_WINDOW_BASE - 1, 0x5a);
  strictEqual(host[VGA_WINDOW_BASE - 1], 0x5a);
});

Deno.test("GuestRam: high RAM at 4 GiB maps to its own host offset", () => {
  const buffer = new ArrayBuffer(HIGH_LAYOUT.total);
  const host = new Uint8Array(buffer);
  const ram = new GuestRam(HIGH_LAYOUT, buffer);
  ram.writeU32(FOUR_GIB + 0x10, 0xcafef00d);
  deepStrictEqual([...host.subarray(MiB + 0x10, MiB + 0x14)], [0x0d, 0xf0, 0xfe, 0xca]);
  strictEqual(host[0x10], 0, "low RAM at the same offset is untouched");
  ram.writeU8(FOUR_GIB + 0xffff, 9);
  strictEqual(host[MiB + 0xffff], 9);
  strictEqual(ram.contains(FOUR_GIB, 0x10000), true);
  // Between the end of low RAM and 4 GiB there is nothing.
  throws(() => ram.readU8(MiB), isGuestMemoryError(MiB, 1));
  throws(() => ram.readU8(FOUR_GIB - 1), isGuestMemoryError(FOUR_GIB - 1, 1));
  throws(() => ram.readU32(FOUR_GIB + 0xfffe), isGuestMemoryError(FOUR_GIB + 0xfffe, 4));
  throws(() => ram.read(FOUR_GIB, 0x10001), isGuestMemoryError(FOUR_GIB, 0x10001));
});

Deno.test("GuestRam: accesses crossing a slot end, in the VGA hole or out of range throw", () => {
  const { ram } = lowRam();
  const top = 64 * MiB;
  const bad: [string, () => unknown, number, number][] = [
    ["u16 across 640 KiB", () => ram.readU16(VGA_WINDOW_BASE - 1), VGA_WINDOW_BASE - 1, 2],
    ["u32 across 640 KiB", () => ram.writeU32(VGA_WINDOW_BASE - 2, 0), VGA_WINDOW_BASE - 2, 4],
    ["u64 into the hole", () => ram.readU64(VGA_WINDOW_BASE - 4), VGA_WINDOW_BASE - 4, 8],
    ["view across 640 KiB", () => ram.view(VGA_WINDOW_BASE - 1, 2), VGA_WINDOW_BASE - 1, 2],
    ["byte in the hole", () => ram.readU8(VGA_WINDOW_BASE), VGA_WINDOW_BASE, 1],
    ["last hole byte", () => ram.writeU8(SHADOW_BASE - 1, 1), SHADOW_BASE - 1, 1],
    ["u16 ending in shadow", () => ram.readU16(SHADOW_BASE - 1), SHADOW_BASE - 1, 2],
    ["read spanning the hole", () => ram.read(0x9f000, 0x30000), 0x9f000, 0x30000],
    ["write in the hole", () => ram.write(0xb8000, new Uint8Array(2)), 0xb8000, 2],
    ["negative", () => ram.readU8(-1), -1, 1],
    ["negative length", () => ram.view(0x1000, -1), 0x1000, -1],
    ["past the end", () => ram.readU8(top), top, 1],
    ["u32 crossing the end", () => ram.readU32(top - 2), top - 2, 4],
    ["u64 crossing the end", () => ram.writeU64(top - 4, 0), top - 4, 8],
    ["far past the end", () => ram.readU8(FOUR_GIB), FOUR_GIB, 1],
    ["fractional", () => ram.readU8(4096.5), 4096.5, 1],
    ["NaN", () => ram.readU32(NaN), NaN, 4],
    ["unsafe integer", () => ram.readU8(2 ** 53), 2 ** 53, 1],
    ["fractional length", () => ram.read(0x1000, 1.5), 0x1000, 1.5],
  ];
  for (const [what, access, addr, length] of bad) {
    throws(access, (e: unknown) => {
      strictEqual(e instanceof GuestMemoryError, true, `${what}: ${e}`);
      const err = e as GuestMemoryError;
      strictEqual(Object.is(err.addr, addr), true, `${what}: addr ${err.addr}`);
      strictEqual(err.length, length, what);
      return true;
    }, what);
  }
  strictEqual(ram.contains(VGA_WINDOW_BASE - 1, 1), true);
  strictEqual(ram.contains(VGA_WINDOW_BASE - 1, 2), false);
  strictEqual(ram.contains(SHADOW_BASE, top - SHADOW_BASE), true);
  strictEqual(ram.contains(SHADOW_BASE, top - SHADOW_BASE + 1), false);
  strictEqual(ram.contains(-4, 4), false);
});

Deno.test("GuestRam.view is live both ways; read is a copy", () => {
  const { ram, host } = lowRam();
  const view = ram.view(0x5000, 16);
  view[3] = 0x77;
  strictEqual(host[0x5003], 0x77);
  strictEqual(ram.readU8(0x5003), 0x77);
  ram.writeU8(0x5004, 0x88);
  strictEqual(view[4], 0x88);
  const copy = ram.read(0x5000, 16);
  copy[0] = 0x99;
  strictEqual(host[0x5000], 0);
  ram.writeU8(0x5001, 0x66);
  strictEqual(copy[1], 0, "a copy does not follow later writes");
  strictEqual(view.length, 16);
  strictEqual(ram.view(0x5000, 0).length, 0);
});

Deno.test("GuestRam.readU64 refuses values above 2^53", () => {
  const { ram, host } = lowRam();
  const dv = new DataView(host.buffer);
  dv.setBigUint64(0x1000, BigInt(Number.MAX_SAFE_INTEGER), true);
  strictEqual(ram.readU64(0x1000), Number.MAX_SAFE_INTEGER);
  dv.setBigUint64(0x1000, 1n << 53n, true);
  throws(() => ram.readU64(0x1000), isGuestMemoryError(0x1000, 8));
  dv.setBigUint64(0x1000, 0xffff_ffff_ffff_ffffn, true);
  throws(() => ram.readU64(0x1000), isGuestMemoryError(0x1000, 8));
});

Deno.test("GuestRam refuses a host buffer smaller than the layout", () => {
  throws(
    () => new GuestRam(ramLayout(2 * MiB), new ArrayBuffer(MiB)),
    (e: unknown) => e instanceof RangeError && /1048576 bytes < 2097152/.test(e.message),
  );
});

Deno.test("GuestRam.discard: whole host pages of RAM only, never holes or past the end", () => {
  const layout = ramLayout(2 * MiB);
  const calls: [number, number][] = [];
  const ram = new GuestRam(
    layout,
    new ArrayBuffer(layout.total),
    (off, len) => calls.push([off, len]),
  );
  // Inside slot 1.
  strictEqual(ram.discard(0x100000, 0x3000), 0x3000);
  // Across the VGA window: the parts in RAM only.
  strictEqual(ram.discard(0x9f000, 0x22000), 0x1000 + 0x1000);
  // Partial pages at both ends shrink to the whole page between.
  strictEqual(ram.discard(0x120800, 0x2000), 0x1000);
  // Past the end of RAM, or not a number: nothing.
  strictEqual(ram.discard(2 * MiB, 0x1000), 0);
  strictEqual(ram.discard(2 * MiB - 0x1000, 0x10000), 0x1000);
  strictEqual(ram.discard(NaN, 0x1000), 0);
  strictEqual(ram.discard(-0x1000, 0x1000), 0);
  deepStrictEqual(calls, [
    [0x100000, 0x3000],
    [0x9f000, 0x1000],
    [0xc0000, 0x1000],
    [0x121000, 0x1000],
    [2 * MiB - 0x1000, 0x1000],
  ]);
  // Without a discarder nothing is freed.
  strictEqual(new GuestRam(layout, new ArrayBuffer(layout.total)).discard(0x100000, 0x1000), 0);
});
