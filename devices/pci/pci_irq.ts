/**
 * PCI INTx routing on the PC: a function's pin on device `d` drives PIRQ
 * `(d + pin - 1) & 3` (the swizzle QEMU's i440FX board wires, which SeaBIOS
 * and ACPI tables assume). PIRQs are level-triggered and shared: every line on
 * a PIRQ is ORed. Each PIRQ drives IOAPIC input 16 + pirq and, when the
 * PIIX3's PIRQRC register routes it, an ISA IRQ. Several PIRQs may share one
 * ISA IRQ, so ISA levels are ORed too, and a re-route lowers the old IRQ.
 *
 * @module
 */

import { StateShape } from "../state_shape.ts";
import type { DeviceState, IrqLine, Snapshotting } from "../types.ts";
import { type Piix3, PIRQ_COUNT } from "./piix3.ts";

/** First IOAPIC input wired to the PIRQs. */
export const PIRQ_GSI_BASE = 16;

/** The PIRQ (0 = A .. 3 = D) that INTx pin `pin` (1 = INTA# .. 4 = INTD#) of `device` drives. */
export function pirqFor(device: number, pin: number): number {
  if (!Number.isInteger(pin) || pin < 1 || pin > 4) throw new RangeError(`bad INTx pin ${pin}`);
  if (!Number.isInteger(device) || device < 0 || device > 31) {
    throw new RangeError(`bad PCI device number ${device}`);
  }
  return (device + pin - 1) & 3;
}

/** Options for {@link PciIrqRouter}. */
export interface PciIrqRouterOptions {
  /** Where the PIRQRC registers live. */
  readonly piix3: Piix3;
  /** Drives a global system interrupt (ISA IRQ 0-15 or IOAPIC input); called on changes only. */
  readonly setGsi: (gsi: number, level: boolean) => void;
}

/** One PIRQ in {@link PciIrqState}. */
export interface PirqState {
  /** True while any line on it is asserted. */
  readonly level: boolean;
  /** How many of its lines are asserted. */
  readonly lines: number;
  /** The ISA IRQ the PIIX3 routes it to, or null. */
  readonly isaIrq: number | null;
}

/**
 * Saved state of {@link PciIrqRouter}. All of it follows from the levels the
 * devices drive on their lines and from the PIIX3's routes, which those
 * devices and the PIIX3 restore; the router's restore only checks the state
 * and drives the GSIs again.
 */
export interface PciIrqState extends DeviceState {
  readonly version: 1;
  readonly pirqs: PirqState[];
  /** GSIs currently driven high. */
  readonly highGsis: number[];
}

/** Turns PCI INTx lines into GSI levels through the PIIX3's PIRQ routing. */
export class PciIrqRouter implements Snapshotting<PciIrqState> {
  readonly #piix3: Piix3;
  readonly #setGsi: PciIrqRouterOptions["setGsi"];
  /** Per PIRQ, how many of its lines are asserted. */
  readonly #asserted = new Array<number>(PIRQ_COUNT).fill(0);
  /** GSIs last driven high. */
  readonly #sent = new Set<number>();

  /** @param options the PIIX3 to read routes from and the GSI sink */
  constructor(options: PciIrqRouterOptions) {
    this.#piix3 = options.piix3;
    this.#setGsi = options.setGsi;
    this.#piix3.addRouteListener(() => this.#sync());
  }

  /** A new, independent interrupt line for INTx `pin` (1-4) of `device`; starts low. */
  lineFor(device: number, pin: number): IrqLine {
    const pirq = pirqFor(device, pin);
    let level = false;
    return {
      set: (next: boolean) => {
        if (next === level) return;
        level = next;
        this.#asserted[pirq] += next ? 1 : -1;
        this.#sync();
      },
    };
  }

  /** True while any line on PIRQ `pirq` is asserted. */
  pirqLevel(pirq: number): boolean {
    return this.#asserted[pirq] > 0;
  }

  #sync(): void {
    const want = new Map<number, boolean>();
    for (let p = 0; p < PIRQ_COUNT; p++) {
      const level = this.pirqLevel(p);
      want.set(PIRQ_GSI_BASE + p, level);
      const irq = this.#piix3.pirqRoute(p);
      if (irq !== null) want.set(irq, (want.get(irq) ?? false) || level);
    }
    // Lower before raising, so a re-routed PIRQ never shows on two ISA IRQs at once.
    for (const gsi of [...this.#sent].sort((a, b) => a - b)) {
      if (want.get(gsi)) continue;
      this.#sent.delete(gsi);
      this.#setGsi(gsi, false);
    }
    for (const gsi of [...want.keys()].sort((a, b) => a - b)) {
      if (!want.get(gsi) || this.#sent.has(gsi)) continue;
      this.#sent.add(gsi);
      this.#setGsi(gsi, true);
    }
  }

  /** PIRQ levels, routes and the GSIs currently driven high. */
  snapshot(): PciIrqState {
    return {
      version: 1,
      pirqs: Array.from({ length: PIRQ_COUNT }, (_, p) => ({
        level: this.pirqLevel(p),
        lines: this.#asserted[p],
        isaIrq: this.#piix3.pirqRoute(p),
      })),
      highGsis: [...this.#sent].sort((a, b) => a - b),
    };
  }

  /**
   * Checks `state` and drives the GSIs from the current line levels and
   * routes (the devices and the PIIX3 restore those).
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: PciIrqState): void {
    const r = StateShape.versioned("pci-irq", state, 1);
    const pirqs = r.objects("pirqs", PIRQ_COUNT);
    if (pirqs.length !== PIRQ_COUNT) r.fail("pirqs", `expected ${PIRQ_COUNT} PIRQs`);
    for (const p of pirqs) {
      p.bool("level");
      p.int("lines");
      p.intOrNull("isaIrq", 0, 15);
    }
    r.ints("highGsis", 0, 0xff);
    this.#sync();
  }
}
