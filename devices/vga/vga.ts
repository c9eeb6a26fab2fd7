/**
 * The standard VGA: its register groups on ports 0x3B0-0x3DF, planar video
 * memory behind the 0xA0000 window, and accessors for the font and palettes
 * that screen rendering needs.
 *
 * The board registers the VGA itself at {@link VGA_PORT_BASE} (length
 * {@link VGA_PORT_COUNT}) and {@link Vga.memory} at {@link VGA_WINDOW_BASE}
 * (length {@link VGA_WINDOW_SIZE}).
 *
 * @module
 */

import type { AccessSize, BusDevice, DeviceState, Snapshotting } from "../types.ts";
import { readLanes, writeLanes } from "../byte_lanes.ts";
import { StateShape } from "../state_shape.ts";
import { AttributeController, type AttributeState } from "./attribute_controller.ts";
import { Crtc } from "./crtc.ts";
import { Dac, type DacState } from "./dac.ts";
import { Dispi, type DispiLayout, type DispiState, DispiWindow } from "./dispi.ts";
import { GraphicsController } from "./graphics_controller.ts";
import type { HwCursor } from "./hw_cursor.ts";
import type { IndexedRegistersState } from "./indexed_registers.ts";
import { programRegisters, TEXT_80X25 } from "./mode_tables.ts";
import { Sequencer } from "./sequencer.ts";
import { PLANAR_SIZE, VideoMemory } from "./video_memory.ts";

export { VGA_WINDOW_SIZE } from "./video_memory.ts";

/** First port of the VGA's I/O region. */
export const VGA_PORT_BASE = 0x3b0;
/** Ports 0x3B0-0x3DF. */
export const VGA_PORT_COUNT = 0x30;
/** Guest-physical base of the legacy memory window. */
export const VGA_WINDOW_BASE = 0xa0000;

/**
 * Saved state of the VGA: every register, latch and index a guest can
 * observe. Video RAM is not in it: it is host memory the machine saves as a
 * memory region of its own.
 */
export interface VgaState extends DeviceState {
  readonly version: 1;
  /** Miscellaneous output register. */
  readonly misc: number;
  readonly featureControl: number;
  readonly subsystemEnable: number;
  /** Where input status 1 reads are in their eight-read frame (0-7). */
  readonly statusPhase: number;
  readonly sequencer: IndexedRegistersState;
  readonly graphics: IndexedRegistersState;
  readonly crtc: IndexedRegistersState;
  readonly attribute: AttributeState;
  readonly dac: DacState;
  /** The four read latches, plane 0 first. */
  readonly latches: Uint8Array;
  readonly dispi: DispiState;
}

/** What an SVGA card adds to the picture the VGA core generates. */
export interface VgaExtension {
  /** The card's own display mode (consulted before DISPI), or null when the VGA's apply. */
  layout(): DispiLayout | null;
  /** A hardware cursor drawn over graphics, or null. */
  cursor(): HwCursor | null;
}

/** Construction options. */
export interface VgaOptions {
  /** Bytes of video RAM, at least 256 KiB (the planes are its first 256 KiB). Default 256 KiB. */
  vramSize?: number;
  /** Video RAM to use (e.g. host memory a KVM slot maps); its length wins over `vramSize`. */
  vram?: Uint8Array;
  /**
   * Power on (and reset) into 80×25 colour text mode with the EGA colours in
   * the DAC, as a VGA BIOS leaves it; for boots without a VGA option ROM.
   */
  startInTextMode?: boolean;
}

/** The VGA's registers and memory. */
export class Vga implements BusDevice, Snapshotting<VgaState> {
  /** Video RAM; the four planes are interleaved in its first 256 KiB. */
  readonly vram: Uint8Array;
  /** Sequencer (0x3C4/0x3C5). */
  readonly seq = new Sequencer();
  /** Graphics controller (0x3CE/0x3CF). */
  readonly gc = new GraphicsController();
  /** Attribute controller (0x3C0/0x3C1). */
  readonly attr = new AttributeController();
  /** CRT controller (0x3D4/0x3D5 or 0x3B4/0x3B5). */
  readonly crtc = new Crtc();
  /** DAC (0x3C6-0x3C9). */
  readonly dac = new Dac();
  /** The 0xA0000-0xBFFFF window (offset 0 = 0xA0000) with VGA (planar) semantics. */
  readonly memory: VideoMemory;
  /** Bochs VBE DISPI registers (ports 0x1CE/0x1CF). */
  readonly dispi: Dispi;
  /** What the board maps at 0xA0000: {@link memory}, or a linear bank while DISPI is on. */
  readonly window: DispiWindow;
  /** Miscellaneous output register: bit 0 selects colour (0x3Dx) or mono (0x3Bx) addressing. */
  misc = 0;
  /** What an SVGA card adds to the core's picture (the Cirrus); null for none. */
  extension: VgaExtension | null = null;
  /** Called with video RAM byte ranges an extension wrote itself (BitBLT, banked writes). */
  onVramWrite: ((start: number, end: number) => void) | undefined;
  /** Feature control register (written at 0x3BA/0x3DA, read at 0x3CA). */
  featureControl = 0;
  /** VGA subsystem enable register (0x3C3). */
  subsystemEnable = 0;
  readonly #startInTextMode: boolean;
  #statusPhase = 0;

  /** @param options VRAM size and power-on mode */
  constructor(options: VgaOptions = {}) {
    const size = options.vram?.length ?? options.vramSize ?? PLANAR_SIZE;
    if (!Number.isInteger(size) || size < PLANAR_SIZE) {
      throw new RangeError(`VGA memory must be at least ${PLANAR_SIZE} bytes, got ${size}`);
    }
    this.vram = options.vram ?? new Uint8Array(size);
    this.memory = new VideoMemory(this.vram, this.seq, this.gc);
    this.dispi = new Dispi(this.vram);
    this.window = new DispiWindow(this.dispi, this.vram, this.memory);
    this.#startInTextMode = options.startInTextMode ?? false;
    // Video RAM starts zeroed; filling it here would make all of it resident.
    this.#resetRegisters();
  }

  /** Base of the active CRTC/input-status ports: 0x3D0 (colour) or 0x3B0 (mono). */
  get #ioBase(): number {
    return this.misc & 1 ? 0x3d0 : 0x3b0;
  }

  /** Port read at `offset` from 0x3B0; wider accesses are consecutive byte reads. */
  read(offset: number, size: AccessSize): number {
    return readLanes(VGA_PORT_BASE + offset, size, (port) => this.#readByte(port));
  }

  /** Port write at `offset` from 0x3B0; `out dx, ax` writes index then data. */
  write(offset: number, size: AccessSize, value: number): void {
    writeLanes(VGA_PORT_BASE + offset, size, value, (port, byte) => this.#writeByte(port, byte));
  }

  /** `rep ins` from one port (e.g. reading the DAC). */
  readBlock(offset: number, size: AccessSize, dst: Uint8Array): void {
    const port = VGA_PORT_BASE + offset;
    for (let i = 0; i + size <= dst.length; i += size) {
      for (let b = 0; b < size; b++) dst[i + b] = this.#readByte(port + b);
    }
  }

  /** `rep outs` to one port (e.g. loading the DAC). */
  writeBlock(offset: number, size: AccessSize, src: Uint8Array): void {
    for (let i = 0; i + size <= src.length; i += size) {
      for (let b = 0; b < size; b++) this.#writeByte(VGA_PORT_BASE + offset + b, src[i + b]);
    }
  }

  #readByte(port: number): number {
    if (port < 0x3c0 || port >= 0x3d0) {
      // CRTC and input status 1 answer only at the address misc bit 0 selects.
      const base = this.#ioBase;
      if (port === base + 4) return this.crtc.index;
      if (port === base + 5) return this.crtc.readData();
      if (port === base + 0xa) return this.#inputStatus1();
      return 0xff;
    }
    switch (port) {
      case 0x3c0:
        return this.attr.readIndex();
      case 0x3c1:
        return this.attr.readData();
      case 0x3c2:
        return 0x00; // input status 0: no retrace interrupt pending
      case 0x3c3:
        return this.subsystemEnable;
      case 0x3c4:
        return this.seq.index;
      case 0x3c5:
        return this.seq.readData();
      case 0x3c6:
        return this.dac.mask;
      case 0x3c7:
        return this.dac.readState();
      case 0x3c8:
        return this.dac.writeIndex;
      case 0x3c9:
        return this.dac.readData();
      case 0x3ca:
        return this.featureControl;
      case 0x3cc:
        return this.misc;
      case 0x3ce:
        return this.gc.index;
      case 0x3cf:
        return this.gc.readData();
      default:
        return 0xff;
    }
  }

  #writeByte(port: number, value: number): void {
    if (port < 0x3c0 || port >= 0x3d0) {
      const base = this.#ioBase;
      if (port === base + 4) this.crtc.writeIndex(value);
      else if (port === base + 5) this.crtc.writeData(value);
      else if (port === base + 0xa) this.featureControl = value;
      return;
    }
    switch (port) {
      case 0x3c0:
        this.attr.write(value);
        break;
      case 0x3c2:
        this.misc = value;
        break;
      case 0x3c3:
        this.subsystemEnable = value & 1;
        break;
      case 0x3c4:
        this.seq.writeIndex(value);
        break;
      case 0x3c5:
        this.seq.writeData(value);
        break;
      case 0x3c6:
        this.dac.mask = value;
        break;
      case 0x3c7:
        this.dac.setReadIndex(value);
        break;
      case 0x3c8:
        this.dac.setWriteIndex(value);
        break;
      case 0x3c9:
        this.dac.writeData(value);
        break;
      case 0x3ce:
        this.gc.writeIndex(value);
        break;
      case 0x3cf:
        this.gc.writeData(value);
        break;
    }
  }

  /**
   * Input status 1. There is no beam to follow, so successive reads walk
   * through a frame: display-enable toggles every read, and vertical retrace
   * (which also reads as display disabled) shows on two reads out of eight,
   * so BIOS loops waiting for either edge terminate.
   */
  #inputStatus1(): number {
    this.attr.resetFlipFlop();
    const phase = this.#statusPhase;
    this.#statusPhase = (phase + 1) & 7;
    const vretrace = phase >= 6;
    return (vretrace || phase & 1 ? 0x01 : 0) | (vretrace ? 0x08 : 0);
  }

  /**
   * The font bitmap of `code`: `charHeight` rows from plane 2, 32 bytes per
   * character, in the map the sequencer selects for attribute bit 3 of `attr`.
   */
  glyph(code: number, charHeight: number, attr = 0): Uint8Array {
    const base = (attr & 0x08 ? this.seq.charMapA : this.seq.charMapB) + (code & 0xff) * 32;
    const rows = new Uint8Array(Math.min(Math.max(charHeight, 0), 32));
    for (let r = 0; r < rows.length; r++) rows[r] = this.memory.planeByte(2, base + r);
    return rows;
  }

  /** A copy of the DAC: 256 × (red, green, blue), 6 bits each. */
  dacPalette(): Uint8Array {
    return this.dac.palette.slice();
  }

  /** A copy of the 16 attribute controller palette registers (6-bit DAC indices). */
  attributePalette(): Uint8Array {
    return this.attr.regs.slice(0, 16);
  }

  /** Back to power-on register state; video memory is cleared. */
  reset(): void {
    this.vram.fill(0);
    this.#resetRegisters();
  }

  #resetRegisters(): void {
    this.seq.reset();
    this.gc.reset();
    this.attr.reset();
    this.crtc.reset();
    this.dac.reset();
    this.memory.reset();
    this.dispi.reset();
    this.misc = 0;
    this.featureControl = 0;
    this.subsystemEnable = 0;
    this.#statusPhase = 0;
    if (this.#startInTextMode) programRegisters(this, TEXT_80X25);
  }

  /** Every register, latch and index (not video RAM). */
  snapshot(): VgaState {
    return {
      version: 1,
      misc: this.misc,
      featureControl: this.featureControl,
      subsystemEnable: this.subsystemEnable,
      statusPhase: this.#statusPhase,
      sequencer: this.seq.snapshot(),
      graphics: this.gc.snapshot(),
      crtc: this.crtc.snapshot(),
      attribute: this.attr.snapshot(),
      dac: this.dac.snapshot(),
      latches: this.memory.latches.slice(),
      dispi: this.dispi.snapshot(),
    };
  }

  /** Puts every register back; video RAM is left as it is. */
  restore(state: VgaState): void {
    const s = StateShape.versioned("vga", state, 1);
    const misc = s.int("misc", 0, 0xff);
    const featureControl = s.int("featureControl", 0, 0xff);
    const subsystemEnable = s.int("subsystemEnable", 0, 1);
    const statusPhase = s.int("statusPhase", 0, 7);
    const latches = s.bytes("latches", 4);
    // The parts check themselves; try them on scratch copies first so a
    // refused state leaves this VGA untouched.
    new Sequencer().restore(state.sequencer);
    new GraphicsController().restore(state.graphics);
    new Crtc().restore(state.crtc);
    new AttributeController().restore(state.attribute);
    new Dac().restore(state.dac);
    new Dispi(this.vram).restore(state.dispi);
    this.seq.restore(state.sequencer);
    this.gc.restore(state.graphics);
    this.crtc.restore(state.crtc);
    this.attr.restore(state.attribute);
    this.dac.restore(state.dac);
    this.dispi.restore(state.dispi);
    this.memory.latches.set(latches);
    this.misc = misc;
    this.featureControl = featureControl;
    this.subsystemEnable = subsystemEnable;
    this.#statusPhase = statusPhase;
  }
}
