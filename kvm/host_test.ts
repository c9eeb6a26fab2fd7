import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  currentKernelThreadId,
  discardMemory,
  KickTimer,
  mapAnonymous,
  residentPages,
  unmap,
} from "./host.ts";

/** Counts SIGUSR2 deliveries to this process while `body` runs. */
async function countKicks(body: (kicks: () => number) => Promise<void>): Promise<void> {
  let n = 0;
  const listener = () => n++;
  Deno.addSignalListener("SIGUSR2", listener);
  try {
    await body(() => n);
  } finally {
    Deno.removeSignalListener("SIGUSR2", listener);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("a kick timer signals its thread once when armed without repeat", async () => {
  const timer = KickTimer.forThread(currentKernelThreadId());
  try {
    await countKicks(async (kicks) => {
      timer.armIn(20e6);
      await sleep(5);
      strictEqual(kicks(), 0, "fired before its delay");
      for (let i = 0; i < 100 && kicks() === 0; i++) await sleep(10);
      strictEqual(kicks(), 1);
      await sleep(50);
      strictEqual(kicks(), 1, "fired again without a repeat interval");
    });
  } finally {
    timer.delete();
  }
});

Deno.test("a kick timer repeats until disarmed, and re-arming replaces the deadline", async () => {
  const timer = KickTimer.forThread(currentKernelThreadId());
  try {
    await countKicks(async (kicks) => {
      timer.armIn(1e6, 10e6);
      for (let i = 0; i < 200 && kicks() < 3; i++) await sleep(10);
      ok(kicks() >= 3, `repeated ${kicks()} times`);
      timer.disarm();
      await sleep(30); // a signal already on its way may still land
      const after = kicks();
      await sleep(100);
      strictEqual(kicks(), after, "fired after disarm");
      timer.armIn(10_000e6);
      timer.armIn(5e6);
      for (let i = 0; i < 100 && kicks() === after; i++) await sleep(10);
      strictEqual(kicks(), after + 1);
    });
  } finally {
    timer.delete();
  }
});

Deno.test("a past deadline fires at once, and a deleted timer can be deleted again", async () => {
  const timer = KickTimer.forThread(currentKernelThreadId());
  await countKicks(async (kicks) => {
    timer.armIn(-5e6);
    for (let i = 0; i < 100 && kicks() === 0; i++) await sleep(10);
    strictEqual(kicks(), 1);
  });
  timer.delete();
  timer.delete();
  timer.armIn(1e6); // a no-op once deleted
});

Deno.test("residentPages: only the pages written are backed", () => {
  const mem = mapAnonymous(64 * 4096);
  try {
    const bytes = new Uint8Array(mem.buffer);
    bytes[3 * 4096 + 5] = 1;
    bytes[40 * 4096] = 2;
    const vec = residentPages(mem);
    if (vec === null) throw new Error("mincore refused");
    strictEqual(vec.length, 64);
    deepStrictEqual([...vec].flatMap((b, i) => (b & 1 ? [i] : [])), [3, 40]);
  } finally {
    unmap(mem);
  }
});

Deno.test("discardMemory: the pages go back to the host and read as zero; the rest stays", () => {
  const mem = mapAnonymous(16 * 4096);
  try {
    const bytes = new Uint8Array(mem.buffer);
    bytes.fill(0xa5);
    discardMemory(mem, 4 * 4096, 3 * 4096);
    const vec = residentPages(mem);
    if (vec === null) throw new Error("mincore refused");
    deepStrictEqual([...vec].flatMap((b, i) => (b & 1 ? [] : [i])), [4, 5, 6]);
    ok(bytes.subarray(4 * 4096, 7 * 4096).every((b) => b === 0));
    ok(bytes.subarray(0, 4 * 4096).every((b) => b === 0xa5));
    ok(bytes.subarray(7 * 4096).every((b) => b === 0xa5));
    // Only whole pages inside the mapping.
    throws(() => discardMemory(mem, 100, 4096), RangeError);
    throws(() => discardMemory(mem, 0, 100), RangeError);
    throws(() => discardMemory(mem, 15 * 4096, 2 * 4096), RangeError);
    throws(() => discardMemory(mem, -4096, 4096), RangeError);
  } finally {
    unmap(mem);
  }
});
