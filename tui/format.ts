/**
 * Small text formatters for the panes: durations, sizes, rates, sparklines.
 *
 * @module
 */

const SPARKS = "▁▂▃▄▅▆▇█";

/** "1:02:03" or "2:03" for a duration. */
export function formatUptime(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

/** "512 B", "1.5 KiB", "256 MiB", "2 GiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const text = u === 0 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
  return `${text} ${units[u]}`;
}

/** "12", "1.2k", "3.4M" for a rate. */
export function formatRate(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

/** A sparkline of `values` scaled to their maximum, one character per value. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  if (max === 0) return SPARKS[0].repeat(values.length);
  return values.map((v) => SPARKS[Math.min(7, Math.floor((v / max) * 7.999))]).join("");
}

/** "0x3f8" for a port or address. */
export function hex(n: number, width = 0): string {
  return "0x" + n.toString(16).padStart(width, "0");
}
