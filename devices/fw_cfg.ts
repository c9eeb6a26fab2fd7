/**
 * QEMU's firmware configuration device (fw_cfg) as the PC wires it, following
 * QEMU's docs/specs/fw_cfg.rst: one 12-byte port region at 0x510.
 *
 * - 0x510: selector, 16-bit little-endian write; selecting rewinds the offset.
 *   Bit 15 marks architecture-specific keys; bit 14 (the retired write flag)
 *   is ignored.
 * - 0x511: data, 8-bit reads of the selected item, auto-incrementing; reads
 *   past the end return 0. Writes are ignored (QEMU ≥ 2.4).
 * - 0x514-0x51B: DMA address, 64-bit big-endian (byte at 0x514 most
 *   significant). The write that completes the low half (0x518-0x51B) starts
 *   a transfer and zeroes the register. Reading it returns "QEMU CFG".
 *
 * A transfer reads a big-endian `FWCfgDmaAccess { u32 control; u32 length;
 * u64 address }` from guest memory. Control bits: 0 ERROR, 1 READ, 2 SKIP,
 * 3 SELECT (key in bits 31:16), 4 WRITE. Completion writes control back as 0,
 * or as ERROR when the transfer failed.
 *
 * @module
 */

import {
  type AccessSize,
  type BusDevice,
  type GuestMemory,
  GuestMemoryError,
  type Json,
} from "./types.ts";

/** Signature item: the four bytes "QEMU". */
export const FW_CFG_SIGNATURE = 0x0000;
/** Feature bitmap item (le32): bit 0 traditional interface, bit 1 DMA. */
export const FW_CFG_ID = 0x0001;
/** File directory item. */
export const FW_CFG_FILE_DIR = 0x0019;
/** First selector handed to files. */
export const FW_CFG_FILE_FIRST = 0x0020;
/** Bit of a selector marking architecture-specific items. */
export const FW_CFG_ARCH_LOCAL = 0x8000;

/** DMA control: the transfer failed. */
export const FW_CFG_DMA_CTL_ERROR = 0x01;
/** DMA control: copy from the item to guest memory. */
export const FW_CFG_DMA_CTL_READ = 0x02;
/** DMA control: advance the item offset. */
export const FW_CFG_DMA_CTL_SKIP = 0x04;
/** DMA control: select the item in bits 31:16 first. */
export const FW_CFG_DMA_CTL_SELECT = 0x08;
/** DMA control: copy from guest memory into a writable item. */
export const FW_CFG_DMA_CTL_WRITE = 0x10;

/** Bytes in a file directory entry's name field, NUL included. */
export const FW_CFG_MAX_FILE_PATH = 56;

const WRITE_FLAG = 0x4000;
const DMA_SIGNATURE = new TextEncoder().encode("QEMU CFG");
const SELECTOR = 0;
const DATA = 1;
const DMA = 4;

/** Thrown when an item or file cannot be added. */
export class FwCfgError extends Error {
  /** @param message what was refused and why */
  constructor(message: string) {
    super(message);
    this.name = "FwCfgError";
  }
}

/** Options for {@link FwCfg.addFile}. */
export interface FwCfgFileOptions {
  /** Lets DMA WRITE operations change the file (its size stays fixed). */
  readonly writable?: boolean;
  /** Called after a DMA write with the offset and the bytes written. */
  readonly onWrite?: (offset: number, bytes: Uint8Array) => void;
}

/** Options for {@link FwCfg}. */
export interface FwCfgOptions {
  /** Guest memory for the DMA interface; without it the interface is absent (ID bit 1 clear). */
  readonly memory?: GuestMemory;
  /**
   * Whether a DMA operation on a selector with no item sets ERROR (default
   * true). Reads still zero-fill the destination either way, as QEMU does, so
   * firmware that ignores ERROR sees zeros.
   */
  readonly unknownSelectorError?: boolean;
}

interface Entry {
  readonly data: Uint8Array;
  readonly name?: string;
  readonly writable: boolean;
  readonly onWrite?: (offset: number, bytes: Uint8Array) => void;
}

/** The fw_cfg device: items, files, the traditional ports and the DMA interface. */
export class FwCfg implements BusDevice {
  readonly #memory: GuestMemory | undefined;
  readonly #unknownError: boolean;
  readonly #items = new Map<number, Entry>();
  #nextFile = FW_CFG_FILE_FIRST;
  #selector = 0;
  #offset = 0;
  readonly #dmaAddress = new Uint8Array(8);

  /** @param options guest memory for DMA and error behaviour */
  constructor(options: FwCfgOptions = {}) {
    this.#memory = options.memory;
    this.#unknownError = options.unknownSelectorError ?? true;
    this.#items.set(FW_CFG_SIGNATURE, plain(new TextEncoder().encode("QEMU")));
    this.#items.set(FW_CFG_ID, plain(le32(this.#memory ? 3 : 1)));
    this.#rebuildDirectory();
  }

  /**
   * Adds (or replaces) a numbered item: keys 0x02-0x1F except 0x19, or
   * architecture-specific keys 0x8000-0xBFFF. The data is copied.
   * @throws {FwCfgError} for reserved keys or keys in the file range
   */
  addItem(key: number, data: Uint8Array): void {
    const generic = key >= 0x0002 && key < FW_CFG_FILE_FIRST && key !== FW_CFG_FILE_DIR;
    const arch = key >= FW_CFG_ARCH_LOCAL && key < FW_CFG_ARCH_LOCAL + WRITE_FLAG;
    if (!Number.isInteger(key) || !(generic || arch)) {
      throw new FwCfgError(`fw_cfg key 0x${key.toString(16)} cannot be set as an item`);
    }
    this.#items.set(key, plain(data.slice()));
  }

  /**
   * Adds a named file, listed in the directory, and returns its selector
   * (stable: later files take the next selectors). The data is copied.
   * @throws {FwCfgError} for a duplicate or over-long name, or when selectors run out
   */
  addFile(name: string, data: Uint8Array, options: FwCfgFileOptions = {}): number {
    const encoded = new TextEncoder().encode(name);
    if (encoded.length === 0 || encoded.length >= FW_CFG_MAX_FILE_PATH || encoded.includes(0)) {
      throw new FwCfgError(`bad fw_cfg file name ${JSON.stringify(name)}`);
    }
    if ([...this.#items.values()].some((e) => e.name === name)) {
      throw new FwCfgError(`fw_cfg file ${name} already exists`);
    }
    if (this.#nextFile >= WRITE_FLAG) throw new FwCfgError("fw_cfg file selectors exhausted");
    const key = this.#nextFile++;
    this.#items.set(key, {
      data: data.slice(),
      name,
      writable: options.writable ?? false,
      onWrite: options.onWrite,
    });
    this.#rebuildDirectory();
    return key;
  }

  /** A copy of the item at `key`, if present. */
  item(key: number): Uint8Array | undefined {
    return this.#items.get(key & ~WRITE_FLAG)?.data.slice();
  }

  /** A copy of the named file's current contents, if present. */
  file(name: string): Uint8Array | undefined {
    return [...this.#items.values()].find((e) => e.name === name)?.data.slice();
  }

  #rebuildDirectory(): void {
    const files = [...this.#items.entries()]
      .filter(([, e]) => e.name !== undefined)
      .sort(([, a], [, b]) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0));
    const dir = new Uint8Array(4 + files.length * 64);
    const view = new DataView(dir.buffer);
    view.setUint32(0, files.length); // DataView defaults to big-endian
    files.forEach(([key, e], i) => {
      const at = 4 + i * 64;
      view.setUint32(at, e.data.length);
      view.setUint16(at + 4, key);
      dir.set(new TextEncoder().encode(e.name), at + 8);
    });
    this.#items.set(FW_CFG_FILE_DIR, plain(dir));
  }

  #select(key: number): void {
    this.#selector = key & 0xffff;
    this.#offset = 0;
  }

  #current(): Entry | undefined {
    return this.#items.get(this.#selector & ~WRITE_FLAG);
  }

  #readData(): number {
    const e = this.#current();
    if (!e || this.#offset >= e.data.length) return 0;
    return e.data[this.#offset++];
  }

  /** @inheritdoc */
  read(offset: number, size: AccessSize): number {
    if (offset === DATA && size === 1) return this.#readData();
    if (offset >= DMA && this.#memory) {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + (DMA_SIGNATURE[offset - DMA + i] ?? 0xff);
      return v;
    }
    return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
  }

  /** String reads of the data port (`rep insb`), as firmware without DMA does. */
  readBlock(offset: number, size: AccessSize, dst: Uint8Array): void {
    for (let i = 0; i + size <= dst.length; i += size) {
      const v = this.read(offset, size);
      for (let b = 0; b < size; b++) dst[i + b] = Math.floor(v / 2 ** (8 * b)) & 0xff;
    }
  }

  /** @inheritdoc */
  write(offset: number, size: AccessSize, value: number): void {
    if (offset === SELECTOR && size === 2) {
      this.#select(value);
      return;
    }
    if (offset < DMA || !this.#memory) return;
    for (let i = 0; i < size && offset - DMA + i < 8; i++) {
      this.#dmaAddress[offset - DMA + i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
    }
    // The write reaching the least significant byte (0x51B) triggers the transfer.
    if (offset - DMA + size >= 8) {
      const view = new DataView(this.#dmaAddress.buffer);
      const address = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
      this.#dmaAddress.fill(0);
      this.#dma(this.#memory, address);
    }
  }

  #dma(memory: GuestMemory, at: number): void {
    let control: number, length: number, address: number;
    try {
      const raw = memory.read(at, 16);
      const desc = new DataView(raw.buffer, raw.byteOffset, 16);
      control = desc.getUint32(0);
      length = desc.getUint32(4);
      address = desc.getUint32(8) * 2 ** 32 + desc.getUint32(12);
    } catch (e) {
      // No descriptor to report an error in: the request is dropped.
      if (e instanceof GuestMemoryError) return;
      throw e;
    }
    const result = this.#transfer(memory, control, length, address);
    try {
      memory.write(at, be32(result));
    } catch (e) {
      if (!(e instanceof GuestMemoryError)) throw e;
    }
  }

  /** Runs one operation; returns the control word to write back (0 or ERROR). */
  #transfer(memory: GuestMemory, control: number, length: number, address: number): number {
    if (control & FW_CFG_DMA_CTL_SELECT) this.#select(control >>> 16);
    const op = control & FW_CFG_DMA_CTL_READ
      ? "read"
      : control & FW_CFG_DMA_CTL_WRITE
      ? "write"
      : control & FW_CFG_DMA_CTL_SKIP
      ? "skip"
      : undefined;
    if (!op) return 0;
    const e = this.#current();
    try {
      if (op === "read") {
        const dst = memory.view(address, length);
        const from = e ? Math.min(this.#offset, e.data.length) : 0;
        const avail = e ? Math.min(length, e.data.length - from) : 0;
        if (e) dst.set(e.data.subarray(from, from + avail));
        dst.fill(0, avail);
        if (e) this.#offset = from + avail;
      } else if (op === "write") {
        if (!e || !e.writable || this.#offset + length > e.data.length) return FW_CFG_DMA_CTL_ERROR;
        const bytes = memory.read(address, length);
        const start = this.#offset;
        e.data.set(bytes, start);
        this.#offset += length;
        e.onWrite?.(start, bytes.slice());
      } else if (e) {
        this.#offset = Math.min(this.#offset + length, e.data.length);
      }
    } catch (err) {
      if (err instanceof GuestMemoryError) return FW_CFG_DMA_CTL_ERROR;
      throw err;
    }
    return !e && this.#unknownError ? FW_CFG_DMA_CTL_ERROR : 0;
  }

  /** Selects the signature item and clears the DMA address; items and files stay. */
  reset(): void {
    this.#select(FW_CFG_SIGNATURE);
    this.#dmaAddress.fill(0);
  }

  /** Selector, offset and the file directory. */
  state(): Json {
    const files = [...this.#items.entries()]
      .filter(([, e]) => e.name !== undefined)
      .map(([key, e]) => ({
        name: e.name!,
        selector: key,
        size: e.data.length,
        writable: e.writable,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const items = [...this.#items.entries()]
      .filter(([, e]) => e.name === undefined)
      .map(([key, e]) => ({ key, size: e.data.length }))
      .sort((a, b) => a.key - b.key);
    return {
      selector: this.#selector,
      offset: this.#offset,
      dma: this.#memory !== undefined,
      items,
      files,
    };
  }
}

function plain(data: Uint8Array): Entry {
  return { data, writable: false };
}

function le32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, true);
  return out;
}

function be32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v);
  return out;
}
