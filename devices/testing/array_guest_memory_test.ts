import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { GuestMemoryError } from "../types.ts";
import { ArrayGuestMemory } from "./array_guest_memory.ts";

Deno.test("array guest memory: little-endian accessors and live views", () => {
  const m = new ArrayGuestMemory(64);
  m.writeU32(0, 0x11223344);
  deepStrictEqual([...m.read(0, 4)], [0x44, 0x33, 0x22, 0x11]);
  strictEqual(m.readU16(1), 0x2233);
  m.writeU64(8, 2 ** 40 + 5);
  strictEqual(m.readU64(8), 2 ** 40 + 5);
  m.view(16, 2).set([1, 2]);
  strictEqual(m.readU16(16), 0x0201);
  m.write(20, new Uint8Array([9]));
  strictEqual(m.readU8(20), 9);
});

Deno.test("array guest memory: out-of-range accesses throw GuestMemoryError", () => {
  const m = new ArrayGuestMemory(16);
  throws(() => m.view(10, 8), GuestMemoryError);
  throws(() => m.readU32(14), GuestMemoryError);
  throws(() => m.writeU8(-1, 0), GuestMemoryError);
  m.writeU64(8, 0);
  m.writeU32(12, 0xffffffff);
  throws(() => m.readU64(8), RangeError);
});
