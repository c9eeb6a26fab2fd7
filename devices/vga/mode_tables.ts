/**
 * Register values of the standard colour text modes, as the IBM VGA BIOS
 * mode tables define them, and a programmer that loads a set through the
 * ports in the order a BIOS does. Used when no VGA option ROM runs, and by
 * tests.
 *
 * @module
 */

import type { BusDevice } from "../types.ts";

/** One full register set. */
export interface VgaRegisterSet {
  readonly misc: number;
  /** Sequencer registers 0-4. */
  readonly sequencer: readonly number[];
  /** CRTC registers 0x00-0x18. */
  readonly crtc: readonly number[];
  /** Graphics controller registers 0-8. */
  readonly graphics: readonly number[];
  /** Attribute controller registers 0x00-0x14. */
  readonly attribute: readonly number[];
}

const TEXT_GRAPHICS = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff];
// deno-fmt-ignore
const TEXT_ATTRIBUTE = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
  0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
  0x0c, 0x00, 0x0f, 0x08, 0x00,
];

// deno-fmt-ignore
const CRTC_80 = [
  0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f,
  0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
  0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3,
  0xff,
];

// deno-fmt-ignore
const CRTC_40 = [
  0x2d, 0x27, 0x28, 0x90, 0x2b, 0xa0, 0xbf, 0x1f,
  0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
  0x9c, 0x8e, 0x8f, 0x14, 0x1f, 0x96, 0xb9, 0xa3,
  0xff,
];

/** Mode 3: 80×25 colour text, 9×16 cells, 720×400. */
export const TEXT_80X25: VgaRegisterSet = {
  misc: 0x67,
  sequencer: [0x03, 0x00, 0x03, 0x00, 0x02],
  crtc: CRTC_80,
  graphics: TEXT_GRAPHICS,
  attribute: TEXT_ATTRIBUTE,
};

/** Mode 3 with the 8×8 font: 80×50, maximum scan line 7, cursor on lines 6-7. */
export const TEXT_80X50: VgaRegisterSet = {
  ...TEXT_80X25,
  crtc: CRTC_80.map((v, i) => i === 0x09 ? 0x47 : i === 0x0a ? 0x06 : i === 0x0b ? 0x07 : v),
};

/** Mode 1: 40×25 colour text, dot clock halved. */
export const TEXT_40X25: VgaRegisterSet = {
  misc: 0x67,
  sequencer: [0x03, 0x08, 0x03, 0x00, 0x02],
  crtc: CRTC_40,
  graphics: TEXT_GRAPHICS,
  attribute: TEXT_ATTRIBUTE,
};

/**
 * The 64 EGA colours as 6-bit DAC triples: index bits are rgbRGB, primaries
 * worth 2/3 of full scale and secondaries 1/3.
 */
export function egaPalette(): Uint8Array {
  const out = new Uint8Array(64 * 3);
  for (let i = 0; i < 64; i++) {
    out[i * 3] = ((i >> 2) & 1) * 42 + ((i >> 5) & 1) * 21;
    out[i * 3 + 1] = ((i >> 1) & 1) * 42 + ((i >> 4) & 1) * 21;
    out[i * 3 + 2] = (i & 1) * 42 + ((i >> 3) & 1) * 21;
  }
  return out;
}

/**
 * Loads `set` through the VGA's ports (`ports` is the region at 0x3B0) the
 * way a BIOS mode set does: misc output, sequencer under synchronous reset,
 * CRTC with protection lifted, graphics controller, attribute controller
 * (palette source enabled at the end), and the EGA colours into DAC 0-63.
 */
export function programRegisters(ports: BusDevice, set: VgaRegisterSet): void {
  const out = (port: number, value: number) => ports.write(port - 0x3b0, 1, value);
  out(0x3c2, set.misc);
  out(0x3c4, 0);
  out(0x3c5, 0x01);
  for (let i = 1; i < set.sequencer.length; i++) {
    out(0x3c4, i);
    out(0x3c5, set.sequencer[i]);
  }
  out(0x3c4, 0);
  out(0x3c5, set.sequencer[0]);
  const crtc = set.misc & 1 ? 0x3d4 : 0x3b4;
  out(crtc, 0x11);
  out(crtc + 1, set.crtc[0x11] & 0x7f);
  set.crtc.forEach((v, i) => {
    out(crtc, i);
    out(crtc + 1, v);
  });
  set.graphics.forEach((v, i) => {
    out(0x3ce, i);
    out(0x3cf, v);
  });
  ports.read(crtc + 6 - 0x3b0, 1); // input status 1: flip-flop to "index"
  set.attribute.forEach((v, i) => {
    out(0x3c0, i);
    out(0x3c0, v);
  });
  out(0x3c0, 0x20);
  out(0x3c8, 0);
  for (const v of egaPalette()) out(0x3c9, v);
}
