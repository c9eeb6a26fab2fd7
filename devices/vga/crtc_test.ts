import { strictEqual } from "node:assert";
import {
  Crtc,
  CRTC_CURSOR_END,
  CRTC_CURSOR_HIGH,
  CRTC_CURSOR_LOW,
  CRTC_CURSOR_START,
  CRTC_HORIZONTAL_DISPLAY_END,
  CRTC_MAX_SCAN_LINE,
  CRTC_MODE_CONTROL,
  CRTC_OVERFLOW,
  CRTC_START_HIGH,
  CRTC_START_LOW,
  CRTC_UNDERLINE,
  CRTC_VERTICAL_DISPLAY_END,
  CRTC_VERTICAL_RETRACE_END,
} from "./crtc.ts";

function write(crtc: Crtc, index: number, value: number): void {
  crtc.writeIndex(index);
  crtc.writeData(value);
}

function read(crtc: Crtc, index: number): number {
  crtc.writeIndex(index);
  return crtc.readData();
}

Deno.test("crtc: all 25 registers hold 8 bits, 0x19 and up read all ones", () => {
  const crtc = new Crtc();
  for (let i = 0; i < 25; i++) write(crtc, i, (i * 37 + 1) & 0x7f); // bit 7 clear: no protect
  for (let i = 0; i < 25; i++) strictEqual(read(crtc, i), (i * 37 + 1) & 0x7f, `register ${i}`);
  write(crtc, 0x19, 0x12);
  strictEqual(read(crtc, 0x19), 0xff);
});

Deno.test("crtc: protect bit locks registers 0-7 except line compare bit 8", () => {
  const crtc = new Crtc();
  write(crtc, CRTC_HORIZONTAL_DISPLAY_END, 0x4f);
  write(crtc, CRTC_OVERFLOW, 0x1f);
  write(crtc, CRTC_VERTICAL_RETRACE_END, 0x8e);
  strictEqual(crtc.writeProtected, true);
  write(crtc, CRTC_HORIZONTAL_DISPLAY_END, 0x27);
  strictEqual(read(crtc, CRTC_HORIZONTAL_DISPLAY_END), 0x4f);
  write(crtc, CRTC_OVERFLOW, 0x00);
  strictEqual(read(crtc, CRTC_OVERFLOW), 0x0f);
  // Registers from 8 up are not protected.
  write(crtc, CRTC_MAX_SCAN_LINE, 0x47);
  strictEqual(read(crtc, CRTC_MAX_SCAN_LINE), 0x47);
  write(crtc, CRTC_VERTICAL_RETRACE_END, 0x0e);
  write(crtc, CRTC_HORIZONTAL_DISPLAY_END, 0x27);
  strictEqual(read(crtc, CRTC_HORIZONTAL_DISPLAY_END), 0x27);
});

Deno.test("crtc: vertical display end takes bits 8 and 9 from overflow", () => {
  const crtc = new Crtc();
  write(crtc, CRTC_VERTICAL_DISPLAY_END, 0x8f);
  write(crtc, CRTC_OVERFLOW, 0x1f); // mode 3: bit 1 set
  strictEqual(crtc.verticalDisplayEnd, 0x18f);
  write(crtc, CRTC_VERTICAL_DISPLAY_END, 0xdf);
  write(crtc, CRTC_OVERFLOW, 0x3e); // mode 12h: bit 1 set, bit 6 clear
  strictEqual(crtc.verticalDisplayEnd, 0x1df);
  write(crtc, CRTC_OVERFLOW, 0x40);
  strictEqual(crtc.verticalDisplayEnd, 0x2df);
});

Deno.test("crtc: cursor, start address and scan line fields", () => {
  const crtc = new Crtc();
  write(crtc, CRTC_CURSOR_START, 0x2d);
  write(crtc, CRTC_CURSOR_END, 0x0e);
  strictEqual(crtc.cursorStart, 0x0d);
  strictEqual(crtc.cursorEnd, 0x0e);
  strictEqual(crtc.cursorDisabled, true);
  write(crtc, CRTC_CURSOR_HIGH, 0x07);
  write(crtc, CRTC_CURSOR_LOW, 0xd0);
  strictEqual(crtc.cursorLocation, 0x7d0);
  write(crtc, CRTC_START_HIGH, 0x01);
  write(crtc, CRTC_START_LOW, 0x40);
  strictEqual(crtc.startAddress, 0x140);
  write(crtc, CRTC_MAX_SCAN_LINE, 0xc1);
  strictEqual(crtc.maxScanLine, 1);
  strictEqual(crtc.doubleScan, true);
});

Deno.test("crtc: address shift from word/byte/doubleword mode", () => {
  const crtc = new Crtc();
  write(crtc, CRTC_UNDERLINE, 0x1f);
  write(crtc, CRTC_MODE_CONTROL, 0xa3); // text: word mode
  strictEqual(crtc.addressShift, 1);
  strictEqual(crtc.distinctLinesPerRow, 1);
  write(crtc, CRTC_MODE_CONTROL, 0xe3); // mode 12h: byte mode
  strictEqual(crtc.addressShift, 0);
  write(crtc, CRTC_UNDERLINE, 0x40); // mode 13h: doubleword
  write(crtc, CRTC_MODE_CONTROL, 0xa3);
  strictEqual(crtc.addressShift, 2);
  write(crtc, CRTC_MAX_SCAN_LINE, 0xc1);
  write(crtc, CRTC_MODE_CONTROL, 0xa2); // CGA mode 4: two interleaved banks
  strictEqual(crtc.distinctLinesPerRow, 2);
});
