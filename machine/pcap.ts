/**
 * Writes Ethernet frames to a classic pcap file (microsecond timestamps,
 * LINKTYPE_ETHERNET) that Wireshark and tcpdump open, and reads one back
 * for tests.
 *
 * @module
 */

const MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 65535;

/** Appends frames to a pcap file. */
export class PcapWriter {
  private constructor(readonly file: Deno.FsFile) {}

  /** Creates (or truncates) `path` and writes the file header. */
  static open(path: string): PcapWriter {
    const file = Deno.openSync(path, { write: true, create: true, truncate: true });
    const h = new DataView(new ArrayBuffer(24));
    h.setUint32(0, MAGIC, true);
    h.setUint16(4, 2, true);
    h.setUint16(6, 4, true);
    h.setUint32(16, SNAPLEN, true);
    h.setUint32(20, LINKTYPE_ETHERNET, true);
    writeAll(file, new Uint8Array(h.buffer));
    return new PcapWriter(file);
  }

  /** Appends one frame stamped with the wall clock. */
  write(frame: Uint8Array, timeMs = Date.now()): void {
    const rec = new Uint8Array(16 + frame.length);
    const v = new DataView(rec.buffer);
    v.setUint32(0, Math.floor(timeMs / 1000), true);
    v.setUint32(4, Math.floor((timeMs % 1000) * 1000), true);
    v.setUint32(8, frame.length, true);
    v.setUint32(12, frame.length, true);
    rec.set(frame, 16);
    writeAll(this.file, rec);
  }

  /** Closes the file. */
  close(): void {
    this.file.close();
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
}

/**
 * Reads the frames of a pcap file written by {@link PcapWriter}.
 * @throws {Error} when the file is not a little-endian Ethernet pcap
 */
export function readPcap(bytes: Uint8Array): Uint8Array[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24 || v.getUint32(0, true) !== MAGIC) throw new Error("not a pcap file");
  if (v.getUint32(20, true) !== LINKTYPE_ETHERNET) throw new Error("not an Ethernet capture");
  const frames: Uint8Array[] = [];
  for (let at = 24; at + 16 <= bytes.length;) {
    const len = v.getUint32(at + 8, true);
    frames.push(bytes.slice(at + 16, at + 16 + len));
    at += 16 + len;
  }
  return frames;
}
