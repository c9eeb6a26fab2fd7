/**
 * Byte lanes of a bus access: a 2- or 4-byte port or MMIO access to
 * byte-wide registers is that many byte cycles, lowest address first, and a
 * register nobody decodes reads as all ones. Devices use these helpers
 * instead of splitting values by hand.
 *
 * @module
 */

import type { AccessSize } from "./types.ts";

/** What an access of `size` bytes reads where nothing answers: all ones. */
export function allOnes(size: AccessSize): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

/** Byte `lane` (0 = least significant) of an unsigned access value. */
export function laneByte(value: number, lane: number): number {
  return (value >>> (8 * lane)) & 0xff;
}

/** Reads `size` byte cycles from `offset` up and assembles them little-endian. */
export function readLanes(
  offset: number,
  size: AccessSize,
  readByte: (at: number) => number,
): number {
  let value = 0;
  for (let i = 0; i < size; i++) value |= (readByte(offset + i) & 0xff) << (8 * i);
  return value >>> 0;
}

/** Writes `value` as `size` byte cycles from `offset` up, lowest address first. */
export function writeLanes(
  offset: number,
  size: AccessSize,
  value: number,
  writeByte: (at: number, byte: number) => void,
): void {
  for (let i = 0; i < size; i++) writeByte(offset + i, laneByte(value, i));
}
