/**
 * An ATA hard disk (ATA8-ACS general and 48-bit feature sets): PIO, multiple
 * and DMA reads and writes in CHS, LBA28 and LBA48 addressing, IDENTIFY
 * DEVICE, SET FEATURES, SET MULTIPLE MODE, INITIALIZE DEVICE PARAMETERS,
 * READ VERIFY, FLUSH CACHE and power management.
 *
 * @module
 */

import { ATA_SECTOR, CMD, ER_ABRT, ER_IDNF, ER_UNC, ST_DRDY, ST_DSC } from "./ata_constants.ts";
import {
  type Chs,
  currentCylinders,
  defaultGeometry,
  identifyDevice,
  MAX_MULTIPLE,
} from "./identify.ts";
import { type DriveConfig, IdeDrive, type IdeDriveState } from "./ide_drive.ts";

/** How a command addressed its sectors; completion reports the last sector the same way. */
export type Addressing = "chs" | "lba28" | "lba48";
const ADDRESSING: readonly Addressing[] = ["chs", "lba28", "lba48"];

/**
 * A disk command in progress, as plain data: IDENTIFY's block, a PIO read
 * or write (next sector, sectors left, DRQ block size in sectors) or a DMA
 * transfer of `count` sectors from `lba`.
 */
export type DiskJob =
  | { readonly kind: "identify" }
  | {
    readonly kind: "read" | "write";
    readonly lba: number;
    readonly left: number;
    readonly block: number;
    readonly addressing: Addressing;
  }
  | {
    readonly kind: "dma";
    readonly toMemory: boolean;
    readonly lba: number;
    readonly count: number;
    readonly addressing: Addressing;
  };

/** Saved state of an ATA disk. */
export interface AtaDiskState extends IdeDriveState {
  readonly kind: "disk";
  /** Current CHS translation (INITIALIZE DEVICE PARAMETERS). */
  readonly heads: number;
  readonly sectorsPerTrack: number;
  /** READ/WRITE MULTIPLE block size, 0 when disabled. */
  readonly multiple: number;
  readonly writeCache: boolean;
  /** The command in progress. */
  readonly job: DiskJob | null;
}

interface Extent {
  lba: number;
  count: number;
  addressing: Addressing;
}

/** An ATA disk over a {@link BlockBackend} of 512-byte sectors. */
export class AtaDisk extends IdeDrive<DiskJob> {
  /** Always "disk". */
  readonly kind = "disk" as const;
  /** Addressable sectors (the backend size rounded down to whole sectors). */
  readonly sectors: number;
  /** Default CHS translation (IDENTIFY words 1, 3, 6). */
  readonly geometry: Chs;
  #heads = 16;
  #spt = 63;
  #multiple = 0;
  #writeCache = true;

  /** @param config backend, identity strings, position and channel hooks */
  constructor(config: DriveConfig) {
    super(config);
    this.sectors = Math.floor(config.backend.size / ATA_SECTOR);
    this.geometry = defaultGeometry(this.sectors);
    this.powerOn();
  }

  /** Current READ/WRITE MULTIPLE block size in sectors (0: disabled). */
  get multiple(): number {
    return this.#multiple;
  }

  protected get readyStatus(): number {
    return ST_DRDY | ST_DSC;
  }

  protected get resetStatus(): number {
    return ST_DRDY | ST_DSC;
  }

  protected signature(): void {
    this.tf.setSignature(0x00, 0x00);
  }

  protected powerOnDefaults(): void {
    this.#heads = this.geometry.heads;
    this.#spt = this.geometry.sectors;
    this.#multiple = 0;
    this.#writeCache = true;
  }

  /** The 512 bytes IDENTIFY DEVICE returns now. */
  identify(): Uint8Array {
    return identifyDevice({
      model: this.config.model,
      serial: this.config.serial,
      firmware: this.config.firmware,
      mode: this.mode,
      unit: this.config.unit,
      peerPresent: this.config.peerPresent,
      sectors: this.sectors,
      geometry: this.geometry,
      currentHeads: this.#heads,
      currentSectors: this.#spt,
      multiple: this.#multiple,
      writeCache: this.#writeCache,
    });
  }

  protected execute(op: number): void {
    switch (op) {
      case CMD.READ_SECTORS:
      case CMD.READ_SECTORS_NORETRY:
        return this.#pioRead(false, 1);
      case CMD.READ_SECTORS_EXT:
        return this.#pioRead(true, 1);
      case CMD.READ_MULTIPLE:
      case CMD.READ_MULTIPLE_EXT:
        if (!this.#multiple) return this.fail(ER_ABRT);
        return this.#pioRead(op === CMD.READ_MULTIPLE_EXT, this.#multiple);
      case CMD.WRITE_SECTORS:
      case CMD.WRITE_SECTORS_NORETRY:
        return this.#pioWrite(false, 1);
      case CMD.WRITE_SECTORS_EXT:
        return this.#pioWrite(true, 1);
      case CMD.WRITE_MULTIPLE:
      case CMD.WRITE_MULTIPLE_EXT:
        if (!this.#multiple) return this.fail(ER_ABRT);
        return this.#pioWrite(op === CMD.WRITE_MULTIPLE_EXT, this.#multiple);
      case CMD.READ_DMA:
      case CMD.READ_DMA_NORETRY:
        return this.#dma(true, false);
      case CMD.READ_DMA_EXT:
        return this.#dma(true, true);
      case CMD.WRITE_DMA:
      case CMD.WRITE_DMA_NORETRY:
        return this.#dma(false, false);
      case CMD.WRITE_DMA_EXT:
        return this.#dma(false, true);
      case CMD.READ_VERIFY:
      case CMD.READ_VERIFY_NORETRY:
      case CMD.READ_VERIFY_EXT: {
        const extent = this.#extent(op === CMD.READ_VERIFY_EXT);
        if (!extent) return;
        this.wake();
        return this.#complete(extent.lba + extent.count - 1, extent.addressing, true);
      }
      case CMD.IDENTIFY_DEVICE:
        this.job = { kind: "identify" };
        return this.pioIn(this.identify(), true);
      case CMD.SET_FEATURES:
        return this.#setFeatures();
      case CMD.SET_MULTIPLE_MODE:
        return this.#setMultiple();
      case CMD.INITIALIZE_DEVICE_PARAMETERS:
        return this.#initializeParameters();
      case CMD.FLUSH_CACHE:
      case CMD.FLUSH_CACHE_EXT:
        try {
          this.config.backend.flush();
        } catch {
          return this.fail(ER_ABRT);
        }
        return this.finish();
    }
    if ((op & 0xf0) === CMD.RECALIBRATE) return this.finish();
    if ((op & 0xf0) === CMD.SEEK) {
      // SEEK addresses one sector whatever the sector count says.
      return void (this.#extent(false, 1) && this.finish());
    }
    if (this.powerCommand(op)) return;
    // NOP, PACKET, IDENTIFY PACKET DEVICE, DEVICE RESET and anything unknown.
    this.fail(ER_ABRT);
  }

  /** Decodes the addressed extent, or fails the command with IDNF and returns null. */
  #extent(ext: boolean, fixedCount?: number): Extent | null {
    const tf = this.tf;
    const count = fixedCount ?? (ext ? tf.count48() : tf.count28());
    let lba: number;
    let addressing: Addressing;
    if (ext) {
      lba = tf.lba48();
      addressing = "lba48";
    } else if (tf.lbaMode) {
      lba = tf.lba28();
      addressing = "lba28";
    } else {
      const cylinder = tf.lbaHigh << 8 | tf.lbaMid;
      const head = tf.device & 0x0f;
      const sector = tf.lbaLow;
      const cylinders = currentCylinders(this.sectors, this.#heads, this.#spt);
      if (sector < 1 || sector > this.#spt || head >= this.#heads || cylinder >= cylinders) {
        this.fail(ER_IDNF);
        return null;
      }
      lba = (cylinder * this.#heads + head) * this.#spt + sector - 1;
      addressing = "chs";
    }
    if (lba + count > this.sectors) {
      this.fail(ER_IDNF);
      return null;
    }
    return { lba, count, addressing };
  }

  /** Reports the last sector transferred in the command's addressing, then completes. */
  #complete(last: number, addressing: Addressing, irq: boolean): void {
    const tf = this.tf;
    if (addressing === "lba48") {
      tf.setLba48(last);
      tf.sectorCount = tf.sectorCountPrev = 0;
    } else if (addressing === "lba28") {
      tf.setLba28(last);
      tf.sectorCount = 0;
    } else {
      const perCylinder = this.#heads * this.#spt;
      const cylinder = Math.floor(last / perCylinder);
      const rest = last % perCylinder;
      tf.lbaHigh = cylinder >> 8;
      tf.lbaMid = cylinder & 0xff;
      tf.device = (tf.device & 0xf0) | Math.floor(rest / this.#spt);
      tf.lbaLow = rest % this.#spt + 1;
      tf.sectorCount = 0;
    }
    this.finish(irq);
  }

  #pioRead(ext: boolean, block: number): void {
    const extent = this.#extent(ext);
    if (!extent) return;
    this.wake();
    this.#readBlock(extent.lba, extent.count, block, extent.addressing);
  }

  /** Reads the next DRQ block of a PIO read and offers it to the host. */
  #readBlock(lba: number, left: number, block: number, addressing: Addressing): void {
    const n = Math.min(block, left);
    const buf = this.scratch(n * ATA_SECTOR);
    try {
      this.config.backend.read(lba * ATA_SECTOR, buf);
    } catch {
      return this.fail(ER_UNC);
    }
    this.bytesRead += buf.length;
    this.job = { kind: "read", lba: lba + n, left: left - n, block, addressing };
    // Data-in: each DRQ block is announced by an interrupt; none at the end.
    this.pioIn(buf, true);
  }

  #pioWrite(ext: boolean, block: number): void {
    if (this.config.backend.readonly) return this.fail(ER_ABRT);
    const extent = this.#extent(ext);
    if (!extent) return;
    this.wake();
    this.#wantBlock(extent.lba, extent.count, block, extent.addressing, false);
  }

  /** Asks the host for the next DRQ block of a PIO write. */
  #wantBlock(lba: number, left: number, block: number, addressing: Addressing, irq: boolean) {
    this.job = { kind: "write", lba, left, block, addressing };
    this.pioOut(Math.min(block, left) * ATA_SECTOR, irq);
  }

  protected blockDone(job: DiskJob, data: Uint8Array): void {
    if (job.kind === "identify") return this.finish(false);
    if (job.kind === "read") {
      if (job.left > 0) return this.#readBlock(job.lba, job.left, job.block, job.addressing);
      return this.#complete(job.lba - 1, job.addressing, false);
    }
    if (job.kind !== "write") return;
    try {
      this.config.backend.write(job.lba * ATA_SECTOR, data);
    } catch {
      return this.fail(ER_ABRT);
    }
    this.bytesWritten += data.length;
    const n = data.length / ATA_SECTOR;
    // Data-out: the first block needs no interrupt, every later one and the end do.
    if (job.left > n) this.#wantBlock(job.lba + n, job.left - n, job.block, job.addressing, true);
    else this.#complete(job.lba + n - 1, job.addressing, true);
  }

  #dma(toMemory: boolean, ext: boolean): void {
    if (!toMemory && this.config.backend.readonly) return this.fail(ER_ABRT);
    const extent = this.#extent(ext);
    if (!extent) return;
    this.wake();
    const { lba, count, addressing } = extent;
    this.job = { kind: "dma", toMemory, lba, count, addressing };
    this.startDma(toMemory, count * ATA_SECTOR);
  }

  protected dmaMove(job: DiskJob, pos: number, chunk: Uint8Array): void {
    if (job.kind !== "dma") return;
    const at = job.lba * ATA_SECTOR + pos;
    if (job.toMemory) {
      this.config.backend.read(at, chunk);
      this.bytesRead += chunk.length;
    } else {
      this.config.backend.write(at, chunk);
      this.bytesWritten += chunk.length;
    }
  }

  protected dmaDone(job: DiskJob): void {
    if (job.kind === "dma") this.#complete(job.lba + job.count - 1, job.addressing, true);
  }

  protected dmaFailed(job: DiskJob, memoryFault: boolean): void {
    this.fail(memoryFault || (job.kind === "dma" && !job.toMemory) ? ER_ABRT : ER_UNC);
  }

  #setFeatures(): void {
    const feature = this.tf.feature;
    switch (feature) {
      case 0x02: // enable write cache
        this.#writeCache = true;
        return this.finish();
      case 0x82: // disable write cache
        this.#writeCache = false;
        return this.finish();
      case 0x55: // disable / enable read look-ahead
      case 0xaa:
      case 0x66: // disable / enable reverting to power-on defaults
      case 0xcc:
        return this.finish();
    }
    if (this.setFeature(feature, this.tf.sectorCount)) return this.finish();
    this.fail(ER_ABRT);
  }

  #setMultiple(): void {
    const n = this.tf.sectorCount;
    // Zero disables multiple mode; otherwise a power of two up to word 47's maximum.
    if (n > MAX_MULTIPLE || (n & (n - 1)) !== 0) return this.fail(ER_ABRT);
    this.#multiple = n;
    this.finish();
  }

  #initializeParameters(): void {
    const spt = this.tf.sectorCount;
    const heads = (this.tf.device & 0x0f) + 1;
    if (spt === 0 || currentCylinders(this.sectors, heads, spt) === 0) return this.fail(ER_ABRT);
    this.#heads = heads;
    this.#spt = spt;
    this.finish();
  }

  /** Drive registers, translation, multiple count, write cache and the command in progress. */
  snapshot(): AtaDiskState {
    return {
      ...this.baseSnapshot(),
      kind: "disk",
      heads: this.#heads,
      sectorsPerTrack: this.#spt,
      multiple: this.#multiple,
      writeCache: this.#writeCache,
      job: this.job ? { ...this.job } : null,
    };
  }

  /** Checks a saved disk state against this disk and returns what applies it. */
  prepareRestore(state: IdeDriveState): () => void {
    const base = this.prepareBase(state, "ata disk");
    const s = base.shape;
    const heads = s.int("heads", 1, 16);
    const spt = s.int("sectorsPerTrack", 1, 255);
    const multiple = s.int("multiple", 0, MAX_MULTIPLE);
    if (multiple & (multiple - 1)) s.fail("multiple", "must be zero or a power of two");
    const writeCache = s.bool("writeCache");
    const job = s.objectOrNull("job", (j): DiskJob => {
      const kind = j.oneOf("kind", ["identify", "read", "write", "dma"] as const);
      if (kind === "identify") return { kind };
      const addressing = j.oneOf("addressing", ADDRESSING);
      const lba = j.int("lba", 0, this.sectors);
      if (kind === "dma") {
        const count = j.int("count", 1, this.sectors - lba);
        return { kind, toMemory: j.bool("toMemory"), lba, count, addressing };
      }
      const left = j.int("left", 0, this.sectors - lba);
      return { kind, lba, left, block: j.int("block", 1, MAX_MULTIPLE), addressing };
    });
    // The job must be the one the transfer in flight belongs to.
    const expected = base.dma
      ? "dma"
      : base.pio?.dir === "out"
      ? "write"
      : base.pio
      ? (job?.kind === "identify" ? "identify" : "read")
      : null;
    if ((job?.kind ?? null) !== expected) s.fail("job", `must be ${expected ?? "null"} here`);
    if (job?.kind === "dma" && base.dma) {
      if (base.dma.length !== job.count * ATA_SECTOR || base.dma.toMemory !== job.toMemory) {
        s.fail("dma", "does not match the job");
      }
    }
    return () => {
      base.apply();
      this.#heads = heads;
      this.#spt = spt;
      this.#multiple = multiple;
      this.#writeCache = writeCache;
      this.job = job;
    };
  }
}
