import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { assertRestoreRejects } from "../testing/snapshot_check.ts";
import type { AccessSize, BusDevice } from "../types.ts";
import {
  VIRTIO_COMMON as C,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  VIRTIO_PCI_CAP,
} from "./virtio_pci.ts";
import { VirtioGpuVga } from "./virtio_gpu_vga.ts";
import {
  GPU_CMD,
  GPU_FORMATS,
  GPU_RESP,
  VIRTIO_GPU_F_EDID,
  VIRTIO_GPU_FLAG_FENCE,
} from "./virtio_gpu_protocol.ts";
import { checksum } from "./virtio_gpu_edid.ts";
import { GPU_RESOURCE_OVERHEAD, GPU_WORK_BUDGET } from "./virtio_gpu.ts";
import { SteppedClock } from "../clock.ts";
import { scanoutImage, ScanoutTracker } from "./virtio_gpu_display.ts";
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

const REQ = 0x20000;
const RESP = 0x30000;

/** Little-endian u32 words as bytes. */
function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
  return out;
}

/** A control header (type, flags, fence_id, ctx_id, ring_idx) and the command's words. */
function cmd(type: number, body: number[], fence?: { id: number; ctx: number }): Uint8Array {
  const hdr = words(type, fence ? VIRTIO_GPU_FLAG_FENCE : 0, fence?.id ?? 0, 0, fence?.ctx ?? 0, 0);
  const out = new Uint8Array(hdr.length + body.length * 4);
  out.set(hdr);
  out.set(words(...body), hdr.length);
  return out;
}

const rect = (x: number, y: number, w: number, h: number) => [x, y, w, h];

/** A virtio-vga brought up through its capabilities, with a driver for both queues. */
function setup(options: { maxHostMem?: number; clock?: SteppedClock } = {}) {
  const memory = new ArrayMemory(8 << 20);
  const irq = new RecordingIrq();
  const vram = new Uint8Array(1 << 20);
  const { clock, ...rest } = options;
  const timers = clock ? { clock, timer: clock.timer } : {};
  const dev = new VirtioGpuVga({ memory, irq, vram, ...rest, ...timers });
  const caps = findVirtioCaps(dev.config);
  const common = caps.get(VIRTIO_PCI_CAP.commonCfg)!.offset;
  const notify = caps.get(VIRTIO_PCI_CAP.notifyCfg)!;
  const m = dev.mmio;
  m.write(common + C.deviceStatus, 1, 0);
  m.write(common + C.deviceStatus, 1, 3);
  m.write(common + C.driverFeatureSelect, 4, 0);
  m.write(common + C.driverFeature, 4, Number(VIRTIO_GPU_F_EDID));
  m.write(common + C.driverFeatureSelect, 4, 1);
  m.write(common + C.driverFeature, 4, 1);
  m.write(common + C.deviceStatus, 1, 11);
  const rings = [0, 1].map((q) => {
    const base = 0x10000 + q * 0x8000;
    m.write(common + C.queueSelect, 2, q);
    m.write(common + C.queueSize, 2, 16);
    m.write(common + C.queueDesc, 4, base);
    m.write(common + C.queueDriver, 4, base + 0x1000);
    m.write(common + C.queueDevice, 4, base + 0x2000);
    m.write(common + C.queueEnable, 2, 1);
    return new DriverRing(memory, 16, base, base + 0x1000, base + 0x2000);
  });
  m.write(common + C.deviceStatus, 1, 15);
  let used = [0, 0];
  /** Sends `request` on queue `q` with a `respLen`-byte response buffer; returns the response. */
  const send = (request: Uint8Array, respLen = 24, q = 0, parts = 1) => {
    memory.write(REQ, request);
    memory.write(RESP, new Uint8Array(respLen).fill(0xee));
    const cut = parts === 1 ? request.length : 24;
    const bufs = [{ addr: REQ, len: cut }];
    if (parts > 1) bufs.push({ addr: REQ + cut + 0x100, len: request.length - cut });
    if (parts > 1) memory.write(REQ + cut + 0x100, request.subarray(cut));
    if (respLen) bufs.push({ addr: RESP, len: respLen, write: true } as never);
    rings[q].publish(rings[q].chain(bufs));
    m.write(notify.offset + q * notify.multiplier!, 2, q);
    const elem = rings[q].usedElem(used[q]);
    used = used.map((u, i) => (i === q ? u + 1 : u));
    strictEqual(rings[q].usedIdx, used[q], "the request was used");
    return memory.read(RESP, elem.len);
  };
  const respType = (r: Uint8Array) => new DataView(r.buffer, r.byteOffset).getUint32(0, true);
  const ok1 = (request: Uint8Array) => strictEqual(respType(send(request)), GPU_RESP.okNodata);
  return { memory, irq, dev, gpu: dev.gpu, send, respType, ok: ok1, m, common, rings, notify };
}

/** Writes `entries` as an ATTACH_BACKING for resource `id`. */
function attach(id: number, entries: [number, number][]): Uint8Array {
  const body = [id, entries.length];
  for (const [addr, len] of entries) body.push(addr, 0, len, 0);
  return cmd(GPU_CMD.resourceAttachBacking, body);
}

Deno.test("virtio-vga: PCI identity, BARs and capabilities as QEMU's -vga virtio", () => {
  const { dev } = setup();
  const c = dev.config;
  strictEqual(c.read(0x00, 4), 0x10501af4);
  strictEqual(c.read(0x08, 1), 1); // revision
  strictEqual(c.read(0x08, 4) >>> 8, 0x030000);
  strictEqual(c.read(0x2c, 4), 0x11001af4);
  strictEqual(c.read(0x3d, 1), 1); // INTA#
  // BAR0: 32-bit prefetchable memory of the video RAM's size; BAR2: 64-bit prefetchable, 16 KiB.
  c.write(0x10, 4, 0xffffffff);
  strictEqual(c.read(0x10, 4) >>> 0, (~((1 << 20) - 1) | 0x8) >>> 0);
  c.write(0x18, 4, 0xffffffff);
  strictEqual(c.read(0x18, 4) >>> 0, (~0x3fff | 0xc) >>> 0);
  for (const bar of [0x14, 0x20, 0x24]) {
    c.write(bar, 4, 0xffffffff);
    strictEqual(c.read(bar, 4), 0, `BAR at 0x${bar.toString(16)} is absent`);
  }
  const caps = findVirtioCaps(c);
  const where = (t: number) => [caps.get(t)!.bar, caps.get(t)!.offset, caps.get(t)!.length];
  deepStrictEqual(where(VIRTIO_PCI_CAP.commonCfg), [2, 0x1000, 0x800]);
  deepStrictEqual(where(VIRTIO_PCI_CAP.isrCfg), [2, 0x1800, 0x800]);
  deepStrictEqual(where(VIRTIO_PCI_CAP.deviceCfg), [2, 0x2000, 0x1000]);
  deepStrictEqual(where(VIRTIO_PCI_CAP.notifyCfg), [2, 0x3000, 0x1000]);
  strictEqual(
    dev.transport.deviceFeatures,
    VIRTIO_GPU_F_EDID | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX | VIRTIO_F_VERSION_1,
  );
  // Device configuration: events_read, events_clear, num_scanouts 1, num_capsets 0.
  deepStrictEqual([0, 4, 8, 12].map((o) => dev.mmio.read(0x2000 + o, 4)), [0, 0, 1, 0]);
  // The std VGA's registers stay at the start of BAR2: DISPI's ID register at 0x500.
  strictEqual(dev.mmio.read(0x500, 2) & 0xfff0, 0xb0c0);
  // No legacy interface.
  strictEqual(dev.legacyIo.read(0x12, 1), 0xff);
});

Deno.test("virtio-gpu: GET_DISPLAY_INFO and GET_EDID describe a 1280x800 monitor", () => {
  const s = setup();
  const info = s.send(cmd(GPU_CMD.getDisplayInfo, []), 408);
  strictEqual(info.length, 408);
  const v = new DataView(info.buffer);
  strictEqual(v.getUint32(0, true), GPU_RESP.okDisplayInfo);
  deepStrictEqual([8, 12, 16, 20].map((o) => v.getUint32(24 + o, true)), [1280, 800, 1, 0]);
  strictEqual(v.getUint32(24 + 24 + 16, true), 0, "scanout 1 is not enabled");

  const edid = s.send(cmd(GPU_CMD.getEdid, [0, 0]), 1056);
  const e = new DataView(edid.buffer);
  strictEqual(e.getUint32(0, true), GPU_RESP.okEdid);
  strictEqual(e.getUint32(24, true), 128);
  const block = edid.subarray(32, 160);
  deepStrictEqual([...block.subarray(0, 8)], [0, 255, 255, 255, 255, 255, 255, 0]);
  strictEqual(block.reduce((a, b) => a + b, 0) % 256, 0, "checksum");
  strictEqual(block[127], checksum(block));
  // The first detailed timing is the preferred mode.
  strictEqual(block[56] | ((block[58] >> 4) << 8), 1280);
  strictEqual(block[59] | ((block[61] >> 4) << 8), 800);
  strictEqual(s.respType(s.send(cmd(GPU_CMD.getEdid, [1, 0]), 1056)), GPU_RESP.errInvalidParameter);
});

/** The test pattern: pixel (x, y) is r = x * 7 + y, g = y * 3, b = x ^ y. */
const rgbAt = (x: number, y: number) => [(x * 7 + y) & 255, (y * 3) & 255, (x ^ y) & 255];

/** Fills a `w × h` image in `format` at the backing offsets `place` gives. */
function drawPattern(format: number, w: number, h: number): Uint8Array {
  const f = GPU_FORMATS.get(format)!;
  const out = new Uint8Array(w * h * 4).fill(0x55); // alpha / X bytes: not shown
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = rgbAt(x, y);
      const at = (y * w + x) * 4;
      out[at + f.r] = r;
      out[at + f.g] = g;
      out[at + f.b] = b;
    }
  }
  return out;
}

Deno.test("virtio-gpu: every 2D format from scattered backing to the scanout's RGBA", () => {
  for (const format of GPU_FORMATS.keys()) {
    const s = setup();
    const [w, h] = [37, 21];
    const image = drawPattern(format, w, h);
    // Two entries far apart, split in the middle of a row.
    const split = 5 * w * 4 + 13 * 4 + 2;
    s.memory.write(0x100000, image.subarray(0, split));
    s.memory.write(0x300000, image.subarray(split));
    s.ok(cmd(GPU_CMD.resourceCreate2d, [7, format, w, h]));
    s.ok(attach(7, [[0x100000, split], [0x300000, image.length - split]]));
    s.ok(cmd(GPU_CMD.transferToHost2d, [...rect(0, 0, w, h), 0, 0, 7, 0]));
    strictEqual(s.gpu.enabled, false, "the VGA shows until SET_SCANOUT");
    s.ok(cmd(GPU_CMD.setScanout, [...rect(2, 3, 30, 16), 0, 7]));
    strictEqual(s.gpu.enabled, true);
    const shot = scanoutImage(s.gpu);
    deepStrictEqual([shot.width, shot.height], [30, 16]);
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 30; x++) {
        const at = (y * 30 + x) * 4;
        deepStrictEqual(
          [...shot.rgba.subarray(at, at + 4)],
          [...rgbAt(x + 2, y + 3), 255],
          `${GPU_FORMATS.get(format)!.name} at (${x}, ${y})`,
        );
      }
    }
  }
});

Deno.test("virtio-gpu: a partial transfer copies rows from offset + row × stride; flush drives the frame updates", () => {
  const s = setup();
  const [w, h] = [64, 40];
  const stride = w * 4;
  s.ok(cmd(GPU_CMD.resourceCreate2d, [1, 2, w, h])); // B8G8R8X8
  s.ok(attach(1, [[0x100000, w * h * 4]]));
  s.memory.write(0x100000, drawPattern(2, w, h));
  s.ok(cmd(GPU_CMD.transferToHost2d, [...rect(0, 0, w, h), 0, 0, 1, 0]));
  s.ok(cmd(GPU_CMD.setScanout, [...rect(0, 0, w, h), 0, 1]));
  const tracker = new ScanoutTracker(s.gpu);
  const first = tracker.update();
  ok(first.full && first.rects.length === 1 && first.format.source === "virtio");
  strictEqual(first.label, "virtio-gpu 64×40 32 bpp");
  deepStrictEqual(tracker.update().rects, [], "nothing flushed, nothing changed");

  // White 8x4 box at (10, 20) in the backing; only part of it is transferred.
  for (let y = 20; y < 24; y++) {
    s.memory.write(0x100000 + y * stride + 40, new Uint8Array(32).fill(255));
  }
  s.ok(cmd(GPU_CMD.transferToHost2d, [...rect(10, 20, 6, 4), 20 * stride + 40, 0, 1, 0]));
  deepStrictEqual(tracker.update().rects, [], "transferred but not flushed");
  s.ok(cmd(GPU_CMD.resourceFlush, [...rect(0, 16, 64, 10), 1, 0]));
  const change = tracker.update();
  ok(!change.full);
  deepStrictEqual(change.rects.map((r) => [r.x, r.y, r.width, r.height]), [[10, 20, 6, 4]]);
  const shot = scanoutImage(s.gpu);
  const px = (
    x: number,
    y: number,
  ) => [...shot.rgba.subarray((y * w + x) * 4, (y * w + x) * 4 + 3)];
  deepStrictEqual(px(10, 20), [255, 255, 255]);
  deepStrictEqual(px(15, 23), [255, 255, 255]);
  deepStrictEqual(px(16, 20), rgbAt(16, 20), "outside the transferred rectangle");
  // A transfer whose offset runs past the backing leaves the rest alone.
  s.ok(cmd(GPU_CMD.transferToHost2d, [...rect(0, 39, 64, 1), w * h * 4 - 8, 0, 1, 0]));
  // Back to scanout-less: resource 0 disables the scanout; the display stays virtio's.
  s.ok(cmd(GPU_CMD.setScanout, [...rect(0, 0, 0, 0), 0, 0]));
  strictEqual(s.gpu.enabled, true);
  const off = tracker.update();
  ok(off.full);
  strictEqual(off.label, "virtio-gpu: display off");
});

Deno.test("virtio-gpu: errors as the spec and QEMU answer them", () => {
  const s = setup();
  const r = (c: Uint8Array) => s.respType(s.send(c));
  const E = GPU_RESP;
  strictEqual(r(cmd(GPU_CMD.resourceCreate2d, [0, 1, 16, 16])), E.errInvalidResourceId);
  strictEqual(r(cmd(GPU_CMD.resourceCreate2d, [1, 5, 16, 16])), E.errInvalidParameter);
  strictEqual(r(cmd(GPU_CMD.resourceCreate2d, [1, 1, 0, 16])), E.errInvalidParameter);
  strictEqual(r(cmd(GPU_CMD.resourceCreate2d, [1, 1, 16, 16])), E.okNodata);
  strictEqual(r(cmd(GPU_CMD.resourceCreate2d, [1, 1, 16, 16])), E.errInvalidResourceId);
  for (const c of [GPU_CMD.resourceUnref, GPU_CMD.resourceDetachBacking]) {
    strictEqual(r(cmd(c, [9, 0])), E.errInvalidResourceId);
  }
  strictEqual(r(cmd(GPU_CMD.resourceFlush, [...rect(0, 0, 1, 1), 9, 0])), E.errInvalidResourceId);
  strictEqual(r(cmd(GPU_CMD.resourceFlush, [...rect(8, 8, 9, 1), 1, 0])), E.errInvalidParameter);
  strictEqual(
    r(cmd(GPU_CMD.transferToHost2d, [...rect(0, 0, 1, 1), 0, 0, 9, 0])),
    E.errInvalidResourceId,
  );
  strictEqual(
    r(cmd(GPU_CMD.transferToHost2d, [...rect(0, 0, 1, 1), 0, 0, 1, 0])),
    E.errUnspec,
    "no backing",
  );
  strictEqual(r(attach(9, [[0x100000, 64]])), E.errInvalidResourceId);
  strictEqual(r(attach(1, [[0x7fff00, 0x200]])), E.errUnspec, "backing outside RAM");
  strictEqual(r(attach(1, [[0x100000, 1024]])), E.okNodata);
  strictEqual(r(attach(1, [[0x100000, 1024]])), E.errUnspec, "backing attached twice");
  strictEqual(r(cmd(GPU_CMD.resourceDetachBacking, [1, 0])), E.okNodata);
  strictEqual(r(cmd(GPU_CMD.resourceDetachBacking, [1, 0])), E.errUnspec);
  strictEqual(r(cmd(GPU_CMD.transferToHost2d, [...rect(0, 0, 17, 1), 0, 0, 1, 0])), E.errUnspec);
  strictEqual(r(attach(1, [[0x100000, 1024]])), E.okNodata);
  strictEqual(
    r(cmd(GPU_CMD.transferToHost2d, [...rect(0, 0, 17, 1), 0, 0, 1, 0])),
    E.errInvalidParameter,
  );
  strictEqual(
    r(cmd(GPU_CMD.transferToHost2d, [...rect(0xffffffff, 0, 2, 1), 0, 0, 1, 0])),
    E.errInvalidParameter,
  );
  strictEqual(r(cmd(GPU_CMD.setScanout, [...rect(0, 0, 16, 16), 1, 1])), E.errInvalidScanoutId);
  strictEqual(r(cmd(GPU_CMD.setScanout, [...rect(0, 0, 16, 16), 0, 9])), E.errInvalidResourceId);
  strictEqual(r(cmd(GPU_CMD.setScanout, [...rect(0, 0, 15, 16), 0, 1])), E.errInvalidParameter);
  strictEqual(r(cmd(GPU_CMD.setScanout, [...rect(1, 0, 16, 16), 0, 1])), E.errInvalidParameter);
  strictEqual(s.gpu.enabled, false, "a refused SET_SCANOUT leaves the VGA on");
  strictEqual(r(cmd(GPU_CMD.getCapsetInfo, [0, 0])), E.errUnspec, "no capsets in 2D");
  strictEqual(r(cmd(0x0999, [])), E.errUnspec, "unknown command");
  strictEqual(r(cmd(GPU_CMD.resourceCreate2d, [2, 1])), E.errUnspec, "short request");
  // An ATTACH_BACKING that claims more entries than it carries.
  s.ok(cmd(GPU_CMD.resourceCreate2d, [2, 1, 16, 16]));
  strictEqual(r(cmd(GPU_CMD.resourceAttachBacking, [2, 3, 0x100000, 0, 64, 0])), E.errUnspec);
  // Its entries may come in a second buffer, as Linux sends them.
  s.ok(cmd(GPU_CMD.resourceCreate2d, [3, 1, 16, 16]));
  strictEqual(
    s.respType(s.send(attach(3, [[0x100000, 512], [0x200000, 512]]), 24, 0, 2)),
    E.okNodata,
  );
  strictEqual(s.gpu.counters.errors, 25);
  // A response buffer too short takes what fits.
  strictEqual(s.send(cmd(GPU_CMD.getDisplayInfo, []), 30).length, 30);
  // Setting a scanout, then freeing its resource, turns the scanout off.
  s.ok(cmd(GPU_CMD.setScanout, [...rect(0, 0, 16, 16), 0, 1]));
  s.ok(cmd(GPU_CMD.resourceUnref, [1, 0]));
  strictEqual(s.gpu.scanout(0).resourceId, 0);
});

Deno.test("virtio-gpu: fences are echoed with their ID and context, the command done", () => {
  const s = setup();
  const resp = s.send(cmd(GPU_CMD.resourceCreate2d, [1, 1, 16, 16], { id: 0x1234567, ctx: 5 }));
  const v = new DataView(resp.buffer);
  deepStrictEqual(
    [v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(16, true)],
    [GPU_RESP.okNodata, VIRTIO_GPU_FLAG_FENCE, 0x1234567, 5],
  );
  const plain = new DataView(s.send(cmd(GPU_CMD.resourceUnref, [1, 0])).buffer);
  deepStrictEqual([plain.getUint32(4, true), plain.getUint32(8, true)], [0, 0]);
  strictEqual(s.gpu.counters.fences, 1);
});

Deno.test("virtio-gpu: resource memory is capped; freeing makes room again", () => {
  const s = setup({ maxHostMem: 64 * 64 * 4 + GPU_RESOURCE_OVERHEAD + 16 });
  s.ok(cmd(GPU_CMD.resourceCreate2d, [1, 1, 64, 64]));
  strictEqual(
    s.respType(s.send(cmd(GPU_CMD.resourceCreate2d, [2, 1, 1, 1]))),
    GPU_RESP.errOutOfMemory,
  );
  s.ok(attach(1, [[0x100000, 4096]]));
  strictEqual(
    s.respType(s.send(cmd(GPU_CMD.resourceCreate2d, [3, 1, 1, 1]))),
    GPU_RESP.errOutOfMemory,
  );
  strictEqual(s.gpu.hostMem, 64 * 64 * 4 + GPU_RESOURCE_OVERHEAD + 16);
  const huge = setup();
  strictEqual(
    huge.respType(huge.send(cmd(GPU_CMD.resourceCreate2d, [1, 1, 16384, 16384]))),
    GPU_RESP.errOutOfMemory,
    "1 GiB is over QEMU's 256 MiB",
  );
  strictEqual(
    huge.respType(huge.send(cmd(GPU_CMD.resourceCreate2d, [1, 1, 16385, 1]))),
    GPU_RESP.errOutOfMemory,
  );
  s.ok(cmd(GPU_CMD.resourceUnref, [1, 0]));
  strictEqual(s.gpu.hostMem, 0);
  s.ok(cmd(GPU_CMD.resourceCreate2d, [2, 1, 1, 1]));
});

Deno.test("virtio-gpu: the cursor queue moves and defines the cursor without responses", () => {
  const s = setup();
  const cursor = (type: number, body: number[]) => s.send(cmd(type, body), 0, 1);
  strictEqual(cursor(GPU_CMD.updateCursor, [0, 100, 50, 0, 4, 3, 2, 0]).length, 0);
  deepStrictEqual(s.gpu.cursor, { scanout: 0, x: 100, y: 50, resourceId: 4, hotX: 3, hotY: 2 });
  cursor(GPU_CMD.moveCursor, [0, 7, 8, 0, 0, 0, 0, 0]);
  deepStrictEqual(s.gpu.cursor, { scanout: 0, x: 7, y: 8, resourceId: 4, hotX: 3, hotY: 2 });
  cursor(GPU_CMD.moveCursor, [3, 1, 1, 0, 0, 0, 0, 0]); // no such scanout: ignored
  strictEqual(s.gpu.cursor.x, 7);
  strictEqual(s.gpu.counters.cursorUpdates, 2);
});

Deno.test("virtio-gpu: a device reset frees everything and gives the display back to the VGA", () => {
  const s = setup();
  s.ok(cmd(GPU_CMD.resourceCreate2d, [1, 1, 16, 16]));
  s.ok(cmd(GPU_CMD.setScanout, [...rect(0, 0, 16, 16), 0, 1]));
  strictEqual(s.gpu.enabled, true);
  s.m.write(s.common + C.deviceStatus, 1, 0);
  strictEqual(s.gpu.enabled, false);
  strictEqual(s.gpu.resource(1), undefined);
  strictEqual(s.gpu.hostMem, 0);
  s.dev.reset();
  strictEqual(s.dev.vga.dispi.enabled, false);
});

Deno.test("virtio-gpu: a turn stops after the work budget and the rest follows on a timer", () => {
  const clock = new SteppedClock();
  const s = setup({ clock });
  const side = 1024; // 4 MiB per transfer
  s.ok(cmd(GPU_CMD.resourceCreate2d, [1, 2, side, side]));
  s.ok(attach(1, [[0x100000, side * side * 4]]));
  const perTurn = GPU_WORK_BUDGET / (side * side * 4);
  const ring = s.rings[0];
  const total = perTurn + 2;
  // Descriptors 2k (request) and 2k + 1 (response) for each of the queued transfers.
  for (let i = 0; i < total; i++) {
    const req = 0x40000 + i * 0x100;
    s.memory.write(req, cmd(GPU_CMD.transferToHost2d, [0, 0, side, side, 0, 0, 1, 0]));
    ring.writeDesc(ring.desc, 2 * i, req, 56, 1, 2 * i + 1);
    ring.writeDesc(ring.desc, 2 * i + 1, req + 0x80, 24, 2, 0);
    s.memory.writeU16(ring.avail + 4 + 2 * ((2 + i) % 16), 2 * i);
  }
  // The setup's own two requests used ring slots 0 and 1.
  s.memory.writeU16(ring.avail + 2, 2 + total);
  s.m.write(s.notify.offset, 2, 0);
  strictEqual(ring.usedIdx, 2 + perTurn, "one turn's worth");
  strictEqual(clock.nextDeadline(), 1000, "the rest is scheduled");
  clock.advanceTo(1000);
  strictEqual(ring.usedIdx, 2 + total, "the rest on the timer");
  strictEqual(clock.nextDeadline(), Infinity);
  // A save that caught requests waiting resumes them after restore.
  for (let i = 0; i < total; i++) {
    s.memory.writeU16(ring.avail + 4 + 2 * ((2 + total + i) % 16), 2 * i);
  }
  s.memory.writeU16(ring.avail + 2, 2 + 2 * total);
  s.m.write(s.notify.offset, 2, 0);
  const saved = s.dev.snapshot();
  const clock2 = new SteppedClock();
  const b = new VirtioGpuVga({
    memory: s.memory,
    irq: new RecordingIrq(),
    vram: new Uint8Array(1 << 20),
    clock: clock2,
    timer: clock2.timer,
  });
  b.restore(structuredClone(saved));
  clock2.advanceTo(1000);
  strictEqual(ring.usedIdx, 2 + 2 * total, "the restored device finished the queue");
});

// --- snapshot and restore ---

/** The random driver's modern layout (common 0, ISR 0x1000, device 0x2000, notify 0x3000) on BAR2's. */
function adapter(dev: VirtioGpuVga) {
  const map = (offset: number) =>
    offset < 0x1000 ? 0x1000 + offset : offset < 0x2000 ? 0x1800 + (offset - 0x1000) : offset;
  const modernMmio: BusDevice = {
    read: (offset: number, size: AccessSize) => dev.mmio.read(map(offset), size),
    write: (offset: number, size: AccessSize, value: number) =>
      dev.mmio.write(map(offset), size, value),
  };
  return { legacyIo: dev.legacyIo, modernMmio, config: dev.config };
}

/** A random control or cursor request, mostly well-formed, on small resources. */
function randomRequest(next: (n: number) => number, queue: number): RandomRequest {
  const id = 1 + next(3);
  const small = () => next(24);
  const formats = [...GPU_FORMATS.keys()];
  if (queue === 1) {
    const type = next(2) ? GPU_CMD.updateCursor : GPU_CMD.moveCursor;
    return { readable: [cmd(type, [next(2), small(), small(), 0, id, 1, 1, 0])], writable: [] };
  }
  let c: Uint8Array;
  switch (next(10)) {
    case 0:
      c = cmd(GPU_CMD.resourceCreate2d, [
        id,
        formats[next(formats.length)],
        1 + small(),
        1 + small(),
      ]);
      break;
    case 1:
      c = cmd(GPU_CMD.resourceUnref, [id, 0]);
      break;
    case 2: {
      const n = 1 + next(3);
      c = attach(id, Array.from({ length: n }, () => [0x80000 + next(0x60000), next(3000)]));
      break;
    }
    case 3:
      c = cmd(GPU_CMD.resourceDetachBacking, [id, 0]);
      break;
    case 4:
    case 5:
      c = cmd(GPU_CMD.transferToHost2d, [small(), small(), small(), small(), next(4000), 0, id, 0]);
      break;
    case 6:
      c = cmd(GPU_CMD.setScanout, [
        next(4),
        next(4),
        16 + next(6),
        16 + next(6),
        next(4) ? 0 : 1,
        next(5) ? id : 0,
      ]);
      break;
    case 7:
      c = cmd(
        GPU_CMD.resourceFlush,
        [small(), small(), small(), small(), id, 0],
        next(2) ? { id: next(1000), ctx: 0 } : undefined,
      );
      break;
    case 8:
      c = cmd(next(2) ? GPU_CMD.getDisplayInfo : GPU_CMD.getEdid, [0, 0]);
      break;
    default:
      c = cmd(next(0x400), [next(9), next(9)]);
  }
  return { readable: [c], writable: [24 + next(0x1e0)] };
}

function fresh() {
  const memory = new ArrayMemory(1 << 20);
  const irq = new RecordingIrq();
  const dev = new VirtioGpuVga({ memory, irq, vram: new Uint8Array(1 << 18) });
  return { memory, irq, dev };
}

Deno.test("virtio-vga: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  let withResources = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const next = prng(seed);
    const a = fresh();
    const features = [0n, VIRTIO_F_INDIRECT_DESC | VIRTIO_GPU_F_EDID][next(2)];
    const driver = new RandomVirtioDriver(next, [256, 16], features, randomRequest);
    runVirtioOps(adapter(a.dev), a.memory, a.irq, driver.bringUp());
    runVirtioOps(adapter(a.dev), a.memory, a.irq, driver.ops(40 + next(120)));
    const saved = a.dev.snapshot();
    if (saved.gpu.resources.length > 0) withResources++;

    const b = fresh();
    b.memory.bytes.set(a.memory.bytes);
    b.dev.restore(structuredClone(saved));
    deepStrictEqual(b.dev.snapshot(), saved);
    strictEqual(b.irq.level, a.irq.level);
    deepStrictEqual(scanoutImage(b.dev.gpu), scanoutImage(a.dev.gpu));
    const more = driver.ops(80);
    deepStrictEqual(
      runVirtioOps(adapter(b.dev), b.memory, b.irq, more),
      runVirtioOps(adapter(a.dev), a.memory, a.irq, more),
    );
    deepStrictEqual(b.dev.snapshot(), a.dev.snapshot());
    ok(b.memory.bytes.every((v, i) => v === a.memory.bytes[i]), `seed ${seed}: memory differs`);
  }
  ok(withResources > 5, `only ${withResources} seeds saved resources`);
});

Deno.test("virtio-vga: restore refuses malformed states and changes nothing", () => {
  const s = setup();
  s.ok(cmd(GPU_CMD.resourceCreate2d, [1, 1, 16, 16]));
  s.ok(attach(1, [[0x100000, 1024]]));
  s.ok(cmd(GPU_CMD.setScanout, [...rect(0, 0, 16, 16), 0, 1]));
  const good = s.dev.snapshot();
  const res = good.gpu.resources[0];
  const gpu = (patch: Record<string, unknown>) => ({ gpu: { ...good.gpu, ...patch } });
  const withRes = (patch: Record<string, unknown>) => gpu({ resources: [{ ...res, ...patch }] });
  assertRestoreRejects(s.dev, good, [
    { gpu: null },
    { vga: null },
    gpu({ enabled: 1 }),
    gpu({ resources: [res, res] }),
    withRes({ format: 5 }),
    withRes({ width: 0 }),
    withRes({ pixels: new Uint8Array(10) }),
    withRes({ backing: new Uint8Array(15) }),
    withRes({ backing: words(0xfff000, 0, 0x2000, 0) }),
    gpu({ scanouts: [{ resourceId: 2, rect: { x: 0, y: 0, width: 16, height: 16 } }] }),
    gpu({ scanouts: [{ resourceId: 1, rect: { x: 1, y: 0, width: 16, height: 16 } }] }),
    gpu({ scanouts: [] }),
    gpu({ cursor: { ...good.gpu.cursor, scanout: 1 } }),
    { interface: "legacy" },
  ]);
  // The live view leaves the pixels out, and is no state to restore.
  const view = s.dev.stateView();
  deepStrictEqual(view.gpu.resources.map((r) => [r.id, r.pixels.length]), [[1, 0]]);
  assertRestoreRejects(s.dev, good, [{ gpu: view.gpu }]);
  const small = new VirtioGpuVga({
    memory: s.memory,
    irq: new RecordingIrq(),
    vram: new Uint8Array(1 << 20),
    maxHostMem: 1000,
  });
  assertRestoreRejects(small, small.snapshot(), [gpu({})]);
});
