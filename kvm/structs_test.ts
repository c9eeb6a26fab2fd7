import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { EXIT_REASON, INTERNAL_SUBERROR, SYSTEM_EVENT } from "./exits.ts";
import { IOCTLS, KVM_CAP } from "./ioctls.ts";
import { KVM_PARA_MSRS, MSR } from "./msrs.ts";
import { STATE_CONSTANTS } from "./state_structs.ts";
import {
  cpuid2Buffer,
  type CpuidEntry,
  decodeCpuid2,
  encodeCpuid2,
  IOEVENTFD,
  ioeventfd,
  IRQ_ROUTING,
  irqLevel,
  irqRouting,
  KvmRegs,
  KvmSregs,
  LAYOUTS,
  memoryRegion,
  pitConfig,
  type RegName,
  SEGMENT_NAMES,
} from "./structs.ts";

/** The C macro behind each KVM_INTERNAL_ERROR suberror vmrun names. */
const SUBERROR_MACROS: Record<number, string> = {
  1: "KVM_INTERNAL_ERROR_EMULATION",
  2: "KVM_INTERNAL_ERROR_SIMUL_EX",
  3: "KVM_INTERNAL_ERROR_DELIVERY_EV",
  4: "KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON",
};

/** MTRR numbers <asm/mtrr.h> can confirm, as C expressions. */
const MTRR_MACROS: [string, number][] = [
  ["MTRRphysBase_MSR(0)", MSR.IA32_MTRR_PHYSBASE0],
  ["MTRRphysMask_MSR(7)", MSR.IA32_MTRR_PHYSBASE0 + 15],
];

/** Every value the TypeScript side claims, keyed the way the C program prints it. */
function expectedValues(): Map<string, number> {
  const m = new Map<string, number>();
  for (const [struct, layout] of Object.entries(LAYOUTS)) {
    m.set(`sizeof ${struct}`, layout.size);
    for (const [field, off] of Object.entries(layout.fields)) {
      m.set(`offsetof ${struct} ${field}`, off);
    }
  }
  for (const [name, nr] of Object.entries(IOCTLS)) m.set(`ioctl ${name}`, nr);
  for (const [name, cap] of Object.entries(KVM_CAP)) m.set(`cap ${name}`, cap);
  for (const [name, v] of Object.entries(EXIT_REASON)) m.set(`const KVM_EXIT_${name}`, v);
  for (const [name, v] of Object.entries(SYSTEM_EVENT)) m.set(`const KVM_SYSTEM_EVENT_${name}`, v);
  for (const sub of Object.keys(INTERNAL_SUBERROR)) {
    m.set(`const ${SUBERROR_MACROS[Number(sub)]}`, Number(sub));
  }
  for (const [name, v] of Object.entries(STATE_CONSTANTS)) m.set(`const ${name}`, v);
  for (const [name, v] of Object.entries(IRQ_ROUTING)) m.set(`const ${name}`, v);
  for (const [name, v] of Object.entries(IOEVENTFD)) m.set(`const ${name}`, v);
  for (const name of KVM_PARA_MSRS) m.set(`msr MSR_${name}`, MSR[name]);
  for (const [expr, v] of MTRR_MACROS) m.set(`msr ${expr}`, v);
  return m;
}

/** A C program printing `key value` lines for every entry of {@link expectedValues}. */
function cProgram(): string {
  const lines = [
    "#include <stddef.h>",
    "#include <stdio.h>",
    "#include <linux/kvm.h>",
    "#include <asm/kvm_para.h>",
    "#include <asm/mtrr.h>",
    "int main(void) {",
  ];
  const print = (key: string, expr: string) =>
    lines.push(`  printf("%s %llu\\n", "${key}", (unsigned long long)(${expr}));`);
  for (const [struct, layout] of Object.entries(LAYOUTS)) {
    print(`sizeof ${struct}`, `sizeof(struct ${struct})`);
    for (const field of Object.keys(layout.fields)) {
      print(`offsetof ${struct} ${field}`, `offsetof(struct ${struct}, ${field})`);
    }
  }
  for (const name of Object.keys(IOCTLS)) print(`ioctl ${name}`, name);
  for (const name of Object.keys(KVM_CAP)) print(`cap ${name}`, name);
  for (const name of Object.keys(EXIT_REASON)) print(`const KVM_EXIT_${name}`, `KVM_EXIT_${name}`);
  for (const name of Object.keys(SYSTEM_EVENT)) {
    print(`const KVM_SYSTEM_EVENT_${name}`, `KVM_SYSTEM_EVENT_${name}`);
  }
  for (const sub of Object.keys(INTERNAL_SUBERROR)) {
    const macro = SUBERROR_MACROS[Number(sub)];
    print(`const ${macro}`, macro);
  }
  for (const name of Object.keys(STATE_CONSTANTS)) print(`const ${name}`, name);
  for (const name of Object.keys(IRQ_ROUTING)) print(`const ${name}`, name);
  for (const name of Object.keys(IOEVENTFD)) print(`const ${name}`, name);
  for (const name of KVM_PARA_MSRS) print(`msr MSR_${name}`, `MSR_${name}`);
  for (const [expr] of MTRR_MACROS) print(`msr ${expr}`, expr);
  lines.push("  return 0;", "}", "");
  return lines.join("\n");
}

Deno.test("LAYOUTS, IOCTLS, KVM_CAP, exit and state constants and MSR numbers match the C headers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vmrun_structs_" });
  try {
    const src = `${dir}/layouts.c`;
    const exe = `${dir}/layouts`;
    await Deno.writeTextFile(src, cProgram());
    const compiled = await new Deno.Command("cc", {
      args: ["-std=gnu11", "-Wall", "-Werror", "-o", exe, src],
      stdout: "piped",
      stderr: "piped",
    }).output();
    strictEqual(
      compiled.success,
      true,
      `cc failed:\n${new TextDecoder().decode(compiled.stderr)}`,
    );
    const ran = await new Deno.Command(exe, { stdout: "piped", stderr: "piped" }).output();
    strictEqual(ran.success, true, new TextDecoder().decode(ran.stderr));

    const actual = new Map<string, number>();
    for (const line of new TextDecoder().decode(ran.stdout).trim().split("\n")) {
      const at = line.lastIndexOf(" ");
      actual.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    const expected = expectedValues();
    // Every key was printed, and nothing unexpected was.
    deepStrictEqual([...actual.keys()].sort(), [...expected.keys()].sort());
    const mismatches: string[] = [];
    for (const [key, want] of expected) {
      const got = actual.get(key)!;
      if (got !== want) {
        mismatches.push(
          `${key}: TypeScript says 0x${want.toString(16)}, C says 0x${got.toString(16)}`,
        );
      }
    }
    strictEqual(mismatches.length, 0, `mismatches with <linux/kvm.h>:\n${mismatches.join("\n")}`);
    // A sanity check that the comparison saw real numbers.
    strictEqual(actual.get("sizeof kvm_run"), LAYOUTS.kvm_run.size);
    strictEqual(actual.size > 80, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KvmRegs: every register round-trips through its own slot", () => {
  const regs = new KvmRegs();
  strictEqual(regs.bytes.length, LAYOUTS.kvm_regs.size);
  const names = Object.keys(LAYOUTS.kvm_regs.fields) as RegName[];
  names.forEach((r, i) => regs.set(r, 0x1000 + i));
  names.forEach((r, i) => strictEqual(regs.get(r), 0x1000 + i, r));
  const dv = new DataView(regs.bytes.buffer);
  strictEqual(dv.getBigUint64(LAYOUTS.kvm_regs.fields.rip, true), 0x1000n + 16n);
  strictEqual(dv.getBigUint64(LAYOUTS.kvm_regs.fields.rflags, true), 0x1000n + 17n);
  regs.set("rax", 0xfedc_ba98_7654_3210n);
  strictEqual(dv.getBigUint64(0, true), 0xfedc_ba98_7654_3210n);
  regs.set("rbx", Number.MAX_SAFE_INTEGER);
  strictEqual(regs.get("rbx"), Number.MAX_SAFE_INTEGER);
  const json = regs.toJSON();
  strictEqual(json.rcx, 0x1002);
  strictEqual(Object.keys(json).length, 18);
});

Deno.test("KvmRegs over an existing buffer reads and writes that buffer", () => {
  const bytes = new Uint8Array(LAYOUTS.kvm_regs.size);
  new DataView(bytes.buffer).setBigUint64(LAYOUTS.kvm_regs.fields.rip, 0x7c00n, true);
  const regs = new KvmRegs(bytes);
  strictEqual(regs.get("rip"), 0x7c00);
  regs.set("rsp", 0xfff0);
  strictEqual(new DataView(bytes.buffer).getBigUint64(LAYOUTS.kvm_regs.fields.rsp, true), 0xfff0n);
});

Deno.test("KvmSregs: segments, tables and control registers round-trip", () => {
  const sregs = new KvmSregs();
  strictEqual(sregs.bytes.length, LAYOUTS.kvm_sregs.size);
  // Every field different in every segment, so a wrong offset cannot pass.
  const segmentFor = (i: number) => ({
    base: 0x10000 * (i + 1),
    limit: 0xffff + i,
    selector: 0x1000 + i,
    type: 3 + i,
    present: 1,
    dpl: i & 3,
    db: i & 1,
    s: 1,
    l: (i >> 1) & 1,
    g: 1,
    avl: 0,
    unusable: i === 7 ? 1 : 0,
  });
  SEGMENT_NAMES.forEach((name, i) => sregs.setSegment(name, segmentFor(i)));
  SEGMENT_NAMES.forEach((name, i) => deepStrictEqual(sregs.segment(name), segmentFor(i), name));
  // A partial update touches only the named fields.
  sregs.setSegment("cs", { selector: 0xf000, base: 0xffff0000 });
  const cs = sregs.segment("cs");
  strictEqual(cs.selector, 0xf000);
  strictEqual(cs.base, 0xffff0000);
  strictEqual(cs.limit, 0xffff);
  strictEqual(cs.type, 3);
  // Segments sit where the C layout says.
  const dv = new DataView(sregs.bytes.buffer);
  strictEqual(
    dv.getUint16(LAYOUTS.kvm_sregs.fields.ss + LAYOUTS.kvm_segment.fields.selector, true),
    0x1005,
  );

  const controls = ["cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apic_base"] as const;
  controls.forEach((c, i) => sregs.setControl(c, 0xabc000 + i));
  controls.forEach((c, i) => strictEqual(sregs.control(c), 0xabc000 + i, c));
  strictEqual(dv.getBigUint64(LAYOUTS.kvm_sregs.fields.efer, true), 0xabc005n);

  dv.setBigUint64(LAYOUTS.kvm_sregs.fields.gdt, 0x5000n, true);
  dv.setUint16(LAYOUTS.kvm_sregs.fields.gdt + LAYOUTS.kvm_dtable.fields.limit, 0x27, true);
  dv.setBigUint64(LAYOUTS.kvm_sregs.fields.idt, 0x6000n, true);
  dv.setUint16(LAYOUTS.kvm_sregs.fields.idt + LAYOUTS.kvm_dtable.fields.limit, 0x3ff, true);
  deepStrictEqual(sregs.table("gdt"), { base: 0x5000, limit: 0x27 });
  deepStrictEqual(sregs.table("idt"), { base: 0x6000, limit: 0x3ff });

  const json = sregs.toJSON();
  deepStrictEqual(json.gdt, { base: 0x5000, limit: 0x27 });
  strictEqual(json.cr3, 0xabc002);
  deepStrictEqual(json.ds, sregs.segment("ds"));
});

Deno.test("cpuid2: encode then decode gives the entries back", () => {
  const entries: CpuidEntry[] = [
    {
      function: 0,
      index: 0,
      flags: 0,
      eax: 0xd,
      ebx: 0x756e6547,
      ecx: 0x6c65746e,
      edx: 0x49656e69,
    },
    { function: 7, index: 1, flags: 1, eax: 1, ebx: 2, ecx: 3, edx: 4 },
    { function: 0x80000001, index: 0, flags: 0, eax: 0xffffffff, ebx: 0, ecx: 0x121, edx: 0 },
  ];
  const bytes = encodeCpuid2(entries);
  strictEqual(bytes.length, LAYOUTS.kvm_cpuid2.size + 3 * LAYOUTS.kvm_cpuid_entry2.size);
  const dv = new DataView(bytes.buffer);
  strictEqual(dv.getUint32(LAYOUTS.kvm_cpuid2.fields.nent, true), 3);
  // Entry 1's function sits one entry stride past the first.
  strictEqual(
    dv.getUint32(LAYOUTS.kvm_cpuid2.fields.entries + LAYOUTS.kvm_cpuid_entry2.size, true),
    7,
  );
  deepStrictEqual(decodeCpuid2(bytes), entries);
});

Deno.test("cpuid2: negative values are stored as unsigned 32-bit", () => {
  const bytes = encodeCpuid2([{
    function: 1,
    index: 0,
    flags: 0,
    eax: -1,
    ebx: 0,
    ecx: 0,
    edx: 0,
  }]);
  strictEqual(decodeCpuid2(bytes)[0].eax, 0xffffffff);
});

Deno.test("cpuid2Buffer has room for its capacity and decodeCpuid2 honours nent", () => {
  const buf = cpuid2Buffer(4);
  strictEqual(buf.length, 8 + 4 * 40);
  strictEqual(decodeCpuid2(buf).length, 4);
  // The kernel lowers nent to what it filled in; only those entries are decoded.
  new DataView(buf.buffer).setUint32(0, 1, true);
  new DataView(buf.buffer).setUint32(LAYOUTS.kvm_cpuid2.fields.entries + 12, 0x42, true);
  deepStrictEqual(decodeCpuid2(buf), [
    { function: 0, index: 0, flags: 0, eax: 0x42, ebx: 0, ecx: 0, edx: 0 },
  ]);
  // A nent beyond the buffer is a malformed structure, not silently truncated.
  new DataView(buf.buffer).setUint32(0, 5, true);
  throws(() => decodeCpuid2(buf), RangeError);
});

Deno.test("memoryRegion, irqLevel and pitConfig fill their structures", () => {
  const region = new DataView(
    memoryRegion(2, 0x1_0000_0000, 0x20000000, 0x7f00_1234_5000n, 2).buffer,
  );
  const f = LAYOUTS.kvm_userspace_memory_region.fields;
  strictEqual(region.byteLength, LAYOUTS.kvm_userspace_memory_region.size);
  strictEqual(region.getUint32(f.slot, true), 2);
  strictEqual(region.getUint32(f.flags, true), 2);
  strictEqual(region.getBigUint64(f.guest_phys_addr, true), 0x1_0000_0000n);
  strictEqual(region.getBigUint64(f.memory_size, true), 0x20000000n);
  strictEqual(region.getBigUint64(f.userspace_addr, true), 0x7f00_1234_5000n);

  deepStrictEqual([...irqLevel(4, true)], [4, 0, 0, 0, 1, 0, 0, 0]);
  deepStrictEqual([...irqLevel(9, false)], [9, 0, 0, 0, 0, 0, 0, 0]);

  const pit = pitConfig(1);
  strictEqual(pit.length, 64);
  strictEqual(new DataView(pit.buffer).getUint32(0, true), 1);
  strictEqual(pit.slice(4).every((b) => b === 0), true);
});

Deno.test("irqRouting: the header's count, then one 48-byte irqchip entry per route", () => {
  const b = irqRouting([{ gsi: 0, irqchip: 2, pin: 2 }, { gsi: 9, irqchip: 1, pin: 1 }]);
  const dv = new DataView(b.buffer);
  strictEqual(b.length, 8 + 2 * 48);
  deepStrictEqual([dv.getUint32(0, true), dv.getUint32(4, true)], [2, 0]);
  const entry = (i: number) => [0, 4, 8, 16, 20].map((o) => dv.getUint32(8 + 48 * i + o, true));
  deepStrictEqual(entry(0), [0, 1, 0, 2, 2]); // gsi, type IRQCHIP, flags, irqchip, pin
  deepStrictEqual(entry(1), [9, 1, 0, 1, 1]);
});

Deno.test("ioeventfd: address, width, fd and the flags a match asks for", () => {
  const f = LAYOUTS.kvm_ioeventfd.fields;
  const any = new DataView(ioeventfd({ address: 0xc010, length: 2, pio: true }, 7).buffer);
  strictEqual(any.getBigUint64(f.addr, true), 0xc010n);
  strictEqual(any.getUint32(f.len, true), 2);
  strictEqual(any.getInt32(f.fd, true), 7);
  strictEqual(any.getUint32(f.flags, true), IOEVENTFD.KVM_IOEVENTFD_FLAG_PIO);
  strictEqual(any.getBigUint64(f.datamatch, true), 0n);
  const one = new DataView(
    ioeventfd({ address: 0xfe003000, length: 4, pio: false, datamatch: 1 }, 9, true).buffer,
  );
  strictEqual(one.getBigUint64(f.datamatch, true), 1n);
  strictEqual(one.getBigUint64(f.addr, true), 0xfe003000n);
  strictEqual(
    one.getUint32(f.flags, true),
    IOEVENTFD.KVM_IOEVENTFD_FLAG_DATAMATCH | IOEVENTFD.KVM_IOEVENTFD_FLAG_DEASSIGN,
  );
});
