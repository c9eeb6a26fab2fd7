/**
 * An ATAPI CD-ROM (ATA8-ACS PACKET feature set, SFF-8020i/MMC-3 commands):
 * PACKET with the byte count limit and interrupt reason protocol, PIO or
 * DMA data, IDENTIFY PACKET DEVICE, sense data, and the packet commands
 * firmware and operating systems use to boot from and read a data CD.
 *
 * @module
 */

import { CD_SECTOR, CMD, ER_ABRT, IR_COD, IR_IO, ST_DRDY } from "./ata_constants.ts";
import { identifyPacketDevice } from "./identify.ts";
import { type DriveConfig, IdeDrive, type IdeDriveState } from "./ide_drive.ts";
import {
  be16,
  be32,
  discInformation,
  eventStatus,
  getConfiguration,
  inquiryData,
  mechanismStatus,
  modeSense10,
  readCapacityData,
  readToc,
  SCSI,
  type Sense,
  SENSE_KEY,
  senseData,
  SENSES,
} from "./mmc_responses.ts";

/**
 * A CD-ROM command in progress, as plain data: IDENTIFY's block, a packet
 * being received (with the PACKET command's DMA bit and byte count limit),
 * or data being sent: `length` bytes from the medium at byte `from`, or
 * from `reply` (a command's response), `pos` of them sent so far by PIO.
 */
export type CdromJob =
  | { readonly kind: "identify" }
  | { readonly kind: "packet"; readonly dma: boolean; readonly limit: number }
  | {
    readonly kind: "send";
    readonly dma: boolean;
    readonly limit: number;
    readonly from: number;
    readonly reply: Uint8Array | null;
    readonly length: number;
    readonly pos: number;
  };

/** Saved state of an ATAPI CD-ROM. */
export interface AtapiCdromState extends IdeDriveState {
  readonly kind: "cdrom";
  /** What REQUEST SENSE returns next. */
  readonly sense: Sense;
  /** PREVENT ALLOW MEDIUM REMOVAL. */
  readonly locked: boolean;
  readonly lastPacket: number | null;
  /** The command in progress. */
  readonly job: CdromJob | null;
}

/** An ATAPI CD-ROM over a {@link BlockBackend} of 2048-byte sectors. */
export class AtapiCdrom extends IdeDrive<CdromJob> {
  /** Always "cdrom". */
  readonly kind = "cdrom" as const;
  /** Opcode of the last packet command, null before the first. */
  lastPacket: number | null = null;
  #sense: Sense = SENSES.NONE;
  #locked = false;
  // PACKET's DMA bit and byte count limit while its packet runs (the job holds them between bus cycles).
  #dmaPacket = false;
  #limit = 0;

  /** @param config backend, identity strings, position and channel hooks */
  constructor(config: DriveConfig) {
    super(config);
    this.powerOn();
  }

  /** 2048-byte blocks on the disc (a partial last block reads zero-padded). */
  get blocks(): number {
    return Math.ceil(this.config.backend.size / CD_SECTOR);
  }

  /** True when a disc is loaded (a non-empty backend). */
  get present(): boolean {
    return this.config.backend.size > 0;
  }

  /** The sense data REQUEST SENSE would return now. */
  get sense(): Sense {
    return this.#sense;
  }

  protected get readyStatus(): number {
    return ST_DRDY;
  }

  /** Packet devices keep DRDY clear after a reset until their next command. */
  protected get resetStatus(): number {
    return 0;
  }

  protected signature(): void {
    this.tf.setSignature(0x14, 0xeb);
  }

  protected powerOnDefaults(): void {
    this.#sense = SENSES.NONE;
    this.#locked = false;
    this.lastPacket = null;
  }

  /** The 512 bytes IDENTIFY PACKET DEVICE returns now. */
  identify(): Uint8Array {
    return identifyPacketDevice({
      model: this.config.model,
      serial: this.config.serial,
      firmware: this.config.firmware,
      mode: this.mode,
      unit: this.config.unit,
      peerPresent: this.config.peerPresent,
    });
  }

  protected execute(op: number): void {
    switch (op) {
      case CMD.PACKET:
        return this.#packet();
      case CMD.IDENTIFY_PACKET_DEVICE:
        this.job = { kind: "identify" };
        return this.pioIn(this.identify(), true);
      case CMD.DEVICE_RESET:
        return this.finishReset();
      case CMD.IDENTIFY_DEVICE:
        // Abort with the signature so the host learns this is a packet device.
        this.signature();
        return this.fail(ER_ABRT);
      case CMD.SET_FEATURES:
        if (this.setFeature(this.tf.feature, this.tf.sectorCount)) return this.finish();
        return this.fail(ER_ABRT);
      case CMD.CHECK_POWER_MODE:
      case CMD.IDLE_IMMEDIATE:
      case CMD.STANDBY_IMMEDIATE:
      case CMD.SLEEP:
        this.powerCommand(op);
        return;
    }
    this.fail(ER_ABRT);
  }

  #packet(): void {
    const tf = this.tf;
    this.job = {
      kind: "packet",
      dma: (tf.feature & 0x01) !== 0,
      limit: tf.lbaHigh << 8 | tf.lbaMid,
    };
    tf.sectorCount = IR_COD;
    // The packet's DRQ block raises no interrupt (IDENTIFY word 0: DRQ within 50 us).
    this.pioOut(12, false);
  }

  protected blockDone(job: CdromJob, data: Uint8Array): void {
    if (job.kind === "identify") return this.finish(false);
    if (job.kind === "packet") {
      this.#dmaPacket = job.dma;
      this.#limit = job.limit;
      return this.#run(data.slice());
    }
    if (job.pos < job.length) return this.#sendBlock(job);
    this.#good();
  }

  protected dmaMove(job: CdromJob, pos: number, chunk: Uint8Array): void {
    if (job.kind === "send") this.#produce(job, pos, chunk);
  }

  protected dmaDone(): void {
    this.#good();
  }

  protected dmaFailed(_job: CdromJob, memoryFault: boolean): void {
    this.#check(memoryFault ? SENSES.MEMORY_FAULT : SENSES.UNRECOVERED_READ);
  }

  #run(cdb: Uint8Array): void {
    const op = cdb[0];
    this.lastPacket = op;
    // Sense data describes the previous command only; REQUEST SENSE reads it.
    if (op !== SCSI.REQUEST_SENSE) this.#sense = SENSES.NONE;
    const medium = { present: this.present, locked: this.#locked };
    switch (op) {
      case SCSI.TEST_UNIT_READY:
        if (!this.#needMedium()) return;
        return this.#good();
      case SCSI.REQUEST_SENSE: {
        const data = senseData(this.#sense);
        this.#sense = SENSES.NONE;
        return this.#reply(data, cdb[4]);
      }
      case SCSI.INQUIRY:
        if (cdb[1] & 0x01) return this.#check(SENSES.INVALID_FIELD); // no vital product data pages
        return this.#reply(
          inquiryData("VMRUN", this.config.model, this.config.firmware),
          be16(cdb, 3),
        );
      case SCSI.START_STOP_UNIT: {
        const loadEject = (cdb[4] & 0x02) !== 0;
        const start = (cdb[4] & 0x01) !== 0;
        if (loadEject && !start && this.#locked) return this.#check(SENSES.REMOVAL_PREVENTED);
        return this.#good();
      }
      case SCSI.PREVENT_ALLOW_MEDIUM_REMOVAL:
        this.#locked = (cdb[4] & 0x01) !== 0;
        return this.#good();
      case SCSI.READ_CAPACITY:
        if (!this.#needMedium()) return;
        return this.#reply(readCapacityData(this.blocks), 8);
      case SCSI.READ_10:
        return this.#read(be32(cdb, 2), be16(cdb, 7));
      case SCSI.READ_12:
        return this.#read(be32(cdb, 2), be32(cdb, 6));
      case SCSI.READ_CD:
        return this.#readCd(cdb);
      case SCSI.SEEK_10:
        if (!this.#needMedium()) return;
        if (be32(cdb, 2) >= this.blocks) return this.#check(SENSES.LBA_OUT_OF_RANGE);
        return this.#good();
      case SCSI.MODE_SENSE_10: {
        const pc = cdb[2] >> 6;
        if (pc === 3) return this.#check(SENSES.SAVING_NOT_SUPPORTED);
        const data = modeSense10(cdb[2] & 0x3f, pc, medium);
        return data ? this.#reply(data, be16(cdb, 7)) : this.#check(SENSES.INVALID_FIELD);
      }
      case SCSI.READ_TOC: {
        if (!this.#needMedium()) return;
        // Older hosts (SFF-8020i) put the format in the top bits of byte 9.
        const format = (cdb[2] & 0x0f) || cdb[9] >> 6;
        const data = readToc(format, (cdb[1] & 0x02) !== 0, cdb[6], this.blocks);
        return data ? this.#reply(data, be16(cdb, 7)) : this.#check(SENSES.INVALID_FIELD);
      }
      case SCSI.GET_CONFIGURATION: {
        const data = getConfiguration(cdb[1] & 0x03, be16(cdb, 2), medium);
        return data ? this.#reply(data, be16(cdb, 7)) : this.#check(SENSES.INVALID_FIELD);
      }
      case SCSI.GET_EVENT_STATUS_NOTIFICATION:
        // Only polled operation is supported.
        if (!(cdb[1] & 0x01)) return this.#check(SENSES.INVALID_FIELD);
        return this.#reply(eventStatus(cdb[4], this.present), be16(cdb, 7));
      case SCSI.READ_DISC_INFORMATION:
        if (cdb[1] & 0x07) return this.#check(SENSES.INVALID_FIELD);
        if (!this.#needMedium()) return;
        return this.#reply(discInformation(), be16(cdb, 7));
      case SCSI.MECHANISM_STATUS:
        return this.#reply(mechanismStatus(), be16(cdb, 8));
      case SCSI.SET_CD_SPEED:
        return this.#good();
      default:
        return this.#check(SENSES.INVALID_OPCODE);
    }
  }

  #needMedium(): boolean {
    if (this.present) return true;
    this.#check(SENSES.MEDIUM_NOT_PRESENT);
    return false;
  }

  #read(lba: number, count: number): void {
    if (!this.#needMedium()) return;
    if (lba + count > this.blocks) return this.#check(SENSES.LBA_OUT_OF_RANGE);
    this.wake();
    this.#send(count * CD_SECTOR, lba * CD_SECTOR, null);
  }

  #readCd(cdb: Uint8Array): void {
    const sectorType = (cdb[1] >> 2) & 0x07;
    const fields = cdb[9] & 0xf8;
    // Only user data of mode 1 (or "any type") sectors can come from a 2048-byte image.
    if ((sectorType !== 0 && sectorType !== 2) || (fields !== 0 && fields !== 0x10)) {
      return this.#check(SENSES.INVALID_FIELD);
    }
    const count = cdb[6] << 16 | cdb[7] << 8 | cdb[8];
    this.#read(be32(cdb, 2), fields === 0 ? 0 : count);
  }

  /** Returns `data` cut to the allocation length. */
  #reply(data: Uint8Array, allocation: number): void {
    const out = data.slice(0, Math.min(data.length, allocation));
    this.#send(out.length, 0, out);
  }

  /** Sends `length` bytes from the medium at byte `from`, or from `reply`, by DMA or PIO. */
  #send(length: number, from: number, reply: Uint8Array | null): void {
    if (length === 0) return this.#good();
    const job = {
      kind: "send",
      dma: this.#dmaPacket,
      limit: this.#limit,
      from,
      reply,
      length,
    } as const;
    if (this.#dmaPacket) {
      this.tf.sectorCount = IR_IO;
      this.job = { ...job, pos: 0 };
      return this.startDma(true, length);
    }
    this.#sendBlock({ ...job, pos: 0 });
  }

  /** Fills `dst` with bytes `[pos, pos + dst.length)` of what `job` sends (may throw). */
  #produce(job: CdromJob & { kind: "send" }, pos: number, dst: Uint8Array): void {
    if (job.reply) {
      dst.set(job.reply.subarray(pos, pos + dst.length));
      return;
    }
    this.config.backend.read(job.from + pos, dst);
    this.bytesRead += dst.length;
  }

  /** Offers the next byte-count-limited PIO block of `job`. */
  #sendBlock(job: CdromJob & { kind: "send" }): void {
    const left = job.length - job.pos;
    const limit = job.limit;
    let n = Math.min(left, limit === 0 || limit === 0xffff ? 0xfffe : limit);
    // Only the last block may have an odd byte count.
    if (n < left) n = Math.max(2, n & ~1);
    const buf = this.scratch(n + (n & 1));
    try {
      this.#produce(job, job.pos, buf.subarray(0, n));
    } catch {
      return this.#check(SENSES.UNRECOVERED_READ);
    }
    if (n & 1) buf[n] = 0; // pad byte of an odd final block
    this.tf.lbaMid = n & 0xff;
    this.tf.lbaHigh = n >> 8;
    this.tf.sectorCount = IR_IO;
    this.job = { ...job, pos: job.pos + n };
    this.pioIn(buf, true);
  }

  #good(): void {
    this.tf.sectorCount = IR_IO | IR_COD;
    this.tf.error = 0;
    this.finish();
  }

  #check(sense: Sense): void {
    this.#sense = sense;
    this.tf.sectorCount = IR_IO | IR_COD;
    // ABRT accompanies an invalid opcode or parameter (ILLEGAL REQUEST).
    this.fail(sense.key << 4 | (sense.key === SENSE_KEY.ILLEGAL_REQUEST ? ER_ABRT : 0));
  }

  /** Drive registers, sense, lock, last packet and the command in progress. */
  snapshot(): AtapiCdromState {
    const job = this.job;
    return {
      ...this.baseSnapshot(),
      kind: "cdrom",
      sense: { ...this.#sense },
      locked: this.#locked,
      lastPacket: this.lastPacket,
      job: job?.kind === "send" ? { ...job, reply: job.reply?.slice() ?? null } : job && { ...job },
    };
  }

  /** Checks a saved CD-ROM state against this drive and returns what applies it. */
  prepareRestore(state: IdeDriveState): () => void {
    const base = this.prepareBase(state, "atapi cdrom");
    const s = base.shape;
    const se = s.object("sense");
    const sense: Sense = {
      key: se.int("key", 0, 0xf),
      asc: se.int("asc", 0, 0xff),
      ascq: se.int("ascq", 0, 0xff),
    };
    const locked = s.bool("locked");
    const lastPacket = s.intOrNull("lastPacket", 0, 0xff);
    const job = s.objectOrNull("job", (j): CdromJob => {
      const kind = j.oneOf("kind", ["identify", "packet", "send"] as const);
      if (kind === "identify") return { kind };
      const dma = j.bool("dma");
      const limit = j.int("limit", 0, 0xffff);
      if (kind === "packet") return { kind, dma, limit };
      const reply = j.raw("reply") === null ? null : j.bytes("reply");
      const length = j.int("length", 1, reply ? reply.length : this.blocks * CD_SECTOR);
      // A reply is sent from its start; medium data must lie on the disc.
      const from = reply ? j.int("from", 0, 0) : j.int("from", 0, this.blocks * CD_SECTOR - length);
      return { kind, dma, limit, from, reply, length, pos: j.int("pos", 0, length) };
    });
    const expected = base.dma
      ? "send"
      : base.pio?.dir === "out"
      ? "packet"
      : base.pio
      ? (job?.kind === "identify" ? "identify" : "send")
      : null;
    if ((job?.kind ?? null) !== expected) s.fail("job", `must be ${expected ?? "null"} here`);
    if (job?.kind === "send" && base.dma && (job.length !== base.dma.length || !job.dma)) {
      s.fail("dma", "does not match the job");
    }
    if (job?.kind === "packet" && base.pio?.data.length !== 12) {
      s.fail("pio", "of a packet must be 12 bytes");
    }
    return () => {
      base.apply();
      this.#sense = sense;
      this.#locked = locked;
      this.lastPacket = lastPacket;
      this.job = job;
    };
  }
}
