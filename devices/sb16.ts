/**
 * A Creative Sound Blaster 16 (DSP 4.05) as QEMU's `sb16`: ISA ports
 * 0x220-0x22f, IRQ 5, 8-bit DMA channel 1 and 16-bit DMA channel 5
 * (through {@link IsaDma}). Playback only; the guest's samples go to an
 * injected {@link AudioOut}, mixed down to mono and resampled to
 * {@link AUDIO_RATE}.
 *
 * Ports (offsets): 0x4 mixer index, 0x5 mixer data, 0x6 DSP reset (1 then
 * 0; the DSP answers 0xAA), 0xA DSP read data, 0xC DSP command/data (reads
 * 0: never busy), 0xE read-buffer status (bit 7: data waiting; the read
 * acknowledges the 8-bit interrupt), 0xF acknowledges the 16-bit interrupt.
 *
 * DSP commands: 0x14 (8-bit single-cycle DMA), 0x1C and 0x90 (8-bit
 * auto-init, length from 0x48), 0x91 (8-bit high-speed single-cycle),
 * 0xBx/0xCx (16-/8-bit DMA with a mode byte: bit 4 signed, bit 5 stereo;
 * cx bit 2 auto-init; input commands, bit 3, are accepted and stay silent),
 * 0x40 time constant, 0x41/0x42 sample rate, 0x48 block size, 0xD0/0xD4
 * pause and continue 8-bit DMA, 0xD5/0xD6 the same for 16-bit, 0xD9/0xDA
 * exit auto-init after the block, 0xD1/0xD3/0xD8 speaker on/off/status
 * (an SB16 plays regardless), 0xE0 identification, 0xE1 version (4.05),
 * 0xE3 copyright, 0xE4/0xE8 test register, 0xF2/0xF3 interrupt requests.
 * The mixer keeps its registers; 0x80 and 0x81 read the fixed IRQ 5 and
 * DMA 1/5 selection, 0x82 the interrupt status.
 *
 * Timing: samples are pulled from DMA as the sample rate says, every
 * {@link SB16_POLL_NS} and at the end of each block, when the interrupt is
 * raised.
 *
 * @module
 */

import { AUDIO_RATE, type AudioOut, sampleTimeNs } from "./audio.ts";
import { DeadlineTimer } from "./deadline_timer.ts";
import type { IsaDma } from "./isa_dma.ts";
import { StateShape } from "./state_shape.ts";
import type {
  AccessSize,
  BusDevice,
  Clock,
  DeviceState,
  IrqLine,
  Snapshotting,
  TimedOptions,
} from "./types.ts";

/** Ports the SB16 decodes from 0x220. */
export const SB16_PORT_COUNT = 16;
/** How often a playing DSP pulls samples. */
export const SB16_POLL_NS = 10_000_000;
/** The 8- and 16-bit DMA channels. */
export const SB16_DMA8 = 1;
/** @see SB16_DMA8 */
export const SB16_DMA16 = 5;

const COPYRIGHT = "COPYRIGHT (C) CREATIVE TECHNOLOGY LTD, 1992.";
/** Bytes each command takes after it. */
const ARG_BYTES: Record<number, number> = {
  0x10: 1,
  0x14: 2,
  0x40: 1,
  0x41: 2,
  0x42: 2,
  0x48: 2,
  0x80: 2,
  0xe0: 1,
  0xe4: 1,
};

/** A DMA playback in progress. */
interface Playback {
  /** 8 or 16 bits a sample. */
  bits: number;
  stereo: boolean;
  signed: boolean;
  autoInit: boolean;
  /** Input (silent) rather than output. */
  input: boolean;
  /** Bytes a block, and bytes of this block already moved. */
  blockBytes: number;
  doneBytes: number;
  /** Sample frames a second. */
  rate: number;
  /** When the block's clock started (ns) and frames consumed since. */
  sinceNs: number;
  frames: number;
  /** Output samples produced since `sinceNs`. */
  outSamples: number;
  paused: boolean;
  /** Exit auto-init at the end of this block. */
  lastBlock: boolean;
}

/** What the SB16 needs from the board. */
export interface Sb16Options extends TimedOptions {
  readonly irq: IrqLine;
  readonly dma: IsaDma;
  readonly audio: AudioOut;
}

/** Saved state of {@link Sb16}. */
export interface Sb16State extends DeviceState {
  readonly version: 1;
  readonly mixerIndex: number;
  readonly mixer: Uint8Array;
  /** The command being collected and its bytes so far, or null. */
  readonly command: number | null;
  readonly args: number[];
  /** Bytes waiting for the guest at 0xA. */
  readonly output: number[];
  readonly resetHigh: boolean;
  readonly rate: number;
  readonly blockSize: number;
  readonly testRegister: number;
  readonly speaker: boolean;
  readonly playback: Playback | null;
  readonly pollDeadlineNs: number | null;
  readonly samplesPlayed: number;
  // Derived, for readers.
  readonly playing: string | null;
}

/** The Sound Blaster 16. */
export class Sb16 implements BusDevice, Snapshotting<Sb16State> {
  readonly #irq: IrqLine;
  readonly #dma: IsaDma;
  readonly #clock: Clock;
  readonly #audio: AudioOut;
  readonly #poll: DeadlineTimer;
  #mixerIndex = 0;
  readonly #mixer = new Uint8Array(256);
  #command: number | null = null;
  #args: number[] = [];
  #output: number[] = [];
  #resetHigh = false;
  #rate = 11025;
  #blockSize = 0x7ff;
  #testRegister = 0;
  #speaker = false;
  #playback: Playback | null = null;
  #samplesPlayed = 0;

  /** @param options IRQ 5, the DMA controllers, clock, timers and the audio output */
  constructor(options: Sb16Options) {
    this.#irq = options.irq;
    this.#dma = options.dma;
    this.#clock = options.clock;
    this.#audio = options.audio;
    this.#poll = new DeadlineTimer(options.timer, () => this.#pump());
  }

  /** DSP and mixer reads. */
  read(offset: number, _size: AccessSize): number {
    switch (offset) {
      case 0x5:
        return this.#readMixer(this.#mixerIndex);
      case 0xa:
        return this.#output.length ? this.#output.shift()! : 0xff;
      case 0xc:
        return 0x00; // never busy
      case 0xe:
        this.#ack(1);
        return this.#output.length ? 0x80 : 0x00;
      case 0xf:
        this.#ack(2);
        return 0xff;
      case 0x4:
        return this.#mixerIndex;
      default:
        return 0xff;
    }
  }

  /** DSP and mixer writes. */
  write(offset: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    switch (offset) {
      case 0x4:
        this.#mixerIndex = value;
        break;
      case 0x5:
        this.#writeMixer(this.#mixerIndex, value);
        break;
      case 0x6:
        if (value & 1) this.#resetHigh = true;
        else if (this.#resetHigh) {
          this.#resetHigh = false;
          this.#resetDsp();
          this.#output = [0xaa];
        }
        break;
      case 0xc:
        this.#dspWrite(value);
        break;
    }
  }

  #readMixer(index: number): number {
    if (index === 0x80) return 0x02; // IRQ 5
    if (index === 0x81) return (1 << SB16_DMA8) | (1 << SB16_DMA16); // DMA 1 and 5
    return this.#mixer[index];
  }

  #writeMixer(index: number, value: number): void {
    if (index === 0x00) {
      const status = this.#mixer[0x82];
      this.#mixer.fill(0);
      this.#mixer[0x82] = status;
      return;
    }
    if (index === 0x80 || index === 0x81 || index === 0x82) return; // fixed / read-only
    this.#mixer[index] = value;
  }

  #raise(bit: number): void {
    this.#mixer[0x82] |= bit;
    this.#irq.set(true);
  }

  #ack(bit: number): void {
    if (!(this.#mixer[0x82] & bit)) return;
    this.#mixer[0x82] &= ~bit;
    if (!(this.#mixer[0x82] & 3)) this.#irq.set(false);
  }

  #resetDsp(): void {
    this.#stop();
    this.#command = null;
    this.#args = [];
    this.#output = [];
    this.#speaker = false;
    this.#mixer[0x82] &= ~3;
    this.#irq.set(false);
  }

  #dspWrite(value: number): void {
    if (this.#command === null) {
      const c = value;
      if ((c & 0xf0) === 0xb0 || (c & 0xf0) === 0xc0) {
        this.#command = c;
        this.#args = [];
        return;
      }
      const need = ARG_BYTES[c] ?? 0;
      if (need === 0) {
        this.#run(c, []);
        return;
      }
      this.#command = c;
      this.#args = [];
      return;
    }
    this.#args.push(value);
    const c = this.#command;
    const need = (c & 0xf0) === 0xb0 || (c & 0xf0) === 0xc0 ? 3 : ARG_BYTES[c] ?? 0;
    if (this.#args.length < need) return;
    const args = this.#args;
    this.#command = null;
    this.#args = [];
    this.#run(c, args);
  }

  #run(c: number, a: number[]): void {
    const word = (i: number) => a[i] | (a[i + 1] << 8);
    if ((c & 0xf0) === 0xb0 || (c & 0xf0) === 0xc0) {
      const bits = (c & 0xf0) === 0xb0 ? 16 : 8;
      const mode = a[0];
      const samples = word(1) + 1;
      this.#start({
        bits,
        stereo: (mode & 0x20) !== 0,
        signed: (mode & 0x10) !== 0,
        autoInit: (c & 0x04) !== 0,
        input: (c & 0x08) !== 0,
        blockBytes: samples * (bits / 8),
      });
      return;
    }
    switch (c) {
      case 0x14:
      case 0x91:
        this.#start8(c === 0x14 ? word(0) + 1 : this.#blockSize + 1, false);
        break;
      case 0x1c:
      case 0x90:
        this.#start8(this.#blockSize + 1, true);
        break;
      case 0x40:
        this.#rate = Math.round(1_000_000 / (256 - a[0]));
        break;
      case 0x41:
      case 0x42:
        this.#rate = Math.max(1, (a[0] << 8) | a[1]);
        break;
      case 0x48:
        this.#blockSize = word(0);
        break;
      case 0xd0:
      case 0xd5:
        this.#pause(true);
        break;
      case 0xd4:
      case 0xd6:
        this.#pause(false);
        break;
      case 0xd9:
      case 0xda:
        if (this.#playback) this.#playback.lastBlock = true;
        break;
      case 0xd1:
        this.#speaker = true;
        break;
      case 0xd3:
        this.#speaker = false;
        break;
      case 0xd8:
        this.#output.push(this.#speaker ? 0xff : 0x00);
        break;
      case 0xe0:
        this.#output.push(~a[0] & 0xff);
        break;
      case 0xe1:
        this.#output.push(4, 5);
        break;
      case 0xe3:
        for (const ch of COPYRIGHT) this.#output.push(ch.charCodeAt(0));
        this.#output.push(0);
        break;
      case 0xe4:
        this.#testRegister = a[0];
        break;
      case 0xe8:
        this.#output.push(this.#testRegister);
        break;
      case 0xf2:
        this.#raise(1);
        break;
      case 0xf3:
        this.#raise(2);
        break;
        // 0x10 (direct DAC) and 0x80 (silence) and others: accepted, nothing played.
    }
  }

  #start8(bytes: number, autoInit: boolean): void {
    this.#start({
      bits: 8,
      stereo: false,
      signed: false,
      autoInit,
      input: false,
      blockBytes: bytes,
    });
  }

  #start(
    p: Pick<Playback, "bits" | "stereo" | "signed" | "autoInit" | "input" | "blockBytes">,
  ): void {
    this.#pump();
    this.#playback = {
      ...p,
      doneBytes: 0,
      rate: this.#rate,
      sinceNs: this.#clock.nowNs(),
      frames: 0,
      outSamples: 0,
      paused: false,
      lastBlock: false,
    };
    this.#schedule();
  }

  #pause(paused: boolean): void {
    const p = this.#playback;
    if (!p || p.paused === paused) return;
    this.#pump();
    p.paused = paused;
    // The clock of the block restarts where it stopped.
    p.sinceNs = this.#clock.nowNs();
    p.frames = 0;
    p.outSamples = 0;
    this.#schedule();
  }

  #stop(): void {
    this.#playback = null;
    this.#poll.cancel();
  }

  #frameBytes(p: Playback): number {
    return (p.bits / 8) * (p.stereo ? 2 : 1);
  }

  /** When the block's last frame is due (ns). */
  #blockEndNs(p: Playback): number {
    const framesLeft = Math.ceil((p.blockBytes - p.doneBytes) / this.#frameBytes(p));
    return p.sinceNs + Math.ceil(((p.frames + framesLeft) * 1e9) / p.rate);
  }

  #schedule(): void {
    const p = this.#playback;
    if (!p || p.paused) {
      this.#poll.cancel();
      return;
    }
    const now = this.#clock.nowNs();
    const end = this.#blockEndNs(p);
    // A block end already past means the DMA channel is starved: look again later.
    this.#poll.arm(end > now ? Math.min(now + SB16_POLL_NS, end) : now + SB16_POLL_NS);
  }

  /** Moves the samples due by now and raises the block's interrupt at its end. */
  #pump(): void {
    const p = this.#playback;
    if (!p || p.paused) return;
    const now = this.#clock.nowNs();
    const frameBytes = this.#frameBytes(p);
    const due = Math.floor(((now - p.sinceNs) * p.rate) / 1e9);
    const want = Math.min(due - p.frames, Math.ceil((p.blockBytes - p.doneBytes) / frameBytes));
    if (want > 0) {
      const bytes = new Uint8Array(want * frameBytes);
      const dmaChannel = p.bits === 16 ? SB16_DMA16 : SB16_DMA8;
      // Input (recording) is silent: the time passes, no samples are written to memory.
      // A DMA channel with nothing more (masked, at its terminal count) gives fewer bytes:
      // the DSP waits for it.
      const got = p.input ? bytes.length : this.#dma.readMemory(dmaChannel, bytes);
      const frames = Math.floor(got / frameBytes);
      if (!p.input) this.#play(p, bytes.subarray(0, frames * frameBytes), frames);
      p.frames += frames;
      p.doneBytes += frames * frameBytes;
    }
    if (p.doneBytes >= p.blockBytes) {
      this.#raise(p.bits === 16 ? 2 : 1);
      if (p.autoInit && !p.lastBlock) {
        p.doneBytes = 0;
      } else {
        this.#stop();
        return;
      }
    }
    this.#schedule();
  }

  /** Plays `frames` frames of `bytes`: mono, 16-bit, resampled to the output rate. */
  #play(p: Playback, bytes: Uint8Array, frames: number): void {
    const input = new Float64Array(frames);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const channels = p.stereo ? 2 : 1;
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) {
        const i = f * channels + c;
        if (p.bits === 8) {
          const v = view.getUint8(i);
          sum += p.signed ? ((v << 24) >> 24) * 256 : (v - 128) * 256;
        } else {
          const v = view.getUint16(i * 2, true);
          sum += p.signed ? (v << 16) >> 16 : v - 32768;
        }
      }
      input[f] = sum / channels;
    }
    // Output sample k plays input frame floor(k * rate / AUDIO_RATE).
    const end = p.frames + frames;
    const startNs = sampleTimeNs(p.sinceNs, p.outSamples);
    const out: number[] = [];
    for (;;) {
      const src = Math.floor((p.outSamples * p.rate) / AUDIO_RATE);
      if (src >= end) break;
      out.push(input[src - p.frames]);
      p.outSamples++;
    }
    if (out.length) {
      this.#samplesPlayed += out.length;
      this.#audio.write(
        Int16Array.from(out, (v) => Math.max(-32768, Math.min(32767, v))),
        startNs,
      );
    }
  }

  /** Hands on what has played up to now (the run is ending). */
  flush(): void {
    this.#pump();
  }

  /** Power-on state. */
  reset(): void {
    this.#resetDsp();
    this.#mixer.fill(0);
    this.#mixerIndex = 0;
    this.#rate = 11025;
    this.#blockSize = 0x7ff;
  }

  /** DSP, mixer and the playback in progress. */
  snapshot(): Sb16State {
    const p = this.#playback;
    return {
      version: 1,
      mixerIndex: this.#mixerIndex,
      mixer: this.#mixer.slice(),
      command: this.#command,
      args: [...this.#args],
      output: [...this.#output],
      resetHigh: this.#resetHigh,
      rate: this.#rate,
      blockSize: this.#blockSize,
      testRegister: this.#testRegister,
      speaker: this.#speaker,
      playback: p ? { ...p } : null,
      pollDeadlineNs: this.#poll.deadline,
      samplesPlayed: this.#samplesPlayed,
      playing: p && !p.input
        ? `${p.bits}-bit ${p.stereo ? "stereo" : "mono"} ${p.rate} Hz${
          p.autoInit ? " auto-init" : ""
        }${p.paused ? " (paused)" : ""}`
        : null,
    };
  }

  /**
   * Puts the DSP, mixer and playback back; re-arms the poll; drives IRQ 5.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: Sb16State): void {
    const r = StateShape.versioned("sb16", state, 1);
    const v = {
      mixerIndex: r.int("mixerIndex", 0, 0xff),
      mixer: r.bytes("mixer", 256),
      command: r.intOrNull("command", 0, 0xff),
      args: r.intsUpTo("args", 0, 0xff, 3),
      output: r.intsUpTo("output", 0, 0xff, 64),
      resetHigh: r.bool("resetHigh"),
      rate: r.int("rate", 1, 0xffff),
      blockSize: r.int("blockSize", 0, 0xffff),
      testRegister: r.int("testRegister", 0, 0xff),
      speaker: r.bool("speaker"),
      deadline: r.numberOrNull("pollDeadlineNs"),
      samplesPlayed: r.int("samplesPlayed"),
    };
    let playback: Playback | null = null;
    if (r.raw("playback") !== null) {
      const p = r.object("playback");
      playback = {
        bits: p.oneOf("bits", [8, 16]),
        stereo: p.bool("stereo"),
        signed: p.bool("signed"),
        autoInit: p.bool("autoInit"),
        input: p.bool("input"),
        blockBytes: p.int("blockBytes", 1, 0x20000),
        doneBytes: p.int("doneBytes", 0, 0x20000),
        rate: p.int("rate", 1, 0xffff),
        sinceNs: p.number("sinceNs"),
        frames: p.int("frames"),
        outSamples: p.int("outSamples"),
        paused: p.bool("paused"),
        lastBlock: p.bool("lastBlock"),
      };
    }
    this.#mixerIndex = v.mixerIndex;
    this.#mixer.set(v.mixer);
    this.#command = v.command;
    this.#args = v.args;
    this.#output = v.output;
    this.#resetHigh = v.resetHigh;
    this.#rate = v.rate;
    this.#blockSize = v.blockSize;
    this.#testRegister = v.testRegister;
    this.#speaker = v.speaker;
    this.#playback = playback;
    this.#samplesPlayed = v.samplesPlayed;
    this.#poll.set(v.deadline);
    this.#irq.set((this.#mixer[0x82] & 3) !== 0);
  }
}
