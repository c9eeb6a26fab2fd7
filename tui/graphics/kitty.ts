/**
 * Pixels through the kitty graphics protocol: the frame goes at the guest's
 * own resolution as RGBA (zlib-compressed), in base64 chunks of at most
 * 4096 bytes, and is placed over the pane's cells, where the terminal
 * scales it. Every command carries `q=2`, so the terminal never answers
 * (answers would arrive on stdin, i.e. at the guest's keyboard). Changes
 * are sent as edits of the image's frame (`a=f`, `r=1`, replace mode) with
 * only the changed rectangle; terminals without frame edits get the whole
 * image again.
 *
 * @module
 */

import { deflateSync } from "node:zlib";
import { type PaneGeometry, placePixels, type Rect } from "./geometry.ts";
import { type GraphicsRenderer, moveTo, samePane } from "./renderer.ts";
import type { RgbaImage } from "./scale.ts";

/** Base64 bytes per escape sequence, as the protocol limits them. */
export const KITTY_CHUNK = 4096;

/** Options of {@link KittyRenderer}. */
export interface KittyOptions {
  /** Image id (default 1). */
  readonly id?: number;
  /** Send changes as frame edits (default true); false resends the whole image. */
  readonly frameEdits?: boolean;
  /** zlib-compress the pixels (o=z, default true). */
  readonly compress?: boolean;
}

/**
 * One graphics command with `data` as payload, split into chunks; `keys`
 * go on the first chunk, the rest carry only `m` (and `q`).
 */
export function kittyCommand(keys: string, data: Uint8Array): string {
  const b64 = toBase64(data);
  if (b64.length <= KITTY_CHUNK) return `\x1b_G${keys};${b64}\x1b\\`;
  const parts: string[] = [];
  for (let at = 0; at < b64.length; at += KITTY_CHUNK) {
    const more = at + KITTY_CHUNK < b64.length ? 1 : 0;
    const head = at === 0 ? `${keys},m=${more}` : `m=${more},q=2`;
    parts.push(`\x1b_G${head};${b64.slice(at, at + KITTY_CHUNK)}\x1b\\`);
  }
  return parts.join("");
}

function toBase64(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    s += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** The kitty renderer. */
export class KittyRenderer implements GraphicsRenderer {
  readonly kind = "kitty";
  readonly id: number;
  readonly frameEdits: boolean;
  readonly compress: boolean;
  #pane: PaneGeometry | null = null;
  #size = { width: 0, height: 0 };

  /** @param options image id, frame edits, compression */
  constructor(options: KittyOptions = {}) {
    this.id = options.id ?? 1;
    this.frameEdits = options.frameEdits ?? true;
    this.compress = options.compress ?? true;
  }

  full(frame: RgbaImage, pane: PaneGeometry): string {
    const pl = placePixels(frame.width, frame.height, pane);
    const out = this.clear() + moveTo(pl.col, pl.row) + kittyCommand(
      `a=T,i=${this.id},p=1,f=32,s=${frame.width},v=${frame.height},c=${pl.cols},r=${pl.rows}` +
        `,C=1,q=2${this.compress ? ",o=z" : ""}`,
      this.#payload(frame.rgba),
    );
    this.#pane = pane;
    this.#size = { width: frame.width, height: frame.height };
    return out;
  }

  update(frame: RgbaImage, pane: PaneGeometry, rects: readonly Rect[]): string {
    const sameSize = frame.width === this.#size.width && frame.height === this.#size.height;
    if (!this.frameEdits || !sameSize || !samePane(pane, this.#pane)) {
      return this.full(frame, pane);
    }
    let out = "";
    for (const r of rects) {
      const pixels = new Uint8Array(r.width * r.height * 4);
      for (let y = 0; y < r.height; y++) {
        const from = ((r.y + y) * frame.width + r.x) * 4;
        pixels.set(frame.rgba.subarray(from, from + r.width * 4), y * r.width * 4);
      }
      out += kittyCommand(
        `a=f,i=${this.id},r=1,x=${r.x},y=${r.y},s=${r.width},v=${r.height},f=32,X=1,q=2` +
          (this.compress ? ",o=z" : ""),
        this.#payload(pixels),
      );
    }
    return out;
  }

  clear(): string {
    if (!this.#pane) return "";
    this.#pane = null;
    return `\x1b_Ga=d,d=I,i=${this.id},q=2\x1b\\`;
  }

  #payload(rgba: Uint8Array): Uint8Array {
    return this.compress ? deflateSync(rgba, { level: 1 }) : rgba;
  }
}
