/**
 * An ATA hard disk (ATA8-ACS general and 48-bit feature sets): PIO, multiple
 * and DMA reads and writes in CHS, LBA28 and LBA48 addressing, IDENTIFY
 * DEVICE, SET FEATURES, SET MULTIPLE MODE, INITIALIZE DEVICE PARAMETERS,
 * READ VERIFY, FLUSH CACHE and power management.
 *
 * @module
 */

import type { Json } from "../types.ts";
import { ATA_SECTOR, CMD, ER_ABRT, ER_IDNF, ER_UNC, ST_DRDY, ST_DSC } from "./ata_constants.ts";
import {
  type Chs,
  currentCylinders,
  defaultGeometry,
  identifyDevice,
  MAX_MULTIPLE,
} from "./identify.ts";
import { type DriveConfig, IdeDrive } from "./ide_drive.ts";

/** How a command addressed its sectors; completion reports the last sector the same way. */
type Addressing = "chs" | "lba28" | "lba48";

interface Extent {
  lba: number;
  count: number;
  addressing: Addressing;
}

/** An ATA disk over a {@link BlockBackend} of 512-byte sectors. */
export class AtaDisk extends IdeDrive {
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
        return this.pioIn(this.identify(), true, () => this.finish(false));
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
    const backend = this.config.backend;
    let lba = extent.lba;
    let left = extent.count;
    const step = () => {
      const n = Math.min(block, left);
      const buf = this.scratch(n * ATA_SECTOR);
      try {
        backend.read(lba * ATA_SECTOR, buf);
      } catch {
        return this.fail(ER_UNC);
      }
      this.bytesRead += buf.length;
      lba += n;
      left -= n;
      // Data-in: each DRQ block is announced by an interrupt; none at the end.
      this.pioIn(
        buf,
        true,
        left > 0 ? step : () => this.#complete(lba - 1, extent.addressing, false),
      );
    };
    step();
  }

  #pioWrite(ext: boolean, block: number): void {
    if (this.config.backend.readonly) return this.fail(ER_ABRT);
    const extent = this.#extent(ext);
    if (!extent) return;
    this.wake();
    const backend = this.config.backend;
    let lba = extent.lba;
    let left = extent.count;
    const want = (irq: boolean) => {
      const n = Math.min(block, left);
      this.pioOut(n * ATA_SECTOR, irq, (data) => {
        try {
          backend.write(lba * ATA_SECTOR, data);
        } catch {
          return this.fail(ER_ABRT);
        }
        this.bytesWritten += data.length;
        lba += n;
        left -= n;
        // Data-out: the first block needs no interrupt, every later one and the end do.
        if (left > 0) want(true);
        else this.#complete(lba - 1, extent.addressing, true);
      });
    };
    want(false);
  }

  #dma(toMemory: boolean, ext: boolean): void {
    if (!toMemory && this.config.backend.readonly) return this.fail(ER_ABRT);
    const extent = this.#extent(ext);
    if (!extent) return;
    this.wake();
    const backend = this.config.backend;
    const base = extent.lba * ATA_SECTOR;
    this.startDma(
      toMemory,
      extent.count * ATA_SECTOR,
      (pos, chunk) => {
        if (toMemory) {
          backend.read(base + pos, chunk);
          this.bytesRead += chunk.length;
        } else {
          backend.write(base + pos, chunk);
          this.bytesWritten += chunk.length;
        }
      },
      () => this.#complete(extent.lba + extent.count - 1, extent.addressing, true),
      (memoryFault) => this.fail(memoryFault || !toMemory ? ER_ABRT : ER_UNC),
    );
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

  /** Drive state plus sectors, translation, multiple count and write cache. */
  override state(): { [key: string]: Json } {
    return {
      ...super.state(),
      sectors: this.sectors,
      geometry: { ...this.geometry },
      translation: { heads: this.#heads, sectors: this.#spt },
      multiple: this.#multiple,
      writeCache: this.#writeCache,
    };
  }
}
