/**
 * The Internet checksum (RFC 1071), for NICs that insert checksums for the
 * guest.
 *
 * @module
 */

/** The one's-complement of the one's-complement sum of `bytes` as 16-bit big-endian words. */
export function inetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  const n = bytes.length;
  for (let i = 0; i + 1 < n; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (n & 1) sum += bytes[n - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
