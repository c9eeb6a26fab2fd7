/**
 * Differential tests against QEMU with KVM: the probe guests
 * (fixtures/src/probe_*.asm), booted by the same SeaBIOS binary from the
 * first IDE disk, dump device state on COM1 as "name: xx xx ..." lines under
 * vmrun and under QEMU, and the dumps must match. Where vmrun deliberately
 * differs from QEMU the bits are masked, each with its reason.
 *
 * Each probe boots once in each VM (all four runs at once); every comparison
 * is its own test over those dumps.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { fixture } from "../fixtures/build.ts";
import { kvmTest } from "./kvm_available.ts";
import { QemuProcess } from "./qemu.ts";
import { VmrunProcess } from "./vmrun_process.ts";

/** Dump lines by name: "cmos: 26 02" → cmos → [0x26, 0x02]. */
type Dump = Map<string, number[]>;

/** What one probe dumped in each VM. */
interface ProbeDumps {
  readonly vmrun: Dump;
  readonly qemu: Dump;
}

/** Exit value of probe_state. */
const STATE_EXIT = 0x21;
/** Exit value of probe_screen. */
const SCREEN_EXIT = 0x22;
const END = "end\r\n";
// A hang guard, not a performance check: a quiet host needs ~12 s for all four runs,
// but the suite shares its CPUs with other tests that boot guests.
const RUN_LIMIT_MS = 120_000;
const TEXT_BASE = 0xb8000;
const ROWS = 25;
const ROW_BYTES = 160;

function parseDump(text: string): Dump {
  const dump: Dump = new Map();
  for (const line of text.split("\r\n")) {
    const m = /^(\w+):((?: [0-9a-f]{2})*)$/.exec(line);
    if (m) dump.set(m[1], m[2].trim().split(" ").filter((s) => s).map((h) => parseInt(h, 16)));
  }
  return dump;
}

/** The line `name` of a dump, which must hold `length` bytes. */
function line(dump: Dump, name: string, length: number): number[] {
  const bytes = dump.get(name);
  ok(bytes, `no '${name}:' line in the dump`);
  strictEqual(bytes.length, length, `'${name}:' has ${bytes.length} bytes, not ${length}`);
  return bytes;
}

/**
 * Bytes as register → hex value, with `masks[register]` bits cleared, so a
 * failed comparison names the registers that differ.
 */
function registers(
  bytes: number[],
  base: number,
  masks: Readonly<Record<number, number>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  bytes.forEach((b, i) => {
    const reg = base + i;
    out[`0x${reg.toString(16).padStart(2, "0")}`] = (b & ~(masks[reg] ?? 0)).toString(16)
      .padStart(2, "0");
  });
  return out;
}

/**
 * Deliberate differences in the command (0x04-0x05) and status (0x06-0x07)
 * registers, by devfn, each with its reason.
 */
const PCI_COMMAND_STATUS_MASKS: Readonly<Record<number, Readonly<Record<number, number>>>> = {
  // 00:00.0 i440FX, 82441FX datasheet: PCICMD bit 2 (bus master) reads 1 and
  // PCISTS is 0x0280 (fast back-to-back, medium DEVSEL); QEMU leaves both 0.
  0x00: { 0x04: 0x04, 0x06: 0x80, 0x07: 0x02 },
  // 00:01.0 PIIX3, 82371SB datasheet: PCICMD defaults to 0x0007 (bus master
  // on); QEMU's PIIX3 leaves bit 2 clear and SeaBIOS does not set it.
  0x08: { 0x04: 0x04 },
};

function tempCopy(image: string): string {
  const path = Deno.makeTempFileSync({ prefix: "vmrun-probe-", suffix: ".img" });
  Deno.copyFileSync(image, path);
  return path;
}

/**
 * Boots `name` under vmrun with QEMU's -m 128. With `interactive` the probe
 * waits after "end" for a COM1 byte, which is sent once "end" is seen.
 */
async function vmrunProbe(name: string, exit: number, interactive: boolean): Promise<Dump> {
  const image = tempCopy(fixture(name));
  try {
    const p = new VmrunProcess([
      "--headless",
      "-m",
      "128M",
      "--timeout",
      String(RUN_LIMIT_MS / 1000),
      image,
    ], {
      killAfterMs: RUN_LIMIT_MS + 10_000,
    });
    try {
      if (interactive) {
        await p.waitForStdout(END, RUN_LIMIT_MS);
        await p.write("x");
      }
      await p.closeStdin();
    } catch (e) {
      p.child.kill("SIGKILL");
      await p.finished();
      throw e;
    }
    const r = await p.finished();
    strictEqual(r.code, exit, `vmrun ${name}: status ${r.code}\n${r.stdout}\n${r.stderr}`);
    ok(r.stdout.endsWith(END), `vmrun ${name}: ${JSON.stringify(r.stdout)}`);
    return parseDump(r.stdout);
  } finally {
    Deno.removeSync(image);
  }
}

/**
 * Boots `name` under QEMU. With `interactive`, reads the text screen through
 * the monitor while the probe waits after "end", then lets it exit.
 */
async function qemuProbe(
  name: string,
  exit: number,
  interactive: boolean,
): Promise<{ dump: Dump; screen: Uint8Array | null }> {
  const q = new QemuProcess(fixture(name), { monitor: interactive, killAfterMs: RUN_LIMIT_MS });
  let screen: Uint8Array | null = null;
  try {
    if (interactive) {
      await q.waitForStdout(END, RUN_LIMIT_MS);
      screen = await q.readPhysical(TEXT_BASE, ROWS * ROW_BYTES);
      await q.write("x");
    }
  } catch (e) {
    q.kill();
    await q.finished();
    throw e;
  }
  const r = await q.finished();
  strictEqual(
    r.debugExit,
    exit,
    `QEMU ${name}: status ${r.code} signal ${r.signal}\n${r.stdout}\n${r.stderr}`,
  );
  ok(r.stdout.endsWith(END), `QEMU ${name}: ${JSON.stringify(r.stdout)}`);
  return { dump: parseDump(r.stdout), screen };
}

interface AllRuns {
  readonly state: ProbeDumps;
  readonly screen: ProbeDumps;
  /** 0xB8000-0xB8F9F read through QEMU's monitor while probe_screen waited. */
  readonly qemuMonitorScreen: Uint8Array;
}

let runs: Promise<AllRuns> | undefined;

/**
 * Both probes in both VMs, started together by the first test that asks and
 * finished within it (later tests only read the dumps).
 */
function allRuns(): Promise<AllRuns> {
  runs ??= (async () => {
    const [vState, qState, vScreen, qScreen] = await Promise.all([
      vmrunProbe("probe_state", STATE_EXIT, false),
      qemuProbe("probe_state", STATE_EXIT, false),
      vmrunProbe("probe_screen", SCREEN_EXIT, true),
      qemuProbe("probe_screen", SCREEN_EXIT, true),
    ]);
    return {
      state: { vmrun: vState, qemu: qState.dump },
      screen: { vmrun: vScreen, qemu: qScreen.dump },
      qemuMonitorScreen: qScreen.screen!,
    };
  })();
  return runs;
}

/** Compares line `name` of both dumps register by register, after masking. */
function compare(
  dumps: ProbeDumps,
  name: string,
  length: number,
  base: number,
  masks: Readonly<Record<number, number>> = {},
): number[] {
  const v = line(dumps.vmrun, name, length);
  const q = line(dumps.qemu, name, length);
  deepStrictEqual(
    registers(v, base, masks),
    registers(q, base, masks),
    `${name}: vmrun (actual) differs from QEMU (expected)`,
  );
  return v;
}

kvmTest("differential: all 128 CMOS bytes match QEMU, the clock masked", async () => {
  const { state } = await allRuns();
  const masks: Record<number, number> = {
    // The time of day and date count on: which second each VM read is timing.
    0x00: 0xff,
    0x02: 0xff,
    0x04: 0xff,
    0x06: 0xff,
    0x07: 0xff,
    0x08: 0xff,
    0x09: 0xff,
    // Status A bit 7 (UIP) is set during each second's update cycle: timing.
    0x0a: 0x80,
    // Status C holds the interrupt flags latched since it was last read, and
    // reading clears them: which are set depends on when SeaBIOS last read it.
    0x0c: 0xff,
  };
  const cmos = compare(state, "cmos", 0x80, 0, masks);
  // The same -m 128 in both: 640 KiB base memory, 112 MiB above 16 MiB.
  deepStrictEqual(cmos.slice(0x15, 0x17), [0x80, 0x02]);
  deepStrictEqual(cmos.slice(0x34, 0x36), [0x00, 0x07]);
});

kvmTest("differential: command and status of every PCI function match QEMU", async () => {
  const { state } = await allRuns();
  /** devfn → command and status bytes, from "devfn cmd cmd sts sts" groups. */
  const functions = (dump: Dump) => {
    const bytes = dump.get("pcicmd");
    ok(bytes && bytes.length % 5 === 0, `pcicmd: ${bytes}`);
    const out = new Map<number, number[]>();
    for (let i = 0; i < bytes.length; i += 5) out.set(bytes[i], bytes.slice(i + 1, i + 5));
    return out;
  };
  const v = functions(state.vmrun);
  const q = functions(state.qemu);
  const name = (devfn: number) => `00:${(devfn >> 3).toString(16).padStart(2, "0")}.${devfn & 7}`;
  deepStrictEqual([...v.keys()].map(name), [...q.keys()].map(name), "the same functions");
  for (const [devfn, regs] of q) {
    deepStrictEqual(
      registers(v.get(devfn)!, 4, PCI_COMMAND_STATUS_MASKS[devfn]),
      registers(regs, 4, PCI_COMMAND_STATUS_MASKS[devfn]),
      `${name(devfn)} command/status: vmrun (actual) differs from QEMU (expected)`,
    );
  }
});

kvmTest("differential: i440FX 00:00.0 config 0x00-0x3F and PAM 0x59-0x5F match QEMU", async () => {
  const { state } = await allRuns();
  const pci0 = compare(state, "pci0", 0x40, 0, PCI_COMMAND_STATUS_MASKS[0x00]);
  deepStrictEqual(pci0.slice(0, 4), [0x86, 0x80, 0x37, 0x12]);
  compare(state, "pam", 7, 0x59);
});

kvmTest(
  "differential: PIIX3 00:01.0 config 0x00-0x3F and PIRQRC 0x60-0x63 match QEMU",
  async () => {
    const { state } = await allRuns();
    const pci1 = compare(state, "pci1", 0x40, 0, PCI_COMMAND_STATUS_MASKS[0x08]);
    deepStrictEqual(pci1.slice(0, 4), [0x86, 0x80, 0x00, 0x70]);
    // SeaBIOS routes PIRQA-D to IRQs 10, 10, 11, 11.
    deepStrictEqual(compare(state, "pirq", 4, 0x60), [0x0a, 0x0a, 0x0b, 0x0b]);
  },
);

kvmTest("differential: i8042 status and command byte after SeaBIOS match QEMU", async () => {
  const { state } = await allRuns();
  // Status bytes 0 (before) and 2 (after command 0x20); byte 1: command byte.
  // Bit 3 (A2: last write was to 0x64): QEMU sets it at reset and never
  // changes it; the 8042 tracks the last write, as vmrun does.
  // Bit 2 (system flag) must match: set by SeaBIOS's self-test in both.
  const kbc = compare(state, "kbc", 3, 0, { 0: 0x08, 2: 0x08 });
  strictEqual(kbc[2] & 0x04, 0x04, "system flag after POST");
  strictEqual(kbc[0] & 0x03, 0, "output and input buffers empty after SeaBIOS");
});

kvmTest("differential: fw_cfg signature, ID and DMA signature match QEMU", async () => {
  const { state } = await allRuns();
  const text = (b: number[]) => String.fromCharCode(...b);
  strictEqual(text(compare(state, "fwsig", 4, 0)), "QEMU");
  const id = compare(state, "fwid", 4, 0);
  strictEqual(id[0] & 0x03, 0x03, "traditional interface and DMA");
  strictEqual(text(compare(state, "dmasig", 8, 0)), "QEMU CFG");
  strictEqual(text(compare(state, "dmasig32", 8, 0)), "QEMU CFG");
});

kvmTest("differential: UART IER IIR LCR MCR LSR MSR SCR after SeaBIOS match QEMU", async () => {
  const { state } = await allRuns();
  const uart = compare(state, "uart", 7, 1, {
    // MCR OUT2: QEMU's serial_reset sets it; the 16550A resets MCR to 0.
    4: 0x08,
  });
  strictEqual(uart[4] & 0x60, 0x60, "LSR: THRE and TEMT");
  compare(state, "uartdl", 2, 0);
});

kvmTest("differential: VGA text screen, cursor and BIOS video data match QEMU", async () => {
  const { screen } = await allRuns();
  compare(screen, "cursor", 2, 0);
  compare(screen, "crtc", 6, 0x0a);
  compare(screen, "bda", 0x467 - 0x449, 0x449);
  compare(screen, "bdarows", 0x48b - 0x484, 0x484);
  const rows = (dump: Dump) =>
    Array.from({ length: ROWS }, (_, r) => {
      const bytes = line(dump, `row${r.toString(16).padStart(2, "0")}`, ROW_BYTES);
      const text = String.fromCharCode(...bytes.filter((_, i) => i % 2 === 0));
      const attrs = bytes.filter((_, i) => i % 2 === 1).map((a) => a.toString(16)).join(",");
      return `${text} ${attrs}`;
    });
  const v = rows(screen.vmrun);
  deepStrictEqual(v, rows(screen.qemu), "screen rows: vmrun (actual), QEMU (expected)");
  ok(v[0].startsWith("SeaBIOS (version "), v[0]);
  ok(v.some((r) => r.startsWith("probe: int 10h text ")), v.join("\n"));
});

kvmTest("differential: probe_screen's dump equals QEMU's monitor read of 0xB8000", async () => {
  const { screen, qemuMonitorScreen } = await allRuns();
  const dumped = Array.from(
    { length: ROWS },
    (_, r) => line(screen.qemu, `row${r.toString(16).padStart(2, "0")}`, ROW_BYTES),
  ).flat();
  deepStrictEqual(Array.from(qemuMonitorScreen), dumped);
});
