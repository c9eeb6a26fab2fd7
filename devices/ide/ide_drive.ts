/**
 * What ATA disks and ATAPI CD-ROMs share: the task file, status and error
 * registers, the pending-interrupt flag, PIO data blocks through the data
 * port (DRQ), DMA requests for the bus master, resets, SET FEATURES and the
 * power-management commands.
 *
 * @module
 */

import type { BlockBackend, Json } from "../types.ts";
import { CMD, ER_ABRT, ST_BSY, ST_DRQ, ST_ERR } from "./ata_constants.ts";
import type { TransferMode } from "./identify.ts";
import { TaskFile } from "./task_file.ts";

/** A transfer waiting for (or being moved by) the bus master. */
export interface DmaRequest {
  /** True when data moves from the device into guest memory. */
  readonly toMemory: boolean;
  /** Bytes still to move; 0 once the command completed or failed. */
  readonly remaining: number;
  /** Moves `chunk.length` (at most `remaining`) bytes: fills `chunk` or consumes it. */
  transfer(chunk: Uint8Array): void;
  /** The bus master could not reach guest memory: the command ends with an error. */
  fail(): void;
}

/** The channel as a drive sees it. */
export interface DriveHost {
  /** The drive's interrupt-pending flag changed. */
  irqChanged(): void;
  /** The drive posted a DMA request. */
  dmaReady(): void;
}

/** How a drive is wired and named. */
export interface DriveConfig {
  readonly backend: BlockBackend;
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  /** 0 for master (device 0), 1 for slave. */
  readonly unit: 0 | 1;
  /** Whether the other device on the cable exists (IDENTIFY word 93). */
  readonly peerPresent: boolean;
  readonly host: DriveHost;
}

/** Power modes reported by CHECK POWER MODE. */
export type PowerMode = "active" | "idle" | "standby";

const EMPTY = new Uint8Array(0);

/** Base of the ATA and ATAPI device models. */
export abstract class IdeDrive {
  /** "disk" or "cdrom". */
  abstract readonly kind: "disk" | "cdrom";
  /** Command block registers this device latched. */
  readonly tf: TaskFile = new TaskFile();
  /** Status register. */
  status = 0;
  /** INTRQ pending: set on command completion or a new DRQ block, cleared by reading status. */
  irqPending = false;
  /** Last ATA command opcode, null before the first. */
  lastCommand: number | null = null;
  /** Bytes moved from the medium to the host. */
  bytesRead = 0;
  /** Bytes moved from the host to the medium. */
  bytesWritten = 0;
  /** Transfer modes selected with SET FEATURES. */
  mode: TransferMode = { pio: 4, mwdma: 2, udma: null };
  /** Current power mode. */
  power: PowerMode = "active";

  #buf: Uint8Array = EMPTY;
  #scratch = new Uint8Array(4096);
  #pos = 0;
  #end = 0;
  #dir: "in" | "out" | null = null;
  #next: ((data: Uint8Array) => void) | null = null;
  #dma: DmaRequest | null = null;

  /** @param config backend, identity strings, position and channel hooks */
  constructor(protected readonly config: DriveConfig) {}

  /** Status after a command completes without error. */
  protected abstract get readyStatus(): number;
  /** Status right after a reset. */
  protected abstract get resetStatus(): number;
  /** Loads the device signature into the task file. */
  protected abstract signature(): void;
  /** Runs command `op` (the drive is not busy and has no transfer pending). */
  protected abstract execute(op: number): void;
  /** Power-on defaults of the subclass (multiple count, translation). */
  protected abstract powerOnDefaults(): void;

  /** Reads the status register, acknowledging the interrupt. */
  readStatus(): number {
    if (this.irqPending) {
      this.irqPending = false;
      this.config.host.irqChanged();
    }
    return this.status;
  }

  /** The command register was written. */
  command(op: number): void {
    // Only DEVICE RESET may interrupt a busy device.
    if (this.status & ST_BSY && op !== CMD.DEVICE_RESET) return;
    this.lastCommand = op;
    this.#cancel();
    this.status = this.readyStatus & ~ST_ERR;
    if (this.irqPending) {
      this.irqPending = false;
      this.config.host.irqChanged();
    }
    this.execute(op);
  }

  /** A data-port read of `size` bytes (a byte access still moves one 16-bit word). */
  readData(size: number): number {
    const n = size === 4 ? 4 : 2;
    const p = this.#pos;
    let v: number;
    if (this.#dir === "in" && p + n <= this.#end) {
      const b = this.#buf;
      v = n === 4
        ? (b[p] | b[p + 1] << 8 | b[p + 2] << 16 | b[p + 3] << 24) >>> 0
        : b[p] | b[p + 1] << 8;
      this.#pos = p + n;
      if (this.#pos === this.#end) this.#blockDone();
    } else {
      // Crosses a DRQ block boundary, or no data is pending.
      v = 0;
      for (let i = 0; i < n; i++) v += this.#readByte() * 2 ** (8 * i);
    }
    return size === 1 ? v & 0xff : v;
  }

  /** A data-port write of `size` bytes. */
  writeData(size: number, value: number): void {
    const n = size === 4 ? 4 : 2;
    for (let i = 0; i < n; i++) this.#writeByte(Math.floor(value / 2 ** (8 * i)) & 0xff);
  }

  /** `rep insw/insd`: fills `dst` from the data port. */
  readDataBlock(size: number, dst: Uint8Array): void {
    if (size === 1) {
      for (let i = 0; i < dst.length; i++) dst[i] = this.readData(1);
      return;
    }
    let off = 0;
    while (off < dst.length) {
      if (this.#dir !== "in") {
        dst.fill(0xff, off);
        return;
      }
      const n = Math.min(dst.length - off, this.#end - this.#pos);
      dst.set(this.#buf.subarray(this.#pos, this.#pos + n), off);
      off += n;
      this.#pos += n;
      if (this.#pos === this.#end) this.#blockDone();
    }
  }

  /** `rep outsw/outsd`: writes `src` to the data port. */
  writeDataBlock(size: number, src: Uint8Array): void {
    if (size === 1) {
      for (let i = 0; i < src.length; i++) this.writeData(1, src[i]);
      return;
    }
    let off = 0;
    while (off < src.length && this.#dir === "out") {
      const n = Math.min(src.length - off, this.#end - this.#pos);
      this.#buf.set(src.subarray(off, off + n), this.#pos);
      off += n;
      this.#pos += n;
      if (this.#pos === this.#end) this.#blockDone();
    }
  }

  /** The transfer waiting for the bus master, if any. */
  get pendingDma(): DmaRequest | null {
    return this.#dma;
  }

  /** SRST asserted: the device goes busy and drops any transfer. */
  beginReset(): void {
    this.#cancel();
    this.status = ST_BSY;
    this.irqPending = false;
  }

  /** SRST released (or DEVICE RESET): signature, diagnostic code, no interrupt. */
  finishReset(): void {
    this.#cancel();
    this.signature();
    this.tf.error = 0x01;
    this.status = this.resetStatus;
    this.irqPending = false;
    this.power = "active";
  }

  /** EXECUTE DEVICE DIAGNOSTIC: like a reset; `interrupt` for the device that reports. */
  diagnose(interrupt: boolean): void {
    this.lastCommand = CMD.EXECUTE_DEVICE_DIAGNOSTIC;
    this.finishReset();
    if (interrupt) this.raiseIrq();
  }

  /** Hardware reset: power-on defaults, then the reset outputs. */
  powerOn(): void {
    this.mode = { pio: 4, mwdma: 2, udma: null };
    this.powerOnDefaults();
    this.finishReset();
    this.lastCommand = null;
  }

  /** Makes the backend's completed writes durable. */
  flush(): void {
    this.config.backend.flush();
  }

  /** Common state as plain JSON; subclasses add their own fields. */
  state(): { [key: string]: Json } {
    return {
      kind: this.kind,
      size: this.config.backend.size,
      model: this.config.model,
      serial: this.config.serial,
      readonly: this.config.backend.readonly,
      lastCommand: this.lastCommand,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      status: this.status,
      error: this.tf.error,
      irqPending: this.irqPending,
      power: this.power,
      transferMode: { ...this.mode },
      registers: this.tf.state(),
      dmaPending: this.#dma !== null,
    };
  }

  // ---- for subclasses ------------------------------------------------------

  /** A reusable buffer of `length` bytes (valid until the next call). */
  protected scratch(length: number): Uint8Array {
    if (this.#scratch.length < length) {
      this.#scratch = new Uint8Array(Math.max(length, 2 * this.#scratch.length));
    }
    return this.#scratch.subarray(0, length);
  }

  /** Offers `data` as one PIO data-in DRQ block; `next` runs once the host read it all. */
  protected pioIn(data: Uint8Array, irq: boolean, next: () => void): void {
    this.#buf = data;
    this.#pos = 0;
    this.#end = data.length;
    this.#dir = "in";
    this.#next = next;
    this.status = (this.readyStatus | ST_DRQ) & ~ST_ERR;
    if (irq) this.raiseIrq();
  }

  /** Asks for a PIO data-out DRQ block of `length` bytes; `next` gets them once written. */
  protected pioOut(length: number, irq: boolean, next: (data: Uint8Array) => void): void {
    this.#buf = this.scratch(length);
    this.#pos = 0;
    this.#end = length;
    this.#dir = "out";
    this.#next = next;
    this.status = (this.readyStatus | ST_DRQ) & ~ST_ERR;
    if (irq) this.raiseIrq();
  }

  /**
   * Posts a DMA transfer of `length` bytes. `move(pos, chunk)` fills (to
   * memory) or consumes `chunk` at byte `pos` of the transfer and may throw;
   * `done` completes the command, `failed(memory)` ends it with an error.
   */
  protected startDma(
    toMemory: boolean,
    length: number,
    move: (pos: number, chunk: Uint8Array) => void,
    done: () => void,
    failed: (memoryFault: boolean) => void,
  ): void {
    let pos = 0;
    // deno-lint-ignore no-this-alias
    const drive = this;
    const req: DmaRequest = {
      toMemory,
      get remaining() {
        return drive.#dma === req ? length - pos : 0;
      },
      transfer(chunk) {
        if (drive.#dma !== req) return;
        const n = Math.min(chunk.length, length - pos);
        try {
          move(pos, chunk.subarray(0, n));
        } catch {
          drive.#dma = null;
          failed(false);
          return;
        }
        pos += n;
        if (pos === length) {
          drive.#dma = null;
          done();
        }
      },
      fail() {
        if (drive.#dma !== req) return;
        drive.#dma = null;
        failed(true);
      },
    };
    this.#dma = req;
    this.status = (this.readyStatus | ST_DRQ) & ~ST_ERR;
    this.config.host.dmaReady();
  }

  /** Ends the command successfully, with an interrupt unless `irq` is false. */
  protected finish(irq = true): void {
    this.status = this.readyStatus;
    if (irq) this.raiseIrq();
  }

  /** Ends the command with ERR and `error` in the error register, and interrupts. */
  protected fail(error: number = ER_ABRT): void {
    this.#cancel();
    this.tf.error = error;
    this.status = this.readyStatus | ST_ERR;
    this.raiseIrq();
  }

  /** Asserts the device's interrupt request. */
  protected raiseIrq(): void {
    this.irqPending = true;
    this.config.host.irqChanged();
  }

  /** SET FEATURES subcommands common to both device kinds; false when unsupported. */
  protected setFeature(feature: number, count: number): boolean {
    if (feature !== 0x03) return false;
    const kind = count >> 3;
    const n = count & 7;
    if (kind === 0 && n <= 1) this.mode = { ...this.mode, pio: 2 };
    else if (kind === 1 && n <= 4) this.mode = { ...this.mode, pio: n };
    else if (kind === 4 && n <= 2) this.mode = { ...this.mode, mwdma: n, udma: null };
    else if (kind === 8 && n <= 5) this.mode = { ...this.mode, udma: n, mwdma: null };
    else return false;
    return true;
  }

  /** IDLE / STANDBY / CHECK POWER MODE / SLEEP; false when `op` is none of them. */
  protected powerCommand(op: number): boolean {
    switch (op) {
      case CMD.IDLE:
      case CMD.IDLE_IMMEDIATE:
      case CMD.IDLE_OLD:
      case CMD.IDLE_IMMEDIATE_OLD:
        this.power = "idle";
        break;
      case CMD.STANDBY:
      case CMD.STANDBY_IMMEDIATE:
      case CMD.STANDBY_OLD:
      case CMD.STANDBY_IMMEDIATE_OLD:
      // SLEEP is modelled as standby: the device wakes on the next command instead of needing a reset.
      case CMD.SLEEP:
      case CMD.SLEEP_OLD:
        this.power = "standby";
        break;
      case CMD.CHECK_POWER_MODE:
      case CMD.CHECK_POWER_MODE_OLD:
        this.tf.sectorCount = this.power === "standby" ? 0x00 : this.power === "idle" ? 0x80 : 0xff;
        break;
      default:
        return false;
    }
    this.finish();
    return true;
  }

  /** Marks the device active again (media access wakes it from idle or standby). */
  protected wake(): void {
    this.power = "active";
  }

  #readByte(): number {
    if (this.#dir !== "in") return 0xff;
    const b = this.#buf[this.#pos++];
    if (this.#pos >= this.#end) this.#blockDone();
    return b;
  }

  #writeByte(b: number): void {
    if (this.#dir !== "out") return;
    this.#buf[this.#pos++] = b;
    if (this.#pos >= this.#end) this.#blockDone();
  }

  #blockDone(): void {
    const next = this.#next;
    const data = this.#buf.subarray(0, this.#end);
    this.#dir = null;
    this.#next = null;
    this.#buf = EMPTY;
    this.#pos = this.#end = 0;
    this.status &= ~ST_DRQ;
    if (next) next(data);
  }

  #cancel(): void {
    this.#dir = null;
    this.#next = null;
    this.#buf = EMPTY;
    this.#pos = this.#end = 0;
    this.#dma = null;
    this.status &= ~ST_DRQ;
  }
}
