/**
 * Register offsets, status and error bits, and command opcodes of the ATA
 * command block, as defined by ATA/ATAPI-8 (T13 ATA8-ACS / ATA8-APT).
 *
 * @module
 */

/** Data register (offset 0 of the command block). */
export const REG_DATA = 0;
/** Error (read) / Features (write). */
export const REG_ERROR = 1;
/** Sector count; ATAPI interrupt reason when read during a PACKET command. */
export const REG_SECTOR_COUNT = 2;
/** LBA bits 7:0 (sector number in CHS). */
export const REG_LBA_LOW = 3;
/** LBA bits 15:8 (cylinder low; ATAPI byte count low). */
export const REG_LBA_MID = 4;
/** LBA bits 23:16 (cylinder high; ATAPI byte count high). */
export const REG_LBA_HIGH = 5;
/** Device/head: DEV bit 4, LBA bit 6, LBA 27:24 or head in bits 3:0. */
export const REG_DEVICE = 6;
/** Status (read) / Command (write). */
export const REG_STATUS = 7;

/** Status: busy. */
export const ST_BSY = 0x80;
/** Status: device ready. */
export const ST_DRDY = 0x40;
/** Status: device fault. */
export const ST_DF = 0x20;
/** Status: seek complete (obsolete, still set by disks). */
export const ST_DSC = 0x10;
/** Status: data request. */
export const ST_DRQ = 0x08;
/** Status: error (CHECK for packet devices). */
export const ST_ERR = 0x01;

/** Error: interface CRC / bad block. */
export const ER_ICRC = 0x80;
/** Error: uncorrectable data. */
export const ER_UNC = 0x40;
/** Error: ID not found (address out of range). */
export const ER_IDNF = 0x10;
/** Error: command aborted. */
export const ER_ABRT = 0x04;

/** Device control: interrupts disabled. */
export const DC_NIEN = 0x02;
/** Device control: software reset. */
export const DC_SRST = 0x04;
/** Device control: high-order byte readback of the 48-bit registers. */
export const DC_HOB = 0x80;

/** Device register: device 1 selected. */
export const DEV_SLAVE = 0x10;
/** Device register: LBA addressing. */
export const DEV_LBA = 0x40;

/** ATAPI interrupt reason: command packet (C/D). */
export const IR_COD = 0x01;
/** ATAPI interrupt reason: transfer to the host (I/O). */
export const IR_IO = 0x02;

/** ATA command opcodes used by the disk and CD-ROM models. */
export const CMD = {
  NOP: 0x00,
  DEVICE_RESET: 0x08,
  RECALIBRATE: 0x10,
  READ_SECTORS: 0x20,
  READ_SECTORS_NORETRY: 0x21,
  READ_SECTORS_EXT: 0x24,
  READ_DMA_EXT: 0x25,
  READ_MULTIPLE_EXT: 0x29,
  WRITE_SECTORS: 0x30,
  WRITE_SECTORS_NORETRY: 0x31,
  WRITE_SECTORS_EXT: 0x34,
  WRITE_DMA_EXT: 0x35,
  WRITE_MULTIPLE_EXT: 0x39,
  READ_VERIFY: 0x40,
  READ_VERIFY_NORETRY: 0x41,
  READ_VERIFY_EXT: 0x42,
  SEEK: 0x70,
  EXECUTE_DEVICE_DIAGNOSTIC: 0x90,
  INITIALIZE_DEVICE_PARAMETERS: 0x91,
  STANDBY_IMMEDIATE_OLD: 0x94,
  IDLE_IMMEDIATE_OLD: 0x95,
  STANDBY_OLD: 0x96,
  IDLE_OLD: 0x97,
  CHECK_POWER_MODE_OLD: 0x98,
  SLEEP_OLD: 0x99,
  PACKET: 0xa0,
  IDENTIFY_PACKET_DEVICE: 0xa1,
  READ_MULTIPLE: 0xc4,
  WRITE_MULTIPLE: 0xc5,
  SET_MULTIPLE_MODE: 0xc6,
  READ_DMA: 0xc8,
  READ_DMA_NORETRY: 0xc9,
  WRITE_DMA: 0xca,
  WRITE_DMA_NORETRY: 0xcb,
  STANDBY_IMMEDIATE: 0xe0,
  IDLE_IMMEDIATE: 0xe1,
  STANDBY: 0xe2,
  IDLE: 0xe3,
  CHECK_POWER_MODE: 0xe5,
  SLEEP: 0xe6,
  FLUSH_CACHE: 0xe7,
  IDENTIFY_DEVICE: 0xec,
  FLUSH_CACHE_EXT: 0xea,
  SET_FEATURES: 0xef,
} as const;

/** Bytes per ATA sector. */
export const ATA_SECTOR = 512;
/** Bytes per CD-ROM (mode 1 user data) sector. */
export const CD_SECTOR = 2048;
