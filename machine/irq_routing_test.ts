import { deepStrictEqual, strictEqual } from "node:assert";
import { IRQ_ROUTING } from "../kvm/structs.ts";
import { pcIrqRoutes } from "./irq_routing.ts";

Deno.test("irq routing: QEMU's PC table: GSI 0 on I/O APIC pin 2 and PIC pin 0, GSI 2 nowhere", () => {
  const routes = pcIrqRoutes();
  const of = (gsi: number) => routes.filter((r) => r.gsi === gsi).map((r) => [r.irqchip, r.pin]);
  const { KVM_IRQCHIP_PIC_MASTER: M, KVM_IRQCHIP_PIC_SLAVE: S, KVM_IRQCHIP_IOAPIC: A } =
    IRQ_ROUTING;
  deepStrictEqual(of(0), [[M, 0], [A, 2]]);
  deepStrictEqual(of(2), []);
  deepStrictEqual(of(4), [[M, 4], [A, 4]]);
  deepStrictEqual(of(8), [[S, 0], [A, 8]]);
  deepStrictEqual(of(15), [[S, 7], [A, 15]]);
  deepStrictEqual(of(16), [[A, 16]]);
  deepStrictEqual(of(23), [[A, 23]]);
  strictEqual(routes.length, 15 + 23);
});
