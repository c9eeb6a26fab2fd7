import { deepStrictEqual, strictEqual } from "node:assert";
import { decodeExit, EXIT_REASON, SYSTEM_EVENT } from "./exits.ts";
import { LAYOUTS } from "./structs.ts";

const R = LAYOUTS.kvm_run.fields;

/** A zeroed kvm_run area with `exit_reason` set, and a DataView to fill in the rest. */
function run(reason: number): DataView {
  const view = new DataView(new Uint8Array(LAYOUTS.kvm_run.size).buffer);
  view.setUint32(R.exit_reason, reason, true);
  return view;
}

Deno.test("decodeExit: port output of one byte", () => {
  const v = run(EXIT_REASON.IO);
  v.setUint8(R["io.direction"], 1);
  v.setUint8(R["io.size"], 1);
  v.setUint16(R["io.port"], 0x3f8, true);
  v.setUint32(R["io.count"], 1, true);
  v.setBigUint64(R["io.data_offset"], 4096n, true);
  deepStrictEqual(decodeExit(v), {
    kind: "io",
    direction: "out",
    size: 1,
    port: 0x3f8,
    count: 1,
    dataOffset: 4096,
  });
});

Deno.test("decodeExit: port input of a dword at a high port", () => {
  const v = run(EXIT_REASON.IO);
  v.setUint8(R["io.direction"], 0);
  v.setUint8(R["io.size"], 4);
  v.setUint16(R["io.port"], 0xcfc, true);
  v.setUint32(R["io.count"], 1, true);
  v.setBigUint64(R["io.data_offset"], 0x1000n, true);
  deepStrictEqual(decodeExit(v), {
    kind: "io",
    direction: "in",
    size: 4,
    port: 0xcfc,
    count: 1,
    dataOffset: 0x1000,
  });
});

Deno.test("decodeExit: string I/O carries its element count and data offset", () => {
  const v = run(EXIT_REASON.IO);
  v.setUint8(R["io.direction"], 0);
  v.setUint8(R["io.size"], 2);
  v.setUint16(R["io.port"], 0xffff, true);
  v.setUint32(R["io.count"], 256, true);
  v.setBigUint64(R["io.data_offset"], 0x2000n, true);
  deepStrictEqual(decodeExit(v), {
    kind: "io",
    direction: "in",
    size: 2,
    port: 0xffff,
    count: 256,
    dataOffset: 0x2000,
  });
});

Deno.test("decodeExit: MMIO write and read with their lengths", () => {
  const w = run(EXIT_REASON.MMIO);
  w.setBigUint64(R["mmio.phys_addr"], 0xfebf_1004n, true);
  w.setUint32(R["mmio.len"], 4, true);
  w.setUint8(R["mmio.is_write"], 1);
  deepStrictEqual(decodeExit(w), { kind: "mmio", addr: 0xfebf1004, len: 4, isWrite: true });

  const r = run(EXIT_REASON.MMIO);
  r.setBigUint64(R["mmio.phys_addr"], 0x1_0000_0008n, true);
  r.setUint32(R["mmio.len"], 8, true);
  deepStrictEqual(decodeExit(r), { kind: "mmio", addr: 0x100000008, len: 8, isWrite: false });
});

Deno.test("decodeExit: HLT, SHUTDOWN, INTR and IRQ_WINDOW_OPEN carry no data", () => {
  deepStrictEqual(decodeExit(run(EXIT_REASON.HLT)), { kind: "hlt" });
  deepStrictEqual(decodeExit(run(EXIT_REASON.SHUTDOWN)), { kind: "shutdown" });
  deepStrictEqual(decodeExit(run(EXIT_REASON.INTR)), { kind: "intr" });
  deepStrictEqual(decodeExit(run(EXIT_REASON.IRQ_WINDOW_OPEN)), { kind: "irq-window-open" });
});

Deno.test("decodeExit: FAIL_ENTRY reports the hardware reason and cpu", () => {
  const v = run(EXIT_REASON.FAIL_ENTRY);
  v.setBigUint64(R["fail_entry.hardware_entry_failure_reason"], 0x80000021n, true);
  v.setUint32(R["fail_entry.cpu"], 3, true);
  deepStrictEqual(decodeExit(v), { kind: "fail-entry", hardwareReason: 0x80000021, cpu: 3 });
});

Deno.test("decodeExit: INTERNAL_ERROR names the suberror and reads ndata words", () => {
  const v = run(EXIT_REASON.INTERNAL_ERROR);
  v.setUint32(R["internal.suberror"], 1, true);
  v.setUint32(R["internal.ndata"], 3, true);
  v.setBigUint64(R["internal.data"], 0x11n, true);
  v.setBigUint64(R["internal.data"] + 8, 0x2222n, true);
  v.setBigUint64(R["internal.data"] + 16, 0x333333n, true);
  // A fourth word beyond ndata must not be reported.
  v.setBigUint64(R["internal.data"] + 24, 0x4444n, true);
  deepStrictEqual(decodeExit(v), {
    kind: "internal-error",
    suberror: 1,
    description: "emulation failure",
    data: [0x11, 0x2222, 0x333333],
  });

  v.setUint32(R["internal.suberror"], 3, true);
  v.setUint32(R["internal.ndata"], 0, true);
  deepStrictEqual(decodeExit(v), {
    kind: "internal-error",
    suberror: 3,
    description: "delivery event",
    data: [],
  });

  v.setUint32(R["internal.suberror"], 99, true);
  const unknown = decodeExit(v);
  strictEqual(unknown.kind === "internal-error" && unknown.description, "suberror 99");
});

Deno.test("decodeExit: INTERNAL_ERROR caps ndata at the 16 words kvm_run holds", () => {
  const v = run(EXIT_REASON.INTERNAL_ERROR);
  v.setUint32(R["internal.suberror"], 2, true);
  v.setUint32(R["internal.ndata"], 1000, true);
  for (let i = 0; i < 16; i++) v.setBigUint64(R["internal.data"] + i * 8, BigInt(i + 1), true);
  const exit = decodeExit(v);
  strictEqual(exit.kind, "internal-error");
  if (exit.kind !== "internal-error") return;
  strictEqual(exit.description, "simultaneous exceptions");
  deepStrictEqual(exit.data, Array.from({ length: 16 }, (_, i) => i + 1));
});

Deno.test("decodeExit: SYSTEM_EVENT reports its type and data", () => {
  const v = run(EXIT_REASON.SYSTEM_EVENT);
  v.setUint32(R["system_event.type"], SYSTEM_EVENT.RESET, true);
  v.setUint32(R["system_event.ndata"], 1, true);
  v.setBigUint64(R["system_event.data"], 0xdeadn, true);
  v.setBigUint64(R["system_event.data"] + 8, 0xbeefn, true);
  deepStrictEqual(decodeExit(v), { kind: "system-event", type: 2, data: [0xdead] });

  v.setUint32(R["system_event.type"], SYSTEM_EVENT.SHUTDOWN, true);
  v.setUint32(R["system_event.ndata"], 0, true);
  deepStrictEqual(decodeExit(v), { kind: "system-event", type: 1, data: [] });
});

Deno.test("decodeExit: an unhandled reason is reported as unknown with its number", () => {
  deepStrictEqual(decodeExit(run(EXIT_REASON.EXCEPTION)), { kind: "unknown", reason: 1 });
  deepStrictEqual(decodeExit(run(EXIT_REASON.UNKNOWN)), { kind: "unknown", reason: 0 });
  deepStrictEqual(decodeExit(run(0x1234)), { kind: "unknown", reason: 0x1234 });
});

Deno.test("decodeExit reads only exit fields: other kvm_run bytes do not leak in", () => {
  const v = run(EXIT_REASON.HLT);
  v.setUint8(R.immediate_exit, 1);
  v.setUint8(R.if_flag, 1);
  v.setBigUint64(R.cr8, 0xfn, true);
  deepStrictEqual(decodeExit(v), { kind: "hlt" });
  const io = run(EXIT_REASON.IO);
  io.setUint8(R.request_interrupt_window, 1);
  io.setUint8(R["io.size"], 1);
  io.setUint32(R["io.count"], 1, true);
  deepStrictEqual(decodeExit(io), {
    kind: "io",
    direction: "in",
    size: 1,
    port: 0,
    count: 1,
    dataOffset: 0,
  });
});
