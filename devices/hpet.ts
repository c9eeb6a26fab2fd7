/**
 * The High Precision Event Timer (IA-PC HPET specification 1.0a) as QEMU's
 * PC has it at 0xFED00000: one block of 3 comparators on a 64-bit main
 * counter running at 100 MHz.
 *
 * Registers (offsets in the 1 KiB block; all 64-bit, accessed as 32-bit halves):
 * - 0x000 capabilities: rev 1, 3 timers (NUM_TIM_CAP 2), 64-bit counter,
 *   legacy replacement capable, vendor 0x8086; 0x004: the period in
 *   femtoseconds (10 ns = 0x00989680). Read-only.
 * - 0x010 configuration: bit 0 ENABLE_CNF (the counter runs, timers may
 *   interrupt), bit 1 LEG_RT_CNF (legacy replacement: timer 0 on IRQ 0,
 *   timer 1 on IRQ 8, and the PIT's and RTC's own interrupts held off).
 * - 0x020 interrupt status: one bit per level-triggered timer that fired;
 *   writing 1 clears it and lowers the line.
 * - 0x0F0 main counter: writable while halted only.
 * - 0x100 + 0x20 n: timer n's configuration (bit 1 level, 2 enable,
 *   3 periodic, 4 periodic capable, 5 64-bit capable, 6 set-value,
 *   8 32-bit mode, 13:9 IOAPIC route; bits 63:32 the routes it may take,
 *   QEMU's i440FX value: IRQ 2 only), +0x08 comparator, +0x10 FSB route
 *   (stored; this HPET cannot deliver by FSB, so FSB_EN stays 0).
 *
 * Behaviour follows QEMU's hw/timer/hpet.c: a periodic timer adds its period
 * to the comparator on each match; writing the comparator of a periodic timer
 * sets the period (and the comparator only with SETVAL); a one-shot 32-bit
 * timer also fires when the counter's low half wraps. A timer whose enable
 * bit is clear still runs and sets its status bit in level mode, but does not
 * interrupt. Byte and word accesses reach the 32-bit register they fall in
 * (the other bytes keep their value; in the status register they write 0).
 *
 * The device is pure: interrupt lines, the clock and its timers are
 * injected, and so is what legacy replacement does to the PIT (on KVM its
 * in-kernel PIT: see the board). The RTC's interrupt passes through
 * {@link Hpet.rtcInput}, which is held off in legacy replacement mode, as
 * QEMU wires it.
 *
 * @module
 */

import { DeadlineTimer } from "./deadline_timer.ts";
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

/** Guest-physical base of the HPET block (QEMU's HPET_BASE). */
export const HPET_BASE = 0xfed00000;
/** Bytes the block decodes. */
export const HPET_LENGTH = 0x400;
/** Counter period in femtoseconds: 10 ns, a 100 MHz counter (QEMU's HPET_CLK_PERIOD). */
export const HPET_PERIOD_FS = 10_000_000;
/** Nanoseconds per counter tick. */
const NS_PER_TICK = HPET_PERIOD_FS / 1_000_000;
/** Comparators in the block (QEMU's default and minimum). */
export const HPET_TIMERS = 3;
/** Vendor ID in capabilities bits 31:16 (Intel, as QEMU). */
export const HPET_VENDOR = 0x8086;
/** The routes a timer may take on QEMU's i440FX PC (its `intcap`): IRQ 2 only. */
export const HPET_INTCAP_PC = 0x00000004;
/** The minimum clock tick QEMU's ACPI HPET table gives (in counter ticks). */
export const HPET_MIN_TICK = 128;
/** Where legacy replacement routes timer 0 and timer 1 (ISA IRQ 0 and 8). */
export const HPET_LEGACY_ROUTES = [0, 8] as const;

/** Register offsets. */
export const HPET_REG = {
  ID: 0x000,
  PERIOD: 0x004,
  CONFIG: 0x010,
  STATUS: 0x020,
  COUNTER: 0x0f0,
  TIMER0: 0x100,
  TIMER_STRIDE: 0x20,
  TN_CONFIG: 0x00,
  TN_COMPARATOR: 0x08,
  TN_FSB: 0x10,
} as const;

/** General configuration bits. */
export const HPET_CFG = { ENABLE: 1 << 0, LEGACY: 1 << 1 } as const;
/** Capabilities bits (low half). */
const ID_REV = 0x01;
const ID_64BIT = 1 << 13;
const ID_LEGACY = 1 << 15;

/** Timer configuration bits. */
export const HPET_TN = {
  LEVEL: 1 << 1,
  ENABLE: 1 << 2,
  PERIODIC: 1 << 3,
  PERIODIC_CAP: 1 << 4,
  SIZE_CAP: 1 << 5,
  SETVAL: 1 << 6,
  MODE_32BIT: 1 << 8,
  ROUTE_SHIFT: 9,
  ROUTE_MASK: 0x1f << 9,
} as const;
/** Timer configuration bits the guest writes (no FSB: FSB_EN stays clear). */
const TN_WRITABLE = HPET_TN.LEVEL | HPET_TN.ENABLE | HPET_TN.PERIODIC | HPET_TN.SETVAL |
  HPET_TN.MODE_32BIT | HPET_TN.ROUTE_MASK;
/** Read-only capability bits of each timer's configuration. */
const TN_CAPS = HPET_TN.PERIODIC_CAP | HPET_TN.SIZE_CAP;

const MASK32 = 0xffffffffn;
const MASK64 = 0xffffffffffffffffn;
const HEX64 = /^0x[0-9a-f]{16}$/;
/**
 * The soonest a periodic comparator fires again: periods below 10 µs would
 * fire many times within one step of the clock, for interrupts the I/O APIC
 * merges into one.
 */
const MIN_REARM_NS = 10_000;

/** What the board gives the HPET. */
export interface HpetOptions extends TimedOptions {
  /**
   * The interrupt line of route `n` (0-31), ISA IRQ n on the I/O APIC; route
   * 0 is IRQ 0, timer 0's in legacy replacement mode.
   */
  readonly irq: (route: number) => IrqLine;
  /**
   * Legacy replacement went on (true) or off: the PIT's interrupt must be
   * held off while it is on.
   */
  readonly onLegacyReplacement?: (on: boolean) => void;
}

/** Saved state of one comparator. */
export interface HpetTimerState {
  /** Configuration bits 31:0 (the capability bits included). */
  readonly config: number;
  /** Comparator, period and FSB route register, as 0x + 16 hex digits. */
  readonly comparator: string;
  readonly period: string;
  readonly fsb: string;
  /** A one-shot 32-bit timer armed for the counter's wrap rather than its comparator. */
  readonly wrap: boolean;
  readonly deadlineNs: number | null;
}

/** Saved state of {@link Hpet}. */
export interface HpetState extends DeviceState {
  readonly version: 1;
  /** General configuration (ENABLE, LEGACY). */
  readonly config: number;
  /** Interrupt status bits. */
  readonly status: number;
  /**
   * The main counter, as 0x + 16 hex digits: its value while halted, or its
   * value at `runningSinceNs` while it runs.
   */
  readonly counter: string;
  /** Clock time the counter has run from, or null while halted. */
  readonly runningSinceNs: number | null;
  /** The RTC's interrupt level (passed on to IRQ 8 outside legacy mode). */
  readonly rtcLevel: boolean;
  readonly timers: readonly HpetTimerState[];
}

interface Comparator {
  readonly index: number;
  config: number;
  cmp: bigint;
  period: bigint;
  fsb: bigint;
  wrap: boolean;
  readonly timer: DeadlineTimer;
}

/** The HPET block. */
export class Hpet implements BusDevice, Snapshotting<HpetState> {
  readonly #irq: (route: number) => IrqLine;
  readonly #clock: Clock;
  readonly #onLegacy: (on: boolean) => void;
  readonly #timers: Comparator[] = [];
  #config = 0;
  #status = 0;
  /** The counter while halted, or at #since while running. */
  #counter = 0n;
  #since = 0;
  #rtcLevel = false;

  /** The RTC's interrupt: passed on to IRQ 8 unless legacy replacement owns IRQ 8. */
  readonly rtcInput: IrqLine = {
    set: (level) => {
      this.#rtcLevel = level;
      if (!this.legacy) this.#irq(HPET_LEGACY_ROUTES[1]).set(level);
    },
  };

  /** @param options injected lines, clock, timers and the PIT hook */
  constructor(options: HpetOptions) {
    this.#irq = options.irq;
    this.#clock = options.clock;
    this.#onLegacy = options.onLegacyReplacement ?? (() => {});
    for (let i = 0; i < HPET_TIMERS; i++) {
      const t: Comparator = {
        index: i,
        config: TN_CAPS,
        cmp: MASK64,
        period: 0n,
        fsb: 0n,
        wrap: false,
        timer: new DeadlineTimer(options.timer, () => this.#fire(t)),
      };
      this.#timers.push(t);
    }
  }

  /** The capabilities register: period, vendor, legacy capable, 64-bit, timers, revision. */
  static capabilities(): bigint {
    return BigInt(HPET_PERIOD_FS) << 32n |
      BigInt(HPET_VENDOR << 16 | ID_LEGACY | ID_64BIT | (HPET_TIMERS - 1) << 8 | ID_REV);
  }

  /** True while the counter runs (ENABLE_CNF). */
  get enabled(): boolean {
    return (this.#config & HPET_CFG.ENABLE) !== 0;
  }

  /** True in legacy replacement mode (LEG_RT_CNF). */
  get legacy(): boolean {
    return (this.#config & HPET_CFG.LEGACY) !== 0;
  }

  /** The main counter now. */
  counter(): bigint {
    if (!this.enabled) return this.#counter;
    const elapsed = Math.max(0, Math.floor((this.#clock.nowNs() - this.#since) / NS_PER_TICK));
    return (this.#counter + BigInt(elapsed)) & MASK64;
  }

  /** Reads `size` bytes at `offset`. */
  read(offset: number, size: AccessSize): number {
    if (size === 4 && (offset & 3) === 0) return this.#read32(offset);
    let value = 0;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      value |= ((this.#read32(at & ~3) >>> (8 * (at & 3))) & 0xff) << (8 * i);
    }
    return value >>> 0;
  }

  /** Writes `size` bytes at `offset`. */
  write(offset: number, size: AccessSize, value: number): void {
    if (size === 4 && (offset & 3) === 0) return this.#write32(offset, value >>> 0);
    // Narrow accesses: merge into the 32-bit register(s) they fall in.
    const end = offset + size;
    for (let reg = offset & ~3; reg < end; reg += 4) {
      let merged = reg === HPET_REG.STATUS ? 0 : this.#read32(reg);
      for (let at = Math.max(reg, offset); at < Math.min(reg + 4, end); at++) {
        const byte = (value >>> (8 * (at - offset))) & 0xff;
        const shift = 8 * (at - reg);
        merged = (merged & ~(0xff << shift)) | byte << shift;
      }
      this.#write32(reg, merged >>> 0);
    }
  }

  #read32(offset: number): number {
    if (offset >= HPET_REG.TIMER0) {
      const t = this.#timerAt(offset);
      if (!t) return 0;
      const reg = (offset - HPET_REG.TIMER0) % HPET_REG.TIMER_STRIDE;
      switch (reg) {
        case HPET_REG.TN_CONFIG:
          return t.config >>> 0;
        case HPET_REG.TN_CONFIG + 4:
          return HPET_INTCAP_PC;
        case HPET_REG.TN_COMPARATOR:
          return low(t.cmp);
        case HPET_REG.TN_COMPARATOR + 4:
          return high(t.cmp);
        case HPET_REG.TN_FSB:
          return low(t.fsb);
        case HPET_REG.TN_FSB + 4:
          return high(t.fsb);
        default:
          return 0;
      }
    }
    switch (offset) {
      case HPET_REG.ID:
        return low(Hpet.capabilities());
      case HPET_REG.PERIOD:
        return HPET_PERIOD_FS;
      case HPET_REG.CONFIG:
        return this.#config;
      case HPET_REG.STATUS:
        return this.#status;
      case HPET_REG.COUNTER:
        return low(this.counter());
      case HPET_REG.COUNTER + 4:
        return high(this.counter());
      default:
        return 0;
    }
  }

  #write32(offset: number, value: number): void {
    if (offset >= HPET_REG.TIMER0) {
      const t = this.#timerAt(offset);
      if (t) this.#writeTimer(t, (offset - HPET_REG.TIMER0) % HPET_REG.TIMER_STRIDE, value);
      return;
    }
    switch (offset) {
      case HPET_REG.CONFIG:
        this.#writeConfig(value & (HPET_CFG.ENABLE | HPET_CFG.LEGACY));
        return;
      case HPET_REG.STATUS:
        for (const t of this.#timers) {
          if (value & this.#status & (1 << t.index)) this.#update(t, false);
        }
        return;
      case HPET_REG.COUNTER:
      case HPET_REG.COUNTER + 4:
        // Writes while the counter runs are lost, as on QEMU (the spec leaves them undefined).
        if (!this.enabled) this.#counter = setHalf(this.#counter, offset & 4, value);
        return;
    }
  }

  #writeConfig(value: number): void {
    const old = this.#config;
    this.#config = value;
    const now = this.#clock.nowNs();
    if (on(old, value, HPET_CFG.ENABLE)) {
      this.#since = now;
      // A comparator never written stays quiet (QEMU's reset value ~0).
      for (const t of this.#timers) if (t.cmp !== MASK64) this.#arm(t);
    } else if (off(old, value, HPET_CFG.ENABLE)) {
      this.#counter = this.#countAt(now);
      for (const t of this.#timers) t.timer.cancel();
    }
    if (on(old, value, HPET_CFG.LEGACY)) {
      this.#onLegacy(true);
      this.#irq(HPET_LEGACY_ROUTES[0]).set(false);
      this.#irq(HPET_LEGACY_ROUTES[1]).set(false);
    } else if (off(old, value, HPET_CFG.LEGACY)) {
      this.#irq(HPET_LEGACY_ROUTES[0]).set(false);
      this.#onLegacy(false);
      this.#irq(HPET_LEGACY_ROUTES[1]).set(this.#rtcLevel);
    }
  }

  #writeTimer(t: Comparator, reg: number, value: number): void {
    switch (reg) {
      case HPET_REG.TN_CONFIG: {
        const old = t.config;
        t.config = (old & ~TN_WRITABLE) | (value & TN_WRITABLE);
        if (value & HPET_TN.MODE_32BIT) {
          t.cmp &= MASK32;
          t.period &= MASK32;
        }
        // A level interrupt that was pending follows the timer to its new route or mode.
        if (on(old, t.config, HPET_TN.ENABLE) && this.enabled) this.#arm(t);
        else if (off(old, t.config, HPET_TN.ENABLE)) t.timer.cancel();
        return;
      }
      case HPET_REG.TN_COMPARATOR:
      case HPET_REG.TN_COMPARATOR + 4: {
        const half = reg & 4;
        let v = value;
        if (half !== 0 && this.#is32(t)) return; // no upper half in 32-bit mode
        if (this.#periodic(t)) {
          // QEMU clamps a period to 31 bits where it could overflow its timer arithmetic.
          if (half === 4 || this.#is32(t)) v = Math.min(v, 0x7fffffff);
          if (t.config & HPET_TN.SETVAL) t.cmp = setHalf(t.cmp, half, value);
          t.period = setHalf(t.period, half, v);
        } else {
          t.cmp = setHalf(t.cmp, half, value);
        }
        t.config &= ~HPET_TN.SETVAL;
        if (this.enabled) this.#arm(t);
        return;
      }
      case HPET_REG.TN_FSB:
      case HPET_REG.TN_FSB + 4:
        t.fsb = setHalf(t.fsb, reg & 4, value);
        return;
    }
  }

  #timerAt(offset: number): Comparator | undefined {
    return this.#timers[Math.floor((offset - HPET_REG.TIMER0) / HPET_REG.TIMER_STRIDE)];
  }

  #countAt(now: number): bigint {
    const elapsed = Math.max(0, Math.floor((now - this.#since) / NS_PER_TICK));
    return (this.#counter + BigInt(elapsed)) & MASK64;
  }

  #is32(t: Comparator): boolean {
    return (t.config & HPET_TN.MODE_32BIT) !== 0;
  }

  #periodic(t: Comparator): boolean {
    return (t.config & HPET_TN.PERIODIC) !== 0;
  }

  /** Ticks from `now` to the comparator: at least 1 (a comparator in the past fires at once). */
  #ticksToMatch(t: Comparator, now: bigint): bigint {
    if (this.#is32(t)) {
      const d = (t.cmp - now) & MASK32;
      return d === 0n || d > 0x7fffffffn ? 1n : d;
    }
    const d = (t.cmp - now) & MASK64;
    return d === 0n || d > 0x7fffffffffffffffn ? 1n : d;
  }

  /** Arms `t` for its next match (or, one-shot in 32-bit mode, the earlier wrap of the low half). */
  #arm(t: Comparator): void {
    const nowNs = this.#clock.nowNs();
    const now = this.#countAt(nowNs);
    let ticks = this.#ticksToMatch(t, now);
    t.wrap = false;
    if (this.#is32(t) && !this.#periodic(t)) {
      const toWrap = (MASK32 - (now & MASK32)) + 1n;
      if (toWrap < ticks) {
        ticks = toWrap;
        t.wrap = true;
      }
    }
    t.timer.arm(this.#deadline(nowNs, ticks));
  }

  /** The clock time `ticks` counter ticks after the tick in progress at `nowNs`. */
  #deadline(nowNs: number, ticks: bigint): number {
    const intoTick = (nowNs - this.#since) % NS_PER_TICK;
    return nowNs - intoTick + Number(ticks) * NS_PER_TICK;
  }

  #fire(t: Comparator): void {
    const nowNs = this.#clock.nowNs();
    const now = this.#countAt(nowNs);
    if (this.#periodic(t) && t.period !== 0n) {
      // The comparator steps by the period past the counter (all missed periods at once).
      const [mask, half] = this.#is32(t) ? [MASK32, 1n << 31n] : [MASK64, 1n << 63n];
      const period = t.period & mask;
      const behind = (now - t.cmp) & mask;
      if (behind < half) t.cmp = (t.cmp + (behind / period + 1n) * period) & mask;
      // Even a tiny period re-arms no sooner than MIN_REARM_NS: the edges would merge anyway.
      const next = this.#deadline(nowNs, this.#ticksToMatch(t, now));
      t.timer.arm(Math.max(next, nowNs + MIN_REARM_NS));
    } else if (t.wrap) {
      t.wrap = false;
      t.timer.arm(this.#deadline(nowNs, this.#ticksToMatch(t, now)));
    }
    this.#update(t, true);
  }

  /** The route `t` interrupts on: its legacy line in legacy mode (timers 0 and 1), else bits 13:9. */
  #route(t: Comparator): number {
    if (t.index < 2 && this.legacy) return HPET_LEGACY_ROUTES[t.index];
    return (t.config & HPET_TN.ROUTE_MASK) >> HPET_TN.ROUTE_SHIFT;
  }

  /** A match (set) or a status clear: QEMU's update_irq. */
  #update(t: Comparator, set: boolean): void {
    const bit = 1 << t.index;
    const level = (t.config & HPET_TN.LEVEL) !== 0;
    if (set && level) this.#status |= bit;
    else this.#status &= ~bit;
    const line = this.#irq(this.#route(t));
    if (set && (t.config & HPET_TN.ENABLE) && this.enabled) {
      line.set(true);
      if (!level) line.set(false);
    } else {
      line.set(false);
    }
  }

  /** Everything the guest can observe, with the comparators' deadlines. */
  snapshot(): HpetState {
    return {
      version: 1,
      config: this.#config,
      status: this.#status,
      counter: hex64(this.#counter),
      runningSinceNs: this.enabled ? this.#since : null,
      rtcLevel: this.#rtcLevel,
      timers: this.#timers.map((t) => ({
        config: t.config,
        comparator: hex64(t.cmp),
        period: hex64(t.period),
        fsb: hex64(t.fsb),
        wrap: t.wrap,
        deadlineNs: t.timer.deadline,
      })),
    };
  }

  /**
   * Puts the HPET back into `state`: registers, the counter, the comparators'
   * deadlines, and the lines a pending level interrupt and the RTC hold high.
   * The PIT's legacy hold-off is the PIT's own saved state.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: HpetState): void {
    const s = StateShape.versioned("hpet", state, 1);
    const config = s.int("config", 0, HPET_CFG.ENABLE | HPET_CFG.LEGACY);
    const status = s.int("status", 0, (1 << HPET_TIMERS) - 1);
    const counter = readHex64(s, "counter");
    const since = s.numberOrNull("runningSinceNs");
    if ((since !== null) !== ((config & HPET_CFG.ENABLE) !== 0)) {
      s.fail("runningSinceNs", "must be set exactly while the counter is enabled");
    }
    const rtcLevel = s.bool("rtcLevel");
    const timers = s.objects("timers", HPET_TIMERS).map((ts) => {
      const cfg = ts.int("config", 0, 0xffffffff);
      if ((cfg & ~(TN_WRITABLE | TN_CAPS)) !== 0 || (cfg & TN_CAPS) !== TN_CAPS) {
        ts.fail("config", "holds bits this HPET does not have");
      }
      return {
        config: cfg,
        cmp: readHex64(ts, "comparator"),
        period: readHex64(ts, "period"),
        fsb: readHex64(ts, "fsb"),
        wrap: ts.bool("wrap"),
        deadline: ts.numberOrNull("deadlineNs"),
      };
    });
    if (timers.length !== HPET_TIMERS) s.fail("timers", `must have ${HPET_TIMERS} elements`);
    this.#config = config;
    this.#status = status;
    this.#counter = counter;
    this.#since = since ?? 0;
    this.#rtcLevel = rtcLevel;
    timers.forEach((v, i) => {
      const t = this.#timers[i];
      t.config = v.config;
      t.cmp = v.cmp;
      t.period = v.period;
      t.fsb = v.fsb;
      t.wrap = v.wrap;
      t.timer.set(v.deadline);
    });
    for (const t of this.#timers) {
      const pending = (status & (1 << t.index)) !== 0 && (t.config & HPET_TN.LEVEL) !== 0;
      if (pending && (t.config & HPET_TN.ENABLE) && this.enabled) {
        this.#irq(this.#route(t)).set(true);
      }
    }
    if (!this.legacy && rtcLevel) this.#irq(HPET_LEGACY_ROUTES[1]).set(true);
  }
}

function on(old: number, now: number, bit: number): boolean {
  return (old & bit) === 0 && (now & bit) !== 0;
}

function off(old: number, now: number, bit: number): boolean {
  return (old & bit) !== 0 && (now & bit) === 0;
}

function low(v: bigint): number {
  return Number(v & MASK32);
}

function high(v: bigint): number {
  return Number((v >> 32n) & MASK32);
}

/** `v` with its low (half 0) or high (half 4) 32 bits replaced. */
function setHalf(v: bigint, half: number, value: number): bigint {
  const x = BigInt(value >>> 0);
  return half === 0 ? (v & ~MASK32 & MASK64) | x : (v & MASK32) | x << 32n;
}

function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, "0")}`;
}

function readHex64(s: StateShape, key: string): bigint {
  const v = s.string(key);
  if (!HEX64.test(v)) s.fail(key, "must be 0x and 16 lower-case hex digits");
  return BigInt(v);
}
