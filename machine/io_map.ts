/**
 * Every fixed port-I/O and MMIO registration of the PC board, its PCI slots
 * and its ISA interrupt lines, in one place. Ports the in-kernel irqchip and
 * PIT own (PIC 0x20/0xa0, PIT 0x40-0x43, ELCR 0x4d0) never reach userspace
 * and are absent here. Port 0x61 does reach it: KVM_CREATE_PIT2 without
 * KVM_PIT_SPEAKER_DUMMY leaves the speaker port to the VMM, as on QEMU.
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
  /** The first 8237A DMA controller: channels 0-3. */
  DMA1: { base: 0x00, length: 0x10 },
  I8042_DATA: { base: 0x60, length: 1 },
  I8042_COMMAND: { base: 0x64, length: 1 },
  /** System control port B: PC speaker and PIT channel 2 gate (KVM's PIT leaves it to us). */
  PC_SPEAKER: { base: 0x61, length: 1 },
  RTC: { base: 0x70, length: 2 },
  POST_CODE: { base: 0x80, length: 1 },
  /** DMA page registers (0x80 is the POST code port). */
  DMA_PAGES: { base: 0x81, length: 15 },
  PORT_92: { base: 0x92, length: 1 },
  /** APM control and status (APMC/APMS) of the PIIX4 power-management function. */
  APM: { base: 0xb2, length: 2 },
  /** The second 8237A DMA controller: channels 4-7, on even ports. */
  DMA2: { base: 0xc0, length: 0x20 },
  DEBUG_EXIT: { base: 0xf4, length: 1 },
  IDE_SECONDARY: { base: 0x170, length: 8 },
  /** The Sound Blaster 16 (--audio wav:<file>,model=sb16). */
  SB16: { base: 0x220, length: 16 },
  /** Bochs VBE DISPI index and data ports. */
  DISPI: { base: 0x1ce, length: 2 },
  IDE_PRIMARY: { base: 0x1f0, length: 8 },
  IDE_SECONDARY_CONTROL: { base: 0x376, length: 1 },
  VGA: { base: 0x3b0, length: 0x30 },
  IDE_PRIMARY_CONTROL: { base: 0x3f6, length: 1 },
  COM1: { base: 0x3f8, length: 8 },
  /** The IB700 watchdog (--watchdog ib700): 0x441-0x442 stop, 0x443-0x444 start. */
  IB700: { base: 0x441, length: 4 },
  FW_CFG: { base: 0x510, length: 12 },
  /** PCI configuration mechanism #1, with the reset control register at 0xcf9. */
  PCI_CONFIG: { base: 0xcf8, length: 8 },
} as const satisfies Record<string, FixedRange>;

/** MMIO ranges. */
export const MMIO = {
  VGA_WINDOW: { base: 0xa0000, length: 0x20000 },
  /** The HPET's register block (QEMU's HPET_BASE). */
  HPET: { base: 0xfed00000, length: 0x400 },
} as const satisfies Record<string, FixedRange>;

/**
 * MMIO ranges whose writes KVM queues instead of exiting (coalesced MMIO,
 * replayed before the next exit is handled), as QEMU does: the legacy VGA
 * window, which text output and screen clears write a word at a time.
 */
export const COALESCED_MMIO: readonly FixedRange[] = [MMIO.VGA_WINDOW];

/** KVM memory slots besides RAM (0-2) and the BIOS ROM (3, firmware.ts). */
export const MEMORY_SLOT = {
  /** VGA video RAM at BAR0, dirty-logged. */
  VGA_FRAMEBUFFER: 4,
  /** The two 32 KiB banks a Cirrus shows at 0xA0000 and 0xA8000, over video RAM. */
  VGA_BANK0: 5,
  VGA_BANK1: 6,
  /** PCI expansion ROMs, read-only, one slot each from here in attach order (board.ts). */
  FIRST_ROM: 7,
} as const;

/** ISA interrupt lines (GSIs on the in-kernel irqchip). */
export const IRQ = {
  /**
   * The PIT, and the HPET's timer 0 in legacy replacement mode; GSI 0
   * reaches I/O APIC pin 2, as the MADT's override says (irq_routing.ts).
   */
  TIMER: 0,
  KEYBOARD: 1,
  COM1: 4,
  /** The Sound Blaster 16. */
  SB16: 5,
  RTC: 8,
  /** The ACPI SCI of the PIIX4 power-management function. */
  SCI: 9,
  MOUSE: 12,
  IDE_PRIMARY: 14,
  IDE_SECONDARY: 15,
} as const;

/** PCI device numbers on bus 0 (functions are given where used). */
export const PCI_SLOT = {
  HOST_BRIDGE: 0,
  PIIX3: 1,
  VGA: 2,
  /** virtio disks take this slot and the ones after it, then the `--device`s. */
  FIRST_VIRTIO: 3,
  /** The last device number on a PCI bus. */
  LAST: 31,
} as const;

/** How many virtio disks and `--device`s fit: one PCI slot each, from FIRST_VIRTIO to LAST. */
export const MAX_VIRTIO_DISKS = PCI_SLOT.LAST - PCI_SLOT.FIRST_VIRTIO + 1;

/** Functions in the PIIX3 slot; 3 is the PIIX4's power management, as on QEMU's PC. */
export const PIIX3_FN = { ISA: 0, IDE: 1, PM: 3 } as const;
