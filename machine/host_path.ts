/**
 * Paths whose bytes are not UTF-8. The command line carries them with each
 * byte that is not part of valid UTF-8 as a lone surrogate U+DC80-U+DCFF
 * (as Python's "surrogateescape"), so they survive as strings; Deno's file
 * APIs cannot spell them, so such a path is opened once as an O_PATH handle
 * and used as `/proc/self/fd/<n>`, which names the same file.
 *
 * @module
 */

import { openPathHandle } from "../kvm/host.ts";

const ENOENT = 2;
const EACCES = 13;
const ENOTDIR = 20;

/** Decodes UTF-8, keeping each byte that is not valid UTF-8 as U+DC80 + (byte - 0x80). */
export function decodePathBytes(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const n = validSequenceLength(bytes, i);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + bytes[i]);
      i++;
    } else {
      out += new TextDecoder().decode(bytes.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}

/** The bytes a {@link decodePathBytes} string came from. */
export function encodePathBytes(text: string): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff) {
      out.push(c - 0xdc00);
      continue;
    }
    const cp = text.codePointAt(i)!;
    const s = String.fromCodePoint(cp);
    out.push(...enc.encode(s));
    i += s.length - 1;
  }
  return Uint8Array.from(out);
}

/** Whether `text` holds escaped bytes (and so needs {@link openablePath}). */
export function hasEscapedBytes(text: string): boolean {
  return /[\udc80-\udcff]/.test(text);
}

/** How messages show a path: escaped bytes as `\xHH`. */
export function displayPath(text: string): string {
  return text.replace(
    /[\udc80-\udcff]/g,
    (c) => `\\x${(c.charCodeAt(0) - 0xdc00).toString(16).padStart(2, "0")}`,
  );
}

const handles = new Map<string, string>();

/**
 * A path Deno's file APIs open as the file `text` names: `text` itself, or
 * for a name with escaped bytes `/proc/self/fd/<n>` of a handle kept open
 * for the life of the process (one per distinct name).
 * @throws {Deno.errors.NotFound} or {Deno.errors.PermissionDenied} when it cannot be opened
 */
export function openablePath(text: string): string {
  if (!hasEscapedBytes(text)) return text;
  const known = handles.get(text);
  if (known) return known;
  const r = openPathHandle(encodePathBytes(text));
  if ("errno" in r) {
    const shown = displayPath(text);
    if (r.errno === ENOENT || r.errno === ENOTDIR) throw new Deno.errors.NotFound(shown);
    if (r.errno === EACCES) throw new Deno.errors.PermissionDenied(shown);
    throw new Error(`cannot open '${shown}' (errno ${r.errno})`);
  }
  const path = `/proc/self/fd/${r.fd}`;
  handles.set(text, path);
  return path;
}

/** The length of the valid UTF-8 sequence at `i`, or 0. */
function validSequenceLength(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1];
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // a surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1];
    if (c === 0xf0 && c1 < 0x90) return 0;
    if (c === 0xf4 && c1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}
