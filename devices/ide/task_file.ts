/**
 * The command block registers one device latches: the 48-bit register pairs
 * (current and previous, selected on read by HOB), device register and error.
 *
 * @module
 */

import {
  DEV_LBA,
  REG_DEVICE,
  REG_ERROR,
  REG_LBA_HIGH,
  REG_LBA_LOW,
  REG_LBA_MID,
  REG_SECTOR_COUNT,
} from "./ata_constants.ts";
import type { DeviceState, Snapshotting } from "../types.ts";
import { StateShape } from "../state_shape.ts";

const FIELDS = [
  "feature",
  "featurePrev",
  "sectorCount",
  "sectorCountPrev",
  "lbaLow",
  "lbaLowPrev",
  "lbaMid",
  "lbaMidPrev",
  "lbaHigh",
  "lbaHighPrev",
  "device",
  "error",
] as const;

/** Saved task file: every register byte, current and previous. */
export interface TaskFileState extends DeviceState {
  readonly version: 1;
  readonly feature: number;
  readonly featurePrev: number;
  readonly sectorCount: number;
  readonly sectorCountPrev: number;
  readonly lbaLow: number;
  readonly lbaLowPrev: number;
  readonly lbaMid: number;
  readonly lbaMidPrev: number;
  readonly lbaHigh: number;
  readonly lbaHighPrev: number;
  readonly device: number;
  readonly error: number;
}

/** A device's task file registers. Writes shift the old value into the "previous" byte (ATA 48-bit FIFO). */
export class TaskFile implements Snapshotting<TaskFileState> {
  /** Features (current / previous). */
  feature = 0;
  /** @see feature */
  featurePrev = 0;
  /** Sector count, or ATAPI interrupt reason. */
  sectorCount = 0;
  /** @see sectorCount */
  sectorCountPrev = 0;
  /** LBA 7:0. */
  lbaLow = 0;
  /** @see lbaLow */
  lbaLowPrev = 0;
  /** LBA 15:8 (ATAPI byte count low). */
  lbaMid = 0;
  /** @see lbaMid */
  lbaMidPrev = 0;
  /** LBA 23:16 (ATAPI byte count high). */
  lbaHigh = 0;
  /** @see lbaHigh */
  lbaHighPrev = 0;
  /** Device register as last written (bits 7 and 5 read back as one). */
  device = 0;
  /** Error register, set by the device. */
  error = 0;

  /** A host write to command-block register `reg` (1..6). */
  write(reg: number, value: number): void {
    value &= 0xff;
    switch (reg) {
      case REG_ERROR:
        this.featurePrev = this.feature;
        this.feature = value;
        break;
      case REG_SECTOR_COUNT:
        this.sectorCountPrev = this.sectorCount;
        this.sectorCount = value;
        break;
      case REG_LBA_LOW:
        this.lbaLowPrev = this.lbaLow;
        this.lbaLow = value;
        break;
      case REG_LBA_MID:
        this.lbaMidPrev = this.lbaMid;
        this.lbaMid = value;
        break;
      case REG_LBA_HIGH:
        this.lbaHighPrev = this.lbaHigh;
        this.lbaHigh = value;
        break;
      case REG_DEVICE:
        this.device = value;
        break;
    }
  }

  /** A host read of register `reg` (1..6); `hob` selects the previous bytes of the 48-bit pairs. */
  read(reg: number, hob: boolean): number {
    switch (reg) {
      case REG_ERROR:
        return this.error;
      case REG_SECTOR_COUNT:
        return hob ? this.sectorCountPrev : this.sectorCount;
      case REG_LBA_LOW:
        return hob ? this.lbaLowPrev : this.lbaLow;
      case REG_LBA_MID:
        return hob ? this.lbaMidPrev : this.lbaMid;
      case REG_LBA_HIGH:
        return hob ? this.lbaHighPrev : this.lbaHigh;
      case REG_DEVICE:
        return this.device | 0xa0;
      default:
        return 0xff;
    }
  }

  /** True when the device register asks for LBA addressing. */
  get lbaMode(): boolean {
    return (this.device & DEV_LBA) !== 0;
  }

  /** Sector count of a 28-bit command (0 means 256). */
  count28(): number {
    return this.sectorCount || 256;
  }

  /** Sector count of a 48-bit command (0 means 65536). */
  count48(): number {
    return (this.sectorCountPrev << 8 | this.sectorCount) || 65536;
  }

  /** The 28-bit LBA in the registers. */
  lba28(): number {
    return ((this.device & 0x0f) << 24 | this.lbaHigh << 16 | this.lbaMid << 8 | this.lbaLow) >>> 0;
  }

  /** The 48-bit LBA in the registers (previous bytes are bits 47:24). */
  lba48(): number {
    const high = this.lbaHighPrev << 16 | this.lbaMidPrev << 8 | this.lbaLowPrev;
    return high * 2 ** 24 + (this.lbaHigh << 16 | this.lbaMid << 8 | this.lbaLow);
  }

  /** Stores a 28-bit LBA (keeps DEV and LBA bits of the device register). */
  setLba28(lba: number): void {
    this.lbaLow = lba & 0xff;
    this.lbaMid = (lba >>> 8) & 0xff;
    this.lbaHigh = (lba >>> 16) & 0xff;
    this.device = (this.device & 0xf0) | ((lba >>> 24) & 0x0f);
  }

  /** Stores a 48-bit LBA in both halves of the register pairs. */
  setLba48(lba: number): void {
    const high = Math.floor(lba / 2 ** 24);
    this.lbaLow = lba & 0xff;
    this.lbaMid = (lba >>> 8) & 0xff;
    this.lbaHigh = (lba >>> 16) & 0xff;
    this.lbaLowPrev = high & 0xff;
    this.lbaMidPrev = (high >>> 8) & 0xff;
    this.lbaHighPrev = (high >>> 16) & 0xff;
  }

  /** Loads a signature into sector count and LBA low/mid/high (the device register is left alone). */
  setSignature(lbaMid: number, lbaHigh: number): void {
    this.sectorCount = this.sectorCountPrev = 1;
    this.lbaLow = this.lbaLowPrev = 1;
    this.lbaMid = this.lbaMidPrev = lbaMid;
    this.lbaHigh = this.lbaHighPrev = lbaHigh;
  }

  /** Every register byte. */
  snapshot(): TaskFileState {
    const s: Record<string, number> = { version: 1 };
    for (const f of FIELDS) s[f] = this[f];
    return s as unknown as TaskFileState;
  }

  /** Puts every register byte back. */
  restore(state: TaskFileState): void {
    const s = StateShape.versioned("ide task file", state, 1);
    const values = FIELDS.map((f) => s.int(f, 0, 0xff));
    FIELDS.forEach((f, i) => this[f] = values[i]);
  }
}
