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

import { allOnes } from "../byte_lanes.ts";
import { StateShape } from "../state_shape.ts";
import type { AccessSize, BusDevice, DeviceState, Snapshotting } from "../types.ts";
import type { PciConfigState, PciFunction } from "./config_space.ts";

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

/** An attached function as {@link PciHostState.functions} lists it. */
export interface PciSlotState {
  readonly device: number;
  readonly fn: number;
  readonly name: string;
  /** The function's configuration space (restored by the function itself). */
  readonly config: PciConfigState;
}

/**
 * Saved state of {@link PciHost}: CONFIG_ADDRESS. The attached functions are
 * listed with their configuration spaces for readers (the devices pane and
 * the API); each function restores its own state, and the host refuses a
 * state whose slots differ from its own.
 */
export interface PciHostState extends DeviceState {
  readonly version: 1;
  /** CONFIG_ADDRESS (0xCF8) as last written. */
  readonly configAddress: number;
  /** The attached functions, sorted by device then function. */
  readonly functions: PciSlotState[];
}

/** The PCI host bridge's configuration ports, registered as one 8-byte region at 0xCF8. */
export class PciHost implements BusDevice, Snapshotting<PciHostState> {
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
    if (offset < 4) return allOnes(size);
    const target = this.#target();
    if (!target) return allOnes(size);
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

  /** CONFIG_ADDRESS and the attached functions' configuration spaces. */
  snapshot(): PciHostState {
    return {
      version: 1,
      configAddress: this.#address,
      functions: this.functions().map((s) => ({
        device: s.device,
        fn: s.fn,
        name: s.function.name,
        config: s.function.config.snapshot(),
      })),
    };
  }

  /**
   * Puts CONFIG_ADDRESS back. The functions' configuration spaces are not
   * touched here: each function's own restore puts them back.
   * @throws {StateError} for an unknown version, a malformed state or other slots
   */
  restore(state: PciHostState): void {
    const r = StateShape.versioned("pci-host", state, 1);
    const address = r.int("configAddress", 0, 0xffffffff);
    if ((address & ~ADDRESS_MASK) !== 0) r.fail("configAddress", "reserved bits set");
    const slots = r.objects("functions").map((f) =>
      `00:${hex2(f.int("device", 0, 31))}.${f.int("fn", 0, 7)} ${String(f.raw("name"))}`
    );
    const mine = this.functions().map((s) => `00:${hex2(s.device)}.${s.fn} ${s.function.name}`);
    if (slots.join(",") !== mine.join(",")) {
      r.fail(
        "functions",
        `slots ${slots.join(", ")} differ from this machine's ${mine.join(", ")}`,
      );
    }
    this.#address = address;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}
