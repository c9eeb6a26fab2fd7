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

/** A box of colour bins in the median cut. */
interface Box {
  readonly bins: Uint32Array;
  readonly pixels: number;
  /** The channel (0 red, 1 green, 2 blue) with the widest range, and that range. */
  readonly axis: number;
  readonly range: number;
}

/** Median cut over the image's 5-5-5 colour bins. */
function medianCut(rgba: Uint8Array, max: number): IndexedImage {
  const px = pixels(rgba);
  const count = new Uint32Array(32768);
  // Sums fit: 255 × pixels stays below 2^32 for pictures up to 16 M pixels.
  const sum = new Uint32Array(32768 * 3);
  for (let i = 0; i < px.length; i++) {
    const c = px[i];
    const bin = ((c >> 3) & 0x1f) | ((c >> 6) & 0x3e0) | ((c >> 9) & 0x7c00);
    count[bin]++;
    sum[bin * 3] += c & 0xff;
    sum[bin * 3 + 1] += (c >> 8) & 0xff;
    sum[bin * 3 + 2] += (c >>> 16) & 0xff;
  }
  let occupied = 0;
  for (let b = 0; b < 32768; b++) if (count[b]) occupied++;
  const all = new Uint32Array(occupied);
  for (let b = 0, n = 0; b < 32768; b++) if (count[b]) all[n++] = b;
  const makeBox = (bins: Uint32Array): Box => {
    let pixels = 0;
    let r0 = 31, g0 = 31, b0 = 31, r1 = 0, g1 = 0, b1 = 0;
    for (let i = 0; i < bins.length; i++) {
      const bin = bins[i];
      pixels += count[bin];
      const r = bin & 31, g = (bin >> 5) & 31, b = bin >> 10;
      if (r < r0) r0 = r;
      if (r > r1) r1 = r;
      if (g < g0) g0 = g;
      if (g > g1) g1 = g;
      if (b < b0) b0 = b;
      if (b > b1) b1 = b;
    }
    const ranges = [r1 - r0, g1 - g0, b1 - b0];
    const axis = ranges[1] > ranges[0]
      ? (ranges[2] > ranges[1] ? 2 : 1)
      : ranges[2] > ranges[0]
      ? 2
      : 0;
    return { bins, pixels, axis, range: ranges[axis] };
  };
  const boxes = [makeBox(all)];
  while (boxes.length < max) {
    let pick = -1;
    let best = -1;
    for (let i = 0; i < boxes.length; i++) {
      const b = boxes[i];
      const score = b.pixels * (b.range + 1);
      if (b.bins.length > 1 && score > best) {
        best = score;
        pick = i;
      }
    }
    if (pick < 0) break;
    const box = boxes[pick];
    // Sort by the axis channel: keys are channel << 16 | bin, sorted as numbers.
    const shift = 5 * box.axis;
    const keys = new Uint32Array(box.bins.length);
    for (let i = 0; i < keys.length; i++) {
      keys[i] = (((box.bins[i] >> shift) & 31) << 16) | box.bins[i];
    }
    keys.sort();
    for (let i = 0; i < keys.length; i++) keys[i] &= 0xffff;
    let half = 0;
    let cut = 1;
    for (; cut < keys.length - 1; cut++) {
      half += count[keys[cut - 1]];
      if (half * 2 >= box.pixels) break;
    }
    boxes.splice(pick, 1, makeBox(keys.subarray(0, cut)), makeBox(keys.subarray(cut)));
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
  for (let i = 0; i < px.length; i++) {
    const c = px[i];
    indices[i] = lut[((c >> 3) & 0x1f) | ((c >> 6) & 0x3e0) | ((c >> 9) & 0x7c00)];
  }
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
