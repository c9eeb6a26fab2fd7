import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { KvmError, KvmUnavailableError } from "./errors.ts";
import { decodeExit, EXIT_REASON, type IoExit, type VcpuExit } from "./exits.ts";
import { mapAnonymous, unmap } from "./host.ts";
import { KVM_CAP } from "./ioctls.ts";
import { AttachedVcpu, Kvm, type Vcpu, type Vm } from "./kvm.ts";
import { LAYOUTS } from "./structs.ts";
import { kvmTest } from "../tests/kvm_available.ts";
import { EventFd, POLL, PollSet } from "../host/posix.ts";

const RAM_SIZE = 1 << 20;
const CODE_ADDR = 0x1000;
const STRING_ADDR = 0x800;
const TSS_ADDR = 0xfffbd000;

/**
 * Real mode, interrupts off:
 *   cli; mov al, 0x5a; mov dx, 0x3f8; out dx, al; in al, 0x60; out dx, al;
 *   mov di, 0x800; mov cx, 4; cld; rep insb; hlt
 * (KVM batches `rep ins` into one exit; `rep outs` exits once per element.)
 */
const PROGRAM = [
  [0xfa], // cli
  [0xb0, 0x5a], // mov al, 0x5a
  [0xba, 0xf8, 0x03], // mov dx, 0x3f8
  [0xee], // out dx, al
  [0xe4, 0x60], // in al, 0x60
  [0xee], // out dx, al
  [0xbf, 0x00, 0x08], // mov di, 0x800
  [0xb9, 0x04, 0x00], // mov cx, 4
  [0xfc], // cld
  [0xf3, 0x6c], // rep insb
  [0xf4], // hlt
].flat();
const HLT_END = CODE_ADDR + PROGRAM.length;

interface Guest {
  kvm: Kvm;
  vm: Vm;
  vcpu: Vcpu;
  ram: Uint8Array;
  close(): void;
}

/** A VM with 1 MiB of RAM at 0 and one vCPU in real mode at CODE_ADDR, CS base 0. */
function guest(program: number[]): Guest {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const mem = mapAnonymous(RAM_SIZE);
  vm.setTssAddr(TSS_ADDR);
  vm.setUserMemoryRegion(0, 0, RAM_SIZE, mem.address);
  const ram = new Uint8Array(mem.buffer);
  ram.set(program, CODE_ADDR);
  const vcpu = vm.createVcpu(0);
  const sregs = vcpu.getSregs();
  sregs.setSegment("cs", { base: 0, selector: 0 });
  sregs.setSegment("ds", { base: 0, selector: 0 });
  sregs.setSegment("es", { base: 0, selector: 0 });
  vcpu.setSregs(sregs);
  const regs = vcpu.getRegs();
  regs.set("rip", CODE_ADDR);
  regs.set("rflags", 0x2);
  regs.set("rsp", 0x8000);
  vcpu.setRegs(regs);
  return {
    kvm,
    vm,
    vcpu,
    ram,
    close() {
      vcpu.close();
      vm.close();
      kvm.close();
      unmap(mem);
    },
  };
}

function expectIo(exit: VcpuExit): IoExit {
  if (exit.kind !== "io") throw new Error(`expected an io exit, got ${JSON.stringify(exit)}`);
  return exit;
}

kvmTest("Kvm.open opens /dev/kvm and answers basic queries", () => {
  const kvm = Kvm.open();
  try {
    strictEqual(kvm.fd >= 0, true);
    strictEqual(kvm.checkExtension(KVM_CAP.KVM_CAP_USER_MEMORY) > 0, true);
    strictEqual(kvm.vcpuMmapSize() >= LAYOUTS.kvm_run.size, true);
    const cpuid = kvm.supportedCpuid();
    const leaf0 = cpuid.find((e) => e.function === 0);
    strictEqual(leaf0 !== undefined && leaf0.eax > 0, true);
  } finally {
    kvm.close();
  }
});

Deno.test("Kvm.open of a missing path throws KvmUnavailableError saying it does not exist", () => {
  const path = "/nonexistent/vmrun/kvm";
  throws(
    () => Kvm.open(path),
    (e: unknown) => {
      strictEqual(e instanceof KvmUnavailableError, true);
      const err = e as KvmUnavailableError;
      strictEqual(err.errno, 2);
      strictEqual(err.path, path);
      strictEqual(err.message.startsWith(`${path} does not exist`), true, err.message);
      return true;
    },
  );
});

kvmTest("KvmError carries the ioctl and errno names: duplicate vCPU id is EEXIST", () => {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  try {
    throws(
      () => vm.createVcpu(0),
      (e: unknown) => {
        strictEqual(e instanceof KvmError, true);
        const err = e as KvmError;
        strictEqual(err.call, "KVM_CREATE_VCPU");
        strictEqual(err.errno, 17);
        strictEqual(err.errnoName, "EEXIST");
        strictEqual(err.message, "KVM_CREATE_VCPU failed: EEXIST");
        return true;
      },
    );
  } finally {
    vcpu.close();
    vm.close();
    kvm.close();
  }
});

kvmTest("KvmError for a misaligned memory slot is EINVAL from KVM_SET_USER_MEMORY_REGION", () => {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const mem = mapAnonymous(0x2000);
  try {
    throws(
      () => vm.setUserMemoryRegion(0, 0x123, 0x1000, mem.address),
      (e: unknown) =>
        e instanceof KvmError && e.call === "KVM_SET_USER_MEMORY_REGION" &&
        e.errnoName === "EINVAL" && e.errno === 22,
    );
  } finally {
    vm.close();
    kvm.close();
    unmap(mem);
  }
});

kvmTest("a real-mode guest does port I/O and halts; IN data reaches the guest", () => {
  const g = guest(PROGRAM);
  try {
    const { vcpu } = g;

    const out1 = expectIo(vcpu.run());
    deepStrictEqual({ ...out1, dataOffset: 0 }, {
      kind: "io",
      direction: "out",
      size: 1,
      port: 0x3f8,
      count: 1,
      dataOffset: 0,
    });
    strictEqual(out1.dataOffset >= LAYOUTS.kvm_run.size, true);
    strictEqual(vcpu.runBytes[out1.dataOffset], 0x5a);

    const in1 = expectIo(vcpu.run());
    strictEqual(in1.direction, "in");
    strictEqual(in1.port, 0x60);
    strictEqual(in1.size, 1);
    strictEqual(in1.count, 1);
    vcpu.runBytes[in1.dataOffset] = 0xa7;

    const out2 = expectIo(vcpu.run());
    strictEqual(out2.direction, "out");
    strictEqual(out2.port, 0x3f8);
    strictEqual(vcpu.runBytes[out2.dataOffset], 0xa7, "the byte read by IN is echoed back");

    const ins = expectIo(vcpu.run());
    strictEqual(ins.direction, "in");
    strictEqual(ins.port, 0x3f8);
    strictEqual(ins.size, 1);
    strictEqual(ins.count, 4, "rep insb arrives as one exit of four elements");
    vcpu.runBytes.set([0x76, 0x6d, 0x72, 0x6e], ins.dataOffset); // "vmrn"

    deepStrictEqual(vcpu.run(), { kind: "hlt" });
    const regs = vcpu.getRegs();
    strictEqual(regs.get("rip"), HLT_END);
    strictEqual(regs.get("rax") & 0xff, 0xa7);
    strictEqual(regs.get("rcx") & 0xffff, 0);
    strictEqual(regs.get("rdi") & 0xffff, STRING_ADDR + 4);
    deepStrictEqual([...g.ram.subarray(STRING_ADDR, STRING_ADDR + 5)], [0x76, 0x6d, 0x72, 0x6e, 0]);
    strictEqual(regs.get("rflags") & 0x200, 0, "interrupts stay off");
    const sregs = vcpu.getSregs();
    strictEqual(sregs.control("cr0") & 1, 0, "still in real mode");
    strictEqual(sregs.segment("cs").base, 0);
  } finally {
    g.close();
  }
});

kvmTest(
  "immediateExit makes run() return interrupted at once, and clearing it runs the guest",
  () => {
    const g = guest([0xf4]); // hlt
    try {
      g.vcpu.immediateExit = true;
      strictEqual(g.vcpu.runBytes[LAYOUTS.kvm_run.fields.immediate_exit], 1);
      deepStrictEqual(g.vcpu.run(), { kind: "interrupted" });
      deepStrictEqual(g.vcpu.run(), { kind: "interrupted" });
      strictEqual(g.vcpu.getRegs().get("rip"), CODE_ADDR, "the guest did not execute");
      g.vcpu.immediateExit = false;
      deepStrictEqual(g.vcpu.run(), { kind: "hlt" });
      strictEqual(g.vcpu.getRegs().get("rip"), CODE_ADDR + 1);
    } finally {
      g.close();
    }
  },
);

kvmTest("AttachedVcpu runs a vCPU created elsewhere through its own kvm_run mapping", () => {
  // mov al, 0x5a; out 0x80, al; hlt
  const g = guest([0xb0, 0x5a, 0xe6, 0x80, 0xf4]);
  const attached = new AttachedVcpu(g.vcpu.fd, g.kvm.vcpuMmapSize());
  try {
    strictEqual(attached.runRaw(), EXIT_REASON.IO);
    // Both mappings show the same page: the creator's handle reads the exit.
    const io = expectIo(decodeExit(g.vcpu.runView));
    deepStrictEqual([io.port, io.direction, attached.runBytes[io.dataOffset]], [0x80, "out", 0x5a]);
    strictEqual(attached.mpState(), 0);
  } finally {
    attached.detach();
    g.close();
  }
});

kvmTest("KVM_IOEVENTFD: a matching port write signals the eventfd without an exit", () => {
  // mov dx, 0xc010; mov ax, 1; out dx, ax; dec ax; out dx, ax; hlt
  const g = guest([0xba, 0x10, 0xc0, 0xb8, 0x01, 0x00, 0xef, 0x48, 0xef, 0xf4]);
  const fd = EventFd.create();
  const signalled = () => {
    const set = new PollSet();
    set.add(fd.fd, POLL.IN);
    set.wait(0);
    return (set.revents(0) & POLL.IN) !== 0;
  };
  try {
    if (!g.vm.checkExtension(KVM_CAP.KVM_CAP_IOEVENTFD)) throw new Error("no KVM_CAP_IOEVENTFD");
    const match = { address: 0xc010, length: 2, pio: true, datamatch: 1 };
    g.vm.ioeventfd(match, fd.fd);
    // The write of 1 matched: the first exit is the write of 0, which did not.
    const out = expectIo(g.vcpu.run());
    strictEqual(out.port, 0xc010);
    strictEqual(out.size, 2);
    strictEqual(g.vcpu.runBytes[out.dataOffset], 0);
    strictEqual(signalled(), true);
    fd.drain();
    strictEqual(signalled(), false);
    deepStrictEqual(g.vcpu.run(), { kind: "hlt" });
    g.vm.ioeventfd(match, fd.fd, true);
    throws(() => g.vm.ioeventfd(match, fd.fd, true), (e: unknown) => e instanceof KvmError);
  } finally {
    g.close();
    fd.close();
  }
});
