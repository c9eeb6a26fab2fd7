/**
 * With --firmware none and --snapshot, a guest that rewrites its own boot
 * sector and resets boots what it wrote (the overlay), while the image file
 * keeps its original bytes.
 */

import { deepStrictEqual, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { Machine } from "../machine/machine.ts";
import { kvmTest } from "./kvm_available.ts";

const HANG_GUARD_MS = 60_000;

kvmTest("a rewritten boot sector in a --snapshot overlay is what the reset boots", async () => {
  const image = fixture("rewrite_boot");
  const before = Deno.readFileSync(image);
  let serial = "";
  const dec = new TextDecoder();
  const machine = new Machine({
    memoryBytes: 16 << 20,
    cpus: 1,
    firmware: { kind: "none" },
    disks: [{ path: image, interface: "ide", media: "disk", readonly: false }],
    snapshot: true,
    bootMenu: false,
    startTimeMs: Date.UTC(2026, 0, 1),
  }, { serial: (b) => serial += dec.decode(b, { stream: true }) });
  const guard = setTimeout(() => machine.stop(), HANG_GUARD_MS);
  try {
    const exit = await machine.exited;
    strictEqual(serial, "first boot\r\nsecond boot\r\n");
    deepStrictEqual({ reason: exit.reason, code: exit.code }, { reason: "debug-exit", code: 42 });
  } finally {
    clearTimeout(guard);
  }
  deepStrictEqual(Deno.readFileSync(image), before, "--snapshot wrote the image");
});
