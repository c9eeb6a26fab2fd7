/**
 * Bitmaps with one bit per 4 KiB page of video RAM, bit `p & 7` of byte
 * `p >> 3` for page `p`: the layout KVM's dirty log uses, so a bitmap from
 * KVM_GET_DIRTY_LOG over the framebuffer slot can be merged byte for byte.
 *
 * @module
 */

/** Bytes per page. */
export const PAGE_SIZE = 4096;

/** A zeroed bitmap for `bytes` of memory, in whole 64-bit words as KVM sizes it. */
export function pageBitmap(bytes: number): Uint8Array<ArrayBuffer> {
  const pages = Math.ceil(bytes / PAGE_SIZE);
  return new Uint8Array(Math.ceil(pages / 64) * 8);
}

/** True when page `page` is marked. */
export function isPageMarked(bitmap: Uint8Array, page: number): boolean {
  return (bitmap[page >> 3] & (1 << (page & 7))) !== 0;
}

/** Marks the pages under bytes `[start, end)`, within `pages` pages. */
export function markBytes(bitmap: Uint8Array, pages: number, start: number, end: number): void {
  const last = Math.min(pages - 1, Math.floor((end - 1) / PAGE_SIZE));
  for (let p = Math.max(0, Math.floor(start / PAGE_SIZE)); p <= last; p++) {
    bitmap[p >> 3] |= 1 << (p & 7);
  }
}

/** True when any page under bytes `[start, end)` is marked. */
export function anyMarked(bitmap: Uint8Array, pages: number, start: number, end: number): boolean {
  const last = Math.min(pages - 1, Math.floor((end - 1) / PAGE_SIZE));
  for (let p = Math.max(0, Math.floor(start / PAGE_SIZE)); p <= last; p++) {
    if (bitmap[p >> 3] & (1 << (p & 7))) return true;
  }
  return false;
}
