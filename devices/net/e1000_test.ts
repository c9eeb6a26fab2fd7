import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import { ArrayMemory, prng, RecordingIrq } from "../virtio/test_support.ts";
import { E1000, E1000_EEPROM_WORDS, ICR, REG } from "./e1000.ts";
import { crc32 } from "./nic.ts";

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const RX_RING = 0x10000;
const TX_RING = 0x20000;
const RX_BUF = 0x40000;
const TX_BUF = 0x60000;
const RING = 16;
const RCTL_EN = 1 << 1;
const RCTL_BAM = 1 << 15;
const RCTL_SECRC = 1 << 26;
const TCTL_EN = 1 << 1;

function setup() {
  const memory = new ArrayMemory(1 << 20);
  const irq = new RecordingIrq();
  const sent: Uint8Array[] = [];
  let rxReady = 0;
  const nic = new E1000({ mac: MAC, memory, irq, transmit: (f) => sent.push(f.slice()) });
  nic.onRxReady = () => rxReady++;
  return { memory, irq, sent, nic, rxReadyCount: () => rxReady };
}

type Setup = ReturnType<typeof setup>;

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

function frame(dst: ArrayLike<number>, length: number, seed: number): Uint8Array {
  const f = Uint8Array.from({ length }, (_, i) => (i * 29 + seed) & 0xff);
  f.set(dst);
  return f;
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
  const f = frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 100, 1);
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
  strictEqual(s.nic.receive(frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 30, 4)), true);
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

/** One guest action or network event, as data so both twins replay it. */
type Step =
  | { kind: "write"; reg: number; value: number }
  | { kind: "read"; reg: number }
  | { kind: "mem"; addr: number; data: Uint8Array }
  | { kind: "frame"; data: Uint8Array };

const REGS = [
  REG.CTRL,
  REG.STATUS,
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
function randomSteps(next: (n: number) => number, count: number, tail: { tx: number }): Step[] {
  const steps: Step[] = [];
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
      const dst = [MAC, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x52, 0x54, 0, 0, 0, 1]][next(3)];
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

function apply(s: Setup, steps: readonly Step[]): unknown[] {
  const seen: unknown[] = [];
  for (const step of steps) {
    if (step.kind === "write") s.nic.mmio.write(step.reg, 4, step.value);
    else if (step.kind === "read") seen.push(s.nic.mmio.read(step.reg, 4));
    else if (step.kind === "mem") s.memory.write(step.addr, step.data);
    else seen.push(s.nic.receive(step.data));
    seen.push(s.irq.level, s.sent.splice(0).map((f) => [...f]));
  }
  return seen;
}

Deno.test("e1000: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  let partial = 0;
  let traffic = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const next = prng(seed);
    const a = setup();
    up(a, [RCTL_EN | RCTL_BAM | RCTL_SECRC, RCTL_EN | RCTL_BAM, RCTL_EN][next(3)]);
    const tail = { tx: 0 };
    apply(a, randomSteps(next, 20 + next(80), tail));
    const saved = a.nic.snapshot();
    if (saved.txPartial.length) partial++;
    if (saved.counters.rxPackets > 0 && saved.counters.txPackets > 0) traffic++;

    const b = setup();
    b.memory.bytes.set(a.memory.bytes);
    b.nic.restore(structuredClone(saved));
    deepStrictEqual(b.nic.snapshot(), saved, `seed ${seed}: restore is not the identity`);
    strictEqual(b.irq.level, a.irq.level);
    const more = randomSteps(next, 150, tail);
    deepStrictEqual(apply(b, more), apply(a, more), `seed ${seed}: the copy behaves differently`);
    deepStrictEqual(b.nic.snapshot(), a.nic.snapshot());
    ok(b.memory.bytes.every((v, i) => v === a.memory.bytes[i]), `seed ${seed}: memory differs`);
  }
  ok(traffic > 20, `only ${traffic} seeds saved after traffic both ways`);
  ok(partial > 2, `only ${partial} seeds saved with a frame half transmitted`);
});

Deno.test("e1000: restore refuses malformed states and another version", () => {
  const s = setup();
  up(s);
  const good = s.nic.snapshot();
  for (
    const bad of [
      { version: 2 },
      { regs: [[3, 1]] },
      { regs: [[0x20000, 1]] },
      { eeprom: [1, 2] },
      { phy: new Array(32).fill(0x10000) },
      { wire: { bitsIn: 99 } },
      { counters: { rxPackets: -1 } },
    ]
  ) {
    throws(() => s.nic.restore({ ...good, ...bad } as never), StateError, JSON.stringify(bad));
  }
  deepStrictEqual(s.nic.snapshot(), good, "a refused restore changed nothing");
});

Deno.test("e1000: CTRL.RST puts the registers back to power-on", () => {
  const s = setup();
  up(s);
  w(s, REG.CTRL, r(s, REG.CTRL) | (1 << 26));
  strictEqual(r(s, REG.RCTL), 0);
  strictEqual(r(s, REG.TCTL) & TCTL_EN, 0);
  strictEqual(r(s, REG.RA), 0x12005452, "the MAC is loaded again from the EEPROM");
});
