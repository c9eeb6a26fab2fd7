import { strictEqual, throws } from "node:assert";
import { EventFd } from "../host/posix.ts";
import { Kvm, type Vm } from "../kvm/kvm.ts";
import { KvmError } from "../kvm/errors.ts";
import { kvmTest } from "../tests/kvm_available.ts";
import { NOT_BOUND, NotifyBinding } from "./notify_binding.ts";

/** Whether `fd` is registered for 16-bit writes of `queue` at `port` (checked by removing it). */
function registeredPio(vm: Vm, fd: number, port: number, queue: number): boolean {
  try {
    vm.ioeventfd({ address: port, length: 2, pio: true, datamatch: queue }, fd, true);
  } catch (e) {
    if (e instanceof KvmError) return false;
    throw e;
  }
  // Put it back as it was.
  vm.ioeventfd({ address: port, length: 2, pio: true, datamatch: queue }, fd);
  return true;
}

kvmTest("NotifyBinding follows the notify register as it moves, and lets go of it", () => {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const other = kvm.createVm();
  const fd = EventFd.create();
  try {
    const b = new NotifyBinding(fd.fd, 1);
    strictEqual(b.bound, false);
    b.bind(vm, { port: 0xc010, mmio: null });
    strictEqual(b.bound, true);
    strictEqual(registeredPio(vm, fd.fd, 0xc010, 1), true);
    strictEqual(registeredPio(vm, fd.fd, 0xc010, 0), false, "only the queue's own index matches");
    b.bind(vm, { port: 0xc010, mmio: null }); // unchanged: nothing to do
    b.bind(vm, { port: 0xc050, mmio: 0xfebf3004 });
    strictEqual(registeredPio(vm, fd.fd, 0xc010, 1), false, "the old port is let go");
    strictEqual(registeredPio(vm, fd.fd, 0xc050, 1), true);
    b.bind(vm, NOT_BOUND);
    strictEqual(b.bound, false);
    strictEqual(registeredPio(vm, fd.fd, 0xc050, 1), false);
    throws(() =>
      vm.ioeventfd({ address: 0xfebf3004, length: 2, pio: false, datamatch: 1 }, fd.fd, true)
    );
    // A rebuilt board's VM: registered there, the old VM is not touched.
    b.bind(vm, { port: 0xc010, mmio: null });
    b.bind(other, { port: 0xc010, mmio: null });
    strictEqual(registeredPio(other, fd.fd, 0xc010, 1), true);
    strictEqual(registeredPio(vm, fd.fd, 0xc010, 1), true);
  } finally {
    other.close();
    vm.close();
    kvm.close();
    fd.close();
  }
});

kvmTest("NotifyBinding: when the kernel refuses one address, what did register is let go", () => {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const fd = EventFd.create();
  const taken = EventFd.create();
  const mmio = { address: 0xfebf3004, length: 2, pio: false, datamatch: 1 };
  try {
    // Another eventfd holds the MMIO match: KVM refuses a second one (EEXIST).
    vm.ioeventfd(mmio, taken.fd);
    const b = new NotifyBinding(fd.fd, 1);
    b.bind(vm, { port: 0xc010, mmio: mmio.address });
    strictEqual(b.bound, false);
    strictEqual(registeredPio(vm, fd.fd, 0xc010, 1), false, "the port registered first is let go");
    // For good: later binds leave notifications to ordinary exits.
    b.bind(vm, { port: 0xc050, mmio: null });
    strictEqual(b.bound, false);
    strictEqual(registeredPio(vm, fd.fd, 0xc050, 1), false);
  } finally {
    vm.close();
    kvm.close();
    fd.close();
    taken.close();
  }
});
