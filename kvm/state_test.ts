import { deepStrictEqual, notDeepStrictEqual, strictEqual, throws } from "node:assert";
import { KvmError, KvmStateError } from "./errors.ts";
import type { VcpuExit } from "./exits.ts";
import { type HostMemory, mapAnonymous, unmap } from "./host.ts";
import { KVM_CAP } from "./ioctls.ts";
import { Kvm, type Vcpu, type Vm } from "./kvm.ts";
import { MSR } from "./msrs.ts";
import { savedMsrIndices, type VcpuState, type VmState } from "./state.ts";
import {
  decodeMsrs,
  FXSAVE,
  KvmClockData,
  KvmDebugregs,
  KvmIrqchip,
  KvmLapicState,
  KvmPitState2,
  KvmVcpuEvents,
  KvmXsave,
  LAPIC_REG,
  STATE_CONSTANTS as C,
} from "./state_structs.ts";
import { KvmRegs, KvmSregs, LAYOUTS, type Segment } from "./structs.ts";
import { kvmTest } from "../tests/kvm_available.ts";

const RAM_SIZE = 1 << 20;
const CODE = 0x1000;
const GDT = 0x500;
const OUT = 0x2100;
const TSS_ADDR = 0xfffbd000;

const XMM_PATTERN = Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const YMM_HIGH_PATTERN = Array.from({ length: 16 }, (_, i) => 0x40 + 3 * i);
const MXCSR = 0x7f80; // all exceptions masked, round toward zero
/** pi as fldpi makes it, in the 80-bit format of an FXSAVE ST slot. */
const PI_80 = [0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40];
const FXRSTOR_IMAGE = 0x3000;
const FXSAVE_DUMP = 0x3200;

/*
 * 32-bit protected mode, flat segments; each phase ends in an `out` the test
 * sees. On this kind of host guest ring-0 code goes through KVM's instruction
 * emulator, which has FXSAVE/FXRSTOR, MOV, WRMSR/RDMSR and XSETBV but no x87
 * arithmetic, LDMXCSR or VEX: the FPU and SSE state is loaded with FXRSTOR.
 */
const CPU_PHASE1 = [
  [0x0f, 0xae, 0x0d, 0x00, 0x30, 0x00, 0x00], // fxrstor [0x3000]
  [0xb9, 0x74, 0x01, 0x00, 0x00], // mov ecx, 0x174 (SYSENTER_CS)
  [0xb8, 0x10, 0x00, 0x00, 0x00], // mov eax, 0x10
  [0x31, 0xd2], // xor edx, edx
  [0x0f, 0x30], // wrmsr
  [0xb9, 0x75, 0x01, 0x00, 0x00], // mov ecx, 0x175 (SYSENTER_ESP)
  [0xb8, 0xef, 0xbe, 0xad, 0xde], // mov eax, 0xdeadbeef
  [0xba, 0x12, 0x00, 0x00, 0x00], // mov edx, 0x12
  [0x0f, 0x30], // wrmsr
  [0xc7, 0x05, 0x80, 0x00, 0xe0, 0xfe, 0x30, 0x00, 0x00, 0x00], // mov dword [0xfee00080], 0x30 (TPR)
  [0xc7, 0x05, 0xe0, 0x03, 0xe0, 0xfe, 0x0b, 0x00, 0x00, 0x00], // timer divide by 1
  [0xc7, 0x05, 0x20, 0x03, 0xe0, 0xfe, 0xef, 0x00, 0x01, 0x00], // LVT timer: masked, vector 0xef
  [0xc7, 0x05, 0x80, 0x03, 0xe0, 0xfe, 0xff, 0xff, 0xff, 0x7f], // timer initial count
].flat();
const GPR_PHASE1 = [
  [0xb8, 0x11, 0x11, 0x11, 0x11], // mov eax, 0x11111111
  [0xbb, 0x22, 0x22, 0x22, 0x22], // mov ebx, 0x22222222
  [0xb9, 0x33, 0x33, 0x33, 0x33], // mov ecx, 0x33333333
  [0xba, 0x44, 0x44, 0x44, 0x44], // mov edx, 0x44444444
  [0xbe, 0x55, 0x55, 0x55, 0x55], // mov esi, 0x55555555
  [0xbf, 0x66, 0x66, 0x66, 0x66], // mov edi, 0x66666666
  [0xbd, 0x77, 0x77, 0x77, 0x77], // mov ebp, 0x77777777
  [0xe6, 0x80], // out 0x80, al   <- the checkpoint
].flat();
const CPU_PHASE2 = [
  [0x83, 0xc0, 0x01], // add eax, 1
  [0x0f, 0xae, 0x05, 0x00, 0x32, 0x00, 0x00], // fxsave [0x3200]
  [0xb9, 0x75, 0x01, 0x00, 0x00], // mov ecx, 0x175
  [0x0f, 0x32], // rdmsr
  [0xa3, 0x10, 0x21, 0x00, 0x00], // mov [0x2110], eax
  [0x89, 0x15, 0x14, 0x21, 0x00, 0x00], // mov [0x2114], edx
  [0xa1, 0x80, 0x00, 0xe0, 0xfe], // mov eax, [0xfee00080] (TPR)
  [0xa3, 0x18, 0x21, 0x00, 0x00], // mov [0x2118], eax
  [0xa1, 0x20, 0x03, 0xe0, 0xfe], // mov eax, [0xfee00320] (LVT timer)
  [0xa3, 0x1c, 0x21, 0x00, 0x00], // mov [0x211c], eax
  [0xb8, 0x12, 0x11, 0x11, 0x11], // mov eax, 0x11111112
  [0xb9, 0x33, 0x33, 0x33, 0x33], // mov ecx, 0x33333333
  [0xba, 0x44, 0x44, 0x44, 0x44], // mov edx, 0x44444444
  [0xe6, 0x81], // out 0x81, al
].flat();

/** Programs the PICs (ICW1-4, masks, ELCR), PIT channel 0 and IOAPIC pin 2, then `out 0x80`. */
const CHIPS_PROGRAM = [
  [0xb0, 0x11, 0xe6, 0x20], // ICW1 master
  [0xb0, 0x20, 0xe6, 0x21], // ICW2: vectors 0x20-0x27
  [0xb0, 0x04, 0xe6, 0x21], // ICW3: slave on IRQ2
  [0xb0, 0x01, 0xe6, 0x21], // ICW4: 8086 mode
  [0xb0, 0xfb, 0xe6, 0x21], // OCW1: all but the cascade masked
  [0xb0, 0x11, 0xe6, 0xa0], // ICW1 slave
  [0xb0, 0x28, 0xe6, 0xa1], // ICW2: vectors 0x28-0x2f
  [0xb0, 0x02, 0xe6, 0xa1], // ICW3: cascade identity 2
  [0xb0, 0x01, 0xe6, 0xa1], // ICW4
  [0xb0, 0xbf, 0xe6, 0xa1], // OCW1: IRQ14 open
  [0x66, 0xba, 0xd0, 0x04, 0xb0, 0x20, 0xee], // ELCR master: IRQ5 level-triggered
  [0xb0, 0x30, 0xe6, 0x43], // PIT: channel 0, lobyte/hibyte, mode 0
  [0xb0, 0x9c, 0xe6, 0x40], // count low
  [0xb0, 0x2e, 0xe6, 0x40], // count high: 0x2e9c
  [0xc7, 0x05, 0x00, 0x00, 0xc0, 0xfe, 0x14, 0x00, 0x00, 0x00], // IOREGSEL = pin 2 low
  [0xc7, 0x05, 0x10, 0x00, 0xc0, 0xfe, 0x30, 0x80, 0x01, 0x00], // vector 0x30, level, masked
  [0xc7, 0x05, 0x00, 0x00, 0xc0, 0xfe, 0x15, 0x00, 0x00, 0x00], // IOREGSEL = pin 2 high
  [0xc7, 0x05, 0x10, 0x00, 0xc0, 0xfe, 0x00, 0x00, 0x00, 0x01], // destination APIC 1
  [0xe6, 0x80], // out 0x80, al
].flat();

interface Guest {
  kvm: Kvm;
  vm: Vm;
  vcpu: Vcpu;
  ram: Uint8Array;
  close(): void;
}

/** A VM with the in-kernel irqchip and PIT, 1 MiB of RAM and vCPU 0 with KVM's supported CPUID. */
function machine(): Guest {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  let mem: HostMemory | undefined;
  try {
    vm.setTssAddr(TSS_ADDR);
    vm.createIrqchip();
    vm.createPit2(1);
    mem = mapAnonymous(RAM_SIZE);
    vm.setUserMemoryRegion(0, 0, RAM_SIZE, mem.address);
    const vcpu = vm.createVcpu(0);
    vcpu.setCpuid(kvm.supportedCpuid());
    const m = mem;
    return {
      kvm,
      vm,
      vcpu,
      ram: new Uint8Array(mem.buffer),
      close() {
        vcpu.close();
        vm.close();
        kvm.close();
        unmap(m);
      },
    };
  } catch (e) {
    vm.close();
    kvm.close();
    if (mem) unmap(mem);
    throw e;
  }
}

/** Loads `program` at CODE and enters flat 32-bit protected mode with SSE enabled. */
function protectedModeGuest(program: number[]): Guest {
  const g = machine();
  const dv = new DataView(g.ram.buffer);
  dv.setBigUint64(GDT + 8, 0x00cf9b000000ffffn, true); // flat code
  dv.setBigUint64(GDT + 16, 0x00cf93000000ffffn, true); // flat data
  g.ram.set(program, CODE);
  // The FXRSTOR image: one value on the x87 stack (TOP 7, tag of register 7), MXCSR, xmm3.
  dv.setUint16(FXRSTOR_IMAGE + FXSAVE.fcw, 0x037f, true);
  dv.setUint16(FXRSTOR_IMAGE + 2, 7 << 11, true);
  g.ram[FXRSTOR_IMAGE + 4] = 0x80;
  dv.setUint32(FXRSTOR_IMAGE + FXSAVE.mxcsr, MXCSR, true);
  g.ram.set(PI_80, FXRSTOR_IMAGE + FXSAVE.st0);
  g.ram.set(XMM_PATTERN, FXRSTOR_IMAGE + FXSAVE.xmm0 + 3 * 16);

  const sregs = g.vcpu.getSregs();
  const code: Segment = {
    base: 0,
    limit: 0xffffffff,
    selector: 8,
    type: 11,
    present: 1,
    dpl: 0,
    db: 1,
    s: 1,
    l: 0,
    g: 1,
    avl: 0,
    unusable: 0,
  };
  sregs.setSegment("cs", code);
  for (const s of ["ds", "es", "fs", "gs", "ss"] as const) {
    sregs.setSegment(s, { ...code, selector: 16, type: 3 });
  }
  const sv = new DataView(sregs.bytes.buffer);
  sv.setBigUint64(LAYOUTS.kvm_sregs.fields.gdt, BigInt(GDT), true);
  sv.setUint16(LAYOUTS.kvm_sregs.fields.gdt + LAYOUTS.kvm_dtable.fields.limit, 23, true);
  sregs.setControl("cr0", 0x13); // PE | MP | ET
  sregs.setControl("cr4", (1 << 9) | (1 << 10)); // OSFXSR | OSXMMEXCPT
  g.vcpu.setSregs(sregs);
  const regs = g.vcpu.getRegs();
  regs.set("rip", CODE);
  regs.set("rflags", 0x2);
  regs.set("rsp", 0x8000);
  g.vcpu.setRegs(regs);
  return g;
}

function expectOut(exit: VcpuExit, port: number): void {
  if (exit.kind !== "io" || exit.direction !== "out" || exit.port !== port) {
    throw new Error(`expected out to 0x${port.toString(16)}, got ${JSON.stringify(exit)}`);
  }
}

/** Whether this KVM saves XSAVE images and XCRs, and has an AVX component to put in one. */
function xsaveWithAvx(kvm: Kvm): boolean {
  return kvm.checkExtension(KVM_CAP.KVM_CAP_XSAVE) > 0 &&
    kvm.checkExtension(KVM_CAP.KVM_CAP_XCRS) > 0 &&
    kvm.supportedCpuid().some((e) => e.function === 0xd && e.index === 2 && e.ebx > 0);
}

/** CPUID.(EAX=0Dh,ECX=2).EBX: where the AVX upper halves sit in an XSAVE image. */
function avxOffset(kvm: Kvm): number {
  const leaf = kvm.supportedCpuid().find((e) => e.function === 0xd && e.index === 2);
  if (!leaf) throw new Error("no CPUID leaf 0xD subleaf 2");
  return leaf.ebx;
}

function msrValue(vcpu: Vcpu, index: number): bigint {
  return vcpu.getMsrs([index])[0].value;
}

const BIG_TSC = 1n << 60n; // far beyond any host uptime: a fresh vCPU starts near the host TSC
const BIG_CLOCK_NS = 1_000_000_000_000n;

kvmTest(
  "a vCPU saved at an I/O exit and restored into a fresh VM continues exactly like the original",
  () => {
    const probe = Kvm.open();
    const avx = xsaveWithAvx(probe);
    probe.close();
    const phase1 = [...CPU_PHASE1, ...GPR_PHASE1];
    const program = [...phase1, ...CPU_PHASE2];
    const a = protectedModeGuest(program);
    let b: Guest | undefined;
    try {
      // Values only a real restore can carry over. (A PVM-backed KVM runs the
      // guest on the host TSC and ignores TSC writes; plain KVM offsets it.)
      a.vcpu.setMsrs([{ index: MSR.IA32_TSC, value: BIG_TSC }]);
      const tscWritable = msrValue(a.vcpu, MSR.IA32_TSC) >= BIG_TSC;
      const dr = new KvmDebugregs();
      [0x9000n, 0x9100n, 0x9200n, 0x9300n].forEach((v, i) => dr.setDb(i, v));
      dr.dr7 = 0x400n;
      a.vcpu.setDebugregs(dr);
      const clock = new KvmClockData();
      clock.clock = BIG_CLOCK_NS;
      a.vm.setClock(clock);
      if (avx) {
        // The guest cannot load a YMM register here (PVM offers it no XSAVE, and the
        // emulator has no VEX): the host puts XCR0 = x87|SSE|AVX and ymm5's upper half.
        a.vcpu.setXcrs([{ xcr: 0, value: 7n }]);
        const img = a.vcpu.getXsave();
        img.bytes.set(YMM_HIGH_PATTERN, avxOffset(a.kvm) + 5 * 16);
        new DataView(img.bytes.buffer).setBigUint64(FXSAVE.xstateBv, img.xstateBv | 4n, true);
        a.vcpu.setXsave(img);
      }

      expectOut(a.vcpu.run(), 0x80);
      const vmState = a.vm.saveState();
      const cpuState = a.vcpu.saveState();
      // saveState completed the OUT: the saved rip is past it.
      strictEqual(new KvmRegs(cpuState.regs).get("rip"), CODE + phase1.length);
      strictEqual(cpuState.version, 1);
      strictEqual(cpuState.xsave !== undefined || cpuState.fpu !== undefined, true);
      // Plain data: a worker can post it.
      const copy = structuredClone({ vmState, cpuState }) as {
        vmState: VmState;
        cpuState: VcpuState;
      };

      b = machine();
      b.ram.set(a.ram);
      // A fresh vCPU has none of it yet.
      strictEqual(b.vcpu.getLapic().reg(LAPIC_REG.tpr), 0);
      strictEqual(msrValue(b.vcpu, MSR.IA32_SYSENTER_ESP), 0n);
      notDeepStrictEqual(b.vcpu.getFpu().xmm(3), new Uint8Array(XMM_PATTERN));
      const savedTsc = decodeMsrs(cpuState.msrs).find((m) => m.index === MSR.IA32_TSC)!.value;
      if (tscWritable) strictEqual(msrValue(b.vcpu, MSR.IA32_TSC) < savedTsc, true);

      b.vm.restoreState(copy.vmState);
      b.vcpu.restoreState(copy.cpuState);

      // Read back before running: every piece landed.
      deepStrictEqual(b.vcpu.getRegs().toJSON(), new KvmRegs(cpuState.regs).toJSON());
      deepStrictEqual(b.vcpu.getSregs().toJSON(), new KvmSregs(cpuState.sregs).toJSON());
      const fpu = b.vcpu.getFpu();
      deepStrictEqual(fpu.xmm(3), new Uint8Array(XMM_PATTERN));
      // (KVM_GET_FPU leaves mxcsr out; the XSAVE image below carries it.)
      deepStrictEqual([...fpu.bytes.subarray(0, 10)], PI_80, "x87 st0");
      if (cpuState.xsave) {
        const img = new KvmXsave(cpuState.xsave);
        deepStrictEqual(img.xmm(3), new Uint8Array(XMM_PATTERN), "the image holds xmm3");
        strictEqual(img.mxcsr, MXCSR);
        strictEqual(b.vcpu.getXsave().mxcsr, MXCSR);
        deepStrictEqual(b.vcpu.getXsave().bytes.subarray(0, 512), img.bytes.subarray(0, 512));
      }
      const lapic = b.vcpu.getLapic();
      strictEqual(lapic.reg(LAPIC_REG.tpr), 0x30);
      strictEqual(lapic.reg(LAPIC_REG.lvtTimer), 0x100ef);
      strictEqual(lapic.reg(LAPIC_REG.timerDivide), 0x0b);
      strictEqual(lapic.reg(LAPIC_REG.timerInitial), 0x7fffffff);
      strictEqual(msrValue(b.vcpu, MSR.IA32_SYSENTER_CS), 0x10n);
      strictEqual(msrValue(b.vcpu, MSR.IA32_SYSENTER_ESP), 0x12_deadbeefn);
      strictEqual(msrValue(b.vcpu, MSR.IA32_TSC) >= savedTsc, true, "the TSC carries on");
      if (tscWritable) strictEqual(savedTsc >= BIG_TSC, true);
      strictEqual(b.vm.getClock().clock >= BIG_CLOCK_NS, true, "kvmclock carries on");
      const bdr = b.vcpu.getDebugregs();
      deepStrictEqual([0, 1, 2, 3].map((i) => bdr.db(i)), [0x9000n, 0x9100n, 0x9200n, 0x9300n]);
      strictEqual(b.vcpu.mpState(), cpuState.mpState);
      if (avx) {
        deepStrictEqual(b.vcpu.getXcrs(), [{ xcr: 0, value: 7n }]);
        const img = b.vcpu.getXsave();
        deepStrictEqual(img.slice(avxOffset(b.kvm) + 5 * 16, 16), new Uint8Array(YMM_HIGH_PATTERN));
      }

      // Both run on to the end and agree on everything.
      expectOut(a.vcpu.run(), 0x81);
      expectOut(b.vcpu.run(), 0x81);
      const ra = a.vcpu.getRegs().toJSON();
      const rb = b.vcpu.getRegs().toJSON();
      deepStrictEqual(rb, ra);
      strictEqual(rb.rip, CODE + program.length);
      strictEqual(rb.rax & 0xffffffff, 0x11111112);
      strictEqual(rb.rbx, 0x22222222);
      strictEqual(rb.rbp, 0x77777777);
      deepStrictEqual(b.ram.subarray(OUT, OUT + 0x20), a.ram.subarray(OUT, OUT + 0x20));
      deepStrictEqual(
        b.ram.subarray(FXSAVE_DUMP, FXSAVE_DUMP + 512),
        a.ram.subarray(FXSAVE_DUMP, FXSAVE_DUMP + 512),
        "the guest's FXSAVE after the restore matches the original's",
      );
      const out = new DataView(b.ram.buffer, OUT);
      strictEqual(out.getUint32(0x10, true), 0xdeadbeef, "SYSENTER_ESP low");
      strictEqual(out.getUint32(0x14, true), 0x12, "SYSENTER_ESP high");
      strictEqual(out.getUint32(0x18, true), 0x30, "TPR");
      strictEqual(out.getUint32(0x1c, true), 0x100ef, "LVT timer");
      const dump = new DataView(b.ram.buffer, FXSAVE_DUMP);
      strictEqual(dump.getUint32(FXSAVE.mxcsr, true), MXCSR, "MXCSR");
      strictEqual(dump.getUint16(FXSAVE.fcw, true), 0x037f, "FCW");
      deepStrictEqual(
        [...b.ram.subarray(FXSAVE_DUMP + FXSAVE.st0, FXSAVE_DUMP + FXSAVE.st0 + 10)],
        PI_80,
        "x87 st0",
      );
      deepStrictEqual(
        [...b.ram.subarray(FXSAVE_DUMP + FXSAVE.xmm0 + 48, FXSAVE_DUMP + FXSAVE.xmm0 + 64)],
        XMM_PATTERN,
        "xmm3",
      );
    } finally {
      b?.close();
      a.close();
    }
  },
);

kvmTest("without an XSAVE image the FPU state travels through KVM_GET/SET_FPU", () => {
  const a = protectedModeGuest([...CPU_PHASE1, ...GPR_PHASE1]);
  let b: Guest | undefined;
  try {
    expectOut(a.vcpu.run(), 0x80);
    const { xsave: _, ...rest } = a.vcpu.saveState();
    const state: VcpuState = { ...rest, fpu: a.vcpu.getFpu().bytes };
    b = machine();
    notDeepStrictEqual(b.vcpu.getFpu().xmm(3), new Uint8Array(XMM_PATTERN));
    b.vcpu.restoreState(state);
    const fpu = b.vcpu.getFpu();
    deepStrictEqual(fpu.xmm(3), new Uint8Array(XMM_PATTERN));
    strictEqual(fpu.fcw, 0x037f);
    deepStrictEqual([...fpu.bytes.subarray(0, 10)], PI_80, "x87 st0");
    deepStrictEqual(b.vcpu.getRegs().toJSON(), a.vcpu.getRegs().toJSON());
  } finally {
    b?.close();
    a.close();
  }
});

kvmTest("PIC, IOAPIC and PIT programmed by a guest survive save and restore into a new VM", () => {
  const a = protectedModeGuest(CHIPS_PROGRAM);
  let b: Guest | undefined;
  try {
    expectOut(a.vcpu.run(), 0x80);
    // One more entry through the typed view: IOAPIC pin 5, vector 0x45, to APIC 3.
    const ioapic = a.vm.getIrqchip(C.KVM_IRQCHIP_IOAPIC);
    ioapic.setRedirection(5, 0x0300_0000_0001_0045n);
    a.vm.setIrqchip(ioapic);
    const saved = a.vm.saveState();

    b = machine();
    const fresh = b.vm.getIrqchip(C.KVM_IRQCHIP_PIC_MASTER).pic();
    strictEqual(fresh.irq_base, 0, "a fresh PIC is not programmed");
    b.vm.restoreState(structuredClone(saved));

    const master = b.vm.getIrqchip(C.KVM_IRQCHIP_PIC_MASTER);
    const slave = b.vm.getIrqchip(C.KVM_IRQCHIP_PIC_SLAVE);
    strictEqual(master.chipId, C.KVM_IRQCHIP_PIC_MASTER);
    strictEqual(master.pic().irq_base, 0x20);
    strictEqual(master.pic().imr, 0xfb);
    strictEqual(master.pic().init4, 1);
    strictEqual(master.pic().elcr, 0x20);
    strictEqual(slave.pic().irq_base, 0x28);
    strictEqual(slave.pic().imr, 0xbf);
    // The PIT may have raised IRQ0 (IRR) meanwhile; everything else is equal.
    const sansIrr = (s: Record<string, number>) => ({ ...s, irr: 0, last_irr: 0 });
    const savedMaster = new KvmIrqchip(saved.irqchip!.picMaster);
    deepStrictEqual(sansIrr(master.pic()), sansIrr(savedMaster.pic()));
    const savedSlave = new KvmIrqchip(saved.irqchip!.picSlave);
    deepStrictEqual(sansIrr(slave.pic()), sansIrr(savedSlave.pic()));

    const io = b.vm.getIrqchip(C.KVM_IRQCHIP_IOAPIC).ioapic();
    strictEqual(io.redirection[2], 0x0100_0000_0001_8030n);
    strictEqual(io.redirection[5], 0x0300_0000_0001_0045n);
    strictEqual(io.redirection[0], 0x10000n, "untouched pins stay masked");
    strictEqual(io.ioregsel, 0x15);
    strictEqual(io.baseAddress, 0xfec00000n);

    const pit = b.vm.getPit2();
    const savedPit = new KvmPitState2(saved.pit!);
    const ch0 = pit.channel(0);
    strictEqual(ch0.count, 0x2e9c);
    strictEqual(ch0.mode, 0);
    strictEqual(ch0.rw_mode, 3);
    // KVM reloads the count on restore, so only the load time moves.
    for (const i of [0, 1, 2]) {
      deepStrictEqual(
        { ...pit.channel(i), count_load_time: 0n },
        { ...savedPit.channel(i), count_load_time: 0n },
        `channel ${i}`,
      );
    }
    strictEqual(pit.flags, savedPit.flags);
  } finally {
    b?.close();
    a.close();
  }
});

kvmTest("restoreState refuses states it cannot put back, naming what is wrong", () => {
  const g = machine();
  const kvm = Kvm.open();
  const bare = kvm.createVm();
  try {
    const state = g.vcpu.saveState();
    throws(
      () => g.vcpu.restoreState({ ...state, version: 2 as 1 }),
      (e: unknown) => e instanceof KvmStateError && /version 2, expected 1/.test(e.message),
    );
    throws(
      () => g.vcpu.restoreState({ ...state, lapic: new Uint8Array(100) }),
      (e: unknown) =>
        e instanceof KvmStateError && /lapic is 100 bytes, expected 1024/.test(e.message),
    );
    throws(
      () => g.vcpu.restoreState({ ...state, id: 1 }),
      (e: unknown) => e instanceof KvmStateError && /saved from vcpu 1/.test(e.message),
    );
    const vmState = g.vm.saveState();
    throws(
      () => bare.restoreState(vmState),
      (e: unknown) => e instanceof KvmStateError && /irqchips, the VM has none/.test(e.message),
    );
    throws(
      () => g.vm.restoreState({ ...vmState, pit: new Uint8Array(8) }),
      (e: unknown) => e instanceof KvmStateError && /pit is 8 bytes/.test(e.message),
    );
    // Half the TSC rate: only a KVM with TSC scaling can do that.
    if (state.tscKhz !== undefined) {
      const half = Math.floor(state.tscKhz / 2);
      if (g.kvm.checkExtension(KVM_CAP.KVM_CAP_TSC_CONTROL) === 0) {
        throws(
          () => g.vcpu.restoreState({ ...state, tscKhz: half }),
          (e: unknown) =>
            e instanceof KvmError && e.call === "KVM_SET_TSC_KHZ" &&
            e.message.includes(`TSC runs at ${half} kHz, this host's at ${state.tscKhz} kHz`),
        );
      } else {
        g.vcpu.restoreState({ ...state, tscKhz: half });
        strictEqual(g.vcpu.getTscKhz(), half);
      }
    }
    // An MSR KVM does not know: the error names it.
    throws(
      () =>
        g.vcpu.setMsrs([{ index: MSR.IA32_SYSENTER_CS, value: 1n }, {
          index: 0xc0de0000,
          value: 1n,
        }]),
      (e: unknown) =>
        e instanceof KvmError && e.call === "KVM_SET_MSRS" &&
        /MSR 0xc0de0000 refused/.test(e.message),
    );
    // A buffer shorter than the structure never reaches the kernel.
    throws(
      () => g.vcpu.setLapic(new KvmLapicState(new Uint8Array(16))),
      (e: unknown) => e instanceof RangeError && /KVM_SET_LAPIC: 16-byte buffer/.test(e.message),
    );
  } finally {
    bare.close();
    kvm.close();
    g.close();
  }
});

kvmTest("the saved MSR list is what KVM lists, plus the MTRRs, and every entry reads back", () => {
  const g = machine();
  try {
    const list = savedMsrIndices(g.vcpu);
    const listed = new Set(g.kvm.msrIndexList());
    strictEqual(list.includes(MSR.IA32_TSC), true);
    strictEqual(list.includes(MSR.IA32_SYSENTER_ESP), true);
    strictEqual(list.includes(MSR.IA32_MTRR_DEF_TYPE), true);
    strictEqual(list.indexOf(MSR.IA32_TSC) < list.indexOf(MSR.IA32_TSC_DEADLINE), true);
    for (const m of list) {
      strictEqual(listed.has(m) || (m >= 0x200 && m <= 0x2ff), true, `0x${m.toString(16)}`);
    }
    const state = g.vcpu.saveState();
    deepStrictEqual(decodeMsrs(state.msrs).map((m) => m.index), [...list]);
    // Events and the XSAVE image come back as KVM gave them.
    if (state.events) {
      const ev = new KvmVcpuEvents(state.events);
      strictEqual(ev.flags & C.KVM_VCPUEVENT_VALID_SHADOW, C.KVM_VCPUEVENT_VALID_SHADOW);
    }
    if (state.xsave) strictEqual(new KvmXsave(state.xsave).mxcsr, 0x1f80);
    g.vcpu.restoreState(state);
    const again = decodeMsrs(g.vcpu.saveState().msrs).filter((m) => m.index !== MSR.IA32_TSC);
    deepStrictEqual(again, decodeMsrs(state.msrs).filter((m) => m.index !== MSR.IA32_TSC));
  } finally {
    g.close();
  }
});
