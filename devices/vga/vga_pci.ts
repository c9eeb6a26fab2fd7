/**
 * QEMU's "standard VGA" PCI function (1234:1111): a {@link Vga} plus a
 * linear framebuffer BAR, a 4 KiB MMIO BAR and an expansion ROM for the VGA
 * BIOS.
 *
 * BAR2 layout follows QEMU's: 0x400-0x41F mirror VGA ports 0x3C0-0x3DF
 * (byte order as for `out dx, ax`), 0x500-0x515 are the Bochs DISPI
 * registers (16 bits each, index × 2). The QEMU extension block (0x600) is
 * not implemented and reads as all ones.
 *
 * @module
 */

import type { AccessSize, BusDevice, Snapshotting } from "../types.ts";
import { allOnes, readLanes, writeLanes } from "../byte_lanes.ts";
import {
  PciConfigSpace,
  type PciConfigState,
  type PciFunction,
  type PciFunctionState,
} from "../pci/config_space.ts";
import { StateShape } from "../state_shape.ts";
import { Vga, VGA_PORT_BASE, type VgaState } from "./vga.ts";

/** Size of BAR2. */
export const VGA_MMIO_SIZE = 0x1000;
const MMIO_VGA_PORTS = 0x400;
const MMIO_DISPI = 0x500;
const MMIO_DISPI_END = 0x516;
const ROM_MIN_SIZE = 0x800;

/** Construction options. */
export interface VgaPciOptions {
  /** The VGA BIOS option ROM image; none when absent or empty. */
  romData?: Uint8Array;
  /** Video RAM and BAR0 size, a power of two of at least 256 KiB. Default 16 MiB. */
  vramSize?: number;
  /** Video RAM to use (host memory a KVM slot maps at BAR0); its length wins over `vramSize`. */
  vram?: Uint8Array;
  /** Passed to {@link Vga}: power on in 80×25 text mode (no VGA BIOS). */
  startInTextMode?: boolean;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** The expansion ROM size for `length` bytes: a power of two, at least 2 KiB; 0 for none. */
export function romSizeFor(length: number): number {
  if (length === 0) return 0;
  let size = ROM_MIN_SIZE;
  while (size < length) size *= 2;
  return size;
}

/** Little-endian reads from a byte array; bytes past its end read as all ones. */
function readBytes(bytes: Uint8Array, offset: number, size: AccessSize): number {
  return readLanes(offset, size, (at) => at >= 0 && at < bytes.length ? bytes[at] : 0xff);
}

/** Saved state of the VGA PCI function (video RAM and the ROM image are not state). */
export interface VgaPciState extends PciFunctionState {
  readonly version: 1;
  readonly config: PciConfigState;
  readonly vga: VgaState;
}

/** QEMU's standard VGA as a PCI function. */
export class VgaPci implements PciFunction, Snapshotting<VgaPciState> {
  /** The `--vga` model. */
  readonly model = "std" as const;
  /** Short name for the devices pane. */
  readonly name = "vga";
  /** Configuration space: BAR0 framebuffer, BAR2 MMIO, expansion ROM. */
  readonly config: PciConfigSpace;
  /** The VGA core (ports and legacy window). */
  readonly vga: Vga;
  /** BAR0: video RAM, linear. */
  readonly framebuffer: BusDevice;
  /** BAR2: the 4 KiB MMIO block. */
  readonly mmio: BusDevice;
  /** The expansion ROM contents for the board to map at the ROM BAR; writes are ignored. */
  readonly rom: BusDevice;
  /** Expansion ROM size in bytes (0 when there is no ROM). */
  readonly romSize: number;

  /** @param options ROM image, VRAM size, power-on mode */
  constructor(options: VgaPciOptions = {}) {
    const vramSize = options.vram?.length ?? options.vramSize ?? 16 * 1024 * 1024;
    if (!isPowerOfTwo(vramSize)) {
      throw new RangeError(`VGA memory size must be a power of two, got ${vramSize}`);
    }
    this.vga = new Vga({ vramSize, vram: options.vram, startInTextMode: options.startInTextMode });
    const romData = options.romData ?? new Uint8Array(0);
    this.romSize = romSizeFor(romData.length);
    this.config = new PciConfigSpace({
      vendorId: 0x1234,
      deviceId: 0x1111,
      classCode: 0x030000,
      revision: 2,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      bars: [
        { kind: "mem32", size: vramSize, prefetchable: true },
        undefined,
        { kind: "mem32", size: VGA_MMIO_SIZE },
      ],
      romSize: this.romSize,
    });
    this.framebuffer = linearMemory(this.vga.vram);
    this.mmio = vgaMmioBlock(this.vga);
    const image = new Uint8Array(this.romSize);
    image.set(romData);
    this.rom = {
      read: (offset, size) => readBytes(image, offset, size),
      write: () => {},
    };
  }

  /** Back to power-on: configuration space and VGA. */
  reset(): void {
    this.config.reset();
    this.vga.reset();
  }

  /** Configuration space and VGA registers. */
  snapshot(): VgaPciState {
    return { version: 1, config: this.config.snapshot(), vga: this.vga.snapshot() };
  }

  /** Puts configuration space (and so the BAR mappings) and the VGA registers back. */
  restore(state: VgaPciState): void {
    StateShape.versioned("vga pci", state, 1);
    // The VGA checks everything before changing anything; the config space only has its bytes.
    new PciConfigSpace(this.config.id).restore(state.config);
    this.vga.restore(state.vga);
    this.config.restore(state.config);
  }
}

function linearMemory(vram: Uint8Array): BusDevice {
  const write = (offset: number, size: AccessSize, value: number) =>
    writeLanes(offset, size, value, (at, byte) => {
      if (at >= 0 && at < vram.length) vram[at] = byte;
    });
  return {
    read: (offset, size) => readBytes(vram, offset, size),
    write,
    readBlock(offset, size, dst) {
      for (let i = 0; i + size <= dst.length; i += size) {
        dst.set(vram.subarray(offset, offset + size), i);
      }
    },
    writeBlock(offset, size, src) {
      for (let i = 0; i + size <= src.length; i += size) {
        write(offset, size, readLanes(i, size, (at) => src[at]));
      }
    },
  };
}

/**
 * The std VGA's MMIO registers as QEMU lays them out at the start of BAR2
 * (VGA ports at 0x400, DISPI at 0x500), shared with virtio-vga.
 */
export function vgaMmioBlock(vga: Vga): BusDevice {
  const toPort = (offset: number) => offset - MMIO_VGA_PORTS + 0x3c0 - VGA_PORT_BASE;
  const inPorts = (offset: number, size: number) =>
    offset >= MMIO_VGA_PORTS && offset + size <= MMIO_VGA_PORTS + 0x20;
  return {
    read(offset, size) {
      if (inPorts(offset, size)) return vga.read(toPort(offset), size);
      if (offset >= MMIO_DISPI && offset < MMIO_DISPI_END && size === 2 && !(offset & 1)) {
        return vga.dispi.readRegister((offset - MMIO_DISPI) >> 1);
      }
      return allOnes(size);
    },
    write(offset, size, value) {
      if (inPorts(offset, size)) vga.write(toPort(offset), size, value);
      else if (offset >= MMIO_DISPI && offset < MMIO_DISPI_END && size === 2 && !(offset & 1)) {
        vga.dispi.writeRegister((offset - MMIO_DISPI) >> 1, value);
      }
    },
  };
}
