import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { assertRestoreRejects } from "../testing/snapshot_check.ts";
import { VIRTIO_LEGACY as L, VIRTIO_STATUS_DRIVER_OK } from "./virtio_pci.ts";
import {
  VIRTIO_CONSOLE_CONTROL_LIMIT,
  VIRTIO_CONSOLE_EVENT as E,
  VIRTIO_CONSOLE_F_EMERG_WRITE,
  VIRTIO_CONSOLE_F_MULTIPORT,
  VIRTIO_CONSOLE_INPUT_LIMIT,
  VIRTIO_CONSOLE_QUEUE_SIZES,
  VirtioConsole,
} from "./virtio_console.ts";
import {
  ArrayMemory,
  DriverRing,
  findVirtioCaps,
  prng,
  type RandomRequest,
  RandomVirtioDriver,
  RecordingIrq,
  runVirtioOps,
} from "./test_support.ts";

const MEMORY = 4 << 20;

function setup(portName?: string) {
  const memory = new ArrayMemory(MEMORY);
  const irq = new RecordingIrq();
  const out: { port: number; text: string }[] = [];
  const spaces: number[] = [];
  const dev = new VirtioConsole({
    memory,
    irq,
    portName,
    output: (port, bytes) => out.push({ port, text: new TextDecoder().decode(bytes) }),
  });
  dev.onRxSpace = (port) => spaces.push(port);
  return { memory, irq, dev, out, spaces };
}

type Setup = ReturnType<typeof setup>;

/** A legacy driver with every queue at its own 16 KiB, buffers from 0x100000. */
class Driver {
  readonly rings: DriverRing[] = [];
  #buf = 0x100000;

  constructor(readonly s: Setup, features: bigint) {
    const io = s.dev.legacyIo;
    io.write(L.status, 1, 0);
    io.write(L.status, 1, 3);
    io.write(L.guestFeatures, 4, Number(features));
    VIRTIO_CONSOLE_QUEUE_SIZES.forEach((size, q) => {
      io.write(L.queueSelect, 2, q);
      strictEqual(io.read(L.queueSize, 2), size);
      const pfn = 0x10 + 4 * q;
      io.write(L.queuePfn, 4, pfn);
      this.rings.push(DriverRing.legacy(s.memory, size, pfn));
    });
    io.write(L.status, 1, 3 | VIRTIO_STATUS_DRIVER_OK);
  }

  notify(q: number): void {
    this.s.dev.legacyIo.write(L.queueNotify, 2, q);
  }

  /** Posts `count` receive buffers of `len` bytes on queue `q`; returns their addresses. */
  post(q: number, count: number, len: number): number[] {
    const addrs: number[] = [];
    for (let i = 0; i < count; i++) {
      const addr = this.#buf;
      this.#buf += 0x1000;
      this.rings[q].publish(this.rings[q].chain([{ addr, len, write: true }]));
      addrs.push(addr);
    }
    this.notify(q);
    return addrs;
  }

  send(q: number, data: Uint8Array): void {
    const addr = this.#buf;
    this.#buf += 0x1000;
    this.s.memory.write(addr, data);
    this.rings[q].publish(this.rings[q].chain([{ addr, len: data.length }]));
    this.notify(q);
  }

  control(id: number, event: number, value: number): void {
    this.send(3, controlMessage(id, event, value));
  }

  /** Used element i of queue q with the bytes the device wrote. */
  used(q: number, i: number, addrs: number[]): { len: number; data: Uint8Array } {
    const e = this.rings[q].usedElem(i);
    return { len: e.len, data: this.s.memory.read(addrs[i], e.len) };
  }
}

function controlMessage(id: number, event: number, value: number): Uint8Array {
  const m = new Uint8Array(8);
  const v = new DataView(m.buffer);
  v.setUint32(0, id, true);
  v.setUint16(4, event, true);
  v.setUint16(6, value, true);
  return m;
}

function decodeControl(data: Uint8Array): [number, number, number, string] {
  const v = new DataView(data.buffer, data.byteOffset);
  const name = new TextDecoder().decode(data.subarray(8));
  return [v.getUint32(0, true), v.getUint16(4, true), v.getUint16(6, true), name];
}

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("virtio-console: PCI identity and configuration as QEMU's virtio-serial-pci", () => {
  const { dev } = setup();
  strictEqual(dev.config.read(0x00, 4), 0x10031af4);
  strictEqual(dev.config.read(0x2e, 2), 3);
  strictEqual(dev.config.read(0x09, 4) & 0xffffff, 0x078000);
  const host = BigInt(dev.legacyIo.read(L.hostFeatures, 4));
  strictEqual(host & VIRTIO_CONSOLE_F_MULTIPORT, VIRTIO_CONSOLE_F_MULTIPORT);
  strictEqual(host & VIRTIO_CONSOLE_F_EMERG_WRITE, VIRTIO_CONSOLE_F_EMERG_WRITE);
  strictEqual(host & 1n, 0n); // no F_SIZE
  strictEqual(dev.legacyIo.read(L.config, 4), 0); // cols, rows
  strictEqual(dev.legacyIo.read(L.config + 4, 4), 2); // max_nr_ports
  strictEqual(findVirtioCaps(dev.config).size, 5);
});

Deno.test("virtio-console without MULTIPORT: port 0 both ways, input waits for buffers", () => {
  const s = setup();
  const d = new Driver(s, 0n);
  d.send(1, text("hello hvc0\n"));
  deepStrictEqual(s.out, [{ port: 0, text: "hello hvc0\n" }]);
  strictEqual(d.rings[1].usedElem(0).len, 0);
  strictEqual(s.irq.level, true);
  // Input before any receive buffer: taken, held.
  strictEqual(s.dev.receive(0, text("abcdef")), 6);
  strictEqual(d.rings[0].usedIdx, 0);
  const addrs = d.post(0, 2, 4);
  strictEqual(d.rings[0].usedIdx, 2);
  deepStrictEqual(d.used(0, 0, addrs), { len: 4, data: text("abcd") });
  deepStrictEqual(d.used(0, 1, addrs), { len: 2, data: text("ef") });
  deepStrictEqual(s.spaces, [0]);
  // Port 1 does not exist without MULTIPORT: its input stays put.
  strictEqual(s.dev.receive(1, text("x")), 1);
  d.post(4, 1, 16);
  strictEqual(d.rings[4].usedIdx, 0);
  // Control queues are not in use either.
  d.control(0xffffffff, E.DEVICE_READY, 1);
  strictEqual(d.rings[3].usedIdx, 0);
});

Deno.test("virtio-console: host input is bounded; the rest waits for onRxSpace", () => {
  const s = setup();
  const d = new Driver(s, 0n);
  const big = new Uint8Array(VIRTIO_CONSOLE_INPUT_LIMIT + 100).fill(0x41);
  strictEqual(s.dev.receive(0, big), VIRTIO_CONSOLE_INPUT_LIMIT);
  strictEqual(s.dev.rxSpace(0), 0);
  strictEqual(s.dev.receive(0, big), 0);
  d.post(0, 1, 1000);
  strictEqual(s.dev.rxSpace(0), 1000);
  deepStrictEqual(s.spaces, [0]);
  strictEqual(s.dev.snapshot().ports[0].input.length, VIRTIO_CONSOLE_INPUT_LIMIT - 1000);
});

/** MULTIPORT bring-up as Linux does it; returns the control messages the device sent. */
function handshake(d: Driver): [number, number, number, string][] {
  const ctrl = d.post(2, 16, 64);
  d.control(0xffffffff, E.DEVICE_READY, 1);
  d.control(0, E.PORT_READY, 1);
  d.control(1, E.PORT_READY, 1);
  const n = d.rings[2].usedIdx;
  return Array.from({ length: n }, (_, i) => decodeControl(d.used(2, i, ctrl).data));
}

Deno.test("virtio-console MULTIPORT: handshake, console port, port name, open", () => {
  const s = setup("org.example.test");
  const d = new Driver(s, VIRTIO_CONSOLE_F_MULTIPORT);
  deepStrictEqual(handshake(d), [
    [0, E.DEVICE_ADD, 1, ""],
    [1, E.DEVICE_ADD, 1, ""],
    [0, E.CONSOLE_PORT, 1, ""],
    [0, E.PORT_OPEN, 1, ""],
    [1, E.PORT_NAME, 1, "org.example.test\0"],
    [1, E.PORT_OPEN, 1, ""],
  ]);
  // Input waits for the guest to open the port.
  strictEqual(s.dev.receive(1, text("to port1")), 8);
  const rx1 = d.post(4, 1, 64);
  strictEqual(d.rings[4].usedIdx, 0);
  d.control(1, E.PORT_OPEN, 1);
  deepStrictEqual(d.used(4, 0, rx1), { len: 8, data: text("to port1") });
  s.dev.receive(0, text("to hvc0"));
  const rx0 = d.post(0, 1, 64);
  strictEqual(d.rings[0].usedIdx, 0);
  d.control(0, E.PORT_OPEN, 1);
  deepStrictEqual(d.used(0, 0, rx0), { len: 7, data: text("to hvc0") });
  // Output on both ports goes to their sinks.
  d.send(5, text("hello port1"));
  d.send(1, text("hello hvc0"));
  deepStrictEqual(s.out, [{ port: 1, text: "hello port1" }, { port: 0, text: "hello hvc0" }]);
  // Closing port 1 holds its input again.
  d.control(1, E.PORT_OPEN, 0);
  s.dev.receive(1, text("later"));
  d.post(4, 1, 64);
  strictEqual(d.rings[4].usedIdx, 1);
  const state = s.dev.snapshot();
  deepStrictEqual(state.ports.map((p) => [p.guestReady, p.guestOpen, p.bytesIn, p.bytesOut]), [
    [true, true, 7, 10],
    [true, false, 8, 11],
  ]);
  strictEqual(new TextDecoder().decode(state.ports[1].input), "later");
});

Deno.test("virtio-console: emergency write goes to port 0; control messages are bounded", () => {
  const s = setup();
  s.dev.legacyIo.write(L.config + 8, 4, 0x21);
  deepStrictEqual(s.out, [{ port: 0, text: "!" }]);
  const d = new Driver(s, VIRTIO_CONSOLE_F_MULTIPORT);
  // No control receive buffers: messages pile up to the limit, then drop.
  for (let i = 0; i < VIRTIO_CONSOLE_CONTROL_LIMIT; i++) d.control(0, E.PORT_READY, 1);
  const state = s.dev.snapshot();
  strictEqual(state.control.length, VIRTIO_CONSOLE_CONTROL_LIMIT);
  strictEqual(state.controlDropped, VIRTIO_CONSOLE_CONTROL_LIMIT); // two messages each
  // A device reset forgets them.
  s.dev.legacyIo.write(L.status, 1, 0);
  strictEqual(s.dev.snapshot().control.length, 0);
});

Deno.test("virtio-console: a short control message is ignored, a bad id too", () => {
  const s = setup();
  const d = new Driver(s, VIRTIO_CONSOLE_F_MULTIPORT);
  const ctrl = d.post(2, 4, 64);
  d.send(3, new Uint8Array(4));
  d.control(7, E.PORT_READY, 1);
  strictEqual(d.rings[2].usedIdx, 0);
  strictEqual(d.rings[3].usedIdx, 2);
  strictEqual(s.dev.transport.broken, null);
  d.control(0xffffffff, E.DEVICE_READY, 1);
  strictEqual(d.rings[2].usedIdx, 2);
  deepStrictEqual(decodeControl(d.used(2, 1, ctrl).data), [1, E.DEVICE_ADD, 1, ""]);
});

/** Random requests that make sense for each queue, plus some that do not. */
function randomRequest(next: (n: number) => number, q: number): RandomRequest {
  const rx = q === 0 || q === 2 || q === 4;
  if (rx) return { readable: [], writable: [1 + next(40)] };
  if (q === 3) {
    const events = [E.DEVICE_READY, E.PORT_READY, E.PORT_OPEN, E.PORT_OPEN, E.RESIZE];
    return {
      readable: [controlMessage(next(3), events[next(events.length)], next(4) ? 1 : 0)],
      writable: [],
    };
  }
  return {
    readable: [Uint8Array.from({ length: 1 + next(20) }, () => 0x20 + next(90))],
    writable: [],
  };
}

Deno.test("virtio-console: snapshot mid-transfer -> restore gives a copy that behaves the same", () => {
  let inputSeen = 0;
  let controlSeen = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const next = prng(seed);
    const a = setup();
    const features = [0n, VIRTIO_CONSOLE_F_MULTIPORT, VIRTIO_CONSOLE_F_MULTIPORT][next(3)];
    const driver = new RandomVirtioDriver(
      next,
      VIRTIO_CONSOLE_QUEUE_SIZES,
      features,
      randomRequest,
      0x100000,
    );
    const feed = (targets: Setup[], count: number) => {
      for (let i = 0; i < count; i++) {
        const port = next(2);
        const data = Uint8Array.from({ length: 1 + next(50) }, () => 0x30 + next(40));
        const taken = targets.map((t) => t.dev.receive(port, data));
        strictEqual(new Set(taken).size, 1);
      }
    };
    runVirtioOps(a.dev, a.memory, a.irq, driver.bringUp());
    for (let round = 0; round < 4; round++) {
      runVirtioOps(a.dev, a.memory, a.irq, driver.ops(20 + next(40)));
      feed([a], next(4));
    }
    const saved = a.dev.snapshot();
    if (saved.ports.some((p) => p.input.length > 0)) inputSeen++;
    if (saved.control.length > 0) controlSeen++;

    const b = setup();
    b.memory.bytes.set(a.memory.bytes);
    b.dev.restore(structuredClone(saved));
    deepStrictEqual(b.dev.snapshot(), saved);
    strictEqual(b.irq.level, a.irq.level);
    a.out.length = a.spaces.length = 0;
    for (let round = 0; round < 4; round++) {
      const more = driver.ops(40);
      deepStrictEqual(
        runVirtioOps(b.dev, b.memory, b.irq, more),
        runVirtioOps(a.dev, a.memory, a.irq, more),
      );
      feed([a, b], next(4));
    }
    deepStrictEqual(b.out, a.out);
    deepStrictEqual(b.spaces, a.spaces);
    deepStrictEqual(b.dev.snapshot(), a.dev.snapshot());
    ok(b.memory.bytes.every((v, i) => v === a.memory.bytes[i]), `seed ${seed}: memory differs`);
  }
  ok(inputSeen > 5, `only ${inputSeen} seeds saved with input waiting`);
  ok(controlSeen > 0, `no seed saved with control messages waiting`);
});

Deno.test("virtio-console: restore refuses malformed states and changes nothing", () => {
  const s = setup();
  const d = new Driver(s, VIRTIO_CONSOLE_F_MULTIPORT);
  d.control(0xffffffff, E.DEVICE_READY, 1);
  s.dev.receive(0, text("pending"));
  const good = s.dev.snapshot();
  const port = good.ports[0];
  assertRestoreRejects(s.dev, good, [
    { ports: [port] },
    { ports: [port, { ...port, input: new Uint8Array(VIRTIO_CONSOLE_INPUT_LIMIT + 1) }] },
    { ports: [port, { ...port, guestOpen: 1 }] },
    { control: [new Uint8Array(3)] },
    { control: Array.from({ length: VIRTIO_CONSOLE_CONTROL_LIMIT + 1 }, () => good.control[0]) },
    { controlDropped: -1 },
    { deviceReady: "yes" },
  ]);
});
