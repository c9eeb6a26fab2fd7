import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { assertRestoreRejects } from "../testing/snapshot_check.ts";
import { crc32 } from "./nic.ts";
import { RTL, Rtl8139, RTL8139_EEPROM_WORDS, RTL_INT } from "./rtl8139.ts";
import {
  assertSnapshotTwins,
  BROADCAST,
  MAC,
  type NicRig,
  nicRig,
  replay,
  type RigStep,
  savedAfterTraffic,
  testFrame as frame,
} from "./test_support.ts";
const RING = 0x10000;
const TX_BUF = 0x40000;
const CR_TE = 0x04;
const CR_RE = 0x08;
const RCR_APM = 0x02;
const RCR_AM = 0x04;
const RCR_AB = 0x08;
const RCR_WRAP = 0x80;

const setup = () => nicRig((options) => new Rtl8139(options));

type Setup = NicRig<Rtl8139>;

const w = (s: Setup, reg: number, size: 1 | 2 | 4, v: number) => s.nic.regs.write(reg, size, v);
const r = (s: Setup, reg: number, size: 1 | 2 | 4) => s.nic.regs.read(reg, size);

/** Linux 8139too's bring-up: reset, ring, RE|TE, RCR, interrupts. */
function up(s: Setup, rcr = RCR_APM | RCR_AB | RCR_WRAP): void {
  w(s, RTL.CR, 1, 0x10);
  w(s, RTL.RBSTART, 4, RING);
  w(s, RTL.CR, 1, CR_RE | CR_TE);
  w(s, RTL.RCR, 4, rcr);
  w(s, RTL.IMR, 2, RTL_INT.ROK | RTL_INT.TOK | RTL_INT.RXOVW | RTL_INT.TER);
}

/** Bit-bangs a 93C46 READ of `addr` through 9346CR, as 8139too's read_eeprom does. */
function eepromRead(s: Setup, addr: number): number {
  const out = (v: number) => w(s, RTL.CR9346, 1, 0x80 | v);
  out(0);
  out(0x08);
  const cmd = (0b110 << 6) | addr;
  for (let i = 8; i >= 0; i--) {
    const di = (cmd >> i) & 1 ? 0x02 : 0;
    out(0x08 | di);
    out(0x08 | di | 0x04);
  }
  out(0x08);
  let v = 0;
  for (let i = 0; i < 16; i++) {
    out(0x08 | 0x04);
    v = (v << 1) | (r(s, RTL.CR9346, 1) & 1);
    out(0x08);
  }
  w(s, RTL.CR9346, 1, 0);
  return v;
}

Deno.test("rtl8139: PCI identity, MAC in IDR, RTL8139C in TCR, link up, empty ring", () => {
  const s = setup();
  strictEqual(s.nic.config.read(0, 4), 0x813910ec);
  deepStrictEqual(Array.from({ length: 6 }, (_, i) => r(s, RTL.IDR0 + i, 1)), [...MAC]);
  strictEqual(r(s, RTL.TCR, 4) & 0x7cc00000, 0x74000000);
  strictEqual(r(s, RTL.MSR, 1) & 0x04, 0, "LINKB low: link up");
  ok(r(s, RTL.BMSR, 2) & 0x04);
  ok(r(s, RTL.CR, 1) & 0x01, "BUFE");
  strictEqual(r(s, RTL.TSAD_SUMMARY, 2) & 0xf, 0xf, "every descriptor is the host's");
});

Deno.test("rtl8139: the 93C46 gives the ID word and the MAC at words 7-9", () => {
  const s = setup();
  strictEqual(eepromRead(s, 0), 0x8129);
  deepStrictEqual([7, 8, 9].map((a) => eepromRead(s, a)), [0x5452, 0x1200, 0x5634]);
  strictEqual(s.nic.eepromWord(RTL8139_EEPROM_WORDS - 1), 0);
});

Deno.test("rtl8139: a TSD write sends TSAD's bytes, sets OWN and TOK, raises TOK", () => {
  const s = setup();
  up(s);
  const f = frame(BROADCAST, 90, 1);
  s.memory.write(TX_BUF, f);
  w(s, RTL.TSAD0 + 8, 4, TX_BUF);
  w(s, RTL.TSD0 + 8, 4, 90 | (2 << 16));
  deepStrictEqual(s.sent, [f]);
  const tsd = r(s, RTL.TSD0 + 8, 4);
  ok(tsd & (1 << 13) && tsd & (1 << 15), "OWN and TOK");
  ok(s.irq.level);
  strictEqual(r(s, RTL.ISR, 2), RTL_INT.TOK);
  w(s, RTL.ISR, 2, RTL_INT.TOK);
  strictEqual(s.irq.level, false, "writing the bit back clears it");
  strictEqual(s.nic.counters.txPackets, 1);
  // With the transmitter off nothing goes out.
  w(s, RTL.CR, 1, CR_RE);
  w(s, RTL.TSD0, 4, 60);
  strictEqual(s.sent.length, 1);
});

Deno.test("rtl8139: receive writes header, frame and CRC at CBR; CAPR frees the ring", () => {
  const s = setup();
  strictEqual(s.nic.receive(frame(MAC, 64, 0)), false, "receiver off");
  up(s);
  ok(s.rxReadyCount() > 0);
  const f = frame(MAC, 100, 2);
  strictEqual(s.nic.receive(f), true);
  strictEqual(s.memory.readU16(RING), 0x4001, "ROK, physical match");
  strictEqual(s.memory.readU16(RING + 2), 104, "length with the CRC");
  deepStrictEqual(s.memory.bytes.subarray(RING + 4, RING + 104), f);
  strictEqual(s.memory.readU32(RING + 104), crc32(f));
  strictEqual(r(s, RTL.CBR, 2), 108);
  strictEqual(r(s, RTL.CR, 1) & 1, 0, "not empty");
  ok(s.irq.level);
  strictEqual(r(s, RTL.ISR, 2) & RTL_INT.ROK, RTL_INT.ROK);
  // The driver consumes it: CAPR = next read - 16.
  const before = s.rxReadyCount();
  w(s, RTL.CAPR, 2, 108 - 16);
  strictEqual(s.rxReadyCount(), before + 1);
  ok(r(s, RTL.CR, 1) & 1, "BUFE again");
  // Broadcast with AB, padded; another MAC filtered out.
  strictEqual(s.nic.receive(frame(BROADCAST, 42, 3)), true);
  strictEqual(s.memory.readU16(RING + 108), 0x2001);
  strictEqual(s.memory.readU16(RING + 110), 64);
  strictEqual(s.nic.receive(frame([0x52, 0x54, 0, 0, 0, 9], 64, 4)), true);
  strictEqual(s.nic.counters.rxDropped, 1);
  strictEqual(s.nic.counters.rxPackets, 2);
});

Deno.test("rtl8139: multicast passes by the MAR hash with AM", () => {
  const s = setup();
  up(s, RCR_APM | RCR_AM);
  const group = [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb];
  strictEqual(s.nic.receive(frame(group, 64, 1)), true);
  strictEqual(s.nic.counters.rxPackets, 0, "MAR empty: filtered");
  for (let i = 0; i < 8; i++) w(s, RTL.MAR0 + i, 1, 0xff);
  strictEqual(s.nic.receive(frame(group, 64, 1)), true);
  strictEqual(s.nic.counters.rxPackets, 1);
  strictEqual(s.memory.readU16(RING) & 0x8000, 0x8000, "MAR bit in the header");
});

Deno.test("rtl8139: without WRAP a packet wraps at the ring's end; a full ring waits", () => {
  const s = setup();
  up(s, RCR_APM);
  // Fill 8 KiB with 1000-byte frames (1008 bytes each in the ring).
  let n = 0;
  while (s.nic.receive(frame(MAC, 1000, n))) n++;
  strictEqual(n, 8, "the ninth does not fit beside the unread ones");
  strictEqual(r(s, RTL.CBR, 2), 8 * 1008);
  // Free the first two, the next one wraps around the end.
  w(s, RTL.CAPR, 2, 2 * 1008 - 16);
  const f = frame(MAC, 1000, 99);
  strictEqual(s.nic.receive(f), true);
  const at = 8 * 1008;
  const head = 8192 - at;
  deepStrictEqual(s.memory.bytes.subarray(RING + at + 4, RING + 8192), f.subarray(0, head - 4));
  deepStrictEqual(s.memory.bytes.subarray(RING, RING + 1000 - (head - 4)), f.subarray(head - 4));
  strictEqual(r(s, RTL.CBR, 2), (at + 1008) % 8192);
});

Deno.test("rtl8139: DMA outside RAM aborts the descriptor or loses the frame, never the VMM", () => {
  const s = setup();
  up(s);
  w(s, RTL.TSAD0, 4, 0x7fff0000);
  w(s, RTL.TSD0, 4, 64);
  deepStrictEqual(s.sent, []);
  ok(r(s, RTL.TSD0, 4) & (1 << 30), "TABT");
  ok(r(s, RTL.ISR, 2) & RTL_INT.TER);
  w(s, RTL.RBSTART, 4, 0x7fff0000);
  strictEqual(s.nic.receive(frame(MAC, 64, 1)), true);
  strictEqual(s.nic.counters.rxDropped, 1);
});

function randomSteps(
  next: (n: number) => number,
  count: number,
  state: { capr: number },
): RigStep[] {
  const steps: RigStep[] = [];
  while (steps.length < count) {
    const c = next(100);
    if (c < 25) {
      const n = next(4);
      const len = 14 + next(400);
      steps.push({ kind: "mem", addr: TX_BUF + 0x800 * n, data: frame(MAC, len, next(256)) });
      steps.push({ kind: "write", reg: RTL.TSAD0 + 4 * n, size: 4, value: TX_BUF + 0x800 * n });
      steps.push({ kind: "write", reg: RTL.TSD0 + 4 * n, size: 4, value: len });
    } else if (c < 50) {
      const dst = [MAC, BROADCAST, [0x33, 0x33, 0, 0, 0, 1]][next(3)];
      steps.push({ kind: "frame", data: frame(dst, 20 + next(1500), next(256)) });
    } else if (c < 60) {
      state.capr = (state.capr + 4 * next(600)) & 0xffff;
      steps.push({ kind: "write", reg: RTL.CAPR, size: 2, value: state.capr });
    } else if (c < 80) {
      const reg =
        [RTL.CR, RTL.ISR, RTL.CBR, RTL.TSAD_SUMMARY, RTL.CR9346, RTL.TSD0, RTL.RCR][next(7)];
      steps.push({ kind: "read", reg, size: ([1, 2, 4] as const)[next(3)] });
    } else if (c < 88) {
      steps.push({ kind: "write", reg: RTL.ISR, size: 2, value: next(0x10000) });
    } else if (c < 93) {
      steps.push({ kind: "write", reg: RTL.CR9346, size: 1, value: 0x80 | next(16) });
    } else {
      const reg = [RTL.IMR, RTL.RCR, RTL.MAR0, RTL.TCR, RTL.MPC, RTL.BMCR][next(6)];
      steps.push({ kind: "write", reg, size: reg === RTL.IMR ? 2 : 4, value: next(0x100000) });
    }
  }
  return steps;
}

function apply(s: Setup, steps: readonly RigStep[]): unknown[] {
  return replay(s, steps, s.nic.regs, 4);
}

Deno.test("rtl8139: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  const saves = assertSnapshotTwins(40, setup, (a, next) => {
    up(a, [RCR_APM | RCR_AB | RCR_WRAP, RCR_APM | RCR_AB, RCR_APM | RCR_AM | RCR_AB][next(3)]);
    const state = { capr: 0xfff0 };
    apply(a, randomSteps(next, 20 + next(80), state));
    const more = randomSteps(next, 150, state);
    return (rig) => apply(rig, more);
  });
  const traffic = savedAfterTraffic(saves);
  ok(traffic > 20, `only ${traffic} seeds saved after traffic both ways`);
});

Deno.test("rtl8139: restore refuses malformed states and another version", () => {
  const s = setup();
  up(s);
  assertRestoreRejects(s.nic, s.nic.snapshot(), [
    { regs: new Uint8Array(10) },
    { eeprom: [1] },
    { wire: { bitsIn: 99 } },
    { counters: { txBytes: -5 } },
  ]);
});

Deno.test("rtl8139: CR.RST resets the rings and interrupts but keeps the MAC", () => {
  const s = setup();
  up(s);
  s.nic.receive(frame(MAC, 64, 1));
  ok(s.irq.level);
  w(s, RTL.CR, 1, 0x10);
  strictEqual(s.irq.level, false);
  strictEqual(r(s, RTL.CBR, 2), 0);
  strictEqual(r(s, RTL.CR, 1), 0x01);
  strictEqual(r(s, RTL.IDR0, 4), 0x12005452);
});
