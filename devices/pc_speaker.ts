/**
 * The PC speaker and port 0x61 (system control port B), as QEMU's `pcspk`.
 * The i8254 itself is KVM's in-kernel PIT; this device reaches channel 2
 * through an injected {@link PitChannel2} (on the board: KVM_GET_PIT2 and
 * KVM_SET_PIT2, as QEMU does with its in-kernel PIT).
 *
 * Port 0x61: bit 0 gates channel 2, bit 1 lets its output drive the
 * speaker; reads give those bits, bit 4 toggling on every read (the DRAM
 * refresh indicator old delay loops count) and bit 5 the output of channel
 * 2. Other bits read 0.
 *
 * Sound: while the gate and the speaker bit are both on and channel 2 is in
 * mode 3 (square wave), the speaker plays a square wave at 1193182 Hz /
 * count, sampled at {@link AUDIO_RATE}. As on QEMU, nothing is played while
 * the speaker is off (no silence is recorded), a rising gate restarts the
 * wave, and a count the guest changes while it plays is picked up within
 * {@link POLL_NS} (the PIT does not tell: the device looks).
 *
 * @module
 */

import { AUDIO_RATE, type AudioOut, sampleTimeNs } from "./audio.ts";
import { DeadlineTimer } from "./deadline_timer.ts";
import { StateShape } from "./state_shape.ts";
import type {
  AccessSize,
  BusDevice,
  Clock,
  DeviceState,
  Snapshotting,
  TimedOptions,
} from "./types.ts";

/** The i8254's input clock in Hz. */
export const PIT_HZ = 1_193_182;
/** How often a playing speaker looks at channel 2 and hands its samples on. */
export const POLL_NS = 10_000_000;
/** Amplitude of the square wave. */
export const SPEAKER_AMPLITUDE = 8192;

/** Channel 2 of the PIT as the speaker sees it. */
export interface Pit2Status {
  /** Counter mode, 0-5. */
  readonly mode: number;
  /** Reload count, 1-65536 (a programmed 0 is 65536). */
  readonly count: number;
  readonly gate: boolean;
  /** The counter's output now. */
  readonly out: boolean;
}

/** Access to channel 2 of the PIT. */
export interface PitChannel2 {
  status(): Pit2Status;
  /** Sets channel 2's gate (port 0x61 bit 0). */
  setGate(level: boolean): void;
}

/** The output of an i8254 counter `ticks` input clocks after its count was loaded. */
export function pitOutput(mode: number, count: number, ticks: number): boolean {
  switch (mode) {
    case 1:
      return ticks < count;
    case 2:
      return !(ticks % count === 0 && ticks !== 0);
    case 3:
      return ticks % count < ((count + 1) >> 1);
    case 4:
    case 5:
      return ticks !== count;
    default:
      return ticks >= count;
  }
}

/** What the speaker needs from the board. */
export interface PcSpeakerOptions extends TimedOptions {
  readonly pit: PitChannel2;
  /** Where the sound goes. */
  readonly audio: AudioOut;
}

/**
 * Saved state of {@link PcSpeaker}. The channel itself is the PIT's (KVM's
 * state); `playing` is the tone being played.
 */
export interface PcSpeakerState extends DeviceState {
  readonly version: 1;
  /** Port 0x61 bit 1. */
  readonly dataOn: boolean;
  /** Port 0x61 bit 4 (toggles on reads). */
  readonly refresh: boolean;
  /** The tone being played: since when (clock ns), channel 2's count, samples handed on. */
  readonly playing: { sinceNs: number; count: number; samples: number } | null;
  /** When the speaker next looks at channel 2, or null. */
  readonly pollDeadlineNs: number | null;
  /** Samples played since power-on. */
  readonly samplesPlayed: number;
  // Derived, for readers.
  /** The tone's frequency in Hz, or null when silent. */
  readonly frequencyHz: number | null;
}

/** Port 0x61 and the speaker. */
export class PcSpeaker implements BusDevice, Snapshotting<PcSpeakerState> {
  readonly #pit: PitChannel2;
  readonly #clock: Clock;
  readonly #audio: AudioOut;
  readonly #poll: DeadlineTimer;
  #dataOn = false;
  #refresh = false;
  #playing: { sinceNs: number; count: number; samples: number } | null = null;
  #samplesPlayed = 0;

  /** @param options channel 2, clock, timers and the audio output */
  constructor(options: PcSpeakerOptions) {
    this.#pit = options.pit;
    this.#clock = options.clock;
    this.#audio = options.audio;
    this.#poll = new DeadlineTimer(options.timer, () => this.#update(false));
  }

  /** Gate, speaker bit, refresh toggle and channel 2's output. */
  read(offset: number, _size: AccessSize): number {
    if (offset !== 0) return 0;
    const ch = this.#pit.status();
    this.#refresh = !this.#refresh;
    const value = (ch.gate ? 1 : 0) | (this.#dataOn ? 2 : 0) | (this.#refresh ? 0x10 : 0) |
      (ch.out ? 0x20 : 0);
    return value; // wider reads see 0 in the upper bytes
  }

  /** Sets the gate and the speaker bit. */
  write(offset: number, _size: AccessSize, value: number): void {
    if (offset !== 0) return;
    const gate = (value & 1) !== 0;
    const before = this.#pit.status().gate;
    this.#dataOn = (value & 2) !== 0;
    if (gate !== before) this.#pit.setGate(gate);
    this.#update(gate && !before);
  }

  /** Hands on what has played so far and follows channel 2; `restart` on a rising gate. */
  #update(restart: boolean): void {
    const now = this.#clock.nowNs();
    const ch = this.#pit.status();
    const sounding = ch.gate && this.#dataOn && ch.mode === 3;
    const p = this.#playing;
    if (p) this.#emit(p, now);
    if (!sounding) {
      this.#playing = null;
      this.#poll.cancel();
      return;
    }
    if (!p || restart || p.count !== ch.count) {
      // A new tone: the wave starts again, keeping the samples already handed on.
      this.#playing = { sinceNs: now, count: ch.count, samples: 0 };
    }
    this.#poll.arm(now + POLL_NS);
  }

  /** Plays the samples of `p` due by `now`. */
  #emit(p: { sinceNs: number; count: number; samples: number }, now: number): void {
    const due = Math.floor(((now - p.sinceNs) * AUDIO_RATE) / 1e9);
    const n = due - p.samples;
    if (n <= 0) return;
    const out = new Int16Array(n);
    const startNs = sampleTimeNs(p.sinceNs, p.samples);
    const half = (p.count + 1) >> 1;
    for (let i = 0; i < n; i++) {
      const ticks = Math.floor(((p.samples + i) * PIT_HZ) / AUDIO_RATE);
      out[i] = ticks % p.count < half ? SPEAKER_AMPLITUDE : -SPEAKER_AMPLITUDE;
    }
    p.samples = due;
    this.#samplesPlayed += n;
    this.#audio.write(out, startNs);
  }

  /** Hands on what has played up to now (the run is ending). */
  flush(): void {
    if (this.#playing) this.#emit(this.#playing, this.#clock.nowNs());
  }

  /** Power-on state: speaker bit off, silent. */
  reset(): void {
    this.#dataOn = false;
    this.#playing = null;
    this.#poll.cancel();
  }

  /** The port's bits and the tone being played. */
  snapshot(): PcSpeakerState {
    const p = this.#playing;
    return {
      version: 1,
      dataOn: this.#dataOn,
      refresh: this.#refresh,
      playing: p ? { ...p } : null,
      pollDeadlineNs: this.#poll.deadline,
      samplesPlayed: this.#samplesPlayed,
      frequencyHz: p ? PIT_HZ / p.count : null,
    };
  }

  /**
   * Puts the bits and the tone back and re-arms the poll at its deadline.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: PcSpeakerState): void {
    const r = StateShape.versioned("pc-speaker", state, 1);
    const dataOn = r.bool("dataOn");
    const refresh = r.bool("refresh");
    const deadline = r.numberOrNull("pollDeadlineNs");
    const samplesPlayed = r.int("samplesPlayed");
    let playing: { sinceNs: number; count: number; samples: number } | null = null;
    if (r.raw("playing") !== null) {
      const p = r.object("playing");
      playing = {
        sinceNs: p.number("sinceNs"),
        count: p.int("count", 1, 0x10000),
        samples: p.int("samples"),
      };
    }
    if ((playing === null) !== (deadline === null)) {
      r.fail("pollDeadlineNs", "a playing speaker polls, a silent one does not");
    }
    this.#dataOn = dataOn;
    this.#refresh = refresh;
    this.#playing = playing;
    this.#samplesPlayed = samplesPlayed;
    this.#poll.set(deadline);
  }
}
