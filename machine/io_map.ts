/**
 * Every fixed port-I/O and MMIO registration of the PC board, in one table.
 * Ports the in-kernel irqchip and PIT own (PIC 0x20/0xa0, PIT 0x40-0x43,
 * speaker 0x61, ELCR 0x4d0) never reach userspace and are absent here.
 *
 * @module
 */

/** A fixed range on a bus. */
export interface FixedRange {
  readonly base: number;
  readonly length: number;
}

/** Port-I/O ranges. */
export const PIO = {
  POST_CODE: { base: 0x80, length: 1 },
  DEBUG_EXIT: { base: 0xf4, length: 1 },
  COM1: { base: 0x3f8, length: 8 },
} as const satisfies Record<string, FixedRange>;

/** ISA interrupt lines (GSIs on the in-kernel irqchip). */
export const IRQ = {
  COM1: 4,
} as const;
