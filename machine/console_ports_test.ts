import { deepStrictEqual, match, strictEqual } from "node:assert";
import { SteppedClock } from "../devices/clock.ts";
import { ArrayGuestMemory } from "../devices/testing/array_guest_memory.ts";
import { RecordingIrq } from "../devices/testing/recording_irq.ts";
import { VIRTIO_CONSOLE_INPUT_LIMIT, VirtioConsole } from "../devices/virtio/virtio_console.ts";
import { VIRTIO_LEGACY as L } from "../devices/virtio/virtio_pci.ts";
import { DriverRing } from "../devices/virtio/test_support.ts";
import type { Board } from "./board.ts";
import { CONSOLE_PENDING_LIMIT, ConsolePorts } from "./console_ports.ts";

function rig() {
  const memory = new ArrayGuestMemory(4 << 20);
  const posted: [number, string][] = [];
  const warnings: string[] = [];
  const ports = new ConsolePorts(
    (port, bytes) => posted.push([port, new TextDecoder().decode(bytes)]),
    (m) => warnings.push(m),
  );
  const device = new VirtioConsole({
    memory,
    irq: new RecordingIrq(),
    output: (port, bytes) => ports.output(port, bytes),
  });
  const clock = new SteppedClock();
  const board = { devices: { optional: [{ name: "virtio-serial-pci", slot: 3, device }] } };
  ports.attach(board as unknown as Board, clock);
  // A legacy driver without MULTIPORT: port 0's queues only.
  const io = device.legacyIo;
  io.write(L.status, 1, 3);
  io.write(L.queueSelect, 2, 0);
  io.write(L.queuePfn, 4, 0x10);
  io.write(L.queueSelect, 2, 1);
  io.write(L.queuePfn, 4, 0x20);
  io.write(L.status, 1, 7);
  const rx = DriverRing.legacy(memory, 128, 0x10);
  const tx = DriverRing.legacy(memory, 128, 0x20);
  return { memory, posted, warnings, ports, device, clock, rx, tx };
}

Deno.test("console ports: output is batched until the flush deadline or 4 KiB", () => {
  const r = rig();
  r.memory.write(0x100000, new TextEncoder().encode("hello"));
  r.tx.publish(r.tx.chain([{ addr: 0x100000, len: 5 }]));
  r.device.legacyIo.write(L.queueNotify, 2, 1);
  strictEqual(r.posted.length, 0);
  r.clock.advanceTo(2_000_000);
  deepStrictEqual(r.posted, [[0, "hello"]]);
  r.memory.write(0x100000, new Uint8Array(4096).fill(0x41));
  r.tx.publish(r.tx.chain([{ addr: 0x100000, len: 4096 }]));
  r.device.legacyIo.write(L.queueNotify, 2, 1);
  strictEqual(r.posted.length, 2);
  strictEqual(r.posted[1][1].length, 4096);
});

Deno.test("console ports: input beyond the device's room waits and follows as the guest reads", () => {
  const r = rig();
  const total = VIRTIO_CONSOLE_INPUT_LIMIT + 5000;
  r.ports.input(0, Array.from({ length: total }, (_, i) => 0x30 + (i % 10)));
  strictEqual(r.device.rxSpace(0), 0);
  let got = 0;
  for (let round = 0; got < total && round < 100; round++) {
    const addr = 0x200000 + (round % 8) * 0x10000;
    r.rx.publish(r.rx.chain([{ addr, len: 0x10000, write: true }]));
    r.device.legacyIo.write(L.queueNotify, 2, 0);
    got += r.rx.usedElem(round).len;
  }
  strictEqual(got, total);
  strictEqual(r.device.rxSpace(0), VIRTIO_CONSOLE_INPUT_LIMIT);
  deepStrictEqual(r.warnings, []);
});

Deno.test("console ports: a guest that never reads gets at most the pending limit", () => {
  const r = rig();
  const chunk = new Array(256 * 1024).fill(0x41);
  for (let i = 0; i < 6; i++) r.ports.input(0, chunk);
  strictEqual(r.device.rxSpace(0), 0);
  strictEqual(r.warnings.length > 0, true);
  match(r.warnings[0], /guest not reading; \d+ bytes dropped/);
  const dropped = r.warnings.reduce((n, w) => n + Number(/; (\d+) bytes/.exec(w)![1]), 0);
  strictEqual(dropped, 6 * chunk.length - VIRTIO_CONSOLE_INPUT_LIMIT - CONSOLE_PENDING_LIMIT);
  // What was kept all reaches the guest once it reads.
  let got = 0;
  for (let round = 0; round < 64; round++) {
    r.rx.publish(r.rx.chain([{ addr: 0x200000, len: 0x10000, write: true }]));
    r.device.legacyIo.write(L.queueNotify, 2, 0);
    got += r.rx.usedElem(round).len;
  }
  strictEqual(got, VIRTIO_CONSOLE_INPUT_LIMIT + CONSOLE_PENDING_LIMIT);
});
