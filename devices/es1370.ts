/**
 * The Ensoniq AudioPCI ES1370 as QEMU's `ES1370`: PCI 1274:5000, class
 * 0x0401, INTA#, a 256-byte I/O BAR. Playback through DAC1 and DAC2 as a
 * bus master; the samples go to an injected {@link AudioOut}, mixed down
 * to mono and resampled to {@link AUDIO_RATE}. The ADC (recording) is not
 * modelled: enabling it records nothing and raises no interrupt.
 *
 * Registers (offsets in the BAR, 32-bit; narrower accesses are byte lanes):
 * - 0x00 CONTROL: DAC1_EN (bit 6), DAC2_EN (bit 5), DAC1 rate WTSRSEL (bits
 *   13:12: 5512, 11025, 22050, 44100 Hz), DAC2 rate 1411200 / (PCLKDIV +
 *   2) with PCLKDIV in bits 28:16.
 * - 0x04 STATUS (read-only): DAC1 bit 2, DAC2 bit 1, INTR bit 31.
 * - 0x0C MEMPAGE: the page of 0x30-0x3F; page 0xC holds DAC1's frame
 *   address (0x30) and size (0x34), DAC2's (0x38, 0x3C). A frame size
 *   register is the buffer's longwords - 1 (bits 15:0) and the current
 *   longword (bits 31:16). The other pages are storage.
 * - 0x10 CODEC: AK4531 writes, kept (the mixer does not change the sound).
 * - 0x20 SERIAL_CONTROL: formats (DAC1 bits 1:0, DAC2 bits 3:2: bit 0/2
 *   stereo, bit 1/3 16-bit), P1PAUSE bit 11, P2PAUSE bit 12, interrupt
 *   enables P1INTEN bit 8, P2INTEN bit 9; clearing an enable acknowledges
 *   its interrupt.
 * - 0x24 / 0x28 DAC1 / DAC2 sample count: frames per interrupt - 1 (bits
 *   15:0) and the frames left (bits 31:16), loaded from bits 15:0 when the
 *   DAC is enabled and after each interrupt.
 *
 * A DAC plays its buffer round and round while enabled and not paused,
 * pulling frames as its rate says every {@link ES1370_POLL_NS} and when its
 * sample count runs out, when the interrupt is raised (if enabled).
 *
 * @module
 */

import { AUDIO_RATE, type AudioOut, sampleTimeNs } from "./audio.ts";
import { DeadlineTimer } from "./deadline_timer.ts";
import { PciConfigSpace, type PciConfigState, type PciFunction } from "./pci/config_space.ts";
import { StateShape } from "./state_shape.ts";
import type {
  AccessSize,
  BusDevice,
  Clock,
  DeviceState,
  GuestMemory,
  IrqLine,
  Snapshotting,
  TimedOptions,
} from "./types.ts";

/** Bytes of the I/O BAR. */
export const ES1370_IO_SIZE = 256;
/** How often a playing DAC pulls frames. */
export const ES1370_POLL_NS = 10_000_000;
/** Register offsets. */
export const ES_REG = {
  CONTROL: 0x00,
  STATUS: 0x04,
  MEMPAGE: 0x0c,
  CODEC: 0x10,
  SERIAL_CONTROL: 0x20,
  DAC1_SCOUNT: 0x24,
  DAC2_SCOUNT: 0x28,
  ADC_SCOUNT: 0x2c,
} as const;
/** CONTROL bits. */
export const ES_CTRL = { DAC1_EN: 1 << 6, DAC2_EN: 1 << 5, ADC_EN: 1 << 4 } as const;
/** SERIAL_CONTROL bits. */
export const ES_SCTRL = {
  P1INTEN: 1 << 8,
  P2INTEN: 1 << 9,
  P1PAUSE: 1 << 11,
  P2PAUSE: 1 << 12,
} as const;
/** STATUS bits. */
export const ES_STAT = { INTR: 0x80000000, DAC1: 1 << 2, DAC2: 1 << 1 } as const;
/** The page of the DACs' frame registers. */
export const ES_DAC_PAGE = 0xc;

const DAC1_RATES = [5512, 11025, 22050, 44100];
const DAC_NAMES = ["dac1", "dac2"] as const;

/** One DAC's registers and playback clock. */
interface Dac {
  frameAddr: number;
  frameCnt: number;
  scount: number;
  /** Bytes played of the current longword (0-3). */
  leftover: number;
  /** When its clock started (ns), or null while stopped; frames played since; output samples. */
  sinceNs: number | null;
  frames: number;
  outSamples: number;
}

/** What the ES1370 needs from the board. */
export interface Es1370Options extends TimedOptions {
  readonly irq: IrqLine;
  readonly memory: GuestMemory;
  readonly audio: AudioOut;
}

/** Saved state of {@link Es1370}. */
export interface Es1370State extends DeviceState {
  readonly version: 1;
  readonly config: PciConfigState;
  readonly control: number;
  readonly status: number;
  readonly memPage: number;
  readonly codec: number[];
  readonly serialControl: number;
  /** DAC1 and DAC2. */
  readonly dacs: Dac[];
  readonly adc: { frameAddr: number; frameCnt: number; scount: number };
  /** Pages other than the DACs' (0x30-0x3F of each), as storage. */
  readonly pages: number[];
  readonly pollDeadlineNs: number | null;
  readonly samplesPlayed: number;
  // Derived, for readers.
  readonly playing: string[];
}

/** The ES1370. */
export class Es1370 implements PciFunction, Snapshotting<Es1370State> {
  /** @inheritdoc */
  readonly name = "es1370";
  /** @inheritdoc */
  readonly config = new PciConfigSpace({
    vendorId: 0x1274,
    deviceId: 0x5000,
    classCode: 0x040100,
    subsystemVendorId: 0x4942,
    subsystemId: 0x4c4c,
    interruptPin: 1,
    bars: [{ kind: "io", size: ES1370_IO_SIZE }],
  });
  /** The I/O BAR. */
  readonly io: BusDevice;
  readonly #irq: IrqLine;
  readonly #memory: GuestMemory;
  readonly #clock: Clock;
  readonly #audio: AudioOut;
  readonly #poll: DeadlineTimer;
  #control = 0;
  #status = 0;
  #memPage = 0;
  #codec = new Array<number>(32).fill(0);
  #sctl = 0;
  readonly #dacs: Dac[] = [blankDac(), blankDac()];
  readonly #adc = { frameAddr: 0, frameCnt: 0, scount: 0 };
  /** 16 pages of 4 longwords at 0x30-0x3F (the DAC page's are the DACs'). */
  readonly #pages = new Array<number>(64).fill(0);
  #samplesPlayed = 0;
  #irqLevel = false;

  /** @param options INTA#, guest memory, clock, timers and the audio output */
  constructor(options: Es1370Options) {
    this.#irq = options.irq;
    this.#memory = options.memory;
    this.#clock = options.clock;
    this.#audio = options.audio;
    this.#poll = new DeadlineTimer(options.timer, () => this.#pump());
    this.io = {
      read: (offset, size) => this.#read(offset, size),
      write: (offset, size, value) => this.#write(offset, size, value),
    };
  }

  #read(offset: number, size: AccessSize): number {
    this.#pump();
    const v = this.#reg(offset & ~3);
    const shift = (offset & 3) * 8;
    const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    return ((v >>> shift) & mask) >>> 0;
  }

  #reg(at: number): number {
    switch (at) {
      case ES_REG.CONTROL:
        return this.#control;
      case ES_REG.STATUS:
        return this.#status;
      case ES_REG.MEMPAGE:
        return this.#memPage;
      case ES_REG.SERIAL_CONTROL:
        return this.#sctl;
      case ES_REG.DAC1_SCOUNT:
        return this.#dacs[0].scount;
      case ES_REG.DAC2_SCOUNT:
        return this.#dacs[1].scount;
      case ES_REG.ADC_SCOUNT:
        return this.#adc.scount;
    }
    if (at >= 0x30 && at < 0x40) return this.#paged(at);
    return 0;
  }

  #paged(at: number): number {
    const i = (at - 0x30) >> 2;
    if (this.#memPage === ES_DAC_PAGE) {
      const d = this.#dacs[i >> 1];
      return i & 1 ? d.frameCnt : d.frameAddr;
    }
    if (this.#memPage === 0xd && i < 2) return i ? this.#adc.frameCnt : this.#adc.frameAddr;
    return this.#pages[this.#memPage * 4 + i];
  }

  #write(offset: number, size: AccessSize, value: number): void {
    this.#pump();
    const at = offset & ~3;
    const shift = (offset & 3) * 8;
    const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    const old = at === ES_REG.CODEC ? 0 : this.#reg(at);
    const v = ((old & ~(mask << shift)) | ((value & mask) << shift)) >>> 0;
    switch (at) {
      case ES_REG.CONTROL:
        this.#setControl(v);
        break;
      case ES_REG.MEMPAGE:
        this.#memPage = v & 0xf;
        break;
      case ES_REG.CODEC:
        this.#codec[(v >> 8) & 0x1f] = v & 0xff;
        break;
      case ES_REG.SERIAL_CONTROL:
        this.#setSerialControl(v);
        break;
      case ES_REG.DAC1_SCOUNT:
      case ES_REG.DAC2_SCOUNT: {
        const d = this.#dacs[(at - ES_REG.DAC1_SCOUNT) >> 2];
        d.scount = (d.scount & 0xffff0000) | (v & 0xffff);
        break;
      }
      case ES_REG.ADC_SCOUNT:
        this.#adc.scount = (this.#adc.scount & 0xffff0000) | (v & 0xffff);
        break;
      default:
        if (at >= 0x30 && at < 0x40) this.#writePaged(at, v);
    }
    this.#schedule();
  }

  #writePaged(at: number, v: number): void {
    const i = (at - 0x30) >> 2;
    if (this.#memPage === ES_DAC_PAGE) {
      const d = this.#dacs[i >> 1];
      if (i & 1) {
        d.frameCnt = v;
        d.leftover = 0;
      } else d.frameAddr = v;
    } else if (this.#memPage === 0xd && i < 2) {
      if (i) this.#adc.frameCnt = v;
      else this.#adc.frameAddr = v;
    } else {
      this.#pages[this.#memPage * 4 + i] = v;
    }
  }

  #setControl(v: number): void {
    const old = this.#control;
    this.#control = v;
    for (let n = 0; n < 2; n++) {
      const en = n === 0 ? ES_CTRL.DAC1_EN : ES_CTRL.DAC2_EN;
      // Enabling loads the frames left from the sample count.
      if (v & en && !(old & en)) {
        const d = this.#dacs[n];
        d.scount = (d.scount & 0xffff) * 0x10001;
      }
      this.#restartClock(n);
    }
  }

  #setSerialControl(v: number): void {
    const old = this.#sctl;
    this.#sctl = v;
    if (!(v & ES_SCTRL.P1INTEN)) this.#status &= ~ES_STAT.DAC1;
    if (!(v & ES_SCTRL.P2INTEN)) this.#status &= ~ES_STAT.DAC2;
    this.#updateIrq();
    if ((old ^ v) & (ES_SCTRL.P1PAUSE | ES_SCTRL.P2PAUSE | 0xf)) {
      this.#restartClock(0);
      this.#restartClock(1);
    }
  }

  #running(n: number): boolean {
    const en = n === 0 ? ES_CTRL.DAC1_EN : ES_CTRL.DAC2_EN;
    const pause = n === 0 ? ES_SCTRL.P1PAUSE : ES_SCTRL.P2PAUSE;
    return (this.#control & en) !== 0 && (this.#sctl & pause) === 0;
  }

  /** A DAC that starts, stops or changes format or rate starts its clock again. */
  #restartClock(n: number): void {
    const d = this.#dacs[n];
    const running = this.#running(n);
    // Still running at the same rate and format: the clock goes on.
    if (running && d.sinceNs !== null && this.#format(n).key === this.#formatKeys[n]) return;
    d.sinceNs = running ? this.#clock.nowNs() : null;
    d.frames = 0;
    d.outSamples = 0;
    this.#formatKeys[n] = running ? this.#format(n).key : "";
  }

  readonly #formatKeys = ["", ""];

  /** Rate, bytes per frame and channels of DAC `n`. */
  #format(n: number): { rate: number; bytes: number; stereo: boolean; wide: boolean; key: string } {
    const fmt = (this.#sctl >> (n * 2)) & 3;
    const stereo = (fmt & 1) !== 0;
    const wide = (fmt & 2) !== 0;
    const rate = n === 0
      ? DAC1_RATES[(this.#control >> 12) & 3]
      : Math.floor(1_411_200 / (((this.#control >> 16) & 0x1fff) + 2));
    return {
      rate,
      stereo,
      wide,
      bytes: (stereo ? 2 : 1) * (wide ? 2 : 1),
      key: `${rate}/${fmt}`,
    };
  }

  #schedule(): void {
    if (!this.#running(0) && !this.#running(1)) {
      this.#poll.cancel();
      return;
    }
    const now = this.#clock.nowNs();
    let next = now + ES1370_POLL_NS;
    for (let n = 0; n < 2; n++) {
      const d = this.#dacs[n];
      if (!this.#running(n) || d.sinceNs === null) continue;
      const f = this.#format(n);
      const left = (d.scount >>> 16) + 1;
      const end = d.sinceNs + Math.ceil(((d.frames + left) * 1e9) / f.rate);
      if (end > now) next = Math.min(next, end);
    }
    this.#poll.arm(next);
  }

  /** Plays what each running DAC owes by now; raises the sample-count interrupts. */
  #pump(): void {
    const now = this.#clock.nowNs();
    for (let n = 0; n < 2; n++) {
      const d = this.#dacs[n];
      if (!this.#running(n) || d.sinceNs === null) continue;
      const f = this.#format(n);
      let due = Math.floor(((now - d.sinceNs) * f.rate) / 1e9) - d.frames;
      while (due > 0) {
        const left = (d.scount >>> 16) + 1;
        const take = Math.min(due, left);
        this.#play(d, f, take);
        due -= take;
        if (take === left) {
          d.scount = (d.scount & 0xffff) * 0x10001;
          const inten = n === 0 ? ES_SCTRL.P1INTEN : ES_SCTRL.P2INTEN;
          if (this.#sctl & inten) this.#status |= n === 0 ? ES_STAT.DAC1 : ES_STAT.DAC2;
        } else {
          d.scount = ((d.scount & 0xffff) | ((left - take - 1) << 16)) >>> 0;
        }
      }
    }
    this.#updateIrq();
    this.#schedule();
  }

  /** Reads `frames` frames from a DAC's buffer (round and round) and plays them. */
  #play(
    d: Dac,
    f: { rate: number; bytes: number; stereo: boolean; wide: boolean },
    frames: number,
  ): void {
    const sizeBytes = ((d.frameCnt & 0xffff) + 1) * 4;
    let pos = (d.frameCnt >>> 16) * 4 + d.leftover;
    if (pos >= sizeBytes) pos = 0;
    const input = new Float64Array(frames);
    const channels = f.stereo ? 2 : 1;
    const unit = f.wide ? 2 : 1;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) {
        const at = d.frameAddr + pos;
        sum += f.wide
          ? ((this.#memory.readU16(at) << 16) >> 16)
          : (this.#memory.readU8(at) - 128) * 256;
        pos = (pos + unit) % sizeBytes;
      }
      input[i] = sum / channels;
    }
    d.frameCnt = ((d.frameCnt & 0xffff) | (Math.floor(pos / 4) << 16)) >>> 0;
    d.leftover = pos % 4;
    const end = d.frames + frames;
    const startNs = sampleTimeNs(d.sinceNs ?? 0, d.outSamples);
    const out: number[] = [];
    for (;;) {
      const src = Math.floor((d.outSamples * f.rate) / AUDIO_RATE);
      if (src >= end) break;
      out.push(input[src - d.frames]);
      d.outSamples++;
    }
    d.frames = end;
    if (out.length) {
      this.#samplesPlayed += out.length;
      this.#audio.write(
        Int16Array.from(out, (v) => Math.max(-32768, Math.min(32767, v))),
        startNs,
      );
    }
  }

  #updateIrq(): void {
    const pending = (this.#status & (ES_STAT.DAC1 | ES_STAT.DAC2)) !== 0;
    this.#status = pending ? (this.#status | ES_STAT.INTR) >>> 0 : this.#status & ~ES_STAT.INTR;
    this.#status >>>= 0;
    if (pending !== this.#irqLevel) {
      this.#irqLevel = pending;
      this.#irq.set(pending);
    }
  }

  /** Hands on what has played up to now (the run is ending). */
  flush(): void {
    this.#pump();
  }

  /** Power-on state of the function. */
  reset(): void {
    this.config.reset();
    this.#control = 0;
    this.#status = 0;
    this.#memPage = 0;
    this.#codec.fill(0);
    this.#sctl = 0;
    this.#dacs.forEach((d) => Object.assign(d, blankDac()));
    Object.assign(this.#adc, { frameAddr: 0, frameCnt: 0, scount: 0 });
    this.#pages.fill(0);
    this.#formatKeys.fill("");
    this.#poll.cancel();
    this.#updateIrq();
  }

  /** Registers, the DACs' buffers and clocks. */
  snapshot(): Es1370State {
    return {
      version: 1,
      config: this.config.snapshot(),
      control: this.#control,
      status: this.#status,
      memPage: this.#memPage,
      codec: [...this.#codec],
      serialControl: this.#sctl,
      dacs: this.#dacs.map((d) => ({ ...d })),
      adc: { ...this.#adc },
      pages: [...this.#pages],
      pollDeadlineNs: this.#poll.deadline,
      samplesPlayed: this.#samplesPlayed,
      playing: DAC_NAMES.filter((_, n) => this.#running(n)).map((name, n) => {
        const f = this.#format(n);
        return `${name} ${f.wide ? 16 : 8}-bit ${f.stereo ? "stereo" : "mono"} ${f.rate} Hz`;
      }),
    };
  }

  /**
   * Puts every register and the DACs' clocks back; re-arms the poll; drives INTA#.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: Es1370State): void {
    const r = StateShape.versioned("es1370", state, 1);
    const u32 = 0xffffffff;
    const v = {
      control: r.int("control", 0, u32),
      status: r.int("status", 0, u32),
      memPage: r.int("memPage", 0, 0xf),
      codec: r.intsUpTo("codec", 0, 0xff, 32),
      sctl: r.int("serialControl", 0, u32),
      pages: r.intsUpTo("pages", 0, u32, 64),
      deadline: r.numberOrNull("pollDeadlineNs"),
      samplesPlayed: r.int("samplesPlayed"),
    };
    if (v.codec.length !== 32) r.fail("codec", "expected 32 registers");
    if (v.pages.length !== 64) r.fail("pages", "expected 64 longwords");
    const dacs = r.objects("dacs", 2).map((d) => ({
      frameAddr: d.int("frameAddr", 0, u32),
      frameCnt: d.int("frameCnt", 0, u32),
      scount: d.int("scount", 0, u32),
      leftover: d.int("leftover", 0, 3),
      sinceNs: d.numberOrNull("sinceNs"),
      frames: d.int("frames"),
      outSamples: d.int("outSamples"),
    }));
    if (dacs.length !== 2) r.fail("dacs", "expected DAC1 and DAC2");
    const a = r.object("adc");
    const adc = {
      frameAddr: a.int("frameAddr", 0, u32),
      frameCnt: a.int("frameCnt", 0, u32),
      scount: a.int("scount", 0, u32),
    };
    this.config.restore(r.raw("config") as PciConfigState);
    this.#control = v.control;
    this.#status = v.status;
    this.#memPage = v.memPage;
    this.#codec = v.codec;
    this.#sctl = v.sctl;
    this.#pages.splice(0, 64, ...v.pages);
    dacs.forEach((d, i) => Object.assign(this.#dacs[i], d));
    Object.assign(this.#adc, adc);
    this.#formatKeys[0] = this.#running(0) ? this.#format(0).key : "";
    this.#formatKeys[1] = this.#running(1) ? this.#format(1).key : "";
    this.#samplesPlayed = v.samplesPlayed;
    this.#poll.set(v.deadline);
    this.#irqLevel = (this.#status & (ES_STAT.DAC1 | ES_STAT.DAC2)) !== 0;
    this.#irq.set(this.#irqLevel);
  }
}

function blankDac(): Dac {
  return {
    frameAddr: 0,
    frameCnt: 0,
    scount: 0,
    leftover: 0,
    sinceNs: null,
    frames: 0,
    outSamples: 0,
  };
}
