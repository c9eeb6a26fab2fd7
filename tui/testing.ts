/**
 * Screen models for tests and benchmarks.
 *
 * @module
 */

import type { ScreenState } from "../devices/vga/screen.ts";
import { ArrayGuestMemory } from "../devices/testing/array_guest_memory.ts";
import { MemoryBackend } from "../devices/testing/memory_backend.ts";
import { IdeController } from "../devices/ide/ide_controller.ts";
import { VgaPci } from "../devices/vga/vga_pci.ts";
import { VirtioBlk } from "../devices/virtio/virtio_blk.ts";
import type { BoardState } from "../machine/board.ts";

/** The VGA's default 16 text colours. */
export const VGA_PALETTE: readonly number[] = [
  0x000000,
  0x0000aa,
  0x00aa00,
  0x00aaaa,
  0xaa0000,
  0xaa00aa,
  0xaa5500,
  0xaaaaaa,
  0x555555,
  0x5555ff,
  0x55ff55,
  0x55ffff,
  0xff5555,
  0xff55ff,
  0xffff55,
  0xffffff,
];

/** A text screen of `cols` x `rows` blanks (attribute 0x07) with `text` written at (row, col). */
export function textScreen(
  cols: number,
  rows: number,
  writes: { row: number; col: number; text: string; attr?: number }[] = [],
  cursor = { row: 0, col: 0 },
): ScreenState {
  const cells = new Array<number>(cols * rows).fill(0x20 | (0x07 << 8));
  for (const w of writes) {
    for (let i = 0; i < w.text.length; i++) {
      cells[w.row * cols + w.col + i] = w.text.charCodeAt(i) | ((w.attr ?? 0x07) << 8);
    }
  }
  return {
    mode: "text",
    cols,
    rows,
    cells,
    cursor: { ...cursor, visible: true, startLine: 13, endLine: 14 },
    palette: [...VGA_PALETTE],
    blinkEnabled: true,
    charHeight: 16,
    width: cols * 9,
    height: rows * 16,
    text: "",
  };
}

/** Typed snapshots of a VGA with BAR0 mapped, an IDE disk and a read-only virtio disk. */
function pciSnapshots() {
  const memory = new ArrayGuestMemory(4096);
  const none = { set() {} };
  const vgaPci = new VgaPci({ romData: new Uint8Array(40 * 1024) });
  vgaPci.config.write(0x10, 4, 0xfd000000);
  vgaPci.config.write(0x04, 2, 0x0002);
  const ide = new IdeController({
    primaryIrq: none,
    secondaryIrq: none,
    memory,
    drives: { primaryMaster: { kind: "disk", backend: new MemoryBackend(1048576) } },
  }).snapshot();
  const master = ide.primary.master;
  const blk = new VirtioBlk({ backend: new MemoryBackend(1048576, true), memory, irq: none })
    .snapshot();
  return {
    vga: vgaPci.snapshot(),
    ide: {
      ...ide,
      primary: { ...ide.primary, master: { ...master, bytesRead: 512, bytesWritten: 1024 } },
    },
    virtioBlk: [{ ...blk, counters: { ...blk.counters, bytesRead: 4096 } }],
  };
}

/** A board snapshot with the fields the devices pane reads. */
export function boardState(): BoardState {
  const typed = pciSnapshots();
  return {
    uart: {
      ier: 1,
      iir: 0xc1,
      lcr: 3,
      mcr: 0xb,
      lsr: 0x60,
      msr: 0xb0,
      scr: 0,
      baud: 115200,
      fifoEnabled: true,
      rxFifo: 3,
      txFifo: 0,
      txBytes: 2048,
      rxBytes: 5,
      irq: true,
      overruns: 0,
    },
    rtc: {},
    i8042: {
      status: 0x1c,
      commandByte: 0x61,
      queued: 2,
      translation: true,
      irq1: false,
      keyboard: {
        enabled: true,
        scanCodeSet: 2,
        leds: { numLock: true, capsLock: false, scrollLock: false },
      },
    },
    postCode: { last: 0x42 },
    debugExit: {},
    pci: {
      functions: [
        {
          device: 0,
          fn: 0,
          name: "i440fx",
          state: { config: { vendorId: 0x8086, deviceId: 0x1237, bars: [] } },
        },
        { device: 1, fn: 1, name: "piix3-ide", state: typed.ide },
        { device: 2, fn: 0, name: "vga", state: typed.vga },
      ],
    },
    vga: typed.vga,
    screen: textScreen(80, 25),
    fwCfg: {},
    virtioBlk: typed.virtioBlk,
    pio: [],
    mmio: [],
    unclaimed: { pio: { reads: 0, writes: 0 }, mmio: { reads: 0, writes: 0 } },
    ide: typed.ide,
  } as unknown as BoardState;
}
