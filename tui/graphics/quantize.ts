/**
 * Palette quantisation for sixel images, made for screens rather than
 * photographs: a picture of at most 256 colours (every 8-bit guest mode,
 * and most text and desktop screens in any mode) keeps its colours
 * exactly; otherwise a median cut over 5-5-5 colour bins, weighted by how
 * many pixels each bin holds, so the colours that cover the most of the
 * screen (text and its background) get boxes of their own. There is no
 * dithering, so text stays sharp.
 *
 * @module
 */

/** Pixels as palette indices. */
export interface IndexedImage {
  /** One index a pixel. */
  readonly indices: Uint16Array;
  /** Distinct colours as [r, g, b]. */
  readonly palette: [number, number, number][];
}

/** Quantises `rgba` to at most `maxColors` colours (alpha is ignored). */
export function quantize(rgba: Uint8Array, maxColors = 256): IndexedImage {
  return exactColours(rgba, maxColors) ?? medianCut(rgba, maxColors);
}

function pixels(rgba: Uint8Array): Uint32Array {
  return new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.byteLength >> 2);
}

function unpack(c: number): [number, number, number] {
  return [c & 0xff, (c >> 8) & 0xff, (c >> 16) & 0xff];
}

/** The image's own colours, or null when it has more than `max`. */
function exactColours(rgba: Uint8Array, max: number): IndexedImage | null {
  const px = pixels(rgba);
  const indices = new Uint16Array(px.length);
  const seen = new Map<number, number>();
  const colours: number[] = [];
  let last = -1;
  let lastIndex = 0;
  for (let i = 0; i < px.length; i++) {
    const c = px[i] & 0xffffff;
    if (c !== last) {
      let index = seen.get(c);
      if (index === undefined) {
        if (colours.length === max) return null;
        index = colours.length;
        seen.set(c, index);
        colours.push(c);
      }
      last = c;
      lastIndex = index;
    }
    indices[i] = lastIndex;
  }
  return { indices, palette: colours.map(unpack) };
}

/** Median cut over the image's 5-5-5 colour bins. */
function medianCut(rgba: Uint8Array, max: number): IndexedImage {
  const px = pixels(rgba);
  const count = new Uint32Array(32768);
  const sum = new Float64Array(32768 * 3);
  const binOf = (c: number) => ((c >> 3) & 0x1f) | ((c >> 6) & 0x3e0) | ((c >> 9) & 0x7c00);
  for (let i = 0; i < px.length; i++) {
    const c = px[i];
    const bin = binOf(c);
    count[bin]++;
    sum[bin * 3] += c & 0xff;
    sum[bin * 3 + 1] += (c >> 8) & 0xff;
    sum[bin * 3 + 2] += (c >> 16) & 0xff;
  }
  const occupied: number[] = [];
  for (let b = 0; b < 32768; b++) if (count[b]) occupied.push(b);
  // Channel `k` of a bin, 0-31 (bins are laid out r | g << 5 | b << 10).
  const chan = (bin: number, k: number) => (bin >> (5 * k)) & 31;
  interface Box {
    bins: number[];
    pixels: number;
    axis: number;
    range: number;
  }
  const makeBox = (bins: number[]): Box => {
    let pixels = 0;
    const lo = [31, 31, 31];
    const hi = [0, 0, 0];
    for (const b of bins) {
      pixels += count[b];
      for (let k = 0; k < 3; k++) {
        lo[k] = Math.min(lo[k], chan(b, k));
        hi[k] = Math.max(hi[k], chan(b, k));
      }
    }
    let axis = 0;
    for (let k = 1; k < 3; k++) if (hi[k] - lo[k] > hi[axis] - lo[axis]) axis = k;
    return { bins, pixels, axis, range: hi[axis] - lo[axis] };
  };
  const boxes = [makeBox(occupied)];
  while (boxes.length < max) {
    let pick = -1;
    for (let i = 0; i < boxes.length; i++) {
      const b = boxes[i];
      if (b.bins.length < 2) continue;
      if (pick < 0 || b.pixels * (b.range + 1) > boxes[pick].pixels * (boxes[pick].range + 1)) {
        pick = i;
      }
    }
    if (pick < 0) break;
    const box = boxes[pick];
    const sorted = box.bins.sort((a, b) => chan(a, box.axis) - chan(b, box.axis));
    let half = 0;
    let cut = 1;
    for (; cut < sorted.length - 1; cut++) {
      half += count[sorted[cut - 1]];
      if (half * 2 >= box.pixels) break;
    }
    boxes.splice(pick, 1, makeBox(sorted.slice(0, cut)), makeBox(sorted.slice(cut)));
  }
  const lut = new Uint16Array(32768);
  const palette: [number, number, number][] = boxes.map((box, index) => {
    let n = 0;
    let r = 0;
    let g = 0;
    let b = 0;
    for (const bin of box.bins) {
      lut[bin] = index;
      n += count[bin];
      r += sum[bin * 3];
      g += sum[bin * 3 + 1];
      b += sum[bin * 3 + 2];
    }
    return [Math.round(r / n), Math.round(g / n), Math.round(b / n)];
  });
  const indices = new Uint16Array(px.length);
  for (let i = 0; i < px.length; i++) indices[i] = lut[binOf(px[i])];
  return dedupe(indices, palette);
}

/** Merges equal palette entries (the encoder wants every colour once). */
function dedupe(indices: Uint16Array, palette: [number, number, number][]): IndexedImage {
  const first = new Map<number, number>();
  const remap = new Uint16Array(palette.length);
  const out: [number, number, number][] = [];
  palette.forEach(([r, g, b], i) => {
    const key = r | (g << 8) | (b << 16);
    let at = first.get(key);
    if (at === undefined) {
      at = out.length;
      first.set(key, at);
      out.push([r, g, b]);
    }
    remap[i] = at;
  });
  if (out.length === palette.length) return { indices, palette };
  for (let i = 0; i < indices.length; i++) indices[i] = remap[indices[i]];
  return { indices, palette: out };
}
