import { deepStrictEqual, strictEqual } from "node:assert";
import { mapAnonymous, unmap } from "./host.ts";
import { Kvm } from "./kvm.ts";
import { FramebufferSlot } from "./framebuffer_slot.ts";
import { kvmTest } from "../tests/kvm_available.ts";

const RAM_SIZE = 0x10000;
const CODE_ADDR = 0x1000;
const FB_ADDR = 0x20000;
const FB_SIZE = 64 * 1024;

/**
 * Real mode: es = 0x2000 (the framebuffer slot), then
 * mov byte [es:0], 1; mov byte [es:0x3005], 2; hlt
 */
const PROGRAM = [
  [0xb8, 0x00, 0x20], // mov ax, 0x2000
  [0x8e, 0xc0], // mov es, ax
  [0x26, 0xc6, 0x06, 0x00, 0x00, 0x01], // mov byte [es:0x0000], 1
  [0x26, 0xc6, 0x06, 0x05, 0x30, 0x02], // mov byte [es:0x3005], 2
  [0xf4], // hlt
].flat();

function dirtyPages(bitmap: Uint8Array): number[] {
  const pages: number[] = [];
  for (let p = 0; p < FB_SIZE / 4096; p++) if (bitmap[p >> 3] & (1 << (p & 7))) pages.push(p);
  return pages;
}

kvmTest("a framebuffer slot takes guest writes at memory speed and logs the dirty pages", () => {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const mem = mapAnonymous(RAM_SIZE);
  const fb = new FramebufferSlot(vm, 4, FB_SIZE);
  try {
    vm.setTssAddr(0xfffbd000);
    vm.setUserMemoryRegion(0, 0, RAM_SIZE, mem.address);
    new Uint8Array(mem.buffer).set(PROGRAM, CODE_ADDR);
    deepStrictEqual(dirtyPages(fb.takeDirty()), [], "nothing is dirty while unmapped");
    fb.map(FB_ADDR);
    strictEqual(fb.address, FB_ADDR);
    deepStrictEqual(dirtyPages(fb.takeDirty()), [], "mapping alone writes nothing");
    fb.bytes[0x8000] = 9; // host writes are not logged
    const vcpu = vm.createVcpu(0);
    const sregs = vcpu.getSregs();
    sregs.setSegment("cs", { base: 0, selector: 0 });
    vcpu.setSregs(sregs);
    const regs = vcpu.getRegs();
    regs.set("rip", CODE_ADDR);
    regs.set("rflags", 0x2);
    vcpu.setRegs(regs);
    const exit = vcpu.run();
    strictEqual(exit.kind, "hlt", JSON.stringify(exit));
    strictEqual(fb.bytes[0], 1);
    strictEqual(fb.bytes[0x3005], 2);
    deepStrictEqual(dirtyPages(fb.takeDirty()), [0, 3]);
    deepStrictEqual(dirtyPages(fb.takeDirty()), [], "the log restarts after each look");
    fb.bytes[0x3006] = 3;
    vcpu.setRegs(regs);
    strictEqual(vcpu.run().kind, "hlt");
    fb.unmap();
    strictEqual(fb.address, null);
    const all = [...Array(FB_SIZE / 4096).keys()];
    deepStrictEqual(dirtyPages(fb.takeDirty()), all, "writes before an unmap count as everywhere");
    fb.map(FB_ADDR + 0x10000);
    deepStrictEqual(dirtyPages(fb.takeDirty()), []);
    // A window shows pages 8-11 at the old address: the program's writes land there.
    fb.mapWindow(5, FB_ADDR, 0x8000, 0x4000);
    fb.bytes[0x8000] = 0;
    vcpu.setRegs(regs);
    strictEqual(vcpu.run().kind, "hlt", "the writes land in the window");
    deepStrictEqual([fb.bytes[0x8000], fb.bytes[0xb005]], [1, 2]);
    deepStrictEqual(dirtyPages(fb.takeDirty()), [8, 11], "logged at their video RAM pages");
    fb.unmapWindow(5);
    deepStrictEqual(dirtyPages(fb.takeDirty()), [8, 9, 10, 11], "an unmapped window lost its log");
    deepStrictEqual(dirtyPages(fb.takeDirty()), []);
    vcpu.close();
  } finally {
    vm.close();
    kvm.close();
    fb.dispose();
    unmap(mem);
  }
});
