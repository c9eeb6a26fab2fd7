/**
 * The Intel 82441FX PCI and Memory Controller (the 440FX host bridge) at
 * 00:00.0, reduced to what firmware programs: the Programmable Attribute Map
 * registers PAM0-PAM6 (0x59-0x5F), which steer the 0xC0000-0xFFFFF shadow
 * ranges between DRAM and PCI, and the SMRAM control register (0x72).
 *
 * Per the 82441FX datasheet each PAM register holds two 4-bit fields, bit 0
 * (RE) sending reads to DRAM and bit 1 (WE) sending writes to DRAM; bits 2-3
 * are reserved. PAM0's low nibble is reserved; its high nibble covers the
 * 64 KiB BIOS range 0xF0000-0xFFFFF. PAM1-PAM6 cover 16 KiB ranges from
 * 0xC0000 upwards, low nibble first.
 *
 * @module
 */

import { laneByte } from "../byte_lanes.ts";
import { StateShape } from "../state_shape.ts";
import type { AccessSize, DeviceState, Snapshotting } from "../types.ts";
import { PciConfigSpace, type PciConfigState, type PciFunction } from "./config_space.ts";

/** Where accesses to a PAM range go: DRAM, or PCI (the ROM or nothing). */
export type PamTarget = "ram" | "pci";

/** One of the 13 ranges the PAM registers steer. */
export interface PamRegion {
  readonly base: number;
  readonly size: number;
  readonly read: PamTarget;
  readonly write: PamTarget;
}

/** Options for {@link I440fx}. */
export interface I440fxOptions {
  /** Called with all 13 ranges (0xF0000 first, then 0xC0000..0xEC000) whenever a PAM field changes. */
  readonly onPamChange?: (regions: PamRegion[]) => void;
}

/** Offset of PAM0; PAM6 is at 0x5F. */
export const PAM0 = 0x59;
/** Offset of the SMRAM control register. */
export const SMRAM = 0x72;

/** SMRAM bits (82441FX datasheet, SMRAM register). */
const D_OPEN = 0x40;
const D_CLS = 0x20;
const D_LCK = 0x10;
const G_SMRAME = 0x08;
// C_BASE_SEG is hard-wired to 010b: SMRAM lives at 0xA0000.
const C_BASE_SEG = 0x02;

const RE = 0x1;
const WE = 0x2;

/** The 13 PAM ranges: register offset, nibble shift, base and size. */
const PAM_RANGES: readonly { reg: number; shift: number; base: number; size: number }[] = [
  { reg: PAM0, shift: 4, base: 0xf0000, size: 0x10000 },
  ...Array.from({ length: 12 }, (_, i) => ({
    reg: PAM0 + 1 + (i >> 1),
    shift: (i & 1) * 4,
    base: 0xc0000 + i * 0x4000,
    size: 0x4000,
  })),
];

/** Decodes the PAM registers from a configuration space's bytes into the 13 ranges. */
export function decodePam(bytes: Uint8Array): PamRegion[] {
  return PAM_RANGES.map(({ reg, shift, base, size }) => {
    const field = (bytes[reg] >> shift) & 0xf;
    return {
      base,
      size,
      read: field & RE ? "ram" : "pci",
      write: field & WE ? "ram" : "pci",
    } satisfies PamRegion;
  });
}

/**
 * Saved state of {@link I440fx}: its configuration space, which holds the PAM
 * and SMRAM registers. `pam` and `smram` are decoded from it, for readers.
 */
export interface I440fxState extends DeviceState {
  readonly version: 1;
  readonly config: PciConfigState;
  /** PAM0-PAM6 (0x59-0x5F). */
  readonly pam: number[];
  /** The SMRAM control register (0x72) and its bits. */
  readonly smram: {
    readonly value: number;
    readonly open: boolean;
    readonly closed: boolean;
    readonly locked: boolean;
    readonly enabled: boolean;
  };
}

/** The 440FX host bridge function (8086:1237, revision 2, class 0x060000). */
export class I440fx implements PciFunction, Snapshotting<I440fxState> {
  /** @inheritdoc */
  readonly name = "i440fx";
  /** @inheritdoc */
  readonly config = new PciConfigSpace({
    vendorId: 0x8086,
    deviceId: 0x1237,
    revision: 0x02,
    classCode: 0x060000,
    subsystemVendorId: 0x1af4, // QEMU's default subsystem IDs for every PCI function
    subsystemId: 0x1100,
    status: 0x0280, // fast back-to-back, medium DEVSEL
  });
  readonly #onPamChange: I440fxOptions["onPamChange"];
  #pam = new Uint8Array(7);

  /** @param options where PAM changes are reported */
  constructor(options: I440fxOptions = {}) {
    this.#onPamChange = options.onPamChange;
    // RE and WE of both nibbles; PAM0's low nibble is reserved.
    this.config.setWritable(PAM0, 1, [0x30]);
    this.config.setWritable(PAM0 + 1, 6, [0x33, 0x33, 0x33, 0x33, 0x33, 0x33]);
    this.config.onWrite = (offset, size, value) => this.#written(offset, size, value);
    this.#applyDefaults();
  }

  #applyDefaults(): void {
    this.config.setU16(0x04, 0x0006); // memory and bus master enabled
    this.config.bytes[SMRAM] = C_BASE_SEG;
  }

  /** The current decoding of the 13 PAM ranges. */
  pamRegions(): PamRegion[] {
    return decodePam(this.config.bytes);
  }

  #written(offset: number, size: AccessSize, value: number): void {
    if (offset <= SMRAM && offset + size > SMRAM) {
      this.#writeSmram(laneByte(value, SMRAM - offset));
    }
    if (offset < PAM0 + 7 && offset + size > PAM0) this.#reportPam();
  }

  #writeSmram(byte: number): void {
    const old = this.config.bytes[SMRAM];
    let next: number;
    if (old & D_LCK) {
      // Once locked only D_CLS stays writable, until reset.
      next = (old & ~D_CLS) | (byte & D_CLS);
    } else {
      next = (byte & (D_OPEN | D_CLS | D_LCK | G_SMRAME)) | C_BASE_SEG;
      // Setting D_LCK clears D_OPEN.
      if (next & D_LCK) next &= ~D_OPEN;
    }
    this.config.bytes[SMRAM] = next;
  }

  #reportPam(): void {
    const now = this.config.bytes.subarray(PAM0, PAM0 + 7);
    if (now.every((b, i) => b === this.#pam[i])) return;
    this.#pam = now.slice();
    this.#onPamChange?.(this.pamRegions());
  }

  /** Power-on state: PAM ranges back to PCI (reported if they had changed), SMRAM closed. */
  reset(): void {
    this.config.reset();
    this.#applyDefaults();
    this.#reportPam();
  }

  /** Configuration space with the PAM bytes and SMRAM bits decoded. */
  snapshot(): I440fxState {
    const smram = this.config.bytes[SMRAM];
    return {
      version: 1,
      config: this.config.snapshot(),
      pam: [...this.config.bytes.subarray(PAM0, PAM0 + 7)],
      smram: {
        value: smram,
        open: (smram & D_OPEN) !== 0,
        closed: (smram & D_CLS) !== 0,
        locked: (smram & D_LCK) !== 0,
        enabled: (smram & G_SMRAME) !== 0,
      },
    };
  }

  /**
   * Puts the configuration space back and reports the PAM ranges through
   * `onPamChange` when they differ from the current ones.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: I440fxState): void {
    const r = StateShape.versioned("i440fx", state, 1);
    this.config.restore(r.raw("config") as PciConfigState);
    this.#reportPam();
  }
}
