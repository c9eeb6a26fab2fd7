/**
 * Parsing of human sizes such as `64M` or `2G`.
 *
 * @module
 */

const UNITS: Record<string, number> = {
  "": 2 ** 20, // a bare number means MiB, as in QEMU's -m
  B: 1,
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
};

/**
 * Parses a memory size: a positive number with an optional K, M, G or T
 * suffix (binary units, optional trailing "B" or "iB"); a bare number is MiB.
 * @returns the size in bytes, or null when `text` is not a size
 */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = m[2].toUpperCase();
  const bytes = Number(m[1]) * UNITS[unit === "" && /B$/i.test(text) ? "B" : unit];
  return Number.isFinite(bytes) ? Math.floor(bytes) : null;
}

/** Formats bytes the way users write them: 256M, 2G, 1536K. */
export function formatSize(bytes: number): string {
  for (
    const [unit, n] of [["T", 2 ** 40], ["G", 2 ** 30], ["M", 2 ** 20], ["K", 2 ** 10]] as const
  ) {
    if (bytes < n) continue;
    return bytes % n === 0 ? `${bytes / n}${unit}` : `${(bytes / n).toFixed(1)}${unit}`;
  }
  return `${bytes}B`;
}
