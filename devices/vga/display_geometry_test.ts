import { deepStrictEqual, strictEqual } from "node:assert";
import { ATTR_PAS, AttributeController } from "./attribute_controller.ts";
import { Crtc, CRTC_CURSOR_END, CRTC_CURSOR_LOW, CRTC_CURSOR_START } from "./crtc.ts";
import { displayGeometry, textCursor, type VgaRegisters } from "./display_geometry.ts";
import { GraphicsController } from "./graphics_controller.ts";
import { TEXT_80X25, type VgaRegisterSet } from "./mode_tables.ts";
import { Sequencer } from "./sequencer.ts";

function load(set: VgaRegisterSet): VgaRegisters {
  const regs = {
    seq: new Sequencer(),
    gc: new GraphicsController(),
    attr: new AttributeController(),
    crtc: new Crtc(),
  };
  set.sequencer.forEach((v, i) => regs.seq.set(i, v));
  set.graphics.forEach((v, i) => regs.gc.set(i, v));
  set.crtc.forEach((v, i) => regs.crtc.set(i, v));
  regs.attr.regs.set(set.attribute);
  regs.attr.indexRegister = ATTR_PAS;
  return regs;
}

const ATTR_GRAPHICS = [...new Array(16).keys(), 0x01, 0x00, 0x0f, 0x00, 0x00];

// Mode 13h: 320x200, 256 colours, chain-4.
const MODE_13: VgaRegisterSet = {
  misc: 0x63,
  sequencer: [0x03, 0x01, 0x0f, 0x00, 0x0e],
  // deno-fmt-ignore
  crtc: [0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x9c, 0x0e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff],
  graphics: [0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff],
  attribute: ATTR_GRAPHICS.map((v, i) => i === 0x10 ? 0x41 : v),
};

// Mode 12h: 640x480, 16 colours, planar.
const MODE_12: VgaRegisterSet = {
  misc: 0xe3,
  sequencer: [0x03, 0x01, 0x0f, 0x00, 0x06],
  // deno-fmt-ignore
  crtc: [0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff],
  graphics: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff],
  attribute: ATTR_GRAPHICS,
};

// Mode 4: 320x200, 4 colours, CGA interleave.
const MODE_4: VgaRegisterSet = {
  misc: 0x63,
  sequencer: [0x03, 0x09, 0x03, 0x00, 0x02],
  // deno-fmt-ignore
  crtc: [0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2, 0xff],
  graphics: [0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x0f, 0xff],
  attribute: ATTR_GRAPHICS,
};

Deno.test("geometry: mode 3 is 80x25 text in 9x16 cells", () => {
  const g = displayGeometry(load(TEXT_80X25));
  deepStrictEqual(g, {
    mode: "text",
    cols: 80,
    rows: 25,
    charWidth: 9,
    charHeight: 16,
    width: 720,
    height: 400,
    startAddress: 0,
    rowStride: 80,
    addressShift: 1,
  });
});

Deno.test("geometry: graphics sizes follow the registers", () => {
  const g13 = displayGeometry(load(MODE_13));
  deepStrictEqual([g13.mode, g13.width, g13.height, g13.addressShift], ["graphics", 320, 200, 2]);
  const g12 = displayGeometry(load(MODE_12));
  deepStrictEqual([g12.mode, g12.width, g12.height, g12.addressShift], ["graphics", 640, 480, 0]);
  const g4 = displayGeometry(load(MODE_4));
  deepStrictEqual([g4.mode, g4.width, g4.height], ["graphics", 320, 200]);
});

Deno.test("geometry: screen off or palette source clear means off", () => {
  const regs = load(TEXT_80X25);
  regs.attr.indexRegister = 0;
  strictEqual(displayGeometry(regs).mode, "off");
  regs.attr.indexRegister = ATTR_PAS;
  regs.seq.set(1, 0x20);
  strictEqual(displayGeometry(regs).mode, "off");
});

Deno.test("geometry: cursor placement and visibility rules", () => {
  const regs = load(TEXT_80X25);
  regs.crtc.set(CRTC_CURSOR_LOW, 165); // row 2, column 5
  const g = displayGeometry(regs);
  deepStrictEqual(textCursor(regs, g), {
    row: 2,
    col: 5,
    visible: true,
    startLine: 13,
    endLine: 14,
  });
  regs.crtc.set(CRTC_CURSOR_START, 0x0f); // start after end: no cursor
  strictEqual(textCursor(regs, g).visible, false);
  regs.crtc.set(CRTC_CURSOR_START, 0x00);
  regs.crtc.set(CRTC_CURSOR_END, 0x1f);
  strictEqual(textCursor(regs, g).visible, true);
  regs.crtc.set(CRTC_CURSOR_START, 0x20); // disable bit
  strictEqual(textCursor(regs, g).visible, false);
});
