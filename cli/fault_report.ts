/**
 * Formats how a guest run ended for stderr, with the registers of a faulting
 * vCPU laid out the way people read them.
 *
 * @module
 */

import type { VmExit } from "../machine/exit.ts";

const hex = (v: unknown, width = 16) =>
  typeof v === "number" ? v.toString(16).padStart(width, "0") : "?";

/** Lines describing a fault's registers (general purpose, segments, control). */
export function formatRegisters(regs: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const row = (names: string[]) =>
    names.map((n) => `${n.toUpperCase().padEnd(3)}=${hex(regs[n])}`).join(" ");
  lines.push(row(["rax", "rbx", "rcx", "rdx"]));
  lines.push(row(["rsi", "rdi", "rbp", "rsp"]));
  lines.push(row(["r8", "r9", "r10", "r11"]));
  lines.push(row(["r12", "r13", "r14", "r15"]));
  lines.push(`RIP=${hex(regs.rip)} RFLAGS=${hex(regs.rflags, 8)}`);
  for (const s of ["cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"]) {
    const seg = regs[s] as Record<string, number> | undefined;
    if (!seg) continue;
    lines.push(
      `${s.toUpperCase().padEnd(3)}=${hex(seg.selector, 4)} base=${hex(seg.base)} limit=${
        hex(seg.limit, 8)
      } type=${seg.type} dpl=${seg.dpl} db=${seg.db} l=${seg.l} g=${seg.g} p=${seg.present}`,
    );
  }
  for (const t of ["gdt", "idt"]) {
    const tab = regs[t] as { base: number; limit: number } | undefined;
    if (tab) lines.push(`${t.toUpperCase()}=base ${hex(tab.base)} limit ${hex(tab.limit, 4)}`);
  }
  lines.push(
    ["cr0", "cr2", "cr3", "cr4", "efer"].map((c) => `${c.toUpperCase()}=${hex(regs[c])}`).join(" "),
  );
  return lines;
}

/** The stderr text for an exit, or "" when the exit needs no words. */
export function describeExit(exit: VmExit): string {
  switch (exit.reason) {
    case "debug-exit":
      // A value that is no exit status (status 1) says which it was.
      return exit.detail ? `vmrun: ${exit.detail}\n` : "";
    case "stopped":
    case "shutdown":
    case "signal":
    case "exit-on":
    case "fail-on":
    case "step-failed":
    case "incomplete":
      // Said when it happened, or needs no words.
      return "";
    case "timeout":
      return `vmrun: timed out${exit.detail ? `: ${exit.detail}` : ""}\n`;
    default: {
      const head = `vmrun: ${exit.reason}: ${exit.detail ?? "the guest stopped"}\n`;
      const regs = exit.registers
        ? formatRegisters(exit.registers).map((l) => `  ${l}\n`).join("")
        : "";
      return head + regs;
    }
  }
}
