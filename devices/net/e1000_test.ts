import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { assertRestoreRejects } from "../testing/snapshot_check.ts";
import { E1000, E1000_EEPROM_WORDS, ICR, REG } from "./e1000.ts";
import { crc32 } from "./nic.ts";
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
const RX_RING = 0x10000;
const TX_RING = 0x20000;
const RX_BUF = 0x40000;
const TX_BUF = 0x60000;
const RING = 16;
const RCTL_EN = 1 << 1;
const RCTL_BAM = 1 << 15;
const RCTL_SECRC = 1 << 26;
const TCTL_EN = 1 << 1;

const setup = () => nicRig((options) => new E1000(options));

type Setup = NicRig<E1000>;

const w = (s: Setup, reg: number, v: number) => s.nic.mmio.write(reg, 4, v);
const r = (s: Setup, reg: number) => s.nic.mmio.read(reg, 4);

/** Rings of 16 descriptors, RX buffers posted (all but one, as drivers do), interrupts on. */
function up(s: Setup, rctl = RCTL_EN | RCTL_BAM | RCTL_SECRC): void {
  for (let i = 0; i < RING; i++) s.memory.writeU64(RX_RING + 16 * i, RX_BUF + 0x800 * i);
  w(s, REG.RDBAL, RX_RING);
  w(s, REG.RDBAH, 0);
  w(s, REG.RDLEN, 16 * RING);
  w(s, REG.RDH, 0);
  w(s, REG.RDT, RING - 1);
  w(s, REG.TDBAL, TX_RING);
  w(s, REG.TDLEN, 16 * RING);
  w(s, REG.TDH, 0);
  w(s, REG.TDT, 0);
  w(s, REG.IMS, ICR.TXDW | ICR.RXT0 | ICR.LSC | ICR.RXO);
  w(s, REG.RCTL, rctl);
  w(s, REG.TCTL, TCTL_EN);
}

Deno.test("e1000: PCI identity, MAC in RA0 and the EEPROM (checksum 0xBABA) read through EERD", () => {
  const s = setup();
  strictEqual(s.nic.config.read(0, 4), 0x100e8086);
  strictEqual(r(s, REG.RA), 0x12005452);
  strictEqual(r(s, REG.RA + 4), 0x80005634, "RAH with Address Valid");
  let sum = 0;
  const words: number[] = [];
  for (let i = 0; i < E1000_EEPROM_WORDS; i++) {
    w(s, REG.EERD, (i << 8) | 1);
    const v = r(s, REG.EERD);
    ok(v & 0x10, "EERD done");
    words.push(v >>> 16);
    sum += v >>> 16;
  }
  deepStrictEqual(words.slice(0, 3), [0x5452, 0x1200, 0x5634]);
  strictEqual(sum & 0xffff, 0xbaba);
  ok(r(s, REG.STATUS) & 2, "link up");
});

Deno.test("e1000: MDIC reads the PHY's identity; another PHY address is an error", () => {
  const s = setup();
  w(s, REG.MDIC, (2 << 26) | (1 << 21) | (2 << 16));
  const v = r(s, REG.MDIC);
  ok(v & (1 << 28), "ready");
  strictEqual(v & 0xffff, 0x0141);
  w(s, REG.MDIC, (2 << 26) | (3 << 21) | (2 << 16));
  ok(r(s, REG.MDIC) & (1 << 30), "error for PHY 3");
});

Deno.test("e1000: a legacy TX descriptor chain is sent, DD written back, TXDW raised", () => {
  const s = setup();
  up(s);
  const f = frame(BROADCAST, 100, 1);
  s.memory.write(TX_BUF, f.subarray(0, 30));
  s.memory.write(TX_BUF + 0x100, f.subarray(30));
  s.memory.writeU64(TX_RING, TX_BUF);
  s.memory.writeU16(TX_RING + 8, 30);
  s.memory.writeU8(TX_RING + 11, 0x08); // RS
  s.memory.writeU64(TX_RING + 16, TX_BUF + 0x100);
  s.memory.writeU16(TX_RING + 24, 70);
  s.memory.writeU8(TX_RING + 27, 0x0b); // EOP, IFCS, RS
  strictEqual(s.irq.level, false);
  w(s, REG.TDT, 2);
  deepStrictEqual(s.sent, [f]);
  strictEqual(r(s, REG.TDH), 2);
  strictEqual(s.memory.readU8(TX_RING + 12) & 1, 1);
  strictEqual(s.memory.readU8(TX_RING + 28) & 1, 1);
  ok(s.irq.level);
  strictEqual(r(s, REG.ICR) & (ICR.TXDW | ICR.TXQE), ICR.TXDW | ICR.TXQE, "ICR read clears");
  strictEqual(s.irq.level, false);
  strictEqual(r(s, REG.ICR), 0);
  strictEqual(s.nic.counters.txPackets, 1);
  strictEqual(r(s, REG.GPTC), 1);
});

Deno.test("e1000: receive fills descriptors, filters by MAC, appends the FCS unless SECRC", () => {
  const s = setup();
  strictEqual(s.nic.receive(frame(MAC, 64, 0)), false, "receiver off");
  up(s, RCTL_EN | RCTL_BAM);
  ok(s.rxReadyCount() > 0, "RDT and RCTL.EN tell the board");
  const f = frame(MAC, 80, 2);
  strictEqual(s.nic.receive(f), true);
  strictEqual(s.memory.readU16(RX_RING + 8), 84, "length with the FCS");
  strictEqual(s.memory.readU8(RX_RING + 12), 3, "DD and EOP");
  deepStrictEqual(s.memory.bytes.subarray(RX_BUF, RX_BUF + 80), f);
  strictEqual(s.memory.readU32(RX_BUF + 80), crc32(f));
  strictEqual(r(s, REG.RDH), 1);
  ok(s.irq.level);
  ok(r(s, REG.ICR) & ICR.RXT0);
  // Another unicast MAC is filtered (taken and dropped); broadcast passes with BAM.
  strictEqual(s.nic.receive(frame([0x52, 0x54, 0, 0, 0, 9], 64, 3)), true);
  strictEqual(r(s, REG.RDH), 1);
  strictEqual(s.nic.counters.rxDropped, 1);
  strictEqual(s.nic.receive(frame(BROADCAST, 30, 4)), true);
  strictEqual(s.memory.readU16(RX_RING + 16 + 8), 64, "a runt is padded to 60 + FCS");
});

Deno.test("e1000: a full ring refuses the frame (RXO) until the driver returns descriptors", () => {
  const s = setup();
  up(s);
  for (let i = 0; i < RING - 1; i++) strictEqual(s.nic.receive(frame(MAC, 64, i)), true);
  strictEqual(s.nic.receive(frame(MAC, 64, 99)), false);
  ok(r(s, REG.ICR) & ICR.RXO);
  const before = s.rxReadyCount();
  w(s, REG.RDT, 3);
  strictEqual(s.rxReadyCount(), before + 1);
  strictEqual(s.nic.receive(frame(MAC, 64, 99)), true);
});

Deno.test("e1000: descriptors pointing outside RAM lose the frame, never the VMM", () => {
  const s = setup();
  up(s);
  s.memory.writeU64(RX_RING, 0x7fff_0000);
  strictEqual(s.nic.receive(frame(MAC, 64, 1)), true);
  strictEqual(s.nic.counters.rxDropped, 1);
  s.memory.writeU64(TX_RING, 0x7fff_0000);
  s.memory.writeU16(TX_RING + 8, 64);
  s.memory.writeU8(TX_RING + 11, 0x09);
  w(s, REG.TDT, 1);
  deepStrictEqual(s.sent, []);
  strictEqual(r(s, REG.TDH), 1);
});

const REGS = [
  REG.CTRL,
  REG.STATUS,
  REG.EECD,
  REG.EERD,
  REG.MDIC,
  REG.ICR,
  REG.ICS,
  REG.IMS,
  REG.IMC,
  REG.RCTL,
  REG.RDT,
  REG.TDT,
  REG.TCTL,
  REG.ITR,
  REG.GPRC,
  REG.RA + 4,
  REG.MTA,
];

/** Random driver activity: TX descriptors with their buffers, RDT and register traffic, frames. */
function randomSteps(next: (n: number) => number, count: number, tail: { tx: number }): RigStep[] {
  const steps: RigStep[] = [];
  while (steps.length < count) {
    const c = next(100);
    if (c < 30) {
      const len = 14 + next(300);
      const buf = TX_BUF + 0x800 * tail.tx;
      steps.push({ kind: "mem", addr: buf, data: frame(MAC, len, next(256)) });
      const d = new Uint8Array(16);
      const v = new DataView(d.buffer);
      v.setUint32(0, buf, true);
      v.setUint16(8, len, true);
      d[11] = [0x09, 0x08, 0x0b][next(3)]; // EOP|RS, RS only (frame continues), EOP|IFCS|RS
      steps.push({ kind: "mem", addr: TX_RING + 16 * tail.tx, data: d });
      tail.tx = (tail.tx + 1) % RING;
      steps.push({ kind: "write", reg: REG.TDT, value: tail.tx });
    } else if (c < 55) {
      const dst = [MAC, BROADCAST, [0x52, 0x54, 0, 0, 0, 1]][next(3)];
      steps.push({ kind: "frame", data: frame(dst, 20 + next(1600), next(256)) });
    } else if (c < 65) {
      steps.push({ kind: "write", reg: REG.RDT, value: next(RING) });
    } else if (c < 85) {
      steps.push({ kind: "read", reg: REGS[next(REGS.length)] });
    } else {
      const reg = REGS[next(REGS.length)];
      let value = next(0x10000) | (next(0x10000) << 16);
      if (reg === REG.CTRL) value &= ~(1 << 26); // a reset is tested on its own
      if (reg === REG.RCTL) value = (value & ~0x30000) | RCTL_EN;
      steps.push({ kind: "write", reg, value: value >>> 0 });
    }
  }
  return steps;
}

function apply(s: Setup, steps: readonly RigStep[]): unknown[] {
  return replay(s, steps, s.nic.mmio, 4);
}

Deno.test("e1000: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  const saves = assertSnapshotTwins(40, setup, (a, next) => {
    up(a, [RCTL_EN | RCTL_BAM | RCTL_SECRC, RCTL_EN | RCTL_BAM, RCTL_EN][next(3)]);
    const tail = { tx: 0 };
    apply(a, randomSteps(next, 20 + next(80), tail));
    const more = randomSteps(next, 150, tail);
    return (rig) => apply(rig, more);
  });
  const traffic = savedAfterTraffic(saves);
  const partial = saves.filter((s) => s.txPartial.length > 0).length;
  ok(traffic > 20, `only ${traffic} seeds saved after traffic both ways`);
  ok(partial > 2, `only ${partial} seeds saved with a frame half transmitted`);
});

Deno.test("e1000: restore refuses malformed states and another version", () => {
  const s = setup();
  up(s);
  assertRestoreRejects(s.nic, s.nic.snapshot(), [
    { regs: [[3, 1]] },
    { regs: [[0x20000, 1]] },
    { eeprom: [1, 2] },
    { phy: new Array(32).fill(0x10000) },
    { wire: { bitsIn: 99 } },
    { counters: { rxPackets: -1 } },
  ]);
});

Deno.test("e1000: CTRL.RST puts the registers back to power-on", () => {
  const s = setup();
  up(s);
  w(s, REG.CTRL, r(s, REG.CTRL) | (1 << 26));
  strictEqual(r(s, REG.RCTL), 0);
  strictEqual(r(s, REG.TCTL) & TCTL_EN, 0);
  strictEqual(r(s, REG.RA), 0x12005452, "the MAC is loaded again from the EEPROM");
});
