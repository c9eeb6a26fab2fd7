/**
 * The Intel 82371SB (PIIX3) PCI-to-ISA bridge, function 0 of the PIIX3 at
 * 00:01.0. It matters here for the PIRQ Route Control registers PIRQRC[A-D]
 * (0x60-0x63): bit 7 set disables routing, bits 3:0 name the ISA IRQ the
 * PIRQ drives (3-7, 9-12, 14, 15 are valid). The other function-0 registers
 * of the PIIX3 datasheet are kept as writable storage with their power-on
 * defaults, since firmware writes and reads some of them back.
 *
 * @module
 */

import { StateShape } from "../state_shape.ts";
import type { AccessSize, DeviceState, Snapshotting } from "../types.ts";
import { PciConfigSpace, type PciConfigState, type PciFunction } from "./config_space.ts";

/** Offset of PIRQRC[A]; PIRQRC[D] is at 0x63. */
export const PIRQRC = 0x60;
/** Number of PCI interrupt request lines the PIIX3 routes. */
export const PIRQ_COUNT = 4;

const ROUTE_DISABLED = 0x80;
const VALID_IRQS = new Set([3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15]);

/** Power-on values of the function-0 registers kept as storage (offset, width, value). */
const DEFAULTS: readonly [number, 1 | 2 | 4, number][] = [
  [0x4c, 1, 0x4d], // IORT: ISA I/O recovery timer
  [0x4e, 2, 0x0003], // XBCS: X-bus chip select
  [0x60, 4, 0x80808080], // PIRQRC[A-D]: routing disabled
  [0x69, 1, 0x02], // TOM: top of memory
  [0x6a, 2, 0x0000], // MSTAT: miscellaneous status
  [0x70, 1, 0x80], // MBIRQ0: motherboard device IRQ route
  [0x71, 1, 0x80], // MBIRQ1
  [0x76, 2, 0x0c0c], // MBDMA0-1: motherboard device DMA
  [0x78, 2, 0x0002], // PCSC: programmable chip select
  [0x80, 1, 0x00], // APICBASE
  [0x82, 1, 0x00], // DLC: deterministic latency control
  [0xa0, 1, 0x08], // SMICNTL
  [0xa2, 2, 0x0000], // SMIEN
  [0xa4, 4, 0x00000000], // SEE: system event enable
  [0xa8, 1, 0x0f], // FTMR: fast off timer
  [0xaa, 2, 0x0000], // SMIREQ
  [0xac, 1, 0x00], // CTLTMR
  [0xae, 1, 0x00], // CTHTMR
];

/**
 * Saved state of {@link Piix3}: its configuration space. `pirqrc` and
 * `routes` are decoded from it, for readers.
 */
export interface Piix3State extends DeviceState {
  readonly version: 1;
  readonly config: PciConfigState;
  /** PIRQRC[A-D] (0x60-0x63). */
  readonly pirqrc: number[];
  /** The ISA IRQ each PIRQ is routed to, or null. */
  readonly routes: (number | null)[];
}

/** The PIIX3 PCI-to-ISA bridge function (8086:7000, class 0x060100, multi-function). */
export class Piix3 implements PciFunction, Snapshotting<Piix3State> {
  /** @inheritdoc */
  readonly name = "piix3";
  /** @inheritdoc */
  readonly config = new PciConfigSpace({
    vendorId: 0x8086,
    deviceId: 0x7000,
    classCode: 0x060100,
    headerType: 0x80,
    subsystemVendorId: 0x1af4, // QEMU's default subsystem IDs for every PCI function
    subsystemId: 0x1100,
    status: 0x0200, // medium DEVSEL
  });
  readonly #listeners: (() => void)[] = [];
  #routes = new Uint8Array(PIRQ_COUNT);

  constructor() {
    for (const [offset, width] of DEFAULTS) this.config.setWritable(offset, width);
    // PIRQRC bits 6:4 are reserved.
    this.config.setWritable(PIRQRC, 4, [0x8f, 0x8f, 0x8f, 0x8f]);
    this.config.onWrite = (offset, size) => this.#written(offset, size);
    this.#applyDefaults();
    this.#routes = this.config.bytes.slice(PIRQRC, PIRQRC + PIRQ_COUNT);
  }

  #applyDefaults(): void {
    this.config.setU16(0x04, 0x0007); // I/O, memory, bus master
    for (const [offset, width, value] of DEFAULTS) {
      if (width === 1) this.config.bytes[offset] = value;
      else if (width === 2) this.config.setU16(offset, value);
      else this.config.setU32(offset, value);
    }
  }

  /** Registers `listener`, called after any PIRQRC register changes (including on reset). */
  addRouteListener(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** The ISA IRQ PIRQ `pirq` (0 = A .. 3 = D) is routed to, or null when disabled or invalid. */
  pirqRoute(pirq: number): number | null {
    const v = this.config.bytes[PIRQRC + pirq];
    if (v & ROUTE_DISABLED) return null;
    const irq = v & 0x0f;
    return VALID_IRQS.has(irq) ? irq : null;
  }

  #written(offset: number, size: AccessSize): void {
    if (offset < PIRQRC + PIRQ_COUNT && offset + size > PIRQRC) this.#checkRoutes();
  }

  #checkRoutes(): void {
    const now = this.config.bytes.subarray(PIRQRC, PIRQRC + PIRQ_COUNT);
    if (now.every((b, i) => b === this.#routes[i])) return;
    this.#routes = now.slice();
    for (const listener of this.#listeners) listener();
  }

  /** Power-on state: routing disabled (listeners hear of it when that changed anything). */
  reset(): void {
    this.config.reset();
    this.#applyDefaults();
    this.#checkRoutes();
  }

  /** Configuration space with the PIRQ routes decoded. */
  snapshot(): Piix3State {
    return {
      version: 1,
      config: this.config.snapshot(),
      pirqrc: [...this.config.bytes.subarray(PIRQRC, PIRQRC + PIRQ_COUNT)],
      routes: Array.from({ length: PIRQ_COUNT }, (_, i) => this.pirqRoute(i)),
    };
  }

  /**
   * Puts the configuration space back; route listeners hear of it when the
   * PIRQ routes change.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: Piix3State): void {
    const r = StateShape.versioned("piix3", state, 1);
    this.config.restore(r.raw("config") as PciConfigState);
    this.#checkRoutes();
  }
}
