/**
 * The GSI routing of the in-kernel irqchip, as QEMU sets it for its PC
 * (kvm_pc_setup_irq_routing): ISA IRQs 0-15 reach the PICs (master 0-7
 * except the cascade pin 2, slave 8-15), and GSIs 0-23 the I/O APIC, GSI 0
 * on pin 2, as the MADT's and MP table's override of IRQ 0 says. GSI 2 goes
 * nowhere. KVM's default routing instead sends GSI 0 to I/O APIC pin 0 and
 * GSI 2 to the cascade pin: the in-kernel PIT (GSI 0) and the HPET's timer 0
 * in legacy replacement mode (IRQ 0) would miss the pin the guest expects.
 *
 * @module
 */

import { IRQ_ROUTING, type IrqchipRoute } from "../kvm/structs.ts";

/** I/O APIC pins of KVM's in-kernel I/O APIC. */
export const IOAPIC_PINS = 24;
/** The I/O APIC pin of ISA IRQ 0 (the MADT's interrupt source override). */
export const IRQ0_IOAPIC_PIN = 2;

/** QEMU's PC routing table. */
export function pcIrqRoutes(): IrqchipRoute[] {
  const { KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC } = IRQ_ROUTING;
  const routes: IrqchipRoute[] = [];
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2) continue; // the cascade
    routes.push({
      gsi: irq,
      irqchip: irq < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
      pin: irq % 8,
    });
  }
  for (let gsi = 0; gsi < IOAPIC_PINS; gsi++) {
    if (gsi === 2) continue;
    routes.push({ gsi, irqchip: KVM_IRQCHIP_IOAPIC, pin: gsi === 0 ? IRQ0_IOAPIC_PIN : gsi });
  }
  return routes;
}
