/**
 * The CL-GD5446 BitBLT engine: raster operations over video RAM, started
 * through graphics controller registers GR20-GR33 (or their memory-mapped
 * copies). Kinds: solid fill, pattern fill (8×8 pattern, 8-32 bpp), colour
 * expansion of a monochrome bitmap (opaque or transparent, plain or as an
 * 8×8 pattern), screen-to-screen copies forward and backward (optionally
 * transparent), and system-to-screen transfers whose source bytes the CPU
 * writes into the BLT window a scan line at a time.
 *
 * Behaviour follows QEMU's `-vga cirrus` (the differential tests' oracle):
 * the same sixteen ROP codes (any other code does nothing), the same source
 * pitches for system sources, the same alignment of a video pattern's
 * address, and the same refusal of operations that would run outside video
 * RAM (they are dropped, as QEMU drops them).
 *
 * @module
 */

/** GR30 (BLT mode) bits. */
export const BLT_MODE = {
  BACKWARDS: 0x01,
  SYSTEM_DEST: 0x02,
  SYSTEM_SOURCE: 0x04,
  TRANSPARENT: 0x08,
  PIXEL_WIDTH_MASK: 0x30,
  PATTERN: 0x40,
  COLOR_EXPAND: 0x80,
} as const;

/** GR31 (BLT start/status) bits. */
export const BLT_STATUS = {
  BUSY: 0x01,
  START: 0x02,
  RESET: 0x04,
  FIFO_USED: 0x10,
  AUTOSTART: 0x80,
} as const;

/** GR33 (BLT mode extensions) bits. */
export const BLT_MODE_EXT = {
  DWORD_GRANULARITY: 0x01,
  INVERT_EXPANSION: 0x02,
  SOLID_FILL: 0x04,
} as const;

/** A raster operation on one byte of destination and source. */
type Rop = (d: number, s: number) => number;

/** The ROP codes the 5446 knows (GR32), as byte functions; others leave the destination alone. */
export const ROPS: ReadonlyMap<number, Rop> = new Map<number, Rop>([
  [0x00, () => 0],
  [0x05, (d, s) => s & d],
  [0x06, (d) => d],
  [0x09, (d, s) => s & ~d],
  [0x0b, (d) => ~d],
  [0x0d, (_d, s) => s],
  [0x0e, () => 0xff],
  [0x50, (d, s) => ~s & d],
  [0x59, (d, s) => s ^ d],
  [0x6d, (d, s) => s | d],
  [0x90, (d, s) => ~s | ~d],
  [0x95, (d, s) => ~(s ^ d)],
  [0xad, (d, s) => s | ~d],
  [0xd0, (_d, s) => ~s],
  [0xd6, (d, s) => ~s | d],
  [0xda, (d, s) => ~s & ~d],
]);
const ROP_SRC = 0x0d;

/** The largest BLT width in bytes (QEMU's line buffer). */
export const BLT_MAX_WIDTH = 8192;

/** The BLT registers as GR20-GR39 hold them, decoded at start. */
export interface BltRegisters {
  /** Bytes per line (GR20/21 + 1). */
  readonly width: number;
  /** Lines (GR22/23 + 1). */
  readonly height: number;
  readonly dstPitch: number;
  readonly srcPitch: number;
  readonly dstAddr: number;
  readonly srcAddr: number;
  /** GR30. */
  readonly mode: number;
  /** GR32. */
  readonly rop: number;
  /** GR33. */
  readonly modeExt: number;
  /** GR2F: left-edge skip. */
  readonly skip: number;
  /** Foreground and background colours, `pixelWidth` bytes little-endian. */
  readonly fg: number;
  readonly bg: number;
  /** GR34/35: the transparent colour of transparent copies. */
  readonly transparent: number;
  /** Bits per pixel of the display (8, 15, 16, 24, 32; 0 outside extended modes). */
  readonly displayBpp: number;
}

/** Where a BLT is in its life. */
export type BltPhase = "idle" | "system-source";

/** Colour expansion's flags: transparent, and (transparent only) inverted bits. */
function expansion(r: BltRegisters, mode: number): { transparent: boolean; invert: boolean } {
  const transparent = (mode & BLT_MODE.TRANSPARENT) !== 0;
  return { transparent, invert: transparent && (r.modeExt & BLT_MODE_EXT.INVERT_EXPANSION) !== 0 };
}

/**
 * The engine. Video-to-video operations complete inside {@link start};
 * system-to-video ones then take bytes through {@link feed} until the last
 * line is drawn.
 */
export class CirrusBlitter {
  /** Called with each video RAM byte range an operation wrote. */
  onWrite: ((start: number, end: number) => void) | undefined;
  /** Called when a system-source transfer starts or ends (the linear window's routing changes). */
  onPhaseChange: (() => void) | undefined;
  readonly #vram: Uint8Array;
  readonly #mask: number;
  #regs: BltRegisters | null = null;
  #pixelWidth = 1;
  #dstAddr = 0;
  #dstPitch = 0;
  #srcPitch = 0;
  /** Bytes the current system-source operation still expects. */
  #remaining = 0;
  #buffer = new Uint8Array(BLT_MAX_WIDTH);
  #filled = 0;

  /** @param vram video RAM; its length (a power of two) bounds every operation */
  constructor(vram: Uint8Array) {
    this.#vram = vram;
    this.#mask = vram.length - 1;
  }

  /** "system-source" while the CPU owes source bytes. */
  get phase(): BltPhase {
    return this.#regs ? "system-source" : "idle";
  }

  /** Abandons any transfer in progress. */
  reset(): void {
    const was = this.#regs !== null;
    this.#regs = null;
    this.#filled = 0;
    this.#remaining = 0;
    if (was) this.onPhaseChange?.();
  }

  /**
   * Starts an operation. Returns true when a system-source transfer now waits
   * for bytes; false when the operation finished (or was refused).
   */
  start(r: BltRegisters): boolean {
    this.reset();
    const pw = ((r.mode & BLT_MODE.PIXEL_WIDTH_MASK) >> 4) + 1;
    const mode = r.mode & ~BLT_MODE.PIXEL_WIDTH_MASK;
    this.#pixelWidth = pw;
    if ((mode & (BLT_MODE.SYSTEM_SOURCE | BLT_MODE.SYSTEM_DEST)) === 0x06) return false;
    const kind = mode &
      (BLT_MODE.SYSTEM_DEST | BLT_MODE.TRANSPARENT | BLT_MODE.PATTERN | BLT_MODE.COLOR_EXPAND);
    if (
      r.modeExt & BLT_MODE_EXT.SOLID_FILL && kind === (BLT_MODE.PATTERN | BLT_MODE.COLOR_EXPAND)
    ) {
      if (this.#unsafe(r, r.dstPitch, null)) return false;
      this.#fill(r, pw);
      return false;
    }
    if (
      mode & BLT_MODE.TRANSPARENT && !(mode & (BLT_MODE.PATTERN | BLT_MODE.COLOR_EXPAND)) && pw > 2
    ) {
      return false; // transparent copies are 8 and 16 bpp only
    }
    const backwards = !(mode & (BLT_MODE.PATTERN | BLT_MODE.COLOR_EXPAND)) &&
      (mode & BLT_MODE.BACKWARDS) !== 0;
    this.#dstPitch = backwards ? -r.dstPitch : r.dstPitch;
    this.#srcPitch = backwards ? -r.srcPitch : r.srcPitch;
    this.#dstAddr = r.dstAddr;
    if (mode & BLT_MODE.SYSTEM_SOURCE) {
      if (this.#unsafe(r, this.#dstPitch, null)) return false;
      return this.#startSystemSource(r, mode, pw);
    }
    if (mode & BLT_MODE.SYSTEM_DEST) return false; // video-to-system: not on the 5446 QEMU models
    if (mode & BLT_MODE.PATTERN) {
      const size = r.displayBpp === 8 ? 64 : r.displayBpp === 15 || r.displayBpp === 16 ? 128 : 256;
      const src = r.srcAddr & ~(size - 1);
      if (src + size > this.#vram.length || this.#unsafe(r, this.#dstPitch, null)) return false;
      this.#pattern(r, mode, pw, this.#dstAddr, r.height, this.#vram, src, src);
      return false;
    }
    if (this.#unsafe(r, this.#dstPitch, this.#srcPitch)) return false;
    this.#fromSource(r, mode, pw, this.#dstAddr, r.height, this.#vram, r.srcAddr, this.#srcPitch);
    return false;
  }

  #startSystemSource(r: BltRegisters, mode: number, pw: number): boolean {
    let pitch: number;
    if (mode & BLT_MODE.PATTERN) {
      pitch = mode & BLT_MODE.COLOR_EXPAND ? 8 : 64 * pw;
      this.#remaining = pitch;
    } else {
      if (mode & BLT_MODE.COLOR_EXPAND) {
        const pixels = Math.floor(r.width / pw);
        pitch = r.modeExt & BLT_MODE_EXT.DWORD_GRANULARITY ? (pixels + 31) >> 5 : (pixels + 7) >> 3;
      } else {
        pitch = (r.width + 3) & ~3; // source lines are whole dwords
      }
      this.#remaining = pitch * r.height;
    }
    this.#srcPitch = pitch;
    this.#regs = { ...r, mode };
    this.#filled = 0;
    this.onPhaseChange?.();
    return true;
  }

  /** One source byte from the CPU (a write to the BLT window while a transfer waits). */
  feed(byte: number): void {
    const r = this.#regs;
    if (!r) return;
    this.#buffer[this.#filled++] = byte;
    if (this.#filled < this.#srcPitch) return;
    this.#filled = 0;
    if (r.mode & BLT_MODE.PATTERN) {
      this.#pattern(
        r,
        r.mode,
        this.#pixelWidth,
        this.#dstAddr,
        r.height,
        this.#buffer,
        0,
        r.srcAddr,
      );
      this.reset();
      return;
    }
    this.#fromSource(r, r.mode, this.#pixelWidth, this.#dstAddr, 1, this.#buffer, 0, 0);
    this.#dstAddr += this.#dstPitch;
    this.#remaining -= this.#srcPitch;
    if (this.#remaining <= 0) this.reset();
  }

  /** QEMU's bounds check: a destination (and source) that leaves video RAM drops the BLT. */
  #unsafe(r: BltRegisters, dstPitch: number, srcPitch: number | null): boolean {
    if (r.width > BLT_MAX_WIDTH) return true;
    const outside = (pitch: number, addr: number) => {
      if (pitch === 0) return true;
      if (pitch < 0) {
        return addr + (r.height - 1) * pitch - r.width < -1 || addr >= this.#vram.length;
      }
      return addr + (r.height - 1) * pitch + r.width > this.#vram.length;
    };
    if (outside(dstPitch, r.dstAddr)) return true;
    return srcPitch !== null && outside(srcPitch, r.srcAddr);
  }

  /** Reports the lines an operation wrote. */
  #marked(start: number, pitch: number, width: number, lines: number): void {
    const report = this.onWrite;
    if (!report) return;
    for (let y = 0, a = pitch < 0 ? start - width + 1 : start; y < lines; y++, a += pitch) {
      const lo = Math.max(0, a) & this.#mask;
      report(lo, Math.min(this.#vram.length, lo + width + 3));
    }
  }

  /** Writes one pixel of `pw` bytes through the ROP (16/32-bit pixels are aligned, as on QEMU). */
  #put(rop: Rop, addr: number, pw: number, color: number): void {
    const v = this.#vram;
    const m = this.#mask;
    if (pw === 3) {
      for (let i = 0; i < 3; i++) {
        const a = (addr + i) & m;
        v[a] = rop(v[a], (color >>> (8 * i)) & 0xff) & 0xff;
      }
      return;
    }
    const base = addr & m & ~(pw - 1);
    for (let i = 0; i < pw; i++) {
      v[base + i] = rop(v[base + i], (color >>> (8 * i)) & 0xff) & 0xff;
    }
  }

  /**
   * One colour-expanded pixel: the foreground where its bit is set, else the
   * background; transparent expansion leaves clear bits alone (with the
   * bits inverted, it writes the background where they were clear).
   */
  #putExpanded(
    rop: Rop,
    addr: number,
    pw: number,
    r: BltRegisters,
    transparent: boolean,
    invert: boolean,
    on: boolean,
  ): void {
    if (transparent) {
      if (on) this.#put(rop, addr, pw, invert ? r.bg : r.fg);
    } else this.#put(rop, addr, pw, on ? r.fg : r.bg);
  }

  #fill(r: BltRegisters, pw: number): void {
    const rop = ROPS.get(r.rop);
    if (!rop) return;
    const v = this.#vram;
    const m = this.#mask;
    if (r.rop === ROP_SRC && pw !== 3) {
      // The common case, a plain solid fill: one row built once, then copied.
      const row = new Uint8Array(Math.ceil(r.width / pw) * pw);
      for (let x = 0; x < row.length; x++) row[x] = (r.fg >>> (8 * (x % pw))) & 0xff;
      for (let y = 0, a = r.dstAddr; y < r.height; y++, a += r.dstPitch) {
        const start = a & m & ~(pw - 1);
        if (start + row.length <= v.length) v.set(row, start);
        else for (let x = 0; x < row.length; x++) v[(start + x) & m] = row[x];
      }
    } else {
      for (let y = 0, a = r.dstAddr; y < r.height; y++, a += r.dstPitch) {
        for (let x = 0; x < r.width; x += pw) this.#put(rop, a + x, pw, r.fg);
      }
    }
    this.#marked(r.dstAddr, r.dstPitch, r.width, r.height);
  }

  /** Left-edge skip: bytes into the destination line, and pixels into the source bits. */
  #skips(r: BltRegisters, pw: number): { dst: number; src: number } {
    if (pw === 3) {
      const dst = r.skip & 0x1f;
      return { dst, src: Math.floor(dst / 3) };
    }
    const src = r.skip & 0x07;
    return { dst: src * pw, src };
  }

  /**
   * An 8×8 pattern over the destination: colours (pattern fill) or one bit
   * per pixel (colour-expanded pattern). `patternY` supplies the first row.
   */
  #pattern(
    r: BltRegisters,
    mode: number,
    pw: number,
    dstAddr: number,
    lines: number,
    src: Uint8Array,
    at: number,
    patternY: number,
  ): void {
    const rop = ROPS.get(r.rop);
    if (!rop) return;
    let py = patternY & 7;
    if (mode & BLT_MODE.COLOR_EXPAND) {
      const { dst: dstSkip, src: srcSkip } = this.#skips(r, pw);
      const { transparent, invert } = expansion(r, mode);
      for (let y = 0, d = dstAddr; y < lines; y++, d += this.#dstPitch) {
        const bits = src[at + py] ^ (invert ? 0xff : 0);
        let bit = 7 - srcSkip;
        for (let x = dstSkip, a = d + dstSkip; x < r.width; x += pw, a += pw) {
          this.#putExpanded(rop, a, pw, r, transparent, invert, ((bits >> bit) & 1) !== 0);
          bit = (bit - 1) & 7;
        }
        py = (py + 1) & 7;
      }
    } else {
      const skip = pw === 3 ? r.skip & 0x1f : (r.skip & 0x07) * pw;
      const rowBytes = pw === 1 ? 8 : pw === 2 ? 16 : 32;
      for (let y = 0, d = dstAddr; y < lines; y++, d += this.#dstPitch) {
        const row = at + py * rowBytes;
        let px = skip;
        for (let x = skip, a = d + skip; x < r.width; x += pw, a += pw) {
          let color: number;
          if (pw === 1) {
            color = src[row + px];
            px = (px + 1) & 7;
          } else if (pw === 2) {
            color = src[row + px] | (src[row + px + 1] << 8);
            px = (px + 2) & 15;
          } else if (pw === 3) {
            const p = row + px * 3;
            color = src[p] | (src[p + 1] << 8) | (src[p + 2] << 16);
            px = (px + 1) & 7;
          } else {
            color = (src[row + px] | (src[row + px + 1] << 8) | (src[row + px + 2] << 16) |
              (src[row + px + 3] << 24)) >>> 0;
            px = (px + 4) & 31;
          }
          this.#put(rop, a, pw, color);
        }
        py = (py + 1) & 7;
      }
    }
    this.#marked(dstAddr, this.#dstPitch, r.width, lines);
  }

  /** Copies (forward, backward, transparent) and colour expansion from a source. */
  #fromSource(
    r: BltRegisters,
    mode: number,
    pw: number,
    dstAddr: number,
    lines: number,
    src: Uint8Array,
    at: number,
    srcPitch: number,
  ): void {
    const rop = ROPS.get(r.rop);
    if (!rop) return;
    const v = this.#vram;
    const m = this.#mask;
    const dstPitch = this.#dstPitch;
    if (mode & BLT_MODE.COLOR_EXPAND) {
      const { dst: dstSkip, src: srcSkip } = this.#skips(r, pw);
      const { transparent, invert } = expansion(r, mode);
      let s = at;
      for (let y = 0, d = dstAddr; y < lines; y++, d += dstPitch) {
        let mask = 0x80 >> srcSkip;
        let bits = src[s++] ^ (invert ? 0xff : 0);
        for (let x = dstSkip, a = d + dstSkip; x < r.width; x += pw, a += pw) {
          if ((mask & 0xff) === 0) {
            mask = 0x80;
            bits = src[s++] ^ (invert ? 0xff : 0);
          }
          this.#putExpanded(rop, a, pw, r, transparent, invert, (bits & mask) !== 0);
          mask >>= 1;
        }
      }
      this.#marked(dstAddr, dstPitch, r.width, lines);
      return;
    }
    const transparent = (mode & BLT_MODE.TRANSPARENT) !== 0;
    const w = r.width;
    if (dstPitch >= 0) {
      // QEMU refuses forward copies whose pitches are shorter than a line.
      if (lines > 1 && (dstPitch < w || srcPitch < w)) return;
      for (let y = 0; y < lines; y++) {
        const d = dstAddr + y * dstPitch;
        const s = at + y * srcPitch;
        if (transparent) this.#transparentLine(rop, d, src, s, w, pw, r.transparent, 1);
        else if (r.rop === ROP_SRC && src !== v) {
          for (let x = 0; x < w; x++) v[(d + x) & m] = src[s + x];
        } else if (r.rop === ROP_SRC && (d & m) + w <= v.length && (d <= s || d >= s + w)) {
          // Byte-by-byte forward copying smears overlapping lines; elsewhere it is a move.
          v.copyWithin(d & m, s, s + w);
        } else {
          for (let x = 0; x < w; x++) v[(d + x) & m] = rop(v[(d + x) & m], src[s + x]) & 0xff;
        }
      }
    } else {
      // Backwards: both addresses name the last byte; lines go up, bytes go left.
      for (let y = 0; y < lines; y++) {
        const d = dstAddr + y * dstPitch;
        const s = at + y * srcPitch;
        if (transparent) this.#transparentLine(rop, d, src, s, w, pw, r.transparent, -1);
        else {
          for (let x = 0; x < w; x++) {
            const a = (d - x) & m;
            v[a] = rop(v[a], src[s - x]) & 0xff;
          }
        }
      }
    }
    this.#marked(dstAddr, dstPitch, w, lines);
  }

  /** One line of a transparent copy: pixels whose result equals the key are not written. */
  #transparentLine(
    rop: Rop,
    d: number,
    src: Uint8Array,
    s: number,
    w: number,
    pw: number,
    key: number,
    dir: 1 | -1,
  ): void {
    const v = this.#vram;
    const m = this.#mask;
    if (pw === 1) {
      for (let x = 0; x < w; x++) {
        const a = (d + dir * x) & m;
        const p = rop(v[a], src[s + dir * x]) & 0xff;
        if (p !== (key & 0xff)) v[a] = p;
      }
      return;
    }
    for (let x = 0; x < w; x += 2) {
      const a = (d + dir * x) & m & ~1;
      const sp = s + dir * x;
      const lo = rop(v[a], src[sp]) & 0xff;
      const hi = rop(v[a + 1], src[sp + 1]) & 0xff;
      if ((lo | (hi << 8)) !== (key & 0xffff)) {
        v[a] = lo;
        v[a + 1] = hi;
      }
    }
  }
}
