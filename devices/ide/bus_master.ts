/**
 * The PIIX3 bus master IDE function (BMIDE, 16 I/O ports at BAR4; Intel
 * 82371SB datasheet 2.7): per channel a command register (start/stop, read
 * or write control), a status register (active, error, interrupt, drive DMA
 * capable bits) and a physical region descriptor table pointer. Each PRD is
 * 8 bytes: a 32-bit buffer address, a 16-bit byte count (0 means 64 KiB) and
 * end-of-table in bit 31 of the second dword.
 *
 * @module
 */

import {
  type AccessSize,
  type BusDevice,
  type DeviceState,
  type GuestMemory,
  GuestMemoryError,
  type Snapshotting,
} from "../types.ts";
import { laneByte, readLanes, writeLanes } from "../byte_lanes.ts";
import { StateShape } from "../state_shape.ts";
import type { DmaRequest } from "./ide_drive.ts";

/** Command register: start/stop bus master. */
export const BM_CMD_START = 0x01;
/** Command register: bus master writes guest memory (a device-to-memory transfer). */
export const BM_CMD_WRITE = 0x08;
/** Status register: bus master active. */
export const BM_ST_ACTIVE = 0x01;
/** Status register: PCI error during a transfer (write one to clear). */
export const BM_ST_ERROR = 0x02;
/** Status register: the channel's IDE interrupt was asserted (write one to clear). */
export const BM_ST_INTERRUPT = 0x04;
/** Status register: drive 0 / drive 1 DMA capable (software scratch bits). */
export const BM_ST_DRIVE0_DMA = 0x20;
/** @see BM_ST_DRIVE0_DMA */
export const BM_ST_DRIVE1_DMA = 0x40;

/** What a bus master channel asks its IDE channel for. */
export interface DmaSource {
  /** The selected drive's pending transfer, if any. */
  pendingDma(): DmaRequest | null;
}

/** Construction options of {@link BusMaster}. */
export interface BusMasterOptions {
  /** Guest RAM the PRD tables and buffers live in. */
  readonly memory: GuestMemory;
  /** The PCI command register's bus master enable; transfers wait while it is false. */
  readonly masterEnabled?: () => boolean;
}

/** One channel's bus master registers and how far it got through its PRD table. */
export interface BusMasterChannelState {
  readonly command: number;
  readonly status: number;
  /** PRD table pointer (dword aligned). */
  readonly prdTable: number;
  /** Address of the PRD being worked on. */
  readonly entry: number;
  /** Bytes of that PRD's buffer already used. */
  readonly used: number;
}

/** Saved state of the bus master IDE function's registers, both channels. */
export interface BusMasterState extends DeviceState {
  readonly version: 1;
  readonly channels: readonly [BusMasterChannelState, BusMasterChannelState];
}

const STATUS_BITS = BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INTERRUPT | BM_ST_DRIVE0_DMA |
  BM_ST_DRIVE1_DMA;

interface Engine {
  command: number;
  status: number;
  prdTable: number;
  /** Address of the PRD being worked on and bytes of it already used. */
  entry: number;
  used: number;
  source: DmaSource | undefined;
}

function engine(): Engine {
  return { command: 0, status: 0, prdTable: 0, entry: 0, used: 0, source: undefined };
}

/** Bus master IDE registers and PRD-driven transfers for two channels. */
export class BusMaster implements BusDevice, Snapshotting<BusMasterState> {
  readonly #memory: GuestMemory;
  readonly #masterEnabled: () => boolean;
  readonly #engines: [Engine, Engine] = [engine(), engine()];

  /** @param options guest memory and the bus master enable */
  constructor(options: BusMasterOptions) {
    this.#memory = options.memory;
    this.#masterEnabled = options.masterEnabled ?? (() => true);
  }

  /** Connects channel `index` (0 primary, 1 secondary) to its IDE channel. */
  attach(index: 0 | 1, source: DmaSource): void {
    this.#engines[index].source = source;
  }

  /** A drive on channel `index` posted a transfer: move it if the engine is running. */
  kick(index: 0 | 1): void {
    this.#run(this.#engines[index]);
  }

  /** The IDE interrupt of channel `index` was asserted. */
  interrupt(index: 0 | 1): void {
    this.#engines[index].status |= BM_ST_INTERRUPT;
  }

  /** Reads `size` bytes of the 16 registers. */
  read(offset: number, size: AccessSize): number {
    return readLanes(offset, size, (at) => this.#readByte(at & 0xf));
  }

  /** Writes `size` bytes of the 16 registers, lowest address first. */
  write(offset: number, size: AccessSize, value: number): void {
    writeLanes(offset, size, value, (at, byte) => this.#writeByte(at & 0xf, byte));
  }

  /** Back to power-on state: stopped, status and PRD pointers cleared. */
  reset(): void {
    for (const e of this.#engines) {
      e.command =
        e.status =
        e.prdTable =
        e.entry =
        e.used =
          0;
    }
  }

  /** Registers and PRD progress of both channels. */
  snapshot(): BusMasterState {
    const channel = (e: Engine): BusMasterChannelState => ({
      command: e.command,
      status: e.status,
      prdTable: e.prdTable,
      entry: e.entry,
      used: e.used,
    });
    return { version: 1, channels: [channel(this.#engines[0]), channel(this.#engines[1])] };
  }

  /** Puts registers and PRD progress back; a transfer resumes at the next kick or start. */
  restore(state: BusMasterState): void {
    const s = StateShape.versioned("ide bus master", state, 1);
    const channels = s.array("channels", 2).map((value, i) => {
      const c = new StateShape("ide bus master", value, `state.channels[${i}]`);
      const command = c.int("command", 0, 0xff);
      if (command & ~(BM_CMD_START | BM_CMD_WRITE)) c.fail("command", "has unknown bits");
      const status = c.int("status", 0, 0xff);
      if (status & ~STATUS_BITS) c.fail("status", "has unknown bits");
      const prdTable = c.int("prdTable", 0, 0xfffffffc);
      if (prdTable & 3) c.fail("prdTable", "must be dword aligned");
      return {
        command,
        status,
        prdTable,
        entry: c.int("entry", 0, 2 ** 33),
        used: c.int("used", 0, 0x10000),
      };
    });
    channels.forEach((c, i) => Object.assign(this.#engines[i], c));
  }

  #readByte(offset: number): number {
    const e = this.#engines[offset >> 3];
    const reg = offset & 7;
    if (reg === 0) return e.command;
    if (reg === 2) return e.status;
    if (reg >= 4) return laneByte(e.prdTable, reg - 4);
    return 0;
  }

  #writeByte(offset: number, value: number): void {
    const e = this.#engines[offset >> 3];
    const reg = offset & 7;
    if (reg === 0) {
      const wasStarted = (e.command & BM_CMD_START) !== 0;
      e.command = value & (BM_CMD_START | BM_CMD_WRITE);
      if (!wasStarted && value & BM_CMD_START) {
        // Every start walks the PRD table from its first entry.
        e.status |= BM_ST_ACTIVE;
        e.entry = e.prdTable;
        e.used = 0;
        this.#run(e);
      } else if (wasStarted && !(value & BM_CMD_START)) {
        e.status &= ~BM_ST_ACTIVE;
      }
    } else if (reg === 2) {
      const cleared = value & (BM_ST_ERROR | BM_ST_INTERRUPT);
      const keep = e.status & (BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INTERRUPT) & ~cleared;
      e.status = keep | (value & (BM_ST_DRIVE0_DMA | BM_ST_DRIVE1_DMA));
    } else if (reg >= 4) {
      const shift = 8 * (reg - 4);
      const mask = (0xff << shift) >>> 0;
      // The table is dword aligned.
      e.prdTable = (((e.prdTable & ~mask) | (value << shift)) & 0xfffffffc) >>> 0;
    }
  }

  #run(e: Engine): void {
    if (!(e.command & BM_CMD_START) || !(e.status & BM_ST_ACTIVE) || !this.#masterEnabled()) return;
    const req = e.source?.pendingDma();
    if (!req) return;
    const memory = this.#memory;
    try {
      while (req.remaining > 0) {
        const base = (memory.readU32(e.entry) & 0xfffffffe) >>> 0;
        const control = memory.readU32(e.entry + 4);
        const count = (control & 0xfffe) || 0x10000;
        const n = Math.min(count - e.used, req.remaining);
        req.transfer(memory.view(base + e.used, n));
        e.used += n;
        if (e.used >= count) {
          if (control & 0x80000000) {
            // Table exhausted: the engine stops, finished with the device or not.
            e.status &= ~BM_ST_ACTIVE;
            break;
          }
          e.entry += 8;
          e.used = 0;
        }
      }
    } catch (err) {
      if (!(err instanceof GuestMemoryError)) throw err;
      e.status = (e.status | BM_ST_ERROR) & ~BM_ST_ACTIVE;
      req.fail();
    }
  }
}
