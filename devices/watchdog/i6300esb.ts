/**
 * The watchdog timer of the Intel 6300ESB I/O controller hub, as QEMU's
 * `i6300esb`: PCI 8086:25ab, class 0x0880, no interrupt pin, one 16-byte
 * memory BAR.
 *
 * Configuration registers (only at these offsets and widths, as on QEMU;
 * other accesses reach plain storage like any device-specific register):
 * - 0x60 WDT_CONFIG (16-bit): bit 5 set disables the reboot (output) on a
 *   second-stage timeout, bit 2 selects the 1 MHz clock (else 1 kHz), bits
 *   0 and 4 the first-stage interrupt type (QEMU keeps `value & 0x11`).
 * - 0x68 WDT_LOCK (8-bit): bit 0 locks the register until reset, bit 1
 *   enables the timer (0→1 starts stage 1), bit 2 free-running mode.
 *
 * BAR0 (offsets):
 * - 0x00 TIMER1 / 0x04 TIMER2 preloads (20 bits, 32-bit writes).
 * - 0x0C RELOAD: writing 0x80 then 0x86 (any width) unlocks the next
 *   register write. An unlocked 16-bit RELOAD write with bit 8 restarts
 *   stage 1 (the "pet"); bit 9 (or bit 12, which Linux's driver uses)
 *   clears the timeout (previous reboot) flag. A 16-bit RELOAD read gives
 *   that flag in bits 9 and 12. Every other read is 0.
 *
 * Timing: a preload counts `preload << 15` (1 kHz) or `preload << 5`
 * (1 MHz) ticks of the 30 ns PCI clock. When stage 1 runs out the timer goes
 * on with stage 2; QEMU raises no interrupt for stage 1, and neither does
 * this model (it counts them). When stage 2 runs out with the reboot
 * enabled, the flag is set, `onExpire` runs and the watchdog goes back to
 * its reset state (stopped, unlocked); with the reboot disabled nothing
 * happens, and free-running mode starts stage 1 again. The flag survives
 * every reset, so a guest can tell it was rebooted by the watchdog.
 *
 * @module
 */

import { StateShape } from "../state_shape.ts";
import type {
  AccessSize,
  BusDevice,
  Clock,
  DeviceState,
  Snapshotting,
  TimedOptions,
} from "../types.ts";
import { DeadlineTimer } from "../deadline_timer.ts";
import { PciConfigSpace, type PciConfigState, type PciFunction } from "../pci/config_space.ts";

/** PCI IDs. */
export const I6300ESB_VENDOR_ID = 0x8086;
/** @see I6300ESB_VENDOR_ID */
export const I6300ESB_DEVICE_ID = 0x25ab;
/** Size of the memory BAR. */
export const I6300ESB_BAR_SIZE = 0x10;

/** Configuration register offsets. */
export const ESB_CONFIG_REG = 0x60;
/** @see ESB_CONFIG_REG */
export const ESB_LOCK_REG = 0x68;
/** BAR0 register offsets. */
export const ESB_REG = { TIMER1: 0x00, TIMER2: 0x04, GINTSR: 0x08, RELOAD: 0x0c } as const;
/** WDT_CONFIG bits. */
export const ESB_CONFIG = { REBOOT_DISABLE: 1 << 5, FREQ_1MHZ: 1 << 2, INT_TYPE: 0x11 } as const;
/** WDT_LOCK bits. */
export const ESB_LOCK = { LOCK: 1 << 0, ENABLE: 1 << 1, FREE_RUN: 1 << 2 } as const;
/** RELOAD bits. */
export const ESB_RELOAD = { RELOAD: 1 << 8, FLAG: 1 << 9, FLAG_LINUX: 1 << 12 } as const;
/** The two writes to RELOAD that unlock the next register write. */
export const ESB_UNLOCK = [0x80, 0x86] as const;

/** Nanoseconds per tick of the PCI clock the timer counts. */
const TICK_NS = 30;
const PRELOAD_MASK = 0xfffff;

/** What the 6300ESB watchdog needs from the board. */
export interface I6300esbOptions extends TimedOptions {
  /** Stage 2 ran out with the reboot enabled. */
  readonly onExpire: () => void;
}

/**
 * Saved state of {@link I6300esb}; `armed` and `remainingNs` are derived
 * for readers.
 */
export interface I6300esbState extends DeviceState {
  readonly version: 1;
  readonly config: PciConfigState;
  readonly rebootEnabled: boolean;
  readonly clock1MHz: boolean;
  /** First-stage interrupt type (`WDT_CONFIG & 0x11`, as QEMU keeps it). */
  readonly intType: number;
  readonly freeRun: boolean;
  readonly locked: boolean;
  readonly enabled: boolean;
  readonly timer1Preload: number;
  readonly timer2Preload: number;
  /** The stage running (1 or 2); 1 while stopped. */
  readonly stage: number;
  /** Steps of the 0x80, 0x86 unlock sequence seen (0-2). */
  readonly unlockState: number;
  /** The timeout status: set when stage 2 ran out with the reboot enabled. */
  readonly rebootFlag: boolean;
  /** When the running stage ends (clock ns), or null while stopped. */
  readonly deadlineNs: number | null;
  readonly firstStageExpirations: number;
  readonly expirations: number;
  // Derived, for readers.
  readonly armed: boolean;
  readonly remainingNs: number | null;
}

/** The configuration space, with WDT_CONFIG and WDT_LOCK decoded by the watchdog. */
class EsbConfigSpace extends PciConfigSpace {
  constructor(readonly owner: I6300esb) {
    super({
      vendorId: I6300ESB_VENDOR_ID,
      deviceId: I6300ESB_DEVICE_ID,
      classCode: 0x088000,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      bars: [{ kind: "mem32", size: I6300ESB_BAR_SIZE }],
    });
    // Device-specific registers are plain storage elsewhere, as on QEMU.
    this.setWritable(0x40, 0xc0);
  }

  override read(offset: number, size: AccessSize): number {
    if (offset === ESB_CONFIG_REG && size === 2) return this.owner.configRegister();
    if (offset === ESB_LOCK_REG && size === 1) return this.owner.lockRegister();
    return super.read(offset, size);
  }

  override write(offset: number, size: AccessSize, value: number): void {
    if (offset === ESB_CONFIG_REG && size === 2) this.owner.writeConfigRegister(value);
    else if (offset === ESB_LOCK_REG && size === 1) this.owner.writeLockRegister(value);
    else super.write(offset, size, value);
  }
}

/** The 6300ESB watchdog: PCI function, configuration registers and its BAR. */
export class I6300esb implements PciFunction, Snapshotting<I6300esbState> {
  /** @inheritdoc */
  readonly name = "i6300esb";
  /** @inheritdoc */
  readonly config: PciConfigSpace = new EsbConfigSpace(this);
  /** The 16-byte register block at BAR0. */
  readonly mmio: BusDevice;
  readonly #clock: Clock;
  readonly #onExpire: () => void;
  readonly #timer: DeadlineTimer;
  #rebootEnabled = true;
  #clock1MHz = false;
  #intType = 0;
  #freeRun = false;
  #locked = false;
  #enabled = false;
  #timer1 = PRELOAD_MASK;
  #timer2 = PRELOAD_MASK;
  #stage = 1;
  #unlock = 0;
  #rebootFlag = false;
  #firstStageExpirations = 0;
  #expirations = 0;

  /** @param options clock, timers and the expiry callback */
  constructor(options: I6300esbOptions) {
    this.#clock = options.clock;
    this.#onExpire = options.onExpire;
    this.#timer = new DeadlineTimer(options.timer, () => this.#stageExpired());
    this.mmio = {
      read: (offset, size) => this.#readMmio(offset, size),
      write: (offset, size, value) => this.#writeMmio(offset, size, value),
    };
  }

  /** WDT_CONFIG as a 16-bit read sees it. */
  configRegister(): number {
    return (this.#rebootEnabled ? 0 : ESB_CONFIG.REBOOT_DISABLE) |
      (this.#clock1MHz ? ESB_CONFIG.FREQ_1MHZ : 0) | this.#intType;
  }

  /** WDT_LOCK as a byte read sees it. */
  lockRegister(): number {
    return (this.#freeRun ? ESB_LOCK.FREE_RUN : 0) | (this.#locked ? ESB_LOCK.LOCK : 0) |
      (this.#enabled ? ESB_LOCK.ENABLE : 0);
  }

  /** A 16-bit write to WDT_CONFIG. */
  writeConfigRegister(value: number): void {
    this.#rebootEnabled = (value & ESB_CONFIG.REBOOT_DISABLE) === 0;
    this.#clock1MHz = (value & ESB_CONFIG.FREQ_1MHZ) !== 0;
    this.#intType = value & ESB_CONFIG.INT_TYPE;
  }

  /** A byte write to WDT_LOCK: ignored once locked. */
  writeLockRegister(value: number): void {
    if (this.#locked) return;
    this.#locked = (value & ESB_LOCK.LOCK) !== 0;
    this.#freeRun = (value & ESB_LOCK.FREE_RUN) !== 0;
    const was = this.#enabled;
    this.#enabled = (value & ESB_LOCK.ENABLE) !== 0;
    if (!was && this.#enabled) this.#restart(1);
    else if (!this.#enabled) this.#timer.cancel();
  }

  #readMmio(offset: number, size: AccessSize): number {
    if (offset === ESB_REG.RELOAD && size === 2) {
      return this.#rebootFlag ? ESB_RELOAD.FLAG | ESB_RELOAD.FLAG_LINUX : 0;
    }
    return 0;
  }

  #writeMmio(offset: number, size: AccessSize, value: number): void {
    if (offset === ESB_REG.RELOAD && value === ESB_UNLOCK[0]) {
      this.#unlock = 1;
      return;
    }
    if (offset === ESB_REG.RELOAD && value === ESB_UNLOCK[1] && this.#unlock === 1) {
      this.#unlock = 2;
      return;
    }
    // Byte writes only take part in the unlock sequence.
    if (this.#unlock !== 2 || size === 1) return;
    if (size === 2 && offset === ESB_REG.RELOAD) {
      if (value & ESB_RELOAD.RELOAD) this.#restart(1);
      if (value & (ESB_RELOAD.FLAG | ESB_RELOAD.FLAG_LINUX)) this.#rebootFlag = false;
    } else if (size === 4 && offset === ESB_REG.TIMER1) {
      this.#timer1 = value & PRELOAD_MASK;
    } else if (size === 4 && offset === ESB_REG.TIMER2) {
      this.#timer2 = value & PRELOAD_MASK;
    }
    this.#unlock = 0;
  }

  /** Nanoseconds stage `stage` lasts with the current preloads and clock. */
  stageNs(stage: number): number {
    const preload = stage <= 1 ? this.#timer1 : this.#timer2;
    return preload * (this.#clock1MHz ? 1 << 5 : 1 << 15) * TICK_NS;
  }

  #restart(stage: number): void {
    if (!this.#enabled) return;
    this.#stage = stage;
    this.#timer.arm(this.#clock.nowNs() + this.stageNs(stage));
  }

  #stageExpired(): void {
    if (this.#stage === 1) {
      this.#firstStageExpirations++;
      this.#restart(2);
      return;
    }
    if (this.#rebootEnabled) {
      this.#rebootFlag = true;
      this.#expirations++;
      this.#onExpire();
      this.#resetWatchdog();
    }
    if (this.#freeRun) this.#restart(1);
  }

  /** The watchdog's own reset: stopped, unlocked, default preloads. The flag stays. */
  #resetWatchdog(): void {
    this.#timer.cancel();
    this.#rebootEnabled = true;
    this.#clock1MHz = false;
    this.#intType = 0;
    this.#freeRun = false;
    this.#locked = false;
    this.#enabled = false;
    this.#timer1 = PRELOAD_MASK;
    this.#timer2 = PRELOAD_MASK;
    this.#stage = 1;
    this.#unlock = 0;
  }

  /** True while a stage is counting down. */
  get armed(): boolean {
    return this.#timer.deadline !== null;
  }

  /** The timeout status flag (a previous watchdog reboot). */
  get rebootFlag(): boolean {
    return this.#rebootFlag;
  }

  /** Sets the timeout status, as a board does when it rebuilds after a watchdog reboot. */
  set rebootFlag(value: boolean) {
    this.#rebootFlag = value;
  }

  /** Power-on state of the function; the timeout status survives, as on QEMU. */
  reset(): void {
    this.config.reset();
    this.#resetWatchdog();
  }

  /** Registers, preloads, the running stage's deadline and counters. */
  snapshot(): I6300esbState {
    const deadline = this.#timer.deadline;
    return {
      version: 1,
      config: this.config.snapshot(),
      rebootEnabled: this.#rebootEnabled,
      clock1MHz: this.#clock1MHz,
      intType: this.#intType,
      freeRun: this.#freeRun,
      locked: this.#locked,
      enabled: this.#enabled,
      timer1Preload: this.#timer1,
      timer2Preload: this.#timer2,
      stage: this.#stage,
      unlockState: this.#unlock,
      rebootFlag: this.#rebootFlag,
      deadlineNs: deadline,
      firstStageExpirations: this.#firstStageExpirations,
      expirations: this.#expirations,
      armed: deadline !== null,
      remainingNs: deadline === null ? null : Math.max(0, deadline - this.#clock.nowNs()),
    };
  }

  /**
   * Puts every register back and re-arms the running stage at its deadline.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: I6300esbState): void {
    const r = StateShape.versioned("i6300esb", state, 1);
    const v = {
      rebootEnabled: r.bool("rebootEnabled"),
      clock1MHz: r.bool("clock1MHz"),
      intType: r.oneOf("intType", [0x00, 0x01, 0x10, 0x11]),
      freeRun: r.bool("freeRun"),
      locked: r.bool("locked"),
      enabled: r.bool("enabled"),
      timer1: r.int("timer1Preload", 0, PRELOAD_MASK),
      timer2: r.int("timer2Preload", 0, PRELOAD_MASK),
      stage: r.oneOf("stage", [1, 2]),
      unlock: r.int("unlockState", 0, 2),
      rebootFlag: r.bool("rebootFlag"),
      deadline: r.numberOrNull("deadlineNs"),
      firstStageExpirations: r.int("firstStageExpirations"),
      expirations: r.int("expirations"),
    };
    if (v.deadline !== null && !v.enabled) r.fail("deadlineNs", "armed while disabled");
    this.config.restore(r.raw("config") as PciConfigState);
    this.#rebootEnabled = v.rebootEnabled;
    this.#clock1MHz = v.clock1MHz;
    this.#intType = v.intType;
    this.#freeRun = v.freeRun;
    this.#locked = v.locked;
    this.#enabled = v.enabled;
    this.#timer1 = v.timer1;
    this.#timer2 = v.timer2;
    this.#stage = v.stage;
    this.#unlock = v.unlock;
    this.#rebootFlag = v.rebootFlag;
    this.#firstStageExpirations = v.firstStageExpirations;
    this.#expirations = v.expirations;
    this.#timer.set(v.deadline);
  }
}
