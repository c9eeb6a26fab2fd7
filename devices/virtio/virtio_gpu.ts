/**
 * The virtio-gpu device (virtio 1.x §5.7), 2D only, as QEMU's virtio-gpu
 * without virgl: one scanout, a control queue and a cursor queue. The guest
 * creates resources (host-side images in one of the eight 32-bit formats),
 * attaches guest RAM to them as scatter-gather backing, copies rectangles
 * of that backing into them (TRANSFER_TO_HOST_2D), shows one on the scanout
 * (SET_SCANOUT) and says which part changed (RESOURCE_FLUSH). Commands run
 * to completion when the queue is notified, so a fenced command's fence has
 * signalled by the time its response is in the used ring.
 *
 * Host memory is bounded: every resource's pixels, plus a fixed overhead
 * per resource and 16 bytes per backing entry, count against
 * {@link DEFAULT_GPU_MAX_HOSTMEM} (QEMU's `max_hostmem`, 256 MiB); beyond it
 * RESOURCE_CREATE_2D and RESOURCE_ATTACH_BACKING answer ERR_OUT_OF_MEMORY.
 *
 * This file is the device model the PCI transport drives
 * (virtio_gpu_vga.ts puts it on PCI behind a VGA); it knows nothing of PCI.
 *
 * @module
 */

import type { GuestMemory } from "../types.ts";
import type { StateShape } from "../state_shape.ts";
import type { DescriptorChain, SplitVirtqueue } from "./virtqueue.ts";
import { buildEdid } from "./virtio_gpu_edid.ts";
import {
  GPU_BYTES_PER_PIXEL,
  GPU_CMD,
  GPU_DISPLAY_INFO_SIZE,
  GPU_EDID_RESPONSE_SIZE,
  GPU_FORMATS,
  GPU_HDR_SIZE,
  GPU_MEM_ENTRY_SIZE,
  GPU_REQUEST_SIZE,
  GPU_RESP,
  type GpuRect,
  rectInside,
  RequestReader,
  VIRTIO_GPU_FLAG_FENCE,
  VIRTIO_GPU_FLAG_INFO_RING_IDX,
} from "./virtio_gpu_protocol.ts";

/** QEMU's default cap on resource memory (`max_hostmem`). */
export const DEFAULT_GPU_MAX_HOSTMEM = 256 * 1024 * 1024;
/** Host memory charged per resource besides its pixels (bookkeeping). */
export const GPU_RESOURCE_OVERHEAD = 256;
/** Most backing entries one ATTACH_BACKING may carry (QEMU's limit). */
export const GPU_MAX_BACKING_ENTRIES = 16384;
/** Largest width or height of a resource. */
export const GPU_MAX_DIMENSION = 16384;
/** Smallest scanout QEMU accepts in SET_SCANOUT. */
export const GPU_MIN_SCANOUT = 16;
/** Scanouts (QEMU's default `max_outputs`). */
export const GPU_NUM_SCANOUTS = 1;
/** Queue sizes: control, cursor (QEMU's). */
export const GPU_QUEUE_SIZES = [256, 16] as const;
/** Default preferred mode (QEMU's `xres`, `yres`). */
export const GPU_DEFAULT_MODE = { width: 1280, height: 800 } as const;
/** Bytes of device configuration: events_read, events_clear, num_scanouts, num_capsets. */
export const GPU_CONFIG_SIZE = 16;

/**
 * Bytes of pixel work (copies into resources and their allocation) one turn
 * of the control queue may do before it yields, so that the vCPU thread
 * gets back to pause, save and quit within milliseconds whatever the guest
 * queues (about 6 ms of copying here).
 */
export const GPU_WORK_BUDGET = 16 * 1024 * 1024;

/** The largest request read (ATTACH_BACKING with the most entries). */
const MAX_REQUEST = GPU_HDR_SIZE + 8 + GPU_MAX_BACKING_ENTRIES * GPU_MEM_ENTRY_SIZE;

/** A host-side image the guest created. */
export interface GpuResource {
  readonly id: number;
  readonly format: number;
  readonly width: number;
  readonly height: number;
  /** `width × height × 4` bytes, rows top to bottom, in the resource's format. */
  readonly pixels: Uint8Array;
  /** Backing entries as the guest sent them (16 bytes each), or null when detached. */
  backing: Uint8Array | null;
}

/** What a scanout shows: a rectangle of a resource, or nothing (resource 0). */
export interface GpuScanout {
  readonly resourceId: number;
  readonly rect: GpuRect;
}

/** The cursor as the cursor queue set it (vmrun does not draw it). */
export interface GpuCursorState {
  readonly scanout: number;
  readonly x: number;
  readonly y: number;
  /** 0: no cursor image. */
  readonly resourceId: number;
  readonly hotX: number;
  readonly hotY: number;
}

/** Counters for the devices pane. */
export interface VirtioGpuCounters {
  commands: number;
  errors: number;
  fences: number;
  cursorUpdates: number;
}

/** A resource in a saved state. */
export interface GpuResourceState {
  readonly id: number;
  readonly format: number;
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
  /** The raw backing entries, or null. */
  readonly backing: Uint8Array | null;
}

/** Saved state of the GPU model (the transport saves the queues). */
export interface VirtioGpuState {
  /** The scanout replaced the VGA (a SET_SCANOUT with a resource since the last reset). */
  readonly enabled: boolean;
  readonly eventsRead: number;
  readonly scanouts: readonly GpuScanout[];
  readonly cursor: GpuCursorState;
  readonly resources: readonly GpuResourceState[];
  readonly counters: VirtioGpuCounters;
}

/** Construction options. */
export interface VirtioGpuOptions {
  /** Guest RAM, where backing pages live. */
  readonly memory: GuestMemory;
  /** Preferred mode of the scanout's monitor; default 1280×800. */
  readonly mode?: { readonly width: number; readonly height: number };
  /** Cap on resource memory in bytes; default {@link DEFAULT_GPU_MAX_HOSTMEM}. */
  readonly maxHostMem?: number;
  /**
   * Called when a turn of the control queue stopped at {@link GPU_WORK_BUDGET}
   * with requests left: the owner runs the queue again soon (a timer). Without
   * it every turn runs the queue dry.
   */
  readonly onYield?: () => void;
}

/** A response: its type and the bytes after the header. */
interface Reply {
  readonly type: number;
  readonly body?: Uint8Array;
}

const NO_CURSOR: GpuCursorState = { scanout: 0, x: 0, y: 0, resourceId: 0, hotX: 0, hotY: 0 };
const NO_RECT: GpuRect = { x: 0, y: 0, width: 0, height: 0 };
const reply = (type: number): Reply => ({ type });

/** The GPU's state machine: resources, scanouts, cursor, and the two queues' commands. */
export class VirtioGpu {
  /** Counters (live). */
  readonly counters: VirtioGpuCounters = { commands: 0, errors: 0, fences: 0, cursorUpdates: 0 };
  /** Preferred mode. */
  readonly mode: { readonly width: number; readonly height: number };
  /** Cap on resource memory. */
  readonly maxHostMem: number;
  readonly #memory: GuestMemory;
  readonly #edid: Uint8Array;
  readonly #onYield: (() => void) | undefined;
  #work = 0;
  #resources = new Map<number, GpuResource>();
  #scanouts: GpuScanout[] = [];
  #cursor: GpuCursorState = NO_CURSOR;
  #enabled = false;
  #eventsRead = 0;
  #hostMem = 0;
  #generation = 0;
  #damage: (GpuRect | null)[] = [];

  /** @param options guest memory, preferred mode, memory cap */
  constructor(options: VirtioGpuOptions) {
    this.#memory = options.memory;
    this.mode = options.mode ?? GPU_DEFAULT_MODE;
    this.maxHostMem = options.maxHostMem ?? DEFAULT_GPU_MAX_HOSTMEM;
    this.#onYield = options.onYield;
    this.#edid = buildEdid({ ...this.mode, name: "vmrun", serial: 1 });
    this.reset();
  }

  /** Whether the scanouts replaced the VGA (QEMU's `enable`): set by SET_SCANOUT, cleared by reset. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Host memory the resources hold, as counted against the cap. */
  get hostMem(): number {
    return this.#hostMem;
  }

  /** Bumped whenever what a scanout shows changes (resource, rectangle, reset, restore). */
  get generation(): number {
    return this.#generation;
  }

  /** Scanout `index`. */
  scanout(index: number): GpuScanout {
    return this.#scanouts[index];
  }

  /** The resource with this ID, if any. */
  resource(id: number): GpuResource | undefined {
    return this.#resources.get(id);
  }

  /** The cursor. */
  get cursor(): GpuCursorState {
    return this.#cursor;
  }

  /** The EDID block the monitor reports. */
  get edid(): Uint8Array {
    return this.#edid.slice();
  }

  /** The part of scanout `index` flushed since the last call (scanout coordinates), or null. */
  takeDamage(index: number): GpuRect | null {
    const d = this.#damage[index] ?? null;
    this.#damage[index] = null;
    return d;
  }

  /** Device reset: every resource freed, scanouts off, the VGA back on. */
  reset(): void {
    this.#resources = new Map();
    this.#hostMem = 0;
    this.#scanouts = Array.from({ length: GPU_NUM_SCANOUTS }, () => ({
      resourceId: 0,
      rect: NO_RECT,
    }));
    this.#damage = this.#scanouts.map(() => null);
    this.#cursor = NO_CURSOR;
    this.#enabled = false;
    this.#eventsRead = 0;
    this.#generation++;
  }

  /** Reads the device configuration (the transport keeps the access inside it). */
  readConfig(offset: number, size: number): number {
    const words = [this.#eventsRead, 0, GPU_NUM_SCANOUTS, 0];
    let value = 0;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      value += ((words[at >> 2] >>> ((at & 3) * 8)) & 0xff) * 2 ** (8 * i);
    }
    return value;
  }

  /** Writes the device configuration: only events_clear is writable. */
  writeConfig(offset: number, size: number, value: number): void {
    if (offset === 4 && size === 4) this.#eventsRead &= ~value;
  }

  /** Runs the control queue (0) or the cursor queue (1); true when the driver wants an interrupt. */
  processQueue(index: number, queue: SplitVirtqueue): boolean {
    if (index === 0) return this.#controlTurn(queue);
    return queue.drain((chain) => {
      this.#cursorRequest(gather(chain, GPU_REQUEST_SIZE[GPU_CMD.updateCursor]));
      return 0; // the cursor queue has no responses
    });
  }

  /**
   * Runs control requests as SplitVirtqueue.drain does, but stops once a
   * turn's pixel work passes the budget and requests remain; notifications
   * stay suppressed until the owner's next turn finishes the queue.
   */
  #controlTurn(queue: SplitVirtqueue): boolean {
    if (!queue.ready) return false;
    const before = queue.usedIdx;
    this.#work = 0;
    for (;;) {
      queue.suppressNotifications(true);
      for (let chain = queue.pop(); chain; chain = queue.pop()) {
        queue.push(chain.head, this.#control(chain));
        if (this.#onYield && this.#work >= GPU_WORK_BUDGET && queue.pending() > 0) {
          this.#onYield();
          return queue.needsInterrupt(before);
        }
      }
      queue.suppressNotifications(false);
      if (queue.pending() === 0) break;
    }
    return queue.needsInterrupt(before);
  }

  #control(chain: DescriptorChain): number {
    const req = new RequestReader(gather(chain, MAX_REQUEST));
    const type = req.u32(0);
    const flags = req.u32(4);
    this.counters.commands++;
    const need = GPU_REQUEST_SIZE[type];
    const r = need === undefined || type >= GPU_CMD.updateCursor || req.bytes.length < need
      ? reply(GPU_RESP.errUnspec)
      : this.#command(type, req);
    if (r.type >= GPU_RESP.errUnspec) this.counters.errors++;
    const out = new Uint8Array(GPU_HDR_SIZE + (r.body?.length ?? 0));
    const view = new DataView(out.buffer);
    view.setUint32(0, r.type, true);
    if (flags & VIRTIO_GPU_FLAG_FENCE) {
      // Done already, so the fence has signalled: echo it (and its context and ring).
      this.counters.fences++;
      const ringFlag = flags & VIRTIO_GPU_FLAG_INFO_RING_IDX;
      view.setUint32(4, VIRTIO_GPU_FLAG_FENCE | ringFlag, true);
      out.set(req.bytes.subarray(8, 20), 8); // fence_id, ctx_id
      if (ringFlag) out[20] = req.bytes[20];
    }
    if (r.body) out.set(r.body, GPU_HDR_SIZE);
    return scatter(chain, out);
  }

  #command(type: number, req: RequestReader): Reply {
    switch (type) {
      case GPU_CMD.getDisplayInfo:
        return this.#displayInfo();
      case GPU_CMD.getEdid:
        return this.#getEdid(req.u32(24));
      case GPU_CMD.resourceCreate2d:
        return this.#create(req.u32(24), req.u32(28), req.u32(32), req.u32(36));
      case GPU_CMD.resourceUnref:
        return this.#unref(req.u32(24));
      case GPU_CMD.setScanout:
        return this.#setScanout(req.u32(40), req.u32(44), req.rect(24));
      case GPU_CMD.resourceFlush:
        return this.#flush(req.u32(40), req.rect(24));
      case GPU_CMD.transferToHost2d:
        return this.#transfer(req.u32(48), req.rect(24), req.u64(40));
      case GPU_CMD.resourceAttachBacking:
        return this.#attach(req.u32(24), req.u32(28), req.bytes);
      case GPU_CMD.resourceDetachBacking:
        return this.#detach(req.u32(24));
      default: // capsets: a 2D device has none
        return reply(GPU_RESP.errUnspec);
    }
  }

  #displayInfo(): Reply {
    const body = new Uint8Array(GPU_DISPLAY_INFO_SIZE - GPU_HDR_SIZE);
    const v = new DataView(body.buffer);
    for (let i = 0; i < GPU_NUM_SCANOUTS; i++) {
      v.setUint32(i * 24 + 8, this.mode.width, true);
      v.setUint32(i * 24 + 12, this.mode.height, true);
      v.setUint32(i * 24 + 16, 1, true); // enabled
    }
    return { type: GPU_RESP.okDisplayInfo, body };
  }

  #getEdid(scanout: number): Reply {
    if (scanout >= GPU_NUM_SCANOUTS) return reply(GPU_RESP.errInvalidParameter);
    const body = new Uint8Array(GPU_EDID_RESPONSE_SIZE - GPU_HDR_SIZE);
    new DataView(body.buffer).setUint32(0, this.#edid.length, true);
    body.set(this.#edid, 8);
    return { type: GPU_RESP.okEdid, body };
  }

  #create(id: number, format: number, width: number, height: number): Reply {
    if (id === 0 || this.#resources.has(id)) return reply(GPU_RESP.errInvalidResourceId);
    if (!GPU_FORMATS.has(format) || width === 0 || height === 0) {
      return reply(GPU_RESP.errInvalidParameter);
    }
    const bytes = width * height * GPU_BYTES_PER_PIXEL;
    if (
      width > GPU_MAX_DIMENSION || height > GPU_MAX_DIMENSION ||
      this.#hostMem + bytes + GPU_RESOURCE_OVERHEAD > this.maxHostMem
    ) {
      return reply(GPU_RESP.errOutOfMemory);
    }
    const pixels = new Uint8Array(bytes);
    this.#work += bytes;
    this.#resources.set(id, { id, format, width, height, pixels, backing: null });
    this.#hostMem += bytes + GPU_RESOURCE_OVERHEAD;
    return reply(GPU_RESP.okNodata);
  }

  #unref(id: number): Reply {
    const res = this.#resources.get(id);
    if (!res) return reply(GPU_RESP.errInvalidResourceId);
    // A scanout showing it goes dark, as in QEMU.
    this.#scanouts.forEach((s, i) => {
      if (s.resourceId === id) this.#show(i, 0, NO_RECT);
    });
    this.#hostMem -= cost(res);
    this.#resources.delete(id);
    return reply(GPU_RESP.okNodata);
  }

  #setScanout(index: number, id: number, rect: GpuRect): Reply {
    if (index >= GPU_NUM_SCANOUTS) return reply(GPU_RESP.errInvalidScanoutId);
    if (id === 0) {
      this.#show(index, 0, NO_RECT);
      return reply(GPU_RESP.okNodata);
    }
    const res = this.#resources.get(id);
    if (!res) return reply(GPU_RESP.errInvalidResourceId);
    if (
      !rectInside(rect, res.width, res.height) || rect.width < GPU_MIN_SCANOUT ||
      rect.height < GPU_MIN_SCANOUT
    ) {
      return reply(GPU_RESP.errInvalidParameter);
    }
    this.#enabled = true;
    this.#show(index, id, rect);
    return reply(GPU_RESP.okNodata);
  }

  #show(index: number, resourceId: number, rect: GpuRect): void {
    this.#scanouts[index] = { resourceId, rect };
    this.#damage[index] = resourceId
      ? { x: 0, y: 0, width: rect.width, height: rect.height }
      : null;
    this.#generation++;
  }

  #flush(id: number, rect: GpuRect): Reply {
    const res = this.#resources.get(id);
    if (!res) return reply(GPU_RESP.errInvalidResourceId);
    if (!rectInside(rect, res.width, res.height)) return reply(GPU_RESP.errInvalidParameter);
    this.#scanouts.forEach((s, i) => {
      if (s.resourceId !== id) return;
      const x0 = Math.max(rect.x, s.rect.x);
      const y0 = Math.max(rect.y, s.rect.y);
      const x1 = Math.min(rect.x + rect.width, s.rect.x + s.rect.width);
      const y1 = Math.min(rect.y + rect.height, s.rect.y + s.rect.height);
      if (x1 <= x0 || y1 <= y0) return;
      const d = { x: x0 - s.rect.x, y: y0 - s.rect.y, width: x1 - x0, height: y1 - y0 };
      this.#damage[i] = union(this.#damage[i], d);
    });
    return reply(GPU_RESP.okNodata);
  }

  #transfer(id: number, rect: GpuRect, offset: number): Reply {
    const res = this.#resources.get(id);
    if (!res) return reply(GPU_RESP.errInvalidResourceId);
    if (!res.backing) return reply(GPU_RESP.errUnspec);
    if (!rectInside(rect, res.width, res.height)) return reply(GPU_RESP.errInvalidParameter);
    const stride = res.width * GPU_BYTES_PER_PIXEL;
    const rowBytes = rect.width * GPU_BYTES_PER_PIXEL;
    const backing = new Backing(this.#memory, res.backing);
    this.#work += rowBytes * rect.height;
    // Row h of the rectangle comes from offset + h × stride of the backing (QEMU's rule).
    for (let h = 0; h < rect.height; h++) {
      const dst = (rect.y + h) * stride + rect.x * GPU_BYTES_PER_PIXEL;
      backing.copyOut(offset + h * stride, res.pixels.subarray(dst, dst + rowBytes));
    }
    return reply(GPU_RESP.okNodata);
  }

  #attach(id: number, count: number, bytes: Uint8Array): Reply {
    const res = this.#resources.get(id);
    if (!res) return reply(GPU_RESP.errInvalidResourceId);
    const start = GPU_HDR_SIZE + 8;
    const length = count * GPU_MEM_ENTRY_SIZE;
    if (count > GPU_MAX_BACKING_ENTRIES || bytes.length < start + length || res.backing) {
      return reply(GPU_RESP.errUnspec);
    }
    const entries = bytes.slice(start, start + length);
    if (!backingInRam(this.#memory, entries)) return reply(GPU_RESP.errUnspec);
    if (this.#hostMem + length > this.maxHostMem) return reply(GPU_RESP.errOutOfMemory);
    res.backing = entries;
    this.#hostMem += length;
    return reply(GPU_RESP.okNodata);
  }

  #detach(id: number): Reply {
    const res = this.#resources.get(id);
    if (!res) return reply(GPU_RESP.errInvalidResourceId);
    if (!res.backing) return reply(GPU_RESP.errUnspec);
    this.#hostMem -= res.backing.length;
    res.backing = null;
    return reply(GPU_RESP.okNodata);
  }

  #cursorRequest(bytes: Uint8Array): void {
    const req = new RequestReader(bytes);
    const type = req.u32(0);
    const scanout = req.u32(24);
    if (bytes.length < GPU_REQUEST_SIZE[GPU_CMD.updateCursor] || scanout >= GPU_NUM_SCANOUTS) {
      return;
    }
    const pos = { scanout, x: req.u32(28), y: req.u32(32) };
    if (type === GPU_CMD.moveCursor) {
      this.#cursor = { ...this.#cursor, ...pos };
    } else if (type === GPU_CMD.updateCursor) {
      this.#cursor = { ...pos, resourceId: req.u32(40), hotX: req.u32(44), hotY: req.u32(48) };
    } else {
      return;
    }
    this.counters.cursorUpdates++;
  }

  /**
   * A deep copy of the state, pixels and backing lists included; with
   * `pixels` false each resource's pixels are left empty (a view for the
   * devices pane, which a restore refuses).
   */
  snapshot(pixels = true): VirtioGpuState {
    return {
      enabled: this.#enabled,
      eventsRead: this.#eventsRead,
      scanouts: this.#scanouts.map((s) => ({ resourceId: s.resourceId, rect: { ...s.rect } })),
      cursor: { ...this.#cursor },
      resources: [...this.#resources.values()].map((r) => ({
        id: r.id,
        format: r.format,
        width: r.width,
        height: r.height,
        pixels: pixels ? r.pixels.slice() : new Uint8Array(0),
        backing: r.backing?.slice() ?? null,
      })),
      counters: { ...this.counters },
    };
  }

  /**
   * Checks a saved state without changing anything.
   * @returns what puts it in place
   * @throws {StateError} for a malformed field
   */
  readState(s: StateShape): () => void {
    const enabled = s.bool("enabled");
    const eventsRead = s.int("eventsRead", 0, 0xffffffff);
    const resources = new Map<number, GpuResource>();
    let hostMem = 0;
    for (const r of s.objects("resources")) {
      const id = r.int("id", 1, 0xffffffff);
      if (resources.has(id)) r.fail("id", `resource ${id} appears twice`);
      const format = r.int("format", 0, 0xffffffff);
      if (!GPU_FORMATS.has(format)) r.fail("format", `unknown format ${format}`);
      const width = r.int("width", 1, GPU_MAX_DIMENSION);
      const height = r.int("height", 1, GPU_MAX_DIMENSION);
      const pixels = r.bytes("pixels", width * height * GPU_BYTES_PER_PIXEL);
      const backing = r.raw("backing") === null ? null : r.bytes("backing");
      if (backing) {
        if (
          backing.length % GPU_MEM_ENTRY_SIZE !== 0 ||
          backing.length > GPU_MAX_BACKING_ENTRIES * GPU_MEM_ENTRY_SIZE
        ) {
          r.fail("backing", "must be whole entries, at most 16384");
        }
        if (!backingInRam(this.#memory, backing)) r.fail("backing", "lies outside guest RAM");
      }
      const res: GpuResource = { id, format, width, height, pixels, backing };
      hostMem += cost(res);
      resources.set(id, res);
    }
    if (hostMem > this.maxHostMem) s.fail("resources", `need more than ${this.maxHostMem} bytes`);
    const scanouts = s.objects("scanouts").map((o, i): GpuScanout => {
      const resourceId = o.int("resourceId", 0, 0xffffffff);
      const rs = o.object("rect");
      const rect = {
        x: rs.int("x", 0, GPU_MAX_DIMENSION),
        y: rs.int("y", 0, GPU_MAX_DIMENSION),
        width: rs.int("width", 0, GPU_MAX_DIMENSION),
        height: rs.int("height", 0, GPU_MAX_DIMENSION),
      };
      const res = resources.get(resourceId);
      if (resourceId !== 0 && (!res || !rectInside(rect, res.width, res.height))) {
        o.fail("rect", `scanout ${i} shows no resource or lies outside it`);
      }
      return { resourceId, rect: resourceId ? rect : NO_RECT };
    });
    if (scanouts.length !== GPU_NUM_SCANOUTS) s.fail("scanouts", `must have ${GPU_NUM_SCANOUTS}`);
    const c = s.object("cursor");
    const u32 = (key: string) => c.int(key, 0, 0xffffffff);
    const cursor: GpuCursorState = {
      scanout: c.int("scanout", 0, GPU_NUM_SCANOUTS - 1),
      x: u32("x"),
      y: u32("y"),
      resourceId: u32("resourceId"),
      hotX: u32("hotX"),
      hotY: u32("hotY"),
    };
    const k = s.object("counters");
    const counters: VirtioGpuCounters = {
      commands: k.int("commands"),
      errors: k.int("errors"),
      fences: k.int("fences"),
      cursorUpdates: k.int("cursorUpdates"),
    };
    return () => {
      this.#resources = resources;
      this.#hostMem = hostMem;
      this.#scanouts = scanouts;
      this.#damage = scanouts.map((sc) =>
        sc.resourceId ? { x: 0, y: 0, width: sc.rect.width, height: sc.rect.height } : null
      );
      this.#cursor = cursor;
      this.#enabled = enabled;
      this.#eventsRead = eventsRead;
      Object.assign(this.counters, counters);
      this.#generation++;
    };
  }
}

function cost(r: GpuResource): number {
  return r.pixels.length + GPU_RESOURCE_OVERHEAD + (r.backing?.length ?? 0);
}

function union(a: GpuRect | null, b: GpuRect): GpuRect {
  if (!a) return b;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

/** The first `limit` bytes of a chain's device-readable buffers, as one array. */
function gather(chain: DescriptorChain, limit: number): Uint8Array {
  const out = new Uint8Array(Math.min(limit, chain.readableLength));
  let at = 0;
  for (const b of chain.readable) {
    if (at >= out.length) break;
    const n = Math.min(b.length, out.length - at);
    out.set(b.subarray(0, n), at);
    at += n;
  }
  return out;
}

/** Writes `data` across a chain's device-writable buffers; returns the bytes written. */
function scatter(chain: DescriptorChain, data: Uint8Array): number {
  let at = 0;
  for (const b of chain.writable) {
    if (at >= data.length) break;
    const n = Math.min(b.length, data.length - at);
    b.set(data.subarray(at, at + n));
    at += n;
  }
  return at;
}

/** Whether every backing entry (le64 addr, le32 length) lies in guest RAM. */
function backingInRam(memory: GuestMemory, entries: Uint8Array): boolean {
  const req = new RequestReader(entries);
  for (let at = 0; at < entries.length; at += GPU_MEM_ENTRY_SIZE) {
    try {
      memory.view(req.u64(at), req.u32(at + 8));
    } catch {
      return false;
    }
  }
  return true;
}

/** A resource's backing as one byte range over its scatter-gather entries. */
class Backing {
  readonly #memory: GuestMemory;
  readonly #addr: number[] = [];
  readonly #len: number[] = [];
  /** Backing offset where each entry starts. */
  readonly #start: number[] = [];
  readonly #total: number;

  constructor(memory: GuestMemory, entries: Uint8Array) {
    this.#memory = memory;
    const req = new RequestReader(entries);
    let total = 0;
    for (let at = 0; at < entries.length; at += GPU_MEM_ENTRY_SIZE) {
      const len = req.u32(at + 8);
      if (len === 0) continue;
      this.#addr.push(req.u64(at));
      this.#len.push(len);
      this.#start.push(total);
      total += len;
    }
    this.#total = total;
  }

  /** Fills `dst` from backing offset `offset`; what lies past the backing's end is left alone. */
  copyOut(offset: number, dst: Uint8Array): void {
    if (offset >= this.#total) return;
    // The last entry starting at or before `offset`.
    let lo = 0;
    let hi = this.#start.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#start[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    let done = 0;
    for (let i = lo; i < this.#start.length && done < dst.length; i++) {
      const skip = Math.max(0, offset + done - this.#start[i]);
      const n = Math.min(this.#len[i] - skip, dst.length - done);
      dst.set(this.#memory.view(this.#addr[i] + skip, n), done);
      done += n;
    }
  }
}
