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

import { allOnes, laneByte, readLanes, writeLanes } from "./byte_lanes.ts";
import { StateShape } from "./state_shape.ts";
import {
  type AccessSize,
  type BusDevice,
  type DeviceState,
  type GuestMemory,
  GuestMemoryError,
  type Snapshotting,
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

/** A file in {@link FwCfgState.files}. */
export interface FwCfgFileInfo {
  readonly name: string;
  readonly selector: number;
  readonly size: number;
  readonly writable: boolean;
}

/**
 * Saved state of {@link FwCfg}. The items and files are machine
 * configuration the board adds before a restore; the state lists them so a
 * restore into a differently configured fw_cfg is refused, and carries the
 * contents of the writable files, which guest DMA writes change.
 */
export interface FwCfgState extends DeviceState {
  readonly version: 1;
  /** The selected item (bit 15 architecture-specific; bit 14 kept as written). */
  readonly selector: number;
  /** Read position in the selected item. */
  readonly offset: number;
  /**
   * The DMA address register as written so far, most significant byte first:
   * a transfer starts when the write reaching its last byte comes.
   */
  readonly dmaAddress: Uint8Array;
  /** Whether the DMA interface is present. */
  readonly dma: boolean;
  /** Numbered items (the directory included) and their sizes. */
  readonly items: { readonly key: number; readonly size: number }[];
  /** Named files, by name. */
  readonly files: FwCfgFileInfo[];
  /** Current contents of the writable files, by selector. */
  readonly writableData: { readonly selector: number; readonly data: Uint8Array }[];
}

/** The fw_cfg device: items, files, the traditional ports and the DMA interface. */
export class FwCfg implements BusDevice, Snapshotting<FwCfgState> {
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
      return readLanes(offset - DMA, size, (at) => DMA_SIGNATURE[at] ?? 0xff);
    }
    return allOnes(size);
  }

  /** String reads of the data port (`rep insb`), as firmware without DMA does. */
  readBlock(offset: number, size: AccessSize, dst: Uint8Array): void {
    for (let i = 0; i + size <= dst.length; i += size) {
      const v = this.read(offset, size);
      for (let b = 0; b < size; b++) dst[i + b] = laneByte(v, b);
    }
  }

  /** @inheritdoc */
  write(offset: number, size: AccessSize, value: number): void {
    if (offset === SELECTOR && size === 2) {
      this.#select(value);
      return;
    }
    if (offset < DMA || !this.#memory) return;
    writeLanes(offset - DMA, size, value, (at, byte) => {
      if (at < 8) this.#dmaAddress[at] = byte;
    });
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

  /** Selector, offset, a half-written DMA address, the directory and the writable files. */
  snapshot(): FwCfgState {
    const entries = [...this.#items.entries()];
    const files = entries
      .filter(([, e]) => e.name !== undefined)
      .map(([key, e]) => ({
        name: e.name!,
        selector: key,
        size: e.data.length,
        writable: e.writable,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const items = entries
      .filter(([, e]) => e.name === undefined)
      .map(([key, e]) => ({ key, size: e.data.length }))
      .sort((a, b) => a.key - b.key);
    const writableData = entries
      .filter(([, e]) => e.writable)
      .map(([selector, e]) => ({ selector, data: e.data.slice() }))
      .sort((a, b) => a.selector - b.selector);
    return {
      version: 1,
      selector: this.#selector,
      offset: this.#offset,
      dmaAddress: this.#dmaAddress.slice(),
      dma: this.#memory !== undefined,
      items,
      files,
      writableData,
    };
  }

  /**
   * Puts the selector, offset, DMA address and writable file contents back.
   * The items and files must be the ones this fw_cfg already has (the board
   * adds them); file write callbacks are not called.
   * @throws {StateError} for an unknown version, a malformed state or another directory
   */
  restore(state: FwCfgState): void {
    const r = StateShape.versioned("fw_cfg", state, 1);
    const selector = r.int("selector", 0, 0xffff);
    const offset = r.int("offset");
    const dmaAddress = r.bytes("dmaAddress", 8);
    const mine = this.snapshot();
    if (r.bool("dma") !== mine.dma) r.fail("dma", "the DMA interface differs from this machine's");
    const items = r.objects("items").map((x) => ({
      key: x.int("key", 0, 0xffff),
      size: x.int("size"),
    }));
    const files = r.objects("files").map((f) => ({
      name: f.string("name"),
      selector: f.int("selector", 0, 0xffff),
      size: f.int("size"),
      writable: f.bool("writable"),
    }));
    if (JSON.stringify(items) !== JSON.stringify(mine.items)) {
      r.fail("items", "the items differ from this machine's");
    }
    if (JSON.stringify(files) !== JSON.stringify(mine.files)) {
      r.fail("files", "the files differ from this machine's");
    }
    const writable = r.objects("writableData").map((w) => {
      const key = w.int("selector", 0, 0xffff);
      const entry = this.#items.get(key);
      if (!entry?.writable) return w.fail("selector", "not a writable file");
      return { entry, data: w.bytes("data", entry.data.length) };
    });
    if (writable.length !== mine.writableData.length) {
      r.fail("writableData", "expected the contents of every writable file");
    }
    const current = this.#items.get(selector & ~WRITE_FLAG);
    if (offset > (current?.data.length ?? 0)) r.fail("offset", "past the end of the selected item");
    for (const { entry, data } of writable) entry.data.set(data);
    this.#selector = selector;
    this.#offset = offset;
    this.#dmaAddress.set(dmaAddress);
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
