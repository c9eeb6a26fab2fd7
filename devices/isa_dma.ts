/**
 * The PC's two Intel 8237A DMA controllers (ISA DMA, as QEMU's i8257):
 * channels 0-3 move bytes (ports 0x00-0x0f, page registers 0x87/0x83/0x81/
 * 0x82), channels 4-7 move 16-bit words (ports 0xc0-0xdf, every other port;
 * page registers 0x8f/0x8b/0x89/0x8a; channel 4 cascades the first
 * controller). Port 0x80 is the POST code port, so the page block starts at
 * 0x81; the page ports that select no channel are plain storage.
 *
 * Registers per controller (index = port offset, >> 1 on the second):
 * 0-7 address and count of each channel through the byte flip-flop, 8
 * command (write) / status (read: terminal counts, cleared by the read), 9
 * request, 10 single mask, 11 mode, 12 clear flip-flop, 13 master clear, 14
 * clear all masks, 15 write all masks.
 *
 * Devices move data with {@link IsaDma.readMemory}: it copies from guest
 * memory at the channel's current address, counts down, sets the terminal
 * count and, in auto-initialise mode, reloads the base address and count
 * (the demand / single / block distinction does not matter to a device that
 * asks for what it needs). A channel without auto-initialise masks itself
 * at its terminal count, as the 8237 does. A decrementing channel moves its
 * address down but copies each run in ascending order.
 *
 * @module
 */

import { StateShape } from "./state_shape.ts";
import type { BusDevice, DeviceState, GuestMemory, Snapshotting } from "./types.ts";

/** Port of each channel's page register, channels 0-7. */
export const DMA_PAGE_PORTS = [0x87, 0x83, 0x81, 0x82, 0x8f, 0x8b, 0x89, 0x8a] as const;
/** First page port the controllers decode (0x80 is the POST code port). */
export const DMA_PAGE_BASE = 0x81;
/** Number of page ports from {@link DMA_PAGE_BASE}. */
export const DMA_PAGE_COUNT = 15;

/** Mode register fields. */
const MODE_TYPE_READ = 0x08; // bits 3:2 = 10: memory to device
const MODE_AUTO_INIT = 0x10;
const MODE_DECREMENT = 0x20;

/** One channel's registers. */
interface Channel {
  baseAddress: number;
  baseCount: number;
  address: number;
  count: number;
  mode: number;
  page: number;
}

/** Saved state of {@link IsaDma}. */
export interface IsaDmaState extends DeviceState {
  readonly version: 1;
  readonly channels: {
    baseAddress: number;
    baseCount: number;
    address: number;
    count: number;
    mode: number;
    page: number;
  }[];
  /** Per controller: mask bits (channels 0-3), status, command, flip-flop, request. */
  readonly controllers: {
    mask: number;
    status: number;
    command: number;
    flipFlop: boolean;
    request: number;
  }[];
  /** The page ports that select no channel (storage), by port offset from 0x81. */
  readonly extraPages: number[];
}

interface Controller {
  mask: number;
  status: number;
  command: number;
  flipFlop: boolean;
  request: number;
}

/** The two 8237A controllers and their page registers. */
export class IsaDma implements Snapshotting<IsaDmaState> {
  /** Ports 0x00-0x0f: channels 0-3. */
  readonly first: BusDevice;
  /** Ports 0xc0-0xdf: channels 4-7. */
  readonly second: BusDevice;
  /** Ports 0x81-0x8f: page registers. */
  readonly pages: BusDevice;
  readonly #memory: GuestMemory;
  readonly #channels: Channel[] = Array.from({ length: 8 }, () => blankChannel());
  readonly #controllers: Controller[] = [blankController(), blankController()];
  readonly #extraPages = new Array<number>(DMA_PAGE_COUNT).fill(0);

  /** @param memory guest RAM, for the transfers */
  constructor(memory: GuestMemory) {
    this.#memory = memory;
    this.first = {
      read: (offset) => this.#readRegister(0, offset),
      write: (offset, _size, value) => this.#writeRegister(0, offset, value & 0xff),
    };
    this.second = {
      read: (offset) => (offset & 1 ? 0xff : this.#readRegister(1, offset >> 1)),
      write: (offset, _size, value) => {
        if (!(offset & 1)) this.#writeRegister(1, offset >> 1, value & 0xff);
      },
    };
    this.pages = {
      read: (offset) => this.#readPage(offset),
      write: (offset, _size, value) => this.#writePage(offset, value & 0xff),
    };
  }

  #readPage(offset: number): number {
    const ch = DMA_PAGE_PORTS.indexOf((DMA_PAGE_BASE + offset) as typeof DMA_PAGE_PORTS[number]);
    return ch >= 0 ? this.#channels[ch].page : this.#extraPages[offset];
  }

  #writePage(offset: number, value: number): void {
    const ch = DMA_PAGE_PORTS.indexOf((DMA_PAGE_BASE + offset) as typeof DMA_PAGE_PORTS[number]);
    if (ch >= 0) this.#channels[ch].page = value;
    else this.#extraPages[offset] = value;
  }

  #readRegister(ctrl: number, reg: number): number {
    const c = this.#controllers[ctrl];
    if (reg < 8) {
      const ch = this.#channels[ctrl * 4 + (reg >> 1)];
      const v = reg & 1 ? ch.count : ch.address;
      const byte = c.flipFlop ? v >> 8 : v & 0xff;
      c.flipFlop = !c.flipFlop;
      return byte & 0xff;
    }
    if (reg === 8) {
      const status = c.status | (c.request << 4);
      c.status = 0; // reading clears the terminal counts
      return status & 0xff;
    }
    return 0xff;
  }

  #writeRegister(ctrl: number, reg: number, value: number): void {
    const c = this.#controllers[ctrl];
    if (reg < 8) {
      const ch = this.#channels[ctrl * 4 + (reg >> 1)];
      const key = reg & 1 ? "baseCount" : "baseAddress";
      const old = ch[key];
      ch[key] = c.flipFlop ? (old & 0xff) | (value << 8) : (old & 0xff00) | value;
      c.flipFlop = !c.flipFlop;
      // Writing the base writes the current register too.
      if (key === "baseCount") ch.count = ch.baseCount;
      else ch.address = ch.baseAddress;
      return;
    }
    switch (reg) {
      case 8:
        c.command = value;
        break;
      case 9:
        c.request = value & 4 ? c.request | (1 << (value & 3)) : c.request & ~(1 << (value & 3));
        break;
      case 10:
        c.mask = value & 4 ? c.mask | (1 << (value & 3)) : c.mask & ~(1 << (value & 3));
        break;
      case 11:
        this.#channels[ctrl * 4 + (value & 3)].mode = value;
        break;
      case 12:
        c.flipFlop = false;
        break;
      case 13:
        Object.assign(c, blankController());
        break;
      case 14:
        c.mask = 0;
        break;
      case 15:
        c.mask = value & 0xf;
        break;
    }
  }

  /** True when channel `n` is unmasked and programmed to read memory (for a device to play). */
  canRead(n: number): boolean {
    const masked = (this.#controllers[n >> 2].mask >> (n & 3)) & 1;
    return !masked && (this.#channels[n].mode & 0x0c) === MODE_TYPE_READ;
  }

  /**
   * Copies up to `dst.length` bytes from guest memory through channel `n`
   * (0-7; channels 4-7 move whole words, so an odd byte is left), stopping at
   * the terminal count unless the channel auto-initialises. Returns the bytes
   * copied; 0 when the channel is masked or not programmed to read memory.
   */
  readMemory(n: number, dst: Uint8Array): number {
    if (!this.canRead(n)) return 0;
    const ch = this.#channels[n];
    const wide = n >= 4;
    const unit = wide ? 2 : 1;
    let done = 0;
    while (done + unit <= dst.length) {
      // Units left before the terminal count, and before the address wraps its 64K.
      const left = ch.count + 1;
      const decrement = (ch.mode & MODE_DECREMENT) !== 0;
      const room = decrement ? ch.address + 1 : 0x10000 - ch.address;
      const units = Math.min(left, room, Math.floor((dst.length - done) / unit));
      const physical = wide
        ? (ch.page & 0xfe) * 0x10000 + ch.address * 2
        : ch.page * 0x10000 + ch.address;
      const start = decrement ? physical - (units - 1) * unit : physical;
      dst.set(this.#memory.read(start, units * unit), done);
      done += units * unit;
      ch.address = (decrement ? ch.address - units : ch.address + units) & 0xffff;
      ch.count -= units;
      if (ch.count < 0) {
        this.#controllers[n >> 2].status |= 1 << (n & 3);
        if (!(ch.mode & MODE_AUTO_INIT)) {
          // The counter wraps, and the 8237 masks the channel at its terminal count.
          ch.count = 0xffff;
          this.#controllers[n >> 2].mask |= 1 << (n & 3);
          break;
        }
        ch.address = ch.baseAddress;
        ch.count = ch.baseCount;
      }
    }
    return done;
  }

  /** Units (bytes, or words on 4-7) left before channel `n`'s terminal count. */
  remaining(n: number): number {
    return this.#channels[n].count + 1;
  }

  /** Power-on state: everything masked and zero. */
  reset(): void {
    for (const ch of this.#channels) Object.assign(ch, blankChannel());
    for (const c of this.#controllers) Object.assign(c, blankController());
    this.#extraPages.fill(0);
  }

  /** Every register. */
  snapshot(): IsaDmaState {
    return {
      version: 1,
      channels: this.#channels.map((c) => ({ ...c })),
      controllers: this.#controllers.map((c) => ({ ...c })),
      extraPages: [...this.#extraPages],
    };
  }

  /**
   * Puts every register back.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: IsaDmaState): void {
    const r = StateShape.versioned("isa-dma", state, 1);
    const channels = r.objects("channels", 8).map((c) => ({
      baseAddress: c.int("baseAddress", 0, 0xffff),
      baseCount: c.int("baseCount", 0, 0xffff),
      address: c.int("address", 0, 0xffff),
      count: c.int("count", 0, 0xffff),
      mode: c.int("mode", 0, 0xff),
      page: c.int("page", 0, 0xff),
    }));
    const controllers = r.objects("controllers", 2).map((c) => ({
      mask: c.int("mask", 0, 0xf),
      status: c.int("status", 0, 0xf),
      command: c.int("command", 0, 0xff),
      flipFlop: c.bool("flipFlop"),
      request: c.int("request", 0, 0xf),
    }));
    if (channels.length !== 8) r.fail("channels", "expected 8 channels");
    if (controllers.length !== 2) r.fail("controllers", "expected 2 controllers");
    const extra = r.intsUpTo("extraPages", 0, 0xff, DMA_PAGE_COUNT);
    if (extra.length !== DMA_PAGE_COUNT) r.fail("extraPages", `expected ${DMA_PAGE_COUNT}`);
    channels.forEach((c, i) => Object.assign(this.#channels[i], c));
    controllers.forEach((c, i) => Object.assign(this.#controllers[i], c));
    extra.forEach((v, i) => this.#extraPages[i] = v);
  }
}

function blankChannel(): Channel {
  return { baseAddress: 0, baseCount: 0, address: 0, count: 0, mode: 0, page: 0 };
}

function blankController(): Controller {
  // Masked at power-on.
  return { mask: 0xf, status: 0, command: 0, flipFlop: false, request: 0 };
}
