/**
 * Reads what the fixture kernels (fixtures/src/kernel_*.asm, see
 * kernel_report.inc) print on COM1, for the direct kernel boot tests and
 * benchmark.
 *
 * @module
 */

/** One e820 / PVH memmap entry as the fixture printed it. */
export interface ReportedRange {
  readonly address: number;
  readonly length: number;
  readonly type: number;
}

/** A fixture kernel's report. */
export interface KernelReport {
  /** Entry points in the order they ran ("setup", "startup_32", "startup_64", "pvh"). */
  readonly entries: string[];
  /** startup_64's EFER.LMA, when it ran. */
  readonly lma: number | null;
  readonly cmdline: string;
  readonly initrd: { addr: number; size: number; fnv: number };
  readonly e820: ReportedRange[];
  readonly rsdp: { addr: number; ok: boolean };
  readonly mp: { addr: number; cpus: number };
  /** bzImage only: type_of_loader, loadflags, heap_end_ptr as the kernel saw them. */
  readonly loader: { type: number; loadflags: number; heapEnd: number } | null;
  /** PVH only: hvm_start_info magic and version. */
  readonly startInfo: { magic: number; version: number } | null;
}

/** The marker the fixtures print last. */
export const REPORT_END = "\nend\n";
/** The fixtures' isa-debug-exit value. */
export const KERNEL_EXIT = 0x11;

/**
 * Parses a fixture kernel's COM1 output (firmware text before it is skipped).
 * @throws {Error} when a line the report must have is missing
 */
export function parseKernelReport(text: string): KernelReport {
  const lines = text.replace(/\r/g, "").split("\n");
  const one = (re: RegExp) => {
    for (const l of lines) {
      const m = re.exec(l);
      if (m) return m;
    }
    throw new Error(`no line matching ${re} in: ${JSON.stringify(text)}`);
  };
  const hex = (s: string) => parseInt(s, 16);
  const entries: string[] = [];
  let lma: number | null = null;
  for (const l of lines) {
    const m = /^vmrun-kernel entry (\w+)(?: lma=([0-9A-F]+))?/.exec(l);
    if (!m) continue;
    entries.push(m[1]);
    if (m[2]) lma = hex(m[2]);
  }
  const initrd = one(/^initrd addr=([0-9A-F]{8}) size=([0-9A-F]{8}) fnv=([0-9A-F]{8})$/);
  const rsdp = one(/^rsdp=([0-9A-F]{8}) sig=(ok|bad)$/);
  const mp = one(/^mp=([0-9A-F]{8}) cpus=([0-9A-F]{8})$/);
  const e820 = lines.flatMap((l) => {
    const m = /^e820 ([0-9A-F]{16}) ([0-9A-F]{16}) ([0-9A-F]{8})$/.exec(l);
    return m ? [{ address: hex(m[1]), length: hex(m[2]), type: hex(m[3]) }] : [];
  });
  const loaderLine = lines.find((l) => l.startsWith("loader="));
  const loader = loaderLine
    ? (() => {
      const m = /^loader=([0-9A-F]{8}) loadflags=([0-9A-F]{8}) heap_end=([0-9A-F]{8})$/.exec(
        loaderLine,
      );
      if (!m) throw new Error(`bad loader line: ${loaderLine}`);
      return { type: hex(m[1]), loadflags: hex(m[2]), heapEnd: hex(m[3]) };
    })()
    : null;
  const magicLine = lines.find((l) => l.startsWith("magic="));
  const sm = magicLine ? /^magic=([0-9A-F]{8}) version=([0-9A-F]{8})$/.exec(magicLine) : null;
  one(/^end$/);
  return {
    entries,
    lma,
    cmdline: one(/^cmdline=(.*)$/)[1],
    initrd: { addr: hex(initrd[1]), size: hex(initrd[2]), fnv: hex(initrd[3]) },
    e820,
    rsdp: { addr: hex(rsdp[1]), ok: rsdp[2] === "ok" },
    mp: { addr: hex(mp[1]), cpus: hex(mp[2]) },
    loader,
    startInfo: sm ? { magic: hex(sm[1]), version: hex(sm[2]) } : null,
  };
}

/** Bytes of usable RAM (type 1) in a reported map. */
export function usableRam(map: readonly ReportedRange[]): number {
  return map.filter((e) => e.type === 1).reduce((n, e) => n + e.length, 0);
}

/** FNV-1a, 32-bit, as the fixtures compute it over the initrd. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** A deterministic initrd of `size` bytes (a linear congruential sequence). */
export function testInitrd(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 16;
  }
  return out;
}
