/**
 * PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2)
 * on ports 0xCF8-0xCFF: CONFIG_ADDRESS at 0xCF8 (dword only) selects bus,
 * device, function and register; CONFIG_DATA at 0xCFC-0xCFF carries 1, 2 or
 * 4-byte accesses at any byte offset. Only bus 0 exists.
 *
 * Port 0xCF9 sits inside this range; the PIIX3 decodes byte accesses there as
 * its Reset Control register, so the host forwards them to `resetControl`.
 *
 * @module
 */

import type { AccessSize, BusDevice, Json } from "../types.ts";
import type { PciFunction } from "./config_space.ts";

/** One attached function, as listed by {@link PciHost.functions}. */
export interface PciSlot {
  readonly device: number;
  readonly fn: number;
  readonly function: PciFunction;
}

/** Options for {@link PciHost}. */
export interface PciHostOptions {
  /** The register byte accesses at 0xCF9 reach (the PIIX3 Reset Control register). */
  readonly resetControl?: BusDevice & { reset?(): void };
}

/** Thrown by {@link PciHost.attach} for a bad or taken slot. */
export class PciSlotError extends Error {
  /** @param message which slot was refused and why */
  constructor(message: string) {
    super(message);
    this.name = "PciSlotError";
  }
}

const ENABLE = 0x80000000;
// Bits 30:24 are reserved and bits 1:0 select type 0/1 cycles: neither is latched.
const ADDRESS_MASK = 0x80fffffc;
const HEADER_TYPE = 0x0e;
const MULTI_FUNCTION = 0x80;

/** All ones for an access of `size` bytes. */
function ones(size: AccessSize): number {
  return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
}

/** The PCI host bridge's configuration ports, registered as one 8-byte region at 0xCF8. */
export class PciHost implements BusDevice {
  #address = 0;
  readonly #slots = new Map<number, PciFunction>();
  readonly #resetControl: PciHostOptions["resetControl"];

  /** @param options optional Reset Control register forwarded from 0xCF9 */
  constructor(options: PciHostOptions = {}) {
    this.#resetControl = options.resetControl;
  }

  /**
   * Places `f` at bus 0, `device` (0-31), function `fn` (0-7).
   * @throws {PciSlotError} when the numbers are out of range or the slot is taken
   */
  attach(device: number, fn: number, f: PciFunction): void {
    if (!Number.isInteger(device) || device < 0 || device > 31) {
      throw new PciSlotError(`bad PCI device number ${device} for ${f.name}`);
    }
    if (!Number.isInteger(fn) || fn < 0 || fn > 7) {
      throw new PciSlotError(`bad PCI function number ${fn} for ${f.name}`);
    }
    const key = device * 8 + fn;
    const taken = this.#slots.get(key);
    if (taken) {
      throw new PciSlotError(
        `PCI slot 00:${hex2(device)}.${fn} for ${f.name} is taken by ${taken.name}`,
      );
    }
    this.#slots.set(key, f);
  }

  /** The attached functions, sorted by device then function. */
  functions(): PciSlot[] {
    return [...this.#slots.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([key, f]) => ({ device: key >> 3, fn: key & 7, function: f }));
  }

  /** @inheritdoc */
  read(offset: number, size: AccessSize): number {
    if (offset === 0 && size === 4) return this.#address;
    if (offset === 1 && size === 1 && this.#resetControl) return this.#resetControl.read(0, 1);
    if (offset < 4) return ones(size);
    const target = this.#target();
    if (!target) return ones(size);
    const reg = (this.#address & 0xfc) + (offset - 4);
    let value = target.f.config.read(reg, size);
    // Firmware only probes functions 1-7 when function 0 says it is multi-function.
    if (
      target.fn === 0 && reg <= HEADER_TYPE && reg + size > HEADER_TYPE &&
      this.#hasSiblings(target.device)
    ) {
      value = (value | (MULTI_FUNCTION << ((HEADER_TYPE - reg) * 8))) >>> 0;
    }
    return value;
  }

  /** @inheritdoc */
  write(offset: number, size: AccessSize, value: number): void {
    if (offset === 0 && size === 4) {
      this.#address = (value & ADDRESS_MASK) >>> 0;
      return;
    }
    if (offset === 1 && size === 1) {
      this.#resetControl?.write(0, 1, value);
      return;
    }
    if (offset < 4) return;
    const target = this.#target();
    if (!target) return;
    target.f.config.write((this.#address & 0xfc) + (offset - 4), size, value);
  }

  #target(): { device: number; fn: number; f: PciFunction } | undefined {
    const a = this.#address;
    if (!(a & ENABLE) || ((a >>> 16) & 0xff) !== 0) return undefined;
    const device = (a >>> 11) & 0x1f;
    const fn = (a >>> 8) & 7;
    const f = this.#slots.get(device * 8 + fn);
    return f ? { device, fn, f } : undefined;
  }

  #hasSiblings(device: number): boolean {
    for (let fn = 1; fn < 8; fn++) if (this.#slots.has(device * 8 + fn)) return true;
    return false;
  }

  /** Resets CONFIG_ADDRESS, every attached function and the Reset Control register. */
  reset(): void {
    this.#address = 0;
    for (const f of this.#slots.values()) f.reset();
    this.#resetControl?.reset?.();
  }

  /** CONFIG_ADDRESS and the attached functions' states. */
  state(): Json {
    return {
      configAddress: this.#address,
      functions: this.functions().map((s) => ({
        device: s.device,
        fn: s.fn,
        name: s.function.name,
        // Typed snapshots hold Uint8Arrays: plain data, though not JSON.
        state: (s.function.snapshot?.() ?? s.function.state?.() ?? null) as Json,
      })),
    };
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}
