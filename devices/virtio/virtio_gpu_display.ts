/**
 * What a virtio-gpu scanout shows, as RGBA: the scanout's rectangle of its
 * resource converted from the resource's format, for screenshots and the
 * console. {@link ScanoutTracker} reports changes the way the VGA's frame
 * tracker does: the whole frame after SET_SCANOUT (or a reset or restore),
 * otherwise the pixels inside the flushed rectangles that really changed.
 *
 * @module
 */

import { type FrameFormat, frameLabel, type RgbaImage } from "../vga/graphics_render.ts";
import type { FrameRect, FrameUpdate } from "../vga/frame_tracker.ts";
import type { ScreenState } from "../vga/screen.ts";
import { ShadowDiff } from "../vga/shadow_diff.ts";
import { GPU_BYTES_PER_PIXEL, GPU_FORMATS, type GpuRect } from "./virtio_gpu_protocol.ts";
import type { GpuResource, VirtioGpu } from "./virtio_gpu.ts";

/** The frame format of scanout `index` (a black frame of the preferred mode when it is off). */
export function scanoutFormat(gpu: VirtioGpu, index = 0): FrameFormat {
  const s = gpu.scanout(index);
  const res = s.resourceId ? gpu.resource(s.resourceId) : undefined;
  const base = {
    mode: "graphics",
    source: "virtio",
    bpp: 32,
    addressShift: 0,
    planeMask: 0,
  } as const;
  if (!res) return { ...base, width: gpu.mode.width, height: gpu.mode.height, stride: 0, start: 0 };
  const stride = res.width * GPU_BYTES_PER_PIXEL;
  return {
    ...base,
    width: s.rect.width,
    height: s.rect.height,
    stride,
    start: s.rect.y * stride + s.rect.x * GPU_BYTES_PER_PIXEL,
  };
}

/** "virtio-gpu 1280×800 32 bpp", or "virtio-gpu: display off" when the scanout shows nothing. */
export function scanoutLabel(gpu: VirtioGpu, index = 0): string {
  if (!gpu.scanout(index).resourceId) return "virtio-gpu: display off";
  return frameLabel(scanoutFormat(gpu, index));
}

/**
 * Converts scanout rows `[y0, y1)` of `rect` of `res` into pixel words
 * (little-endian bytes R, G, B, 255), `rect.width` per row from `dstOffset`.
 */
export function renderScanoutRows(
  res: GpuResource,
  rect: GpuRect,
  y0: number,
  y1: number,
  dst: Uint32Array,
  dstOffset = 0,
): void {
  const f = GPU_FORMATS.get(res.format);
  if (!f) return;
  const px = res.pixels;
  const stride = res.width * GPU_BYTES_PER_PIXEL;
  const w = rect.width;
  for (let y = y0; y < y1; y++) {
    let a = (rect.y + y) * stride + rect.x * GPU_BYTES_PER_PIXEL;
    const out = dstOffset + (y - y0) * w;
    for (let x = 0; x < w; x++, a += 4) {
      dst[out + x] = (0xff000000 | (px[a + f.b] << 16) | (px[a + f.g] << 8) | px[a + f.r]) >>> 0;
    }
  }
}

/** Scanout `index` as RGBA (black at the preferred size when it shows nothing). */
export function scanoutImage(gpu: VirtioGpu, index = 0): RgbaImage {
  const s = gpu.scanout(index);
  const res = s.resourceId ? gpu.resource(s.resourceId) : undefined;
  const { width, height } = scanoutFormat(gpu, index);
  const words = new Uint32Array(width * height);
  if (res) renderScanoutRows(res, s.rect, 0, height, words);
  else words.fill(0xff000000);
  return { width, height, rgba: new Uint8Array(words.buffer) };
}

/** Follows one scanout's picture for the console. */
export class ScanoutTracker {
  readonly #gpu: VirtioGpu;
  readonly #index: number;
  #generation = -1;
  #shadow = new Uint32Array(0);
  #row = new Uint32Array(0);

  /**
   * @param gpu the device
   * @param index the scanout
   */
  constructor(gpu: VirtioGpu, index = 0) {
    this.#gpu = gpu;
    this.#index = index;
  }

  /** Makes the next update a full frame. */
  invalidate(): void {
    this.#generation = -1;
  }

  /** What changed since the previous call. */
  update(): FrameUpdate {
    const gpu = this.#gpu;
    const format = scanoutFormat(gpu, this.#index);
    const label = scanoutLabel(gpu, this.#index);
    const damage = gpu.takeDamage(this.#index);
    const { width, height } = format;
    if (this.#generation !== gpu.generation || this.#shadow.length !== width * height) {
      this.#generation = gpu.generation;
      const image = scanoutImage(gpu, this.#index);
      this.#shadow = new Uint32Array(image.rgba.slice().buffer);
      return {
        format,
        label,
        full: true,
        rects: [{ x: 0, y: 0, width, height, rgba: image.rgba }],
      };
    }
    const s = gpu.scanout(this.#index);
    const res = s.resourceId ? gpu.resource(s.resourceId) : undefined;
    if (!damage || !res) return { format, label, full: false, rects: [] };
    return { format, label, full: false, rects: this.#diff(res, s.rect, damage) };
  }

  #diff(res: GpuResource, rect: GpuRect, damage: GpuRect): FrameRect[] {
    const width = rect.width;
    if (this.#row.length !== width) this.#row = new Uint32Array(width);
    const row = this.#row;
    const diff = new ShadowDiff(this.#shadow, width);
    for (let y = damage.y; y < damage.y + damage.height; y++) {
      renderScanoutRows(res, rect, y, y + 1, row);
      diff.row(row, y, damage.x, damage.x + damage.width);
    }
    return diff.rects();
  }
}

/**
 * The screen state while scanout `index` is shown: graphics of the
 * scanout's size and label, no text, the rest (palette, cursor) as the
 * VGA's `vga` state has it.
 */
export function scanoutScreenState(gpu: VirtioGpu, vga: ScreenState, index = 0): ScreenState {
  const f = scanoutFormat(gpu, index);
  return {
    ...vga,
    mode: "graphics",
    rows: 0,
    cells: [],
    text: "",
    width: f.width,
    height: f.height,
    label: scanoutLabel(gpu, index),
  };
}
