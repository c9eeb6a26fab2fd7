/**
 * The PC's CMOS real-time clock: a Motorola MC146818A (time of day, calendar,
 * alarm, periodic and update-ended interrupts on ISA IRQ 8) plus its
 * battery-backed RAM, reached through the index port 0x70 and data port 0x71.
 *
 * Nothing ticks. The clock's reading is derived from the injected {@link Clock}
 * as "RTC seconds" (wall-clock seconds counted as if UTC) plus the phase of the
 * 32.768 kHz divider chain; interrupt flags are caught up lazily whenever the
 * guest can observe them, and the one injected timer is armed only for the
 * next event that would raise the IRQ line.
 *
 * Register behaviour follows the Motorola MC146818A datasheet (register A-D
 * bit definitions, table of periodic rates, "update cycle begins one-half
 * second after the divider reset is removed", "SET going high clears UIE",
 * RESET clearing PIE/AIE/UIE/SQWE and the flags).
 *
 * @module
 */

import { laneByte, readLanes, writeLanes } from "./byte_lanes.ts";
import { DeadlineTimer } from "./deadline_timer.ts";
import { StateShape } from "./state_shape.ts";
import type {
  AccessSize,
  BusDevice,
  Clock,
  DeviceState,
  IrqLine,
  Snapshotting,
  TimerFactory,
} from "./types.ts";

/** First I/O port of the RTC on the PC (index register; data is at +1). */
export const CMOS_RTC_PORT = 0x70;
/** ISA interrupt line of the RTC on the PC. */
export const CMOS_RTC_IRQ = 8;

// Register indices.
const SECONDS = 0x00;
const SECONDS_ALARM = 0x01;
const MINUTES = 0x02;
const MINUTES_ALARM = 0x03;
const HOURS = 0x04;
const HOURS_ALARM = 0x05;
const WEEKDAY = 0x06;
const DATE = 0x07;
const MONTH = 0x08;
const YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
/** Century byte, IBM's convention (also QEMU's FADT CENTURY field). */
const CENTURY = 0x32;
const TIME_REGISTERS = [SECONDS, MINUTES, HOURS, WEEKDAY, DATE, MONTH, YEAR, CENTURY];

// Register A.
const A_UIP = 0x80;
const A_RATE = 0x0f;
// Register B.
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_SQWE = 0x08;
const B_DM_BINARY = 0x04;
const B_24H = 0x02;
// Register C.
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
// Register D.
const D_VRT = 0x80;

const NS_PER_S = 1_000_000_000;
const DIVIDER_HZ = 32_768;
const SECONDS_PER_DAY = 86_400;
/** UIP rises 244 us (8 cycles of the 32.768 kHz time base) before each update. */
const UIP_WINDOW_NS = (8 * NS_PER_S) / DIVIDER_HZ;
/** After the divider leaves reset the first update comes half a second later. */
const FIRST_UPDATE_AFTER_RESET_NS = NS_PER_S / 2;

/** Construction options of {@link CmosRtc}. */
export interface CmosRtcOptions {
  /** ISA IRQ 8. Driven high while IRQF is set; reading register C lowers it. */
  irq: IrqLine;
  /** Machine clock the time of day is derived from. */
  clock: Clock;
  /** Creates the one timer used to raise enabled interrupts on time. */
  timer: TimerFactory;
  /** Guest wall-clock time at clock 0, in Unix epoch milliseconds. */
  startTimeMs: number;
  /**
   * True (the default, like QEMU's `-rtc base=utc`): the RTC counts UTC.
   * False: it counts the host's local time, offset fixed at construction.
   */
  utc?: boolean;
}

/** Positive modulo. */
function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** Value → register byte in the data mode selected by register B. */
function encode(value: number, binary: boolean): number {
  return (binary ? value : (Math.floor(value / 10) << 4) | (value % 10)) & 0xff;
}

/** Register byte → value; invalid BCD digits decode to out-of-range numbers. */
function decode(byte: number, binary: boolean): number {
  return binary ? byte : (byte >> 4) * 10 + (byte & 0x0f);
}

/** Hours 0..23 → register byte, with the PM flag in bit 7 in 12-hour mode. */
function encodeHours(hours: number, b: number): number {
  const binary = (b & B_DM_BINARY) !== 0;
  if (b & B_24H) return encode(hours, binary);
  return encode(hours % 12 || 12, binary) | (hours >= 12 ? 0x80 : 0);
}

/** Register byte → hours 0..23, or -1 when the byte is no valid hour. */
function decodeHours(byte: number, b: number): number {
  const binary = (b & B_DM_BINARY) !== 0;
  if (b & B_24H) {
    const h = decode(byte, binary);
    return h < 24 && encode(h, binary) === byte ? h : -1;
  }
  const h12 = decode(byte & 0x7f, binary);
  if (h12 < 1 || h12 > 12 || encode(h12, binary) !== (byte & 0x7f)) return -1;
  return (h12 % 12) + (byte & 0x80 ? 12 : 0);
}

/** Values an alarm byte matches: all of 0..limit-1 for "don't care" (0xC0-0xFF). */
function alarmValues(byte: number, limit: number, decodeByte: (b: number) => number): number[] {
  if ((byte & 0xc0) === 0xc0) return Array.from({ length: limit }, (_, i) => i);
  const v = decodeByte(byte);
  return v >= 0 && v < limit ? [v] : [];
}

/** Periodic interrupt period in 32.768 kHz cycles for rate select bits, or 0 for none. */
function periodCycles(rate: number): number {
  if (rate === 0) return 0;
  // Rates 1 and 2 would tap the divider too early with a 32.768 kHz base: the
  // datasheet gives 256 Hz and 128 Hz, the same as rates 8 and 9.
  const r = rate <= 2 ? rate + 7 : rate;
  return 1 << (r - 1);
}

/** True when register A's DV bits (11x) hold the divider chain in reset. */
function dividerInReset(a: number): boolean {
  return (a & 0x60) === 0x60;
}

/**
 * Saved state of {@link CmosRtc}. The clock is kept as its base on the
 * injected clock (RTC seconds and divider phase), so a machine that resumes
 * its clock at the saved time reads on from the same second. The derived
 * group is for readers and is not restored.
 */
export interface CmosRtcState extends DeviceState {
  readonly version: 1;
  /** The bytes as stored: RAM, alarms, A, B; the time registers only while `frozen`. */
  readonly stored: Uint8Array;
  /** Register selected through port 0x70. */
  readonly index: number;
  /** Bit 7 of the last index write (the chipset's NMI mask). */
  readonly nmiMasked: boolean;
  /** RTC seconds = baseS + floor((clock + phaseNs) / 1 s) while counting. */
  readonly baseS: number;
  /** Divider phase in ns (0 to 1 s). */
  readonly phaseNs: number;
  /** The weekday register's offset from the date's weekday (0-6). */
  readonly weekdayOffset: number;
  /** Updates halted (SET or divider reset): the time lives in `stored`. */
  readonly frozen: boolean;
  /** Latched register C flags PF, AF, UF (without IRQF). */
  readonly flags: number;
  /** Clock time up to which `flags` account for events. */
  readonly syncedNs: number;
  /** Level of IRQ 8 (IRQF). */
  readonly irq: boolean;
  /** Armed deadline of the interrupt timer, or null. */
  readonly timerDeadlineNs: number | null;
  // Derived, for readers.
  /** The RTC's date and time (ISO 8601; no "Z" when it counts local time). */
  readonly time: string;
  /** True when the RTC counts UTC (construction option). */
  readonly utc: boolean;
  /** All 128 bytes as the guest reads them (register C without clearing it). */
  readonly cmos: number[];
}

/** The PC CMOS: MC146818A real-time clock plus 114 bytes of battery-backed RAM. */
export class CmosRtc implements BusDevice, Snapshotting<CmosRtcState> {
  readonly #irq: IrqLine;
  readonly #clock: Clock;
  readonly #timer: DeadlineTimer;
  readonly #utc: boolean;
  /** Alarm, A, B, RAM; time registers only while frozen. */
  readonly #cmos = new Uint8Array(128);
  #index = 0;
  #nmiMasked = false;
  /** RTC seconds = #baseS + floor((clock + #phaseNs) / 1 s) while running. */
  #baseS = 0;
  /** Divider phase: a second boundary is where clock + #phaseNs is a whole second. */
  #phaseNs = 0;
  /** The day-of-week register is its own counter; its offset from the date's weekday. */
  #weekdayOffset = 0;
  /** Updates halted (SET or divider reset): time registers live in #cmos. */
  #frozen = false;
  /** PF | AF | UF. */
  #flags = 0;
  /** Clock time up to which #flags account for events. */
  #syncedNs: number;
  #line = false;

  /** @param options injected line, clock, timer and the guest's start time */
  constructor(options: CmosRtcOptions) {
    this.#irq = options.irq;
    this.#clock = options.clock;
    this.#timer = new DeadlineTimer(options.timer, () => this.#onTimer());
    this.#utc = options.utc ?? true;
    const startMs = options.startTimeMs;
    const wallMs = this.#utc ? startMs : startMs - new Date(startMs).getTimezoneOffset() * 60_000;
    const phase = Math.round(mod(wallMs, 1000) * 1_000_000);
    // Rounding may carry a whole second (999.9999999 ms).
    this.#baseS = Math.floor(wallMs / 1000) + (phase >= NS_PER_S ? 1 : 0);
    this.#phaseNs = phase % NS_PER_S;
    this.#cmos[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    this.#cmos[REG_B] = B_24H;
    this.#syncedNs = this.#clock.nowNs();
  }

  /** True while bit 7 of the last index write masks NMI (the chipset's NMI gate). */
  get nmiMasked(): boolean {
    return this.#nmiMasked;
  }

  /** Offset 0: index register (write-only, reads 0xFF); offset 1: data. */
  read(offset: number, size: AccessSize): number {
    return readLanes(offset, size, (at) => at === 1 ? this.#readRegister(this.#index, true) : 0xff);
  }

  /** Offset 0 selects a register (bit 7 masks NMI); offset 1 writes it. */
  write(offset: number, size: AccessSize, value: number): void {
    writeLanes(offset, size, value, (at, byte) => {
      if (at === 0) {
        this.#index = byte & 0x7f;
        this.#nmiMasked = (byte & 0x80) !== 0;
      } else if (at === 1) {
        this.#writeRegister(this.#index, byte);
      }
    });
  }

  /**
   * Reads CMOS byte `index` (0..127) as the guest would, without side effects
   * (reading register C here does not clear it).
   */
  getByte(index: number): number {
    this.#checkIndex(index);
    this.#catchUp(this.#clock.nowNs());
    return this.#readRegister(index, false);
  }

  /**
   * Sets CMOS byte `index` (0..127) for the board, e.g. from {@link pcCmosBytes}.
   * RAM bytes are stored as is; the RTC registers 0x00-0x0D and the century
   * byte 0x32 take the same path as a guest write (C and D stay read-only, a
   * time field changes the running clock).
   */
  setByte(index: number, value: number): void {
    this.#checkIndex(index);
    this.#writeRegister(index, value & 0xff);
  }

  /**
   * The RESET pin: clears PIE, AIE, UIE and SQWE in register B and every flag
   * in register C, lowering the line. Time, register A, the data mode bits and
   * the RAM are kept, as on the chip.
   */
  reset(): void {
    const now = this.#clock.nowNs();
    this.#catchUp(now);
    this.#cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    this.#flags = 0;
    this.#updateLine();
    this.#reschedule(now);
  }

  /**
   * Everything the guest can observe, caught up to the clock's present (the
   * flags an elapsed event would have set are set, as a register read would).
   */
  snapshot(): CmosRtcState {
    const now = this.#clock.nowNs();
    this.#catchUp(now);
    let ms: number;
    if (this.#frozen) {
      ms = this.#parseFrozen().seconds * 1000;
    } else {
      ms = this.#secondsAt(now) * 1000 + Math.floor(mod(now + this.#phaseNs, NS_PER_S) / 1e6);
    }
    const iso = new Date(ms).toISOString();
    const cmos: number[] = [];
    for (let i = 0; i < 128; i++) cmos.push(this.#readRegister(i, false));
    return {
      version: 1,
      stored: this.#cmos.slice(),
      index: this.#index,
      nmiMasked: this.#nmiMasked,
      baseS: this.#baseS,
      phaseNs: this.#phaseNs,
      weekdayOffset: this.#weekdayOffset,
      frozen: this.#frozen,
      flags: this.#flags,
      syncedNs: this.#syncedNs,
      irq: this.#line,
      timerDeadlineNs: this.#timer.deadline,
      time: this.#utc ? iso : iso.slice(0, -1),
      utc: this.#utc,
      cmos,
    };
  }

  /**
   * Puts the RTC back into `state`: bytes, time base, flags, the interrupt
   * timer at its saved deadline and IRQ 8 at the level the flags give.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: CmosRtcState): void {
    const r = StateShape.versioned("cmos-rtc", state, 1);
    const stored = r.bytes("stored", 128);
    if (stored[REG_A] & A_UIP) r.fail("stored", "register A holds UIP, which is derived");
    const flags = r.int("flags", 0, 0xff);
    if (flags & ~(C_PF | C_AF | C_UF)) r.fail("flags", "bits outside PF, AF, UF");
    const values = {
      index: r.int("index", 0, 0x7f),
      nmiMasked: r.bool("nmiMasked"),
      baseS: r.int("baseS", -Number.MAX_SAFE_INTEGER),
      phaseNs: r.int("phaseNs", 0, NS_PER_S - 1),
      weekdayOffset: r.int("weekdayOffset", 0, 6),
      frozen: r.bool("frozen"),
      syncedNs: r.number("syncedNs"),
      deadline: r.numberOrNull("timerDeadlineNs"),
    };
    this.#cmos.set(stored);
    this.#index = values.index;
    this.#nmiMasked = values.nmiMasked;
    this.#baseS = values.baseS;
    this.#phaseNs = values.phaseNs;
    this.#weekdayOffset = values.weekdayOffset;
    this.#frozen = values.frozen;
    this.#flags = flags;
    this.#syncedNs = values.syncedNs;
    this.#timer.set(values.deadline);
    this.#line = this.#level();
    this.#irq.set(this.#line);
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index > 0x7f) {
      throw new RangeError(`CMOS index out of range: ${index}`);
    }
  }

  #readRegister(index: number, guest: boolean): number {
    const now = this.#clock.nowNs();
    switch (index) {
      case REG_A: {
        const uip = !this.#frozen && this.#nextBoundary(now) - now <= UIP_WINDOW_NS;
        return (this.#cmos[REG_A] & ~A_UIP) | (uip ? A_UIP : 0);
      }
      case REG_C: {
        if (!guest) return this.#flags | (this.#line ? C_IRQF : 0);
        this.#catchUp(now);
        const value = this.#flags | (this.#line ? C_IRQF : 0);
        this.#flags = 0;
        this.#updateLine();
        this.#reschedule(now);
        return value;
      }
      case REG_D:
        return D_VRT;
      case SECONDS:
      case MINUTES:
      case HOURS:
      case WEEKDAY:
      case DATE:
      case MONTH:
      case YEAR:
      case CENTURY:
        return this.#frozen ? this.#cmos[index] : this.#timeByte(index, this.#secondsAt(now));
      default:
        return this.#cmos[index];
    }
  }

  #writeRegister(index: number, value: number): void {
    if (index > REG_D && index !== CENTURY) {
      this.#cmos[index] = value; // battery-backed RAM
      return;
    }
    const now = this.#clock.nowNs();
    this.#catchUp(now);
    switch (index) {
      case REG_A: {
        const wasReset = dividerInReset(this.#cmos[REG_A]);
        this.#cmos[REG_A] = value & ~A_UIP;
        if (wasReset && !dividerInReset(value)) {
          this.#phaseNs = mod(FIRST_UPDATE_AFTER_RESET_NS - now, NS_PER_S);
        }
        this.#updateFrozen(now);
        break;
      }
      case REG_B: {
        const old = this.#cmos[REG_B];
        // SET going high clears UIE (datasheet, register B).
        this.#cmos[REG_B] = (value & B_SET) && !(old & B_SET) ? value & ~B_UIE : value;
        this.#updateFrozen(now);
        this.#updateLine();
        break;
      }
      case REG_C:
      case REG_D:
        return; // read-only
      case SECONDS:
      case MINUTES:
      case HOURS:
      case WEEKDAY:
      case DATE:
      case MONTH:
      case YEAR:
      case CENTURY:
        if (this.#frozen) {
          this.#cmos[index] = value;
        } else {
          // A write while counting sets that field; counting goes on from it.
          this.#freeze(now);
          this.#cmos[index] = value;
          this.#thaw(now);
        }
        break;
      default:
        this.#cmos[index] = value; // alarm registers
    }
    this.#reschedule(now);
  }

  /** RTC seconds at clock time `ns` while running. */
  #secondsAt(ns: number): number {
    return this.#baseS + Math.floor((ns + this.#phaseNs) / NS_PER_S);
  }

  /** Clock time of the first second boundary (update) after `ns`. */
  #nextBoundary(ns: number): number {
    return (Math.floor((ns + this.#phaseNs) / NS_PER_S) + 1) * NS_PER_S - this.#phaseNs;
  }

  /** 32.768 kHz divider cycles elapsed at clock time `ns` (split to stay exact). */
  #cyclesAt(ns: number): number {
    const x = ns + this.#phaseNs;
    const s = Math.floor(x / NS_PER_S);
    return s * DIVIDER_HZ + Math.floor(((x - s * NS_PER_S) * DIVIDER_HZ) / NS_PER_S);
  }

  /** Clock time of the first periodic tick after `ns`, for a period of `cycles`. */
  #nextPeriodic(ns: number, cycles: number): number {
    const target = (Math.floor(this.#cyclesAt(ns) / cycles) + 1) * cycles;
    const s = Math.floor(target / DIVIDER_HZ);
    const rest = target - s * DIVIDER_HZ;
    return s * NS_PER_S + Math.ceil((rest * NS_PER_S) / DIVIDER_HZ) - this.#phaseNs;
  }

  /** Register byte of time field `index` for RTC seconds `seconds`, in register B's format. */
  #timeByte(index: number, seconds: number): number {
    const b = this.#cmos[REG_B];
    const binary = (b & B_DM_BINARY) !== 0;
    const d = new Date(seconds * 1000);
    switch (index) {
      case SECONDS:
        return encode(d.getUTCSeconds(), binary);
      case MINUTES:
        return encode(d.getUTCMinutes(), binary);
      case HOURS:
        return encodeHours(d.getUTCHours(), b);
      case WEEKDAY:
        return encode(((d.getUTCDay() + this.#weekdayOffset) % 7) + 1, binary);
      case DATE:
        return encode(d.getUTCDate(), binary);
      case MONTH:
        return encode(d.getUTCMonth() + 1, binary);
      case YEAR:
        return encode(d.getUTCFullYear() % 100, binary);
      default:
        return encode(Math.floor(d.getUTCFullYear() / 100), binary);
    }
  }

  /** Reads the time registers held in #cmos back into RTC seconds and a weekday offset. */
  #parseFrozen(): { seconds: number; weekdayOffset: number } {
    const b = this.#cmos[REG_B];
    const binary = (b & B_DM_BINARY) !== 0;
    const field = (i: number) => decode(this.#cmos[i], binary);
    const hoursByte = this.#cmos[HOURS];
    // An invalid hour byte still has to land somewhere: use its raw decoding.
    const decodedHours = decodeHours(hoursByte, b);
    const hours = decodedHours >= 0 ? decodedHours : decode(hoursByte & 0x7f, binary);
    const d = new Date(0);
    d.setUTCFullYear(field(CENTURY) * 100 + field(YEAR), field(MONTH) - 1, field(DATE));
    d.setUTCHours(hours, field(MINUTES), field(SECONDS), 0);
    return {
      seconds: Math.floor(d.getTime() / 1000),
      weekdayOffset: mod(field(WEEKDAY) - 1 - d.getUTCDay(), 7),
    };
  }

  /** Copies the running time into the time registers. */
  #freeze(ns: number): void {
    const seconds = this.#secondsAt(ns);
    for (const i of TIME_REGISTERS) this.#cmos[i] = this.#timeByte(i, seconds);
    this.#frozen = true;
  }

  /** Restarts counting from the time registers, keeping the divider phase. */
  #thaw(ns: number): void {
    const { seconds, weekdayOffset } = this.#parseFrozen();
    this.#baseS = seconds - Math.floor((ns + this.#phaseNs) / NS_PER_S);
    this.#weekdayOffset = weekdayOffset;
    this.#frozen = false;
  }

  #updateFrozen(ns: number): void {
    const halt = (this.#cmos[REG_B] & B_SET) !== 0 || dividerInReset(this.#cmos[REG_A]);
    if (halt && !this.#frozen) this.#freeze(ns);
    else if (!halt && this.#frozen) this.#thaw(ns);
  }

  /** First RTC second >= `from` whose time of day matches the alarm registers. */
  #nextAlarm(from: number): number | undefined {
    const b = this.#cmos[REG_B];
    const binary = (b & B_DM_BINARY) !== 0;
    const plain = (byte: number) => {
      const v = decode(byte, binary);
      return encode(v, binary) === byte ? v : -1;
    };
    const hours = alarmValues(this.#cmos[HOURS_ALARM], 24, (x) => decodeHours(x, b));
    const minutes = alarmValues(this.#cmos[MINUTES_ALARM], 60, plain);
    const seconds = alarmValues(this.#cmos[SECONDS_ALARM], 60, plain);
    const day = Math.floor(from / SECONDS_PER_DAY);
    for (let d = 0; d < 2; d++) {
      const start = d === 0 ? from - day * SECONDS_PER_DAY : 0;
      for (const h of hours) {
        if (h * 3600 + 3599 < start) continue;
        for (const m of minutes) {
          if (h * 3600 + m * 60 + 59 < start) continue;
          for (const s of seconds) {
            const t = h * 3600 + m * 60 + s;
            if (t >= start) return (day + d) * SECONDS_PER_DAY + t;
          }
        }
      }
    }
    return undefined;
  }

  /** Sets the flags for every event in (#syncedNs, ns]; the chip state was constant over it. */
  #catchUp(ns: number): void {
    const from = this.#syncedNs;
    if (ns <= from) return;
    this.#syncedNs = ns;
    const a = this.#cmos[REG_A];
    if (dividerInReset(a)) return;
    const cycles = periodCycles(a & A_RATE);
    if (
      cycles && Math.floor(this.#cyclesAt(ns) / cycles) > Math.floor(this.#cyclesAt(from) / cycles)
    ) {
      this.#flags |= C_PF;
    }
    if (!this.#frozen) {
      const s0 = this.#secondsAt(from);
      const s1 = this.#secondsAt(ns);
      if (s1 > s0) {
        this.#flags |= C_UF;
        const alarm = this.#nextAlarm(s0 + 1);
        if (alarm !== undefined && alarm <= s1) this.#flags |= C_AF;
      }
    }
    this.#updateLine();
  }

  /** IRQF (and the line) = PF·PIE + AF·AIE + UF·UIE; the bits line up in B and C. */
  #updateLine(): void {
    const level = this.#level();
    if (level !== this.#line) {
      this.#line = level;
      this.#irq.set(level);
    }
  }

  #level(): boolean {
    return (this.#flags & this.#cmos[REG_B] & (C_PF | C_AF | C_UF)) !== 0;
  }

  /** Arms the timer for the next enabled event; nothing while the line is already high. */
  #reschedule(ns: number): void {
    let next = Infinity;
    const a = this.#cmos[REG_A];
    const b = this.#cmos[REG_B];
    if (!this.#line && !dividerInReset(a)) {
      const cycles = periodCycles(a & A_RATE);
      if (b & B_PIE && cycles) next = Math.min(next, this.#nextPeriodic(ns, cycles));
      if (!this.#frozen && b & B_UIE) next = Math.min(next, this.#nextBoundary(ns));
      if (!this.#frozen && b & B_AIE) {
        const first = this.#secondsAt(ns) + 1;
        const alarm = this.#nextAlarm(first);
        if (alarm !== undefined) {
          next = Math.min(next, this.#nextBoundary(ns) + (alarm - first) * NS_PER_S);
        }
      }
    }
    if (next === Infinity) this.#timer.cancel();
    else this.#timer.arm(next);
  }

  #onTimer(): void {
    const now = this.#clock.nowNs();
    this.#catchUp(now);
    this.#reschedule(now);
  }
}

/** CHS geometry of an ATA hard disk as the BIOS should see it. */
export interface CmosDiskGeometry {
  cylinders: number;
  heads: number;
  sectors: number;
  /** BIOS CHS translation SeaBIOS applies (CMOS 0x39); default "lba". */
  translation?: "none" | "lba" | "large" | "rechs";
}

/** Inputs of {@link pcCmosBytes}. */
export interface PcCmosOptions {
  /** Total guest RAM in bytes. */
  ramBytes: number;
  /** Number of CPUs (1..256). */
  cpus: number;
  /**
   * RAM mapped below 4 GiB. Default: QEMU's i440FX split, all of it when
   * `ramBytes` < 3.5 GiB, else 3 GiB (the rest is mapped from 4 GiB up).
   */
  lowRamBytes?: number;
  /** ATA hard disks by position: primary master, primary slave, secondary master, secondary slave. */
  disks?: (CmosDiskGeometry | null | undefined)[];
  /** Up to three boot devices in order (CMOS 0x3D/0x38); default disk, cdrom. */
  bootOrder?: ("floppy" | "disk" | "cdrom" | "network")[];
  /** Guest start time (epoch ms) whose century goes to 0x32; default 0x20 (years 2000-2099). */
  timeMs?: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const BOOT_NIBBLE = { floppy: 1, disk: 2, cdrom: 3, network: 4 } as const;
const TRANSLATION = { none: 0, lba: 1, large: 2, rechs: 3 } as const;

/**
 * The CMOS bytes QEMU's PC machine fills in for SeaBIOS and older guests,
 * as index → value (apply with {@link CmosRtc.setByte}).
 *
 * Sources: QEMU hw/i386/pc.c (pc_cmos_init, cmos_init_hd, set_boot_dev,
 * pc_cmos_init_late) and SeaBIOS src/hw/rtc.h (CMOS_* index names):
 * 0x0D register D (VRT: RAM and time valid); 0x10 floppy types (none);
 * 0x12 hard disk types (0xF0 / 0x0F: disk 0 / 1 is user type, given in
 * 0x19 / 0x1A as 47 with geometry at 0x1B / 0x24); 0x14 equipment byte
 * (FPU, PS/2 mouse, no floppies); 0x15/0x16 base memory in KiB (640);
 * 0x17/0x18 and 0x30/0x31 KiB above 1 MiB, capped at 0xFFFF; 0x34/0x35 RAM
 * between 16 MiB and 4 GiB in 64 KiB units (capped), which SeaBIOS reads as
 * its RAM size when fw_cfg gives none; 0x5B-0x5D RAM above 4 GiB in 64 KiB
 * units; 0x5F CPUs minus one (SeaBIOS qemu_get_present_cpus_count);
 * 0x32 century (BCD); 0x38/0x3D boot order nibbles (SeaBIOS boot.c: 1 floppy,
 * 2 disk, 3 CD-ROM, 4 network; bit 0 of 0x38 clear keeps the floppy boot
 * signature check); 0x39 CHS translation, two bits per ATA device (SeaBIOS
 * ata.c get_translation).
 */
export function pcCmosBytes(options: PcCmosOptions): Map<number, number> {
  const { ramBytes, cpus } = options;
  if (!(ramBytes > 0) || !Number.isInteger(ramBytes)) {
    throw new RangeError(`bad RAM size ${ramBytes}`);
  }
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 256) {
    throw new RangeError(`bad CPU count ${cpus}`);
  }
  const low = options.lowRamBytes ?? (ramBytes >= 3.5 * GIB ? 3 * GIB : ramBytes);
  const high = ramBytes - low;
  const out = new Map<number, number>();
  const put16 = (index: number, v: number) => {
    out.set(index, laneByte(v, 0));
    out.set(index + 1, laneByte(v, 1));
  };

  out.set(0x0d, D_VRT);
  out.set(0x10, 0x00); // no floppy drives
  out.set(0x14, 0x02 | 0x04); // FPU present, PS/2 mouse; bits 4-5 = 0: EGA/VGA
  put16(0x15, Math.min(Math.floor(low / KIB), 640));
  const extended = Math.min(Math.floor(Math.max(low - MIB, 0) / KIB), 0xffff);
  put16(0x17, extended);
  put16(0x30, extended);
  put16(0x34, Math.min(Math.floor(Math.max(low - 16 * MIB, 0) / (64 * KIB)), 0xffff));
  const above4g = Math.floor(high / (64 * KIB));
  out.set(0x5b, above4g & 0xff);
  out.set(0x5c, Math.floor(above4g / 0x100) & 0xff);
  out.set(0x5d, Math.floor(above4g / 0x10000) & 0xff);
  out.set(0x5f, cpus - 1);
  const year = options.timeMs === undefined ? 2000 : new Date(options.timeMs).getUTCFullYear();
  out.set(CENTURY, encode(Math.floor(year / 100), false));
  out.set(0x37, out.get(CENTURY)!); // IBM PS/2 century byte, which QEMU fills in too

  const disks = options.disks ?? [];
  let types = 0;
  let translation = 0;
  for (let i = 0; i < Math.min(disks.length, 4); i++) {
    const disk = disks[i];
    if (!disk) continue;
    translation |= TRANSLATION[disk.translation ?? "lba"] << (2 * i);
    if (i > 1) continue; // only the primary channel has CMOS geometry
    types |= i === 0 ? 0xf0 : 0x0f;
    const info = i === 0 ? 0x1b : 0x24;
    out.set(i === 0 ? 0x19 : 0x1a, 47); // user-defined type
    put16(info, disk.cylinders);
    out.set(info + 2, disk.heads & 0xff);
    put16(info + 3, 0xffff); // no write precompensation
    out.set(info + 5, 0xc0 | (disk.heads > 8 ? 0x08 : 0));
    put16(info + 6, disk.cylinders); // landing zone
    out.set(info + 8, disk.sectors & 0xff);
  }
  out.set(0x12, types);
  out.set(0x39, translation);

  const boot = (options.bootOrder ?? ["disk", "cdrom"]).map((d) => BOOT_NIBBLE[d]);
  if (boot.length > 3) throw new RangeError("at most three boot devices fit in CMOS");
  out.set(0x3d, ((boot[1] ?? 0) << 4) | (boot[0] ?? 0));
  out.set(0x38, (boot[2] ?? 0) << 4);
  return new Map([...out].sort((x, y) => x[0] - y[0]));
}
