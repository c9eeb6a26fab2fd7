/**
 * Screen models for tests and benchmarks.
 *
 * @module
 */

import { SteppedClock } from "../devices/clock.ts";
import { CmosRtc } from "../devices/cmos_rtc.ts";
import { DebugExit } from "../devices/debug_exit.ts";
import { FwCfg } from "../devices/fw_cfg.ts";
import { I8042 } from "../devices/i8042.ts";
import { PciConfigSpace } from "../devices/pci/config_space.ts";
import { I440fx } from "../devices/pci/i440fx.ts";
import { PciHost } from "../devices/pci/pci_host.ts";
import { Piix3 } from "../devices/pci/piix3.ts";
import { Piix4Pm } from "../devices/pci/piix4_pm.ts";
import { Port92, ResetControl } from "../devices/system_control.ts";
import { PostCode } from "../devices/post_code.ts";
import { Uart16550a } from "../devices/uart_16550a.ts";
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

/** Real snapshots of the devices the devices pane reads typed: a COM1 mid-transfer, a keyboard controller with keys queued, PCI functions with BARs. */
function typedDeviceStates() {
  const clock = new SteppedClock();
  const uart = new Uart16550a({ irq: { set() {} }, tx() {}, clock, timer: clock.timer });
  uart.write(3, 1, 0x83); // DLAB: divisor 1, 115200 baud
  uart.write(0, 2, 0x0001);
  uart.write(3, 1, 0x03); // 8N1
  uart.write(2, 1, 0x01); // FIFO, trigger level 1
  uart.write(4, 1, 0x0b); // DTR, RTS, OUT2
  uart.write(1, 1, 0x01); // RX data interrupt
  for (let i = 0; i < 2048; i++) uart.write(0, 1, 0x41);
  uart.receive(new Uint8Array(5));
  uart.read(0, 1);
  uart.read(0, 1);
  const i8042 = new I8042({ kbdIrq: { set() {} }, mouseIrq: { set() {} }, onSystemReset() {} });
  const drain = () => {
    while (i8042.status & 1) i8042.dataPort.read(0, 1);
  };
  i8042.commandPort.write(0, 1, 0xaa); // self-test
  drain();
  i8042.commandPort.write(0, 1, 0x60);
  i8042.dataPort.write(0, 1, 0x61);
  i8042.dataPort.write(0, 1, 0xed); // LEDs: Num Lock
  i8042.dataPort.write(0, 1, 0x02);
  drain();
  for (const key of ["KeyA", "KeyB", "KeyC"] as const) i8042.keyboard.keyDown(key);
  const pci = new PciHost();
  pci.attach(0, 0, new I440fx());
  const ide = new PciConfigSpace({ vendorId: 0x8086, deviceId: 0x7010, classCode: 0x010180 });
  pci.attach(1, 1, { name: "piix3-ide", config: ide, reset() {} });
  const vga = new PciConfigSpace({
    vendorId: 0x1234,
    deviceId: 0x1111,
    classCode: 0x030000,
    bars: [{ kind: "mem32", size: 16 * 1024 * 1024, prefetchable: true }],
    romSize: 0x10000,
  });
  vga.write(0x10, 4, 0xfd000000);
  vga.write(0x04, 2, 0x0003);
  pci.attach(2, 0, { name: "vga", config: vga, reset() {} });
  const rtc = new CmosRtc({ irq: { set() {} }, clock, timer: clock.timer, startTimeMs: 0 });
  const post = new PostCode();
  post.write(0, 1, 0x42);
  return {
    uart: uart.snapshot(),
    rtc: rtc.snapshot(),
    i8042: i8042.snapshot(),
    postCode: post.snapshot(),
    debugExit: new DebugExit(() => {}).snapshot(),
    pci: pci.snapshot(),
    fwCfg: new FwCfg().snapshot(),
    port92: new Port92().snapshot(),
    resetControl: new ResetControl().snapshot(),
    i440fx: new I440fx().snapshot(),
    piix3: new Piix3().snapshot(),
    pm: new Piix4Pm({ clock, timer: clock.timer, sci: { set() {} }, onPowerOff() {} }).snapshot(),
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
    ...typedDeviceStates(),
    ...typed,
    screen: textScreen(80, 25),
    optional: [],
    pio: [],
    mmio: [],
    unclaimed: { pio: { reads: 0, writes: 0 }, mmio: { reads: 0, writes: 0 } },
    ide: typed.ide,
  } as unknown as BoardState;
}
