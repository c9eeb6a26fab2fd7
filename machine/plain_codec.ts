/**
 * Plain data (device and vCPU state) to bytes and back: JSON for the
 * structure, with every `Uint8Array` lifted out into a binary tail so that
 * FIFOs, register files and KVM blobs cost their size, not a base64 string.
 *
 * Layout: u32 JSON length, JSON text, u32 blob count, then per blob a u32
 * length and its bytes (all little-endian).
 *
 * @module
 */

const BLOB_KEY = "$bytes";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Bytes that do not decode as plain data (truncated or foreign). */
export class PlainCodecError extends Error {
  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "PlainCodecError";
  }
}

/**
 * Encodes plain data: null, booleans, finite numbers, strings, arrays, plain
 * objects and `Uint8Array`s.
 * @throws {TypeError} for anything else (functions, class instances, NaN)
 */
export function encodePlain(value: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    // JSON.stringify calls toJSON first; look at the holder's raw value instead.
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array) {
      blobs.push(raw);
      return { [BLOB_KEY]: blobs.length - 1 };
    }
    if (typeof raw === "number" && !Number.isFinite(raw)) {
      throw new TypeError(`${key}: ${raw} is not plain data`);
    }
    if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
      const proto = Object.getPrototypeOf(raw);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`${key}: a ${proto?.constructor?.name} is not plain data`);
      }
    }
    if (typeof raw === "function" || typeof raw === "bigint" || typeof raw === "symbol") {
      throw new TypeError(`${key}: a ${typeof raw} is not plain data`);
    }
    return v;
  });
  const text = encoder.encode(json ?? "null");
  let size = 8 + text.length;
  for (const b of blobs) size += 4 + b.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, text.length, true);
  out.set(text, 4);
  let at = 4 + text.length;
  view.setUint32(at, blobs.length, true);
  at += 4;
  for (const b of blobs) {
    view.setUint32(at, b.length, true);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/**
 * Decodes what {@link encodePlain} wrote; byte fields come back as fresh
 * `Uint8Array`s.
 * @throws {PlainCodecError} for truncated or malformed bytes
 */
export function decodePlain(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number) => {
    if (at + n > bytes.length) throw new PlainCodecError("state data is truncated");
  };
  need(0, 4);
  const textLength = view.getUint32(0, true);
  need(4, textLength + 4);
  let text: string;
  try {
    text = decoder.decode(bytes.subarray(4, 4 + textLength));
  } catch {
    throw new PlainCodecError("state data is not UTF-8");
  }
  let at = 4 + textLength;
  const count = view.getUint32(at, true);
  at += 4;
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    need(at, 4);
    const n = view.getUint32(at, true);
    need(at + 4, n);
    blobs.push(bytes.slice(at + 4, at + 4 + n));
    at += 4 + n;
  }
  if (at !== bytes.length) throw new PlainCodecError("state data has trailing bytes");
  try {
    return JSON.parse(text, (_key, v) => {
      if (v !== null && typeof v === "object" && !Array.isArray(v)) {
        const keys = Object.keys(v);
        if (keys.length === 1 && keys[0] === BLOB_KEY) {
          const blob = blobs[v[BLOB_KEY]];
          if (!blob) throw new PlainCodecError(`state data names a missing blob ${v[BLOB_KEY]}`);
          return blob;
        }
      }
      return v;
    });
  } catch (e) {
    if (e instanceof PlainCodecError) throw e;
    throw new PlainCodecError(`state data is not valid JSON: ${(e as Error).message}`);
  }
}
