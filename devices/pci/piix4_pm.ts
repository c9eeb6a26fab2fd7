/**
 * The power-management function of the Intel 82371AB (PIIX4), function 3 at
 * 00:01.3 as on QEMU's PC: 8086:7113, class 0x068000, revision 3, INTA#.
 * Its ACPI registers are what guests use to power off: a write to PM1_CNT
 * with SLP_EN and SLP_TYP = 0 (the PIIX4's "soft off", the value the DSDT
 * gives for \_S5 and the one SeaBIOS's APM power-off writes) ends the run.
 *
 * Configuration registers (PIIX4 datasheet, function 3):
 * - 0x40 PMBA: I/O base of the 64-byte PM register block (bits 15:6; bit 0
 *   reads 1), decoded while PMREGMISC (0x80) bit 0 is set. The block is
 *   not a standard BAR, so the device reports moves through
 *   {@link Piix4Pm.onPmBaseChange} and the board maps {@link Piix4Pm.pmIo}.
 * - 0x58 DEVACTB: bit 25 (APMC_EN) powers on set. There is no SMM here, so
 *   it tells SeaBIOS that SMM is already set up (it would otherwise raise an
 *   SMI and wait for an SMM handler that never runs), as QEMU does without SMM.
 * - 0x90 SMBBA and 0xD2 SMBHSTCFG: the SMBus base, kept as storage (no SMBus).
 * - 0x44-0x7F: the device resource and activity registers, as storage.
 *
 * PM I/O block at PMBA (offsets; ACPI fixed hardware in the PIIX4 layout):
 * - +0x00 PM1_STS (16, write 1 to clear): TMR_STS 0, BM_STS 4, GBL_STS 5,
 *   PWRBTN_STS 8, RTC_STS 10, WAK_STS 15.
 * - +0x02 PM1_EN (16): TMR_EN 0, GBL_EN 5, PWRBTN_EN 8, RTC_EN 10.
 * - +0x04 PM1_CNT (16): SCI_EN 0, BM_RLD 1, GBL_RLS 2, SLP_TYP 12:10,
 *   SLP_EN 13 (write-only: acts, reads 0).
 * - +0x08 PM_TMR (32, read-only): a 24-bit counter at 3.579545 MHz from the
 *   injected clock; TMR_STS is set each time its bit 23 toggles.
 * - +0x0C GPE0_STS (16, write 1 to clear) and +0x0E GPE0_EN (16).
 * - +0x10-0x3F: processor control, global and device status/enable/control
 *   and GPIO registers, kept as storage (status registers write-1-to-clear).
 *
 * The SCI is asserted while SCI_EN is set and an enabled PM1 or GPE0
 * status bit is set. APM ports 0xB2 (APMC) and 0xB3 (APMS) are here too
 * ({@link Piix4Pm.apm}): writing ACPI_ENABLE (0xF1) or ACPI_DISABLE (0xF0)
 * to APMC sets or clears SCI_EN, which the SMI handler would do on a real
 * board.
 *
 * @module
 */

import { laneByte, readLanes, writeLanes } from "../byte_lanes.ts";
import { DeadlineTimer } from "../deadline_timer.ts";
import { StateShape } from "../state_shape.ts";
import type {
  AccessSize,
  BusDevice,
  Clock,
  DeviceState,
  IrqLine,
  Snapshotting,
  TimerFactory,
} from "../types.ts";
import { PciConfigSpace, type PciConfigState, type PciFunction } from "./config_space.ts";

/** Bytes of the PM I/O block. */
export const PM_IO_SIZE = 64;
/** PM I/O base SeaBIOS programs on QEMU's PC (and the FADT describes). */
export const SEABIOS_PM_BASE = 0x600;
/** Offsets in the PM I/O block. */
export const PM_REG = {
  PM1_STS: 0x00,
  PM1_EN: 0x02,
  PM1_CNT: 0x04,
  PM_TMR: 0x08,
  GPE0_STS: 0x0c,
  GPE0_EN: 0x0e,
} as const;
/** Bytes of the GPE0 block (status then enable). */
export const GPE0_BLOCK_SIZE = 4;
/** PM1 status/enable bits. */
export const PM1_EVT = {
  TMR: 1 << 0,
  BM: 1 << 4,
  GBL: 1 << 5,
  PWRBTN: 1 << 8,
  RTC: 1 << 10,
} as const;
/** PM1_STS bit set on wake. */
export const WAK_STS = 1 << 15;
/** PM1_CNT bits. */
export const PM1_CNT = { SCI_EN: 1 << 0, SLP_EN: 1 << 13 } as const;
/** Position of SLP_TYP (3 bits) in PM1_CNT. */
export const SLP_TYP_SHIFT = 10;
/** SLP_TYP of the PIIX4's soft-off state, advertised for \_S5 in the DSDT. */
export const SLP_TYP_SOFT_OFF = 0;
/** APM control (APMC) and status (APMS) ports. */
export const APM_PORT_BASE = 0xb2;
/** Two ports: APMC, APMS. */
export const APM_PORT_COUNT = 2;
/** APMC values that switch SCI_EN on and off (the FADT's ACPI_ENABLE/ACPI_DISABLE). */
export const APMC_ACPI_ENABLE = 0xf1;
/** @see APMC_ACPI_ENABLE */
export const APMC_ACPI_DISABLE = 0xf0;
/** PM timer rate in Hz. */
export const PM_TIMER_HZ = 3_579_545;

const PMBA = 0x40;
const DEVACTB = 0x58;
const APMC_EN = 1 << 25;
const PMREGMISC = 0x80;
const SMBBA = 0x90;
const SMBHSTCFG = 0xd2;
const TIMER_MASK = 0xffffff;
const TIMER_MSB_PERIOD = 1 << 23;
// PM1_CNT bits software can write and read back (SLP_EN is an action).
const PM1_CNT_RW = 0x1c07;
const PM1_EN_RW = PM1_EVT.TMR | PM1_EVT.GBL | PM1_EVT.PWRBTN | PM1_EVT.RTC;

/** Byte ranges of the PM block whose bits are cleared by writing 1. */
const W1C_RANGES: readonly [number, number][] = [
  [PM_REG.PM1_STS, 2],
  [PM_REG.GPE0_STS, 2],
  [0x18, 2], // GLBSTS
  [0x1c, 4], // DEVSTS
];
/** Read-only or side-effect ranges not kept as storage. */
const NOT_STORAGE: readonly [number, number][] = [
  [PM_REG.PM_TMR, 4],
  [0x14, 2], // P_LVL2/P_LVL3: reading enters a C state; they read 0
  [0x30, 3], // GPIREG: general-purpose inputs (none driven)
];

function inRanges(ranges: readonly [number, number][], offset: number): boolean {
  return ranges.some(([start, length]) => offset >= start && offset < start + length);
}

/** Options for {@link Piix4Pm}. */
export interface Piix4PmOptions {
  /** Time for the PM timer. */
  readonly clock: Clock;
  /** Timers on the device's thread, for the timer-overflow SCI. */
  readonly timer: TimerFactory;
  /** The SCI line (ISA IRQ 9 on the PC). */
  readonly sci: IrqLine;
  /** The guest entered the soft-off state (SLP_TYP 0 with SLP_EN). */
  readonly onPowerOff: () => void;
}

/**
 * Saved state of {@link Piix4Pm}. The PM timer is not stored: it is the
 * injected clock, which a restored machine resumes at the saved time. The
 * derived group is for readers and is not restored.
 */
export interface Piix4PmState extends DeviceState {
  readonly version: 1;
  readonly config: PciConfigState;
  /** The PM I/O block's storage (the timer and the C-state registers read 0). */
  readonly pmRegisters: Uint8Array;
  /** Toggles of PM timer bit 23 already reflected in TMR_STS. */
  readonly overflowsSeen: number;
  /** Armed deadline of the timer-overflow SCI, or null. */
  readonly overflowDeadlineNs: number | null;
  /** APM control (0xB2) and status (0xB3). */
  readonly apmc: number;
  readonly apms: number;
  /** Level of the SCI. */
  readonly sci: boolean;
  // Derived, for readers.
  /** Where the PM block decodes, or null. */
  readonly pmBase: number | null;
  readonly pm1Status: number;
  readonly pm1Enable: number;
  readonly pm1Control: number;
  /** The PM timer's 24-bit value at the snapshot. */
  readonly timer: number;
  readonly gpe0Status: number;
  readonly gpe0Enable: number;
}

/** The PIIX4 power-management function with its ACPI register block and APM ports. */
export class Piix4Pm implements PciFunction, Snapshotting<Piix4PmState> {
  /** @inheritdoc */
  readonly name = "piix4-pm";
  /** @inheritdoc */
  readonly config = new PciConfigSpace({
    vendorId: 0x8086,
    deviceId: 0x7113,
    classCode: 0x068000,
    revision: 0x03,
    interruptPin: 1,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x1100,
    status: 0x0280, // medium DEVSEL, fast back-to-back
  });
  /** The 64-byte PM register block; the board maps it at {@link pmBase}. */
  readonly pmIo: BusDevice;
  /** APMC/APMS at ports 0xB2-0xB3 (fixed). */
  readonly apm: BusDevice;
  /** Called when the PM block starts or stops decoding, or moves (null: off). */
  onPmBaseChange: ((base: number | null) => void) | undefined;

  readonly #clock: Clock;
  readonly #sci: IrqLine;
  readonly #onPowerOff: () => void;
  readonly #overflowTimer: DeadlineTimer;
  readonly #regs = new Uint8Array(PM_IO_SIZE);
  #pmBase: number | null = null;
  /** PM timer half-periods (bit 23 toggles) already reflected in TMR_STS. */
  #overflowsSeen = 0;
  #apmc = 0;
  #apms = 0;
  #sciLevel = false;

  /** @param options clock, timers, the SCI line and the power-off callback */
  constructor(options: Piix4PmOptions) {
    this.#clock = options.clock;
    this.#sci = options.sci;
    this.#onPowerOff = options.onPowerOff;
    this.#overflowTimer = new DeadlineTimer(options.timer, () => this.#timerOverflow());
    this.#overflowsSeen = this.#overflows();
    const c = this.config;
    c.setWritable(PMBA, 2, [0xc0, 0xff]);
    c.setWritable(0x44, 0x80 - 0x44);
    c.setWritable(PMREGMISC, 1, [0x01]);
    c.setWritable(SMBBA, 2, [0xf0, 0xff]);
    c.setWritable(SMBHSTCFG, 1, [0x0f]);
    c.onWrite = () => this.#updatePmBase();
    this.#applyDefaults();
    this.pmIo = {
      read: (offset, size) => this.#readPm(offset, size),
      write: (offset, size, value) => this.#writePm(offset, size, value),
    };
    this.apm = {
      read: (offset) => offset === 0 ? this.#apmc : this.#apms,
      write: (offset, _size, value) => this.#writeApm(offset, value & 0xff),
    };
  }

  #applyDefaults(): void {
    const c = this.config;
    c.setU32(PMBA, 0x00000001);
    c.setU32(SMBBA, 0x00000001);
    c.setU32(DEVACTB, APMC_EN);
  }

  /** Where the PM block decodes, or null. */
  get pmBase(): number | null {
    return this.#pmBase;
  }

  /** Presses the power button: PWRBTN_STS, and an SCI when enabled (an ACPI guest shuts down). */
  pressPowerButton(): void {
    this.#setStatus(PM1_EVT.PWRBTN);
  }

  /** The PM timer's 24-bit value now. */
  timerValue(): number {
    return this.#ticks() % (TIMER_MASK + 1);
  }

  #ticks(): number {
    // Split so the products stay exact in doubles for any uptime.
    const ns = this.#clock.nowNs();
    const s = Math.floor(ns / 1e9);
    return s * PM_TIMER_HZ + Math.floor(((ns - s * 1e9) * PM_TIMER_HZ) / 1e9);
  }

  /** The first clock time at which the tick count reaches `ticks`. */
  #nsAtTick(ticks: number): number {
    const s = Math.floor(ticks / PM_TIMER_HZ);
    return s * 1e9 + Math.ceil(((ticks - s * PM_TIMER_HZ) * 1e9) / PM_TIMER_HZ);
  }

  #updatePmBase(): void {
    const c = this.config;
    const base = c.bytes[PMREGMISC] & 1 ? c.getU32(PMBA) & 0xffc0 : 0;
    const now = base === 0 ? null : base;
    if (now === this.#pmBase) return;
    this.#pmBase = now;
    this.onPmBaseChange?.(now);
  }

  #u16(offset: number): number {
    return this.#regs[offset] | this.#regs[offset + 1] << 8;
  }

  #readPm(offset: number, size: AccessSize): number {
    this.#catchUpOverflow();
    const timer = this.timerValue();
    return readLanes(offset, size, (at) => {
      if (at >= PM_REG.PM_TMR && at < PM_REG.PM_TMR + 4) return laneByte(timer, at - PM_REG.PM_TMR);
      return at < PM_IO_SIZE && !inRanges(NOT_STORAGE, at) ? this.#regs[at] : 0;
    });
  }

  #writePm(offset: number, size: AccessSize, value: number): void {
    this.#catchUpOverflow();
    writeLanes(offset, size, value, (at, byte) => {
      if (at >= PM_IO_SIZE || inRanges(NOT_STORAGE, at)) return;
      if (inRanges(W1C_RANGES, at)) {
        if (at === PM_REG.PM1_STS && byte & PM1_EVT.TMR) this.#overflowsSeen = this.#overflows();
        this.#regs[at] &= ~byte;
      } else if (at === PM_REG.PM1_EN || at === PM_REG.PM1_EN + 1) {
        this.#regs[at] = byte & laneByte(PM1_EN_RW, at - PM_REG.PM1_EN);
      } else if (at === PM_REG.PM1_CNT || at === PM_REG.PM1_CNT + 1) {
        const high = at === PM_REG.PM1_CNT + 1;
        this.#regs[at] = byte & laneByte(PM1_CNT_RW, high ? 1 : 0);
        // SLP_TYP and SLP_EN share the high byte, so a byte write there is a whole request.
        if (high && byte & (PM1_CNT.SLP_EN >> 8)) this.#sleep((byte >> (SLP_TYP_SHIFT - 8)) & 7);
      } else {
        this.#regs[at] = byte;
      }
    });
    this.#armOverflow();
    this.#updateSci();
  }

  #sleep(type: number): void {
    // Other sleep states (S1-S4) are not supported: the guest keeps running.
    if (type === SLP_TYP_SOFT_OFF) this.#onPowerOff();
  }

  #writeApm(offset: number, value: number): void {
    if (offset !== 0) {
      this.#apms = value;
      return;
    }
    this.#apmc = value;
    const cnt = this.#regs[PM_REG.PM1_CNT];
    if (value === APMC_ACPI_ENABLE) this.#regs[PM_REG.PM1_CNT] = cnt | PM1_CNT.SCI_EN;
    else if (value === APMC_ACPI_DISABLE) this.#regs[PM_REG.PM1_CNT] = cnt & ~PM1_CNT.SCI_EN;
    this.#updateSci();
  }

  /** Times bit 23 of the timer has toggled since power-on. */
  #overflows(): number {
    return Math.floor(this.#ticks() / TIMER_MSB_PERIOD);
  }

  /** Sets TMR_STS if bit 23 toggled since it was last cleared. */
  #catchUpOverflow(): void {
    if (this.#overflows() > this.#overflowsSeen) this.#regs[PM_REG.PM1_STS] |= PM1_EVT.TMR;
  }

  /** Arms the SCI for the next toggle of bit 23 while TMR_EN is set and TMR_STS clear. */
  #armOverflow(): void {
    const enabled = (this.#u16(PM_REG.PM1_EN) & PM1_EVT.TMR) !== 0;
    if (!enabled || this.#regs[PM_REG.PM1_STS] & PM1_EVT.TMR) {
      this.#overflowTimer.cancel();
      return;
    }
    this.#overflowTimer.arm(this.#nsAtTick((this.#overflowsSeen + 1) * TIMER_MSB_PERIOD));
  }

  #timerOverflow(): void {
    this.#catchUpOverflow();
    this.#updateSci();
  }

  #setStatus(bits: number): void {
    this.#regs[PM_REG.PM1_STS] |= bits & 0xff;
    this.#regs[PM_REG.PM1_STS + 1] |= bits >> 8;
    this.#updateSci();
  }

  #sciWanted(): boolean {
    const pm1 = this.#u16(PM_REG.PM1_STS) & this.#u16(PM_REG.PM1_EN);
    const gpe = this.#u16(PM_REG.GPE0_STS) & this.#u16(PM_REG.GPE0_EN);
    return (this.#regs[PM_REG.PM1_CNT] & PM1_CNT.SCI_EN) !== 0 && (pm1 !== 0 || gpe !== 0);
  }

  #updateSci(): void {
    const level = this.#sciWanted();
    if (level === this.#sciLevel) return;
    this.#sciLevel = level;
    this.#sci.set(level);
  }

  /** Power-on state: PM block off (reported), registers clear, SCI low. */
  reset(): void {
    this.config.reset();
    this.#applyDefaults();
    this.#regs.fill(0);
    this.#overflowsSeen = this.#overflows();
    this.#overflowTimer.cancel();
    this.#apmc = 0;
    this.#apms = 0;
    this.#updateSci();
    this.#updatePmBase();
  }

  /** Configuration, the PM block and APM registers, caught up to the clock's present. */
  snapshot(): Piix4PmState {
    this.#catchUpOverflow();
    return {
      version: 1,
      config: this.config.snapshot(),
      pmRegisters: this.#regs.slice(),
      overflowsSeen: this.#overflowsSeen,
      overflowDeadlineNs: this.#overflowTimer.deadline,
      apmc: this.#apmc,
      apms: this.#apms,
      sci: this.#sciLevel,
      pmBase: this.#pmBase,
      pm1Status: this.#u16(PM_REG.PM1_STS),
      pm1Enable: this.#u16(PM_REG.PM1_EN),
      pm1Control: this.#u16(PM_REG.PM1_CNT),
      timer: this.timerValue(),
      gpe0Status: this.#u16(PM_REG.GPE0_STS),
      gpe0Enable: this.#u16(PM_REG.GPE0_EN),
    };
  }

  /**
   * Puts the configuration space and registers back, reports the PM block's
   * base through `onPmBaseChange`, re-arms the overflow timer at its saved
   * deadline and drives the SCI to the level the registers give.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: Piix4PmState): void {
    const r = StateShape.versioned("piix4-pm", state, 1);
    const regs = r.bytes("pmRegisters", PM_IO_SIZE);
    for (let at = 0; at < PM_IO_SIZE; at++) {
      if (inRanges(NOT_STORAGE, at) && regs[at] !== 0) {
        r.fail("pmRegisters", "the timer bytes are not storage");
      }
    }
    const v = {
      overflowsSeen: r.int("overflowsSeen"),
      deadline: r.numberOrNull("overflowDeadlineNs"),
      apmc: r.int("apmc", 0, 0xff),
      apms: r.int("apms", 0, 0xff),
    };
    this.config.restore(r.raw("config") as PciConfigState);
    this.#regs.set(regs);
    this.#overflowsSeen = v.overflowsSeen;
    this.#apmc = v.apmc;
    this.#apms = v.apms;
    this.#overflowTimer.set(v.deadline);
    this.#sciLevel = this.#sciWanted();
    this.#sci.set(this.#sciLevel);
    this.#updatePmBase();
  }
}
