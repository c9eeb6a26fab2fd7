/**
 * The vCPU worker of the memory floor (see main.ts): a KVM VM with guest RAM
 * and one vCPU, through vmrun's own KVM layer, and nothing else.
 *
 * @module
 */
/// <reference lib="deno.worker" />

import { Kvm } from "../../kvm/kvm.ts";
import { mapAnonymous, unmap } from "../../kvm/host.ts";

self.onmessage = (e: MessageEvent<number>) => {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const ram = mapAnonymous(e.data * 1024 * 1024);
  vm.setUserMemoryRegion(0, 0, ram.size, ram.address);
  const vcpu = vm.createVcpu(0);
  self.postMessage(`floor: vm with ${e.data} MiB and vCPU ${vcpu.id}`);
  vm.close();
  unmap(ram);
  kvm.close();
};
