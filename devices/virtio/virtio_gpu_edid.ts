/**
 * A VESA EDID 1.4 base block (128 bytes) for the virtual monitor of a
 * virtio-gpu scanout: its preferred mode as the first detailed timing
 * (reduced-blanking timings at 60 Hz), sRGB colour, the range limits and
 * the monitor's name, with the checksum that makes the block sum to zero.
 *
 * @module
 */

/** Bytes of an EDID base block. */
export const EDID_BLOCK_SIZE = 128;
/** Refresh rate of the preferred mode. */
export const EDID_REFRESH_HZ = 60;
/** Pixel density the physical size is derived from. */
const DOTS_PER_INCH = 100;

/** The monitor an EDID describes. */
export interface EdidMonitor {
  /** Preferred mode, pixels. */
  readonly width: number;
  readonly height: number;
  /** Up to 13 ASCII characters. */
  readonly name: string;
  /** Serial number (u32). */
  readonly serial: number;
}

// Reduced blanking in the manner of CVT-RB: fixed horizontal blanking, short vertical.
const H_BLANK = 160;
const H_FRONT = 48;
const H_SYNC = 32;
const V_FRONT = 3;
const V_SYNC = 6;
const V_BLANK_MIN = 23;

/** The EDID base block of `monitor`. */
export function buildEdid(monitor: EdidMonitor): Uint8Array {
  const e = new Uint8Array(EDID_BLOCK_SIZE);
  e.set([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
  // Manufacturer "VMR": three 5-bit letters (A = 1), big-endian.
  const id = ("VMR".charCodeAt(0) - 64) << 10 | ("VMR".charCodeAt(1) - 64) << 5 |
    ("VMR".charCodeAt(2) - 64);
  e[8] = id >> 8;
  e[9] = id & 0xff;
  e[10] = 0x01; // product code 0x0001, little-endian
  e[11] = 0x00;
  new DataView(e.buffer).setUint32(12, monitor.serial >>> 0, true);
  e[16] = 1; // week of manufacture
  e[17] = 2024 - 1990; // year of manufacture
  e[18] = 1; // EDID 1.4
  e[19] = 4;
  e[20] = 0xa0; // digital input, 8 bits per colour, interface not defined
  const widthMm = Math.round((monitor.width * 25.4) / DOTS_PER_INCH);
  const heightMm = Math.round((monitor.height * 25.4) / DOTS_PER_INCH);
  e[21] = Math.min(255, Math.round(widthMm / 10));
  e[22] = Math.min(255, Math.round(heightMm / 10));
  e[23] = 120; // gamma 2.2: (gamma × 100) − 100
  e[24] = 0x06; // sRGB default colour space; the preferred timing is the native mode
  setChromaticity(e);
  e[35] = 0x21; // established timings: 640×480@60, 800×600@60
  e[36] = 0x08; // 1024×768@60
  e[37] = 0x00;
  for (let i = 38; i < 54; i++) e[i] = 0x01; // no standard timings
  detailedTiming(e, 54, monitor.width, monitor.height, widthMm, heightMm);
  rangeLimits(e, 72);
  textDescriptor(e, 90, 0xfc, monitor.name);
  textDescriptor(e, 108, 0xff, `vmrun-${monitor.serial}`);
  e[126] = 0; // no extension blocks
  e[127] = checksum(e);
  return e;
}

/** The byte that makes a block's 128 bytes sum to 0 modulo 256. */
export function checksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < EDID_BLOCK_SIZE - 1; i++) sum += block[i];
  return (256 - (sum & 0xff)) & 0xff;
}

/** sRGB primaries and D65 white, 10-bit binary fractions. */
function setChromaticity(e: Uint8Array): void {
  const f = (v: number) => Math.round(v * 1024);
  const [rx, ry, gx, gy, bx, by, wx, wy] = [0.64, 0.33, 0.3, 0.6, 0.15, 0.06, 0.3127, 0.329].map(
    f,
  );
  const lo = (v: number) => v & 3;
  e[25] = (lo(rx) << 6) | (lo(ry) << 4) | (lo(gx) << 2) | lo(gy);
  e[26] = (lo(bx) << 6) | (lo(by) << 4) | (lo(wx) << 2) | lo(wy);
  [rx, ry, gx, gy, bx, by, wx, wy].forEach((v, i) => e[27 + i] = v >> 2);
}

function detailedTiming(
  e: Uint8Array,
  at: number,
  width: number,
  height: number,
  widthMm: number,
  heightMm: number,
): void {
  const hTotal = width + H_BLANK;
  // Enough vertical blanking for ~460 us, as reduced blanking asks, and at least V_BLANK_MIN lines.
  const lineUs = 1e6 / (EDID_REFRESH_HZ * (height + V_BLANK_MIN));
  const vBlank = Math.max(V_BLANK_MIN, Math.ceil(460 / lineUs));
  const vTotal = height + vBlank;
  const clock10kHz = Math.round((hTotal * vTotal * EDID_REFRESH_HZ) / 10_000);
  e[at] = clock10kHz & 0xff;
  e[at + 1] = (clock10kHz >> 8) & 0xff;
  e[at + 2] = width & 0xff;
  e[at + 3] = H_BLANK & 0xff;
  e[at + 4] = ((width >> 8) & 0xf) << 4 | ((H_BLANK >> 8) & 0xf);
  e[at + 5] = height & 0xff;
  e[at + 6] = vBlank & 0xff;
  e[at + 7] = ((height >> 8) & 0xf) << 4 | ((vBlank >> 8) & 0xf);
  e[at + 8] = H_FRONT & 0xff;
  e[at + 9] = H_SYNC & 0xff;
  e[at + 10] = (V_FRONT & 0xf) << 4 | (V_SYNC & 0xf);
  e[at + 11] = ((H_FRONT >> 8) & 3) << 6 | ((H_SYNC >> 8) & 3) << 4;
  e[at + 12] = widthMm & 0xff;
  e[at + 13] = heightMm & 0xff;
  e[at + 14] = ((widthMm >> 8) & 0xf) << 4 | ((heightMm >> 8) & 0xf);
  e[at + 15] = 0; // no border
  e[at + 16] = 0;
  e[at + 17] = 0x1a; // digital separate sync, +hsync, −vsync (reduced blanking's polarity)
}

/** Display range limits: 50-125 Hz vertical, 30-160 kHz horizontal, 600 MHz. */
function rangeLimits(e: Uint8Array, at: number): void {
  e.set([0, 0, 0, 0xfd, 0, 50, 125, 30, 160, 60, 0x01, 0x0a], at);
  for (let i = at + 12; i < at + 18; i++) e[i] = 0x20;
}

/** A display descriptor of `tag` holding up to 13 ASCII characters. */
function textDescriptor(e: Uint8Array, at: number, tag: number, text: string): void {
  e.set([0, 0, 0, tag, 0], at);
  const chars = [...text.slice(0, 13)].map((c) => c.charCodeAt(0) & 0x7f);
  if (chars.length < 13) chars.push(0x0a);
  while (chars.length < 13) chars.push(0x20);
  e.set(chars, at + 5);
}
