/**
 * Parameter data a single-session, single-track data CD returns to SCSI/MMC
 * packet commands (SPC-3, MMC-3, SFF-8020i): sense data, INQUIRY, READ
 * CAPACITY, MODE SENSE(10) pages, READ TOC, GET CONFIGURATION, GET EVENT
 * STATUS NOTIFICATION, READ DISC INFORMATION and MECHANISM STATUS. All
 * multi-byte fields are big-endian.
 *
 * @module
 */

/** Packet command opcodes. */
export const SCSI = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  INQUIRY: 0x12,
  START_STOP_UNIT: 0x1b,
  PREVENT_ALLOW_MEDIUM_REMOVAL: 0x1e,
  READ_CAPACITY: 0x25,
  READ_10: 0x28,
  SEEK_10: 0x2b,
  READ_TOC: 0x43,
  GET_CONFIGURATION: 0x46,
  GET_EVENT_STATUS_NOTIFICATION: 0x4a,
  READ_DISC_INFORMATION: 0x51,
  MODE_SENSE_10: 0x5a,
  READ_12: 0xa8,
  SET_CD_SPEED: 0xbb,
  MECHANISM_STATUS: 0xbd,
  READ_CD: 0xbe,
} as const;

/** Sense keys (SPC-3 table 27). */
export const SENSE_KEY = {
  NO_SENSE: 0x0,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  ABORTED_COMMAND: 0xb,
} as const;

/** A sense key with its additional sense code and qualifier. */
export interface Sense {
  readonly key: number;
  readonly asc: number;
  readonly ascq: number;
}

/** Sense conditions the CD-ROM reports. */
export const SENSES = {
  NONE: { key: SENSE_KEY.NO_SENSE, asc: 0x00, ascq: 0x00 },
  INVALID_OPCODE: { key: SENSE_KEY.ILLEGAL_REQUEST, asc: 0x20, ascq: 0x00 },
  LBA_OUT_OF_RANGE: { key: SENSE_KEY.ILLEGAL_REQUEST, asc: 0x21, ascq: 0x00 },
  INVALID_FIELD: { key: SENSE_KEY.ILLEGAL_REQUEST, asc: 0x24, ascq: 0x00 },
  SAVING_NOT_SUPPORTED: { key: SENSE_KEY.ILLEGAL_REQUEST, asc: 0x39, ascq: 0x00 },
  REMOVAL_PREVENTED: { key: SENSE_KEY.ILLEGAL_REQUEST, asc: 0x53, ascq: 0x02 },
  MEDIUM_NOT_PRESENT: { key: SENSE_KEY.NOT_READY, asc: 0x3a, ascq: 0x00 },
  UNRECOVERED_READ: { key: SENSE_KEY.MEDIUM_ERROR, asc: 0x11, ascq: 0x00 },
  MEMORY_FAULT: { key: SENSE_KEY.ABORTED_COMMAND, asc: 0x00, ascq: 0x00 },
} as const satisfies Record<string, Sense>;

/** Big-endian u16 at `off` of a CDB. */
export function be16(b: Uint8Array, off: number): number {
  return b[off] << 8 | b[off + 1];
}

/** Big-endian u32 at `off` of a CDB. */
export function be32(b: Uint8Array, off: number): number {
  return (b[off] << 24 | b[off + 1] << 16 | b[off + 2] << 8 | b[off + 3]) >>> 0;
}

function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

function put32(b: Uint8Array, off: number, v: number): void {
  put16(b, off, (v >>> 16) & 0xffff);
  put16(b, off + 2, v & 0xffff);
}

/** Minute, second, frame of a logical block (MSF counts the 2-second pregap). */
export function lbaToMsf(lba: number): [number, number, number] {
  const f = lba + 150;
  return [Math.floor(f / 4500), Math.floor(f / 75) % 60, f % 75];
}

/** Fixed-format sense data, 18 bytes (response code 70h: current error). */
export function senseData(s: Sense): Uint8Array {
  const b = new Uint8Array(18);
  b[0] = 0x70;
  b[2] = s.key;
  b[7] = 10; // additional sense length
  b[12] = s.asc;
  b[13] = s.ascq;
  return b;
}

/** Standard INQUIRY data, 36 bytes, of a removable CD/DVD device. */
export function inquiryData(vendor: string, product: string, revision: string): Uint8Array {
  const b = new Uint8Array(36);
  b[0] = 0x05; // peripheral device type: CD/DVD
  b[1] = 0x80; // removable medium
  b[2] = 0x05; // SPC-3
  b[3] = 0x02; // response data format
  b[4] = 36 - 5; // additional length
  putAscii(b, 8, 8, vendor);
  putAscii(b, 16, 16, product);
  putAscii(b, 32, 4, revision);
  return b;
}

function putAscii(b: Uint8Array, off: number, len: number, text: string): void {
  const s = text.padEnd(len, " ");
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    b[off + i] = c >= 0x20 && c < 0x7f ? c : 0x20;
  }
}

/** READ CAPACITY data: last logical block address and block length (2048). */
export function readCapacityData(blocks: number): Uint8Array {
  const b = new Uint8Array(8);
  put32(b, 0, Math.max(0, blocks - 1));
  put32(b, 4, 2048);
  return b;
}

/** Drive state the mode pages and feature descriptors depend on. */
export interface MediumState {
  readonly present: boolean;
  readonly locked: boolean;
}

const MODE_PAGES = [0x01, 0x0d, 0x2a] as const;

function modePage(page: number, m: MediumState, changeable: boolean): Uint8Array {
  let b: Uint8Array;
  switch (page) {
    case 0x01: // read/write error recovery
      b = new Uint8Array(12);
      b[1] = 0x0a;
      if (!changeable) b[3] = 5; // read retry count
      break;
    case 0x0d: // CD device parameters
      b = new Uint8Array(8);
      b[1] = 0x06;
      if (!changeable) {
        b[5] = 60; // S units per M
        b[7] = 75; // F units per S
      }
      break;
    default: // 0x2a: CD capabilities and mechanical status
      b = new Uint8Array(22);
      b[1] = 0x14;
      if (!changeable) {
        b[4] = 0x71; // audio play, mode 2 form 1 and 2, multi-session
        // Tray loading mechanism, eject, lock, and the current lock state.
        b[6] = 0x20 | 0x08 | 0x01 | (m.locked ? 0x02 : 0);
        put16(b, 8, 5632); // maximum read speed, kB/s (32x)
        put16(b, 10, 256); // volume levels
        put16(b, 12, 512); // buffer size, KiB
        put16(b, 14, 5632); // current read speed
      }
  }
  b[0] = page;
  return b;
}

/**
 * MODE SENSE(10) parameter data: 8-byte header (no block descriptors) then
 * the page, or all pages for 3Fh. `pc` 1 reports changeable values (none).
 * Null when the page is not supported.
 */
export function modeSense10(page: number, pc: number, m: MediumState): Uint8Array | null {
  const pages = page === 0x3f ? [...MODE_PAGES] : MODE_PAGES.filter((p) => p === page);
  if (pages.length === 0) return null;
  const parts = pages.map((p) => modePage(p, m, pc === 1));
  const total = 8 + parts.reduce((n, p) => n + p.length, 0);
  const b = new Uint8Array(total);
  put16(b, 0, total - 2);
  b[2] = m.present ? 0x01 : 0x70; // 120 mm CD-ROM data only / door closed, no disc
  let off = 8;
  for (const p of parts) {
    b.set(p, off);
    off += p.length;
  }
  return b;
}

function putAddress(b: Uint8Array, off: number, lba: number, msf: boolean): void {
  if (msf) {
    const [m, s, f] = lbaToMsf(lba);
    b[off] = 0;
    b[off + 1] = m;
    b[off + 2] = s;
    b[off + 3] = f;
  } else {
    put32(b, off, lba);
  }
}

/**
 * READ TOC/PMA/ATIP data for a one-track data disc of `blocks` blocks:
 * format 0 (TOC, from `track`), 1 (session information) or 2 (full TOC).
 * Null when the format or starting track is invalid.
 */
export function readToc(
  format: number,
  msf: boolean,
  track: number,
  blocks: number,
): Uint8Array | null {
  if (format === 0) {
    const entries: [number, number][] = [];
    if (track <= 1) entries.push([1, 0]);
    else if (track !== 0xaa) return null;
    entries.push([0xaa, blocks]);
    const b = new Uint8Array(4 + 8 * entries.length);
    put16(b, 0, b.length - 2);
    b[2] = 1; // first track
    b[3] = 1; // last track
    entries.forEach(([number, lba], i) => {
      const off = 4 + 8 * i;
      b[off + 1] = 0x14; // ADR 1 (Q mode 1), control 4 (data track)
      b[off + 2] = number;
      putAddress(b, off + 4, lba, msf);
    });
    return b;
  }
  if (format === 1) {
    const b = new Uint8Array(12);
    put16(b, 0, 10);
    b[2] = 1; // first complete session
    b[3] = 1; // last complete session
    b[5] = 0x14;
    b[6] = 1; // first track in last session
    putAddress(b, 8, 0, msf);
    return b;
  }
  if (format === 2) {
    // Points A0 (first track), A1 (last track), A2 (lead-out) and track 1; always MSF.
    const points: [number, number, number, number][] = [
      [0xa0, 1, 0x00, 0],
      [0xa1, 1, 0, 0],
      [0xa2, ...lbaToMsf(blocks)],
      [0x01, ...lbaToMsf(0)],
    ];
    const b = new Uint8Array(4 + 11 * points.length);
    put16(b, 0, b.length - 2);
    b[2] = 1;
    b[3] = 1;
    points.forEach(([point, pm, ps, pf], i) => {
      const off = 4 + 11 * i;
      b[off] = 1; // session
      b[off + 1] = 0x14;
      b[off + 3] = point;
      b[off + 8] = pm;
      b[off + 9] = ps;
      b[off + 10] = pf;
    });
    return b;
  }
  return null;
}

interface Feature {
  code: number;
  current: boolean;
  bytes: Uint8Array;
}

function feature(
  code: number,
  version: number,
  persistent: boolean,
  current: boolean,
  data: number[],
): Feature {
  const b = new Uint8Array(4 + data.length);
  put16(b, 0, code);
  b[2] = version << 2 | (persistent ? 2 : 0) | (current ? 1 : 0);
  b[3] = data.length;
  b.set(data, 4);
  return { code, current, bytes: b };
}

/** MMC profile of a CD-ROM. */
export const PROFILE_CD_ROM = 0x0008;

/**
 * GET CONFIGURATION data: header with the current profile (CD-ROM when a
 * disc is loaded) and the Profile List, Core, Removable Medium, Random
 * Readable and CD Read features selected by `rt` and `start`. Null for an
 * invalid RT.
 */
export function getConfiguration(rt: number, start: number, m: MediumState): Uint8Array | null {
  if (rt > 2) return null;
  const features = [
    feature(0x0000, 0, true, true, [
      PROFILE_CD_ROM >> 8,
      PROFILE_CD_ROM & 0xff,
      m.present ? 1 : 0,
      0,
    ]),
    feature(0x0001, 1, true, true, [0, 0, 0, 2, 0, 0, 0, 0]), // physical interface: ATAPI
    feature(0x0003, 0, true, true, [0x20 | 0x08 | 0x01, 0, 0, 0]), // tray, eject, lock
    feature(0x0010, 0, false, m.present, [0, 0, 0x08, 0x00, 0, 1, 0, 0]), // 2048-byte blocks
    feature(0x001e, 0, false, m.present, [0, 0, 0, 0]),
  ].filter((f) => rt === 2 ? f.code === start : f.code >= start && (rt === 0 || f.current));
  const total = 8 + features.reduce((n, f) => n + f.bytes.length, 0);
  const b = new Uint8Array(total);
  put32(b, 0, total - 4);
  put16(b, 6, m.present ? PROFILE_CD_ROM : 0);
  let off = 8;
  for (const f of features) {
    b.set(f.bytes, off);
    off += f.bytes.length;
  }
  return b;
}

/**
 * GET EVENT STATUS NOTIFICATION (polled) data. Only the media class (bit 4)
 * is supported; it reports no change and whether a disc is present.
 */
export function eventStatus(classes: number, present: boolean): Uint8Array {
  if (!(classes & 0x10)) {
    const b = new Uint8Array(4);
    put16(b, 0, 2);
    b[2] = 0x80; // no event available
    b[3] = 0x10; // supported classes: media
    return b;
  }
  const b = new Uint8Array(8);
  put16(b, 0, 6);
  b[2] = 0x04; // media class
  b[3] = 0x10;
  b[4] = 0x00; // no change
  b[5] = present ? 0x02 : 0x00; // media present, door closed
  return b;
}

/** READ DISC INFORMATION data (standard disc information, 34 bytes) for a complete one-session disc. */
export function discInformation(): Uint8Array {
  const b = new Uint8Array(34);
  put16(b, 0, 32);
  b[2] = 0x0e; // last session complete, disc complete
  b[3] = 1; // first track on disc
  b[4] = 1; // number of sessions
  b[5] = 1; // first track in last session
  b[6] = 1; // last track in last session
  b[7] = 0x20; // unrestricted use
  b[8] = 0x00; // disc type: CD-DA or CD-ROM
  put32(b, 16, 0xffffffff); // last session lead-in start: none
  put32(b, 20, 0xffffffff); // last possible lead-out start: none
  return b;
}

/** MECHANISM STATUS data: header only, idle mechanism, door closed, no changer slots. */
export function mechanismStatus(): Uint8Array {
  return new Uint8Array(8);
}
