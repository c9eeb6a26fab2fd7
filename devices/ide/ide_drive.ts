/**
 * What ATA disks and ATAPI CD-ROMs share: the task file, status and error
 * registers, the pending-interrupt flag, PIO data blocks through the data
 * port (DRQ), DMA requests for the bus master, resets, SET FEATURES and the
 * power-management commands.
 *
 * @module
 */

import type { BlockBackend, DeviceState } from "../types.ts";
import { readLanes, writeLanes } from "../byte_lanes.ts";
import { StateShape } from "../state_shape.ts";
import { CMD, ER_ABRT, ST_BSY, ST_DRQ, ST_ERR } from "./ata_constants.ts";
import type { TransferMode } from "./identify.ts";
import { TaskFile, type TaskFileState } from "./task_file.ts";

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

/** A PIO data block in flight through the data port (DRQ set). */
export interface PioState {
  /** "in": device to host; "out": host to device. */
  readonly dir: "in" | "out";
  /** The whole block: the bytes the host reads, or what it has written so far. */
  readonly data: Uint8Array;
  /** Bytes of `data` the host has moved. */
  readonly pos: number;
}

/** A DMA transfer posted to the bus master and how far it got. */
export interface DmaProgressState {
  readonly toMemory: boolean;
  /** Bytes the command moves in all. */
  readonly length: number;
  /** Bytes moved so far. */
  readonly pos: number;
}

/** What both device kinds save; {@link AtaDiskState} and {@link AtapiCdromState} add their own. */
export interface IdeDriveState extends DeviceState {
  readonly version: 1;
  readonly kind: "disk" | "cdrom";
  /** Medium size in bytes; a state only restores onto a backend of this size. */
  readonly size: number;
  readonly taskFile: TaskFileState;
  readonly status: number;
  readonly irqPending: boolean;
  readonly lastCommand: number | null;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly mode: TransferMode;
  readonly power: PowerMode;
  /** The PIO block in flight, null without DRQ. */
  readonly pio: PioState | null;
  /** The DMA transfer in flight. */
  readonly dma: DmaProgressState | null;
}

/** Power modes reported by CHECK POWER MODE. */
export type PowerMode = "active" | "idle" | "standby";

const EMPTY = new Uint8Array(0);
const POWER_MODES: readonly PowerMode[] = ["active", "idle", "standby"];
const MAX_U53 = Number.MAX_SAFE_INTEGER;

interface DmaTransfer {
  readonly toMemory: boolean;
  readonly length: number;
  pos: number;
  readonly req: DmaRequest;
}

/**
 * Base of the ATA and ATAPI device models. A command in progress is the
 * subclass's plain-data job `J` plus the PIO block or DMA transfer here, so
 * a drive can be saved and restored between any two bus cycles.
 */
export abstract class IdeDrive<J extends object = object> {
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

  /** What the command in progress does next; null when none is. */
  protected job: J | null = null;

  #buf: Uint8Array = EMPTY;
  #scratch = new Uint8Array(4096);
  #pos = 0;
  #end = 0;
  #dir: "in" | "out" | null = null;
  #dma: DmaTransfer | null = null;

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
  /** The host moved the whole PIO block `data` of `job`. */
  protected abstract blockDone(job: J, data: Uint8Array): void;
  /** Moves `chunk` at byte `pos` of the DMA transfer of `job` (may throw). */
  protected abstract dmaMove(job: J, pos: number, chunk: Uint8Array): void;
  /** The DMA transfer of `job` is complete. */
  protected abstract dmaDone(job: J): void;
  /** The DMA transfer of `job` failed: guest memory (`memoryFault`) or the medium. */
  protected abstract dmaFailed(job: J, memoryFault: boolean): void;
  /** A deep copy of the subclass's state. */
  abstract snapshot(): IdeDriveState;
  /**
   * Checks `state` whole and returns what puts it in place, so a channel can
   * check both its devices before changing either.
   * @throws {StateError} for an unknown version, another kind or medium size, or a malformed state
   */
  abstract prepareRestore(state: IdeDriveState): () => void;

  /** Puts the drive back into `state`; the channel re-drives INTRQ. */
  restore(state: IdeDriveState): void {
    this.prepareRestore(state)();
  }

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
      v = readLanes(0, n, () => this.#readByte());
    }
    return size === 1 ? v & 0xff : v;
  }

  /** A data-port write of `size` bytes. */
  writeData(size: number, value: number): void {
    writeLanes(0, size === 4 ? 4 : 2, value, (_, byte) => this.#writeByte(byte));
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
    return this.#dma?.req ?? null;
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

  /** The state both device kinds share, for the subclass's {@link snapshot}. */
  protected baseSnapshot(): IdeDriveState {
    const dma = this.#dma;
    return {
      version: 1,
      kind: this.kind,
      size: this.config.backend.size,
      taskFile: this.tf.snapshot(),
      status: this.status,
      irqPending: this.irqPending,
      lastCommand: this.lastCommand,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      mode: { ...this.mode },
      power: this.power,
      pio: this.#dir
        ? { dir: this.#dir, data: this.#buf.slice(0, this.#end), pos: this.#pos }
        : null,
      dma: dma ? { toMemory: dma.toMemory, length: dma.length, pos: dma.pos } : null,
    };
  }

  /**
   * Checks the shared part of `state` (and that it is for this kind of
   * device on a medium of this size) and returns what applies it. The
   * subclass checks its job against `pio` and `dma`.
   */
  protected prepareBase(state: IdeDriveState, device: string): {
    shape: StateShape;
    pio: PioState | null;
    dma: DmaProgressState | null;
    apply: () => void;
  } {
    const s = StateShape.versioned(device, state, 1);
    s.oneOf("kind", [this.kind]);
    s.oneOf("size", [this.config.backend.size]);
    const tf = new TaskFile();
    tf.restore(state.taskFile);
    const status = s.int("status", 0, 0xff);
    const irqPending = s.bool("irqPending");
    const lastCommand = s.intOrNull("lastCommand", 0, 0xff);
    const bytesRead = s.int("bytesRead", 0, MAX_U53);
    const bytesWritten = s.int("bytesWritten", 0, MAX_U53);
    const m = s.object("mode");
    const mode: TransferMode = {
      pio: m.int("pio", 0, 4),
      mwdma: m.intOrNull("mwdma", 0, 2),
      udma: m.intOrNull("udma", 0, 6),
    };
    const power = s.oneOf("power", POWER_MODES);
    const pio = s.objectOrNull("pio", (p): PioState => {
      const data = p.bytes("data");
      if (data.length === 0) p.fail("data", "is empty");
      return {
        dir: p.oneOf("dir", ["in", "out"] as const),
        data,
        pos: p.int("pos", 0, data.length - 1),
      };
    });
    const dma = s.objectOrNull("dma", (d): DmaProgressState => {
      const length = d.int("length", 1, MAX_U53);
      return { toMemory: d.bool("toMemory"), length, pos: d.int("pos", 0, length - 1) };
    });
    if (pio && dma) s.fail("dma", "and pio cannot both be in flight");
    if ((pio !== null || dma !== null) !== ((status & ST_DRQ) !== 0)) {
      s.fail("status", "DRQ must be set exactly while a transfer is in flight");
    }
    const apply = () => {
      this.#cancel(); // the subclass sets its job after this
      this.tf.restore(state.taskFile);
      this.status = status;
      this.irqPending = irqPending;
      this.lastCommand = lastCommand;
      this.bytesRead = bytesRead;
      this.bytesWritten = bytesWritten;
      this.mode = mode;
      this.power = power;
      if (pio) {
        this.#buf = pio.data; // already a copy
        this.#pos = pio.pos;
        this.#end = pio.data.length;
        this.#dir = pio.dir;
      }
      if (dma) this.#dma = this.#makeDma(dma.toMemory, dma.length, dma.pos);
    };
    return { shape: s, pio, dma, apply };
  }

  // ---- for subclasses ------------------------------------------------------

  /** A reusable buffer of `length` bytes (valid until the next call). */
  protected scratch(length: number): Uint8Array {
    if (this.#scratch.length < length) {
      this.#scratch = new Uint8Array(Math.max(length, 2 * this.#scratch.length));
    }
    return this.#scratch.subarray(0, length);
  }

  /** Offers `data` as one PIO data-in DRQ block of {@link job}. */
  protected pioIn(data: Uint8Array, irq: boolean): void {
    this.#buf = data;
    this.#pos = 0;
    this.#end = data.length;
    this.#dir = "in";
    this.status = (this.readyStatus | ST_DRQ) & ~ST_ERR;
    if (irq) this.raiseIrq();
  }

  /** Asks for a PIO data-out DRQ block of `length` bytes for {@link job}. */
  protected pioOut(length: number, irq: boolean): void {
    // Zeroed, so a saved half-written block holds nothing but what the host wrote.
    this.#buf = this.scratch(length).fill(0);
    this.#pos = 0;
    this.#end = length;
    this.#dir = "out";
    this.status = (this.readyStatus | ST_DRQ) & ~ST_ERR;
    if (irq) this.raiseIrq();
  }

  /** Posts a DMA transfer of `length` bytes for {@link job}. */
  protected startDma(toMemory: boolean, length: number): void {
    this.#dma = this.#makeDma(toMemory, length, 0);
    this.status = (this.readyStatus | ST_DRQ) & ~ST_ERR;
    this.config.host.dmaReady();
  }

  #makeDma(toMemory: boolean, length: number, pos: number): DmaTransfer {
    // deno-lint-ignore no-this-alias
    const drive = this;
    const req: DmaRequest = {
      toMemory,
      get remaining() {
        return drive.#dma?.req === req ? length - t.pos : 0;
      },
      transfer(chunk) {
        const job = drive.job;
        if (drive.#dma?.req !== req || !job) return;
        const n = Math.min(chunk.length, length - t.pos);
        try {
          drive.dmaMove(job, t.pos, chunk.subarray(0, n));
        } catch {
          drive.#endDma();
          drive.dmaFailed(job, false);
          return;
        }
        t.pos += n;
        if (t.pos === length) {
          drive.#endDma();
          drive.dmaDone(job);
        }
      },
      fail() {
        const job = drive.job;
        if (drive.#dma?.req !== req || !job) return;
        drive.#endDma();
        drive.dmaFailed(job, true);
      },
    };
    const t: DmaTransfer = { toMemory, length, pos, req };
    return t;
  }

  #endDma(): void {
    this.#dma = null;
    this.job = null;
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
    const job = this.job;
    const data = this.#buf.subarray(0, this.#end);
    this.job = null;
    this.#dir = null;
    this.#buf = EMPTY;
    this.#pos = this.#end = 0;
    this.status &= ~ST_DRQ;
    if (job) this.blockDone(job, data);
  }

  #cancel(): void {
    this.job = null;
    this.#dir = null;
    this.#buf = EMPTY;
    this.#pos = this.#end = 0;
    this.#dma = null;
    this.status &= ~ST_DRQ;
  }
}
