import assert from "node:assert/strict";
import { allOnes, laneByte, readLanes, writeLanes } from "./byte_lanes.ts";

Deno.test("allOnes is the width of the access", () => {
  assert.equal(allOnes(1), 0xff);
  assert.equal(allOnes(2), 0xffff);
  assert.equal(allOnes(4), 0xffffffff);
});

Deno.test("laneByte takes bytes of values above 2^31 unsigned", () => {
  assert.deepEqual([0, 1, 2, 3].map((i) => laneByte(0xdeadbeef, i)), [0xef, 0xbe, 0xad, 0xde]);
});

Deno.test("readLanes assembles little-endian and stays unsigned", () => {
  const regs = [0x11, 0x22, 0x33, 0xf4, 0x55];
  assert.equal(readLanes(0, 4, (at) => regs[at]), 0xf4332211);
  assert.equal(readLanes(3, 2, (at) => regs[at]), 0x55f4);
  assert.equal(readLanes(4, 4, (at) => regs[at] ?? 0xff), 0xffffff55);
});

Deno.test("writeLanes writes lowest address first", () => {
  const seen: [number, number][] = [];
  writeLanes(6, 4, 0x80c0ffee, (at, b) => seen.push([at, b]));
  assert.deepEqual(seen, [[6, 0xee], [7, 0xff], [8, 0xc0], [9, 0x80]]);
});
