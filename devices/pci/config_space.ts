/**
 * A PCI type-0 configuration space with BAR sizing and decoding as firmware
 * performs it: write all ones, read back the size mask, write the address,
 * then enable decoding in the command register.
 *
 * @module
 */

import { laneByte, readLanes, writeLanes } from "../byte_lanes.ts";
import { StateShape } from "../state_shape.ts";
import type { AccessSize, DeviceState, Json, Snapshotting } from "../types.ts";

/** What a base address register decodes. */
export type BarKind = "io" | "mem32" | "mem64";

/** A BAR a device asks for. `size` is a power of two (≥ 4 for I/O, ≥ 16 for memory). */
export interface BarSpec {
  readonly kind: BarKind;
  readonly size: number;
  readonly prefetchable?: boolean;
}

/** Index used for the expansion ROM BAR in {@link BarChange}. */
export const ROM_BAR = 6;

/** A BAR that started or stopped decoding, or moved. `base` is null when unmapped. */
export interface BarChange {
  readonly index: number;
  readonly kind: BarKind | "rom";
  readonly base: number | null;
  readonly size: number;
}

/** A BAR as {@link PciConfigState.bars} describes it. */
export interface PciBarState {
  readonly index: number;
  readonly kind: BarKind | "rom";
  readonly size: number;
  /** Where it decodes, or null while unmapped (or decoding is off). */
  readonly base: number | null;
}

/**
 * Saved state of a {@link PciConfigSpace}: its 256 bytes. Everything else is
 * derived from them and there for readers (the devices pane, the API); the
 * BAR mappings are decoded again on restore.
 */
export interface PciConfigState extends DeviceState {
  readonly version: 1;
  /** The configuration space, byte 0 first. */
  readonly bytes: Uint8Array;
  // Derived, for readers.
  readonly vendorId: number;
  readonly deviceId: number;
  /** class << 16 | subclass << 8 | prog-if */
  readonly classCode: number;
  readonly command: number;
  readonly status: number;
  readonly interruptLine: number;
  readonly interruptPin: number;
  /** The BARs the function has (and the ROM BAR if it has one), with their mappings. */
  readonly bars: PciBarState[];
}

/** What every PCI function's state holds: its configuration space. */
export interface PciFunctionState extends DeviceState {
  readonly config: PciConfigState;
}

/** Identity and resources of a PCI function. */
export interface PciIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  /** class << 16 | subclass << 8 | prog-if */
  readonly classCode: number;
  readonly revision?: number;
  readonly headerType?: number;
  readonly subsystemVendorId?: number;
  readonly subsystemId?: number;
  /** 0 none, 1 INTA# .. 4 INTD# */
  readonly interruptPin?: number;
  /** Up to six BARs; a mem64 BAR takes its index and the next. */
  readonly bars?: readonly (BarSpec | undefined)[];
  /** Size of the expansion ROM (power of two), 0 for none. */
  readonly romSize?: number;
  /** Power-on status register (0x06), e.g. 0x0280 for fast back-to-back and medium DEVSEL. */
  readonly status?: number;
}

/** Command register bits. */
export const PCI_COMMAND_IO = 0x1;
/** Memory space enable. */
export const PCI_COMMAND_MEMORY = 0x2;
/** Bus master enable. */
export const PCI_COMMAND_MASTER = 0x4;

const COMMAND = 0x04;
const STATUS = 0x06;
const BAR0 = 0x10;
const ROM = 0x30;
const INTERRUPT_LINE = 0x3c;

/** 256 bytes of configuration space with writable masks and BAR decoding. */
export class PciConfigSpace implements Snapshotting<PciConfigState> {
  readonly bytes = new Uint8Array(256);
  readonly #mask = new Uint8Array(256);
  readonly #initial: Uint8Array;
  readonly #bars: (BarSpec | undefined)[];
  readonly #romSize: number;
  #mapped: (number | null)[] = [null, null, null, null, null, null, null];
  /** Called when a BAR starts or stops decoding, or moves. */
  onBarChange: ((change: BarChange) => void) | undefined;
  /** Called after every write that reaches a device-specific (non-header) register. */
  onWrite: ((offset: number, size: AccessSize, value: number) => void) | undefined;

  /** @param id the function's identity and resources */
  constructor(readonly id: PciIdentity) {
    this.#bars = [...(id.bars ?? [])];
    this.#romSize = id.romSize ?? 0;
    this.setU16(0x00, id.vendorId);
    this.setU16(0x02, id.deviceId);
    this.bytes[0x08] = id.revision ?? 0;
    this.bytes[0x09] = id.classCode & 0xff;
    this.bytes[0x0a] = (id.classCode >> 8) & 0xff;
    this.bytes[0x0b] = (id.classCode >> 16) & 0xff;
    this.bytes[0x0e] = id.headerType ?? 0;
    this.setU16(STATUS, id.status ?? 0);
    this.setU16(0x2c, id.subsystemVendorId ?? 0);
    this.setU16(0x2e, id.subsystemId ?? 0);
    this.bytes[0x3d] = id.interruptPin ?? 0;
    // Command: I/O, memory, bus master, parity, SERR, INTx disable.
    this.setWritable(COMMAND, 2, [0x47, 0x05]);
    this.setWritable(0x0c, 2); // cache line size, latency timer
    this.setWritable(INTERRUPT_LINE, 1);
    for (let i = 0; i < 6; i++) {
      const bar = this.#bars[i];
      if (!bar) continue;
      let flags = bar.kind === "io" ? 1 : 0;
      if (bar.kind === "mem64") flags |= 0x4;
      if (bar.prefetchable) flags |= 0x8;
      this.setU32(BAR0 + i * 4, flags);
      if (bar.kind === "mem64") this.#bars[i + 1] = undefined;
    }
    this.#initial = this.bytes.slice();
  }

  /** Marks `length` bytes from `offset` writable by the guest (mask 0xff or per-byte masks). */
  setWritable(offset: number, length: number, masks: number[] = []): void {
    for (let i = 0; i < length; i++) this.#mask[offset + i] = masks[i] ?? 0xff;
  }

  /** Reads `size` bytes at `offset` (little-endian). */
  read(offset: number, size: AccessSize): number {
    return readLanes(offset, size, (at) => this.bytes[at & 0xff]);
  }

  /** A guest write: BARs and the command register are decoded, the rest goes through the masks. */
  write(offset: number, size: AccessSize, value: number): void {
    writeLanes(offset, size, value, (at, byte) => {
      const off = at & 0xff;
      if (off >= BAR0 && off < BAR0 + 24) this.#writeBarByte(off, byte);
      else if (off >= ROM && off < ROM + 4) this.#writeRomByte(off, byte);
      else this.bytes[off] = (this.bytes[off] & ~this.#mask[off]) | (byte & this.#mask[off]);
    });
    if (
      offset < COMMAND + 2 && offset + size > COMMAND || overlaps(offset, size, BAR0, 24) ||
      overlaps(offset, size, ROM, 4)
    ) {
      this.#refreshMappings();
    }
    if (offset >= 0x40 && this.onWrite) this.onWrite(offset, size, value);
  }

  #writeBarByte(off: number, byte: number): void {
    const index = (off - BAR0) >> 2;
    const bar = this.#bars[index];
    const lowHalf = index > 0 && this.#bars[index - 1]?.kind === "mem64" ? index - 1 : -1;
    if (lowHalf >= 0) {
      // Upper dword of a 64-bit BAR: the size mask is zero above 4 GiB for our sizes.
      const size = this.#bars[lowHalf]!.size;
      const hiMask = size > 2 ** 32 ? Math.floor((2 ** 64 - size) / 2 ** 32) : 0xffffffff;
      const shift = ((off - BAR0) & 3) * 8;
      this.bytes[off] = byte & ((hiMask >>> shift) & 0xff);
      return;
    }
    if (!bar) return;
    const low = bar.kind === "io" ? 0x3 : 0xf;
    const mask = (~(bar.size - 1) >>> 0) & ~low;
    const shift = ((off - BAR0) & 3) * 8;
    const m = (mask >>> shift) & 0xff;
    this.bytes[off] = (this.bytes[off] & ~m) | (byte & m);
  }

  #writeRomByte(off: number, byte: number): void {
    if (!this.#romSize) return;
    const mask = ((~(this.#romSize - 1) >>> 0) & 0xfffff800) | 1;
    const shift = (off - ROM) * 8;
    const m = (mask >>> shift) & 0xff;
    this.bytes[off] = (this.bytes[off] & ~m) | (byte & m);
  }

  /** The address BAR `index` (or {@link ROM_BAR}) decodes at, or null when it is off. */
  barBase(index: number): number | null {
    return this.#mapped[index] ?? null;
  }

  /** The BAR a device asked for at `index`. */
  barSpec(index: number): BarSpec | undefined {
    return this.#bars[index];
  }

  #decoded(index: number): number | null {
    const command = this.bytes[COMMAND];
    if (index === ROM_BAR) {
      const v = this.getU32(ROM);
      if (!this.#romSize || !(v & 1) || !(command & PCI_COMMAND_MEMORY)) return null;
      const base = (v & 0xfffff800) >>> 0;
      return base === 0 ? null : base;
    }
    const bar = this.#bars[index];
    if (!bar) return null;
    const raw = this.getU32(BAR0 + index * 4);
    if (bar.kind === "io") {
      if (!(command & PCI_COMMAND_IO)) return null;
      const base = raw & 0xfffc;
      // Bases above 64 KiB or wrapping past it cannot decode on the port bus.
      return base === 0 || (raw >>> 0) > 0xffff || base + bar.size > 0x10000 ? null : base;
    }
    if (!(command & PCI_COMMAND_MEMORY)) return null;
    let base = (raw & 0xfffffff0) >>> 0;
    if (bar.kind === "mem64") base += this.getU32(BAR0 + index * 4 + 4) * 2 ** 32;
    // All ones is the sizing pattern, not an address.
    if (base === 0 || base + bar.size > 2 ** 52 || (base >>> 0) === (~(bar.size - 1) >>> 0)) {
      return null;
    }
    return base;
  }

  #refreshMappings(): void {
    for (let i = 0; i <= ROM_BAR; i++) {
      const now = this.#decoded(i);
      if (now === this.#mapped[i]) continue;
      this.#mapped[i] = now;
      const spec = i === ROM_BAR ? undefined : this.#bars[i];
      this.onBarChange?.({
        index: i,
        kind: spec ? spec.kind : "rom",
        base: now,
        size: spec ? spec.size : this.#romSize,
      });
    }
  }

  /** Back to power-on contents; mapped BARs are reported unmapped. */
  reset(): void {
    this.bytes.set(this.#initial);
    this.#refreshMappings();
  }

  /** Raw little-endian access for the device's own setup (capabilities, status). */
  getU16(offset: number): number {
    return this.bytes[offset] | (this.bytes[offset + 1] << 8);
  }
  /** @see getU16 */
  getU32(offset: number): number {
    return (this.getU16(offset) | (this.getU16(offset + 2) << 16)) >>> 0;
  }
  /** @see getU16 */
  setU16(offset: number, value: number): void {
    this.bytes[offset] = laneByte(value, 0);
    this.bytes[offset + 1] = laneByte(value, 1);
  }
  /** @see getU16 */
  setU32(offset: number, value: number): void {
    this.setU16(offset, value & 0xffff);
    this.setU16(offset + 2, (value >>> 16) & 0xffff);
  }

  /** The 256 bytes, with identity, command, status and the decoded BARs for readers. */
  snapshot(): PciConfigState {
    return {
      version: 1,
      bytes: this.bytes.slice(),
      vendorId: this.id.vendorId,
      deviceId: this.id.deviceId,
      classCode: this.id.classCode,
      command: this.getU16(COMMAND),
      status: this.getU16(STATUS),
      interruptLine: this.bytes[INTERRUPT_LINE],
      interruptPin: this.bytes[0x3d],
      bars: this.#barStates(),
    };
  }

  /**
   * Puts the 256 bytes back and decodes the BARs again, reporting every BAR
   * that starts or stops decoding or moves through {@link onBarChange}.
   * Device-specific side effects of the registers are the owning function's
   * to re-apply. The identity (IDs, revision, class) must be this function's.
   * @throws {StateError} for an unknown version, a malformed state or another function's state
   */
  restore(state: PciConfigState): void {
    const r = StateShape.versioned(
      `pci ${hex4(this.id.vendorId)}:${hex4(this.id.deviceId)}`,
      state,
      1,
    );
    const bytes = r.bytes("bytes", 256);
    for (let i = 0; i < 0x0c; i++) {
      if (i === COMMAND || i === COMMAND + 1 || i === STATUS || i === STATUS + 1) continue;
      if (bytes[i] !== this.bytes[i]) r.fail("bytes", "the state of another PCI function");
    }
    this.bytes.set(bytes);
    this.#refreshMappings();
  }

  /**
   * Identity, command and decoded BARs as plain JSON.
   * @deprecated Read {@link snapshot}; kept until every PCI function has moved to it.
   */
  state(): Json {
    return {
      vendorId: this.id.vendorId,
      deviceId: this.id.deviceId,
      classCode: this.id.classCode,
      command: this.getU16(COMMAND),
      interruptLine: this.bytes[INTERRUPT_LINE],
      interruptPin: this.bytes[0x3d],
      bars: this.#barStates().map((b) => ({ ...b })),
    };
  }

  #barStates(): PciBarState[] {
    const bars: PciBarState[] = [];
    for (let i = 0; i <= ROM_BAR; i++) {
      const spec = i === ROM_BAR ? undefined : this.#bars[i];
      if (!spec && !(i === ROM_BAR && this.#romSize)) continue;
      bars.push({
        index: i,
        kind: spec ? spec.kind : "rom",
        size: spec ? spec.size : this.#romSize,
        base: this.#mapped[i],
      });
    }
    return bars;
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}

function overlaps(offset: number, size: number, start: number, length: number): boolean {
  return offset < start + length && start < offset + size;
}

/**
 * A function on the PCI bus: its configuration space plus its own reset.
 * Each function has its own typed snapshot besides; the host lists every
 * function's configuration space in its snapshot.
 */
export interface PciFunction {
  /** Short name for the devices pane ("i440fx", "virtio-blk"). */
  readonly name: string;
  readonly config: PciConfigSpace;
  /** Back to power-on state (configuration space included). */
  reset(): void;
}
