import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { assertRestoreRejects } from "../testing/snapshot_check.ts";
import { NE2K, NE2K_ISR, Ne2kPci } from "./ne2k_pci.ts";
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
const PSTART = 0x46;
const PSTOP = 0x80;
const TX_PAGE = 0x40;

const setup = () => nicRig((options) => new Ne2kPci(options));

type Setup = NicRig<Ne2kPci>;

const w = (s: Setup, reg: number, v: number) => s.nic.io.write(reg, 1, v);
const r = (s: Setup, reg: number) => s.nic.io.read(reg, 1);

/** Remote-DMA `count` bytes from card address `addr` through the data port, word-wide. */
function dmaRead(s: Setup, addr: number, count: number): number[] {
  w(s, NE2K.RBCR0, count & 0xff);
  w(s, NE2K.RBCR1, count >> 8);
  w(s, NE2K.RSAR0, addr & 0xff);
  w(s, NE2K.RSAR1, addr >> 8);
  w(s, NE2K.CR, 0x0a); // start, remote read
  const out: number[] = [];
  for (let i = 0; i < count; i += 2) {
    const v = s.nic.io.read(NE2K.DATA, 2);
    out.push(v & 0xff, v >> 8);
  }
  return out.slice(0, count);
}

function dmaWrite(s: Setup, addr: number, data: Uint8Array): void {
  w(s, NE2K.RBCR0, data.length & 0xff);
  w(s, NE2K.RBCR1, data.length >> 8);
  w(s, NE2K.RSAR0, addr & 0xff);
  w(s, NE2K.RSAR1, addr >> 8);
  w(s, NE2K.CR, 0x12); // start, remote write
  for (let i = 0; i < data.length; i += 2) {
    s.nic.io.write(NE2K.DATA, 2, data[i] | ((data[i + 1] ?? 0) << 8));
  }
}

/** Linux ne2k-pci's bring-up order: stop, word mode, ring, PAR and CURR, start. */
function up(s: Setup, rcr = 0x04): void {
  w(s, NE2K.CR, 0x21);
  w(s, NE2K.DCR, 0x49);
  w(s, NE2K.RBCR0, 0);
  w(s, NE2K.RBCR1, 0);
  w(s, NE2K.RCR, rcr);
  w(s, NE2K.TCR, 0);
  w(s, NE2K.TPSR, TX_PAGE);
  w(s, NE2K.PSTART, PSTART);
  w(s, NE2K.BNRY, PSTART);
  w(s, NE2K.PSTOP, PSTOP);
  w(s, NE2K.ISR, 0xff);
  w(s, NE2K.IMR, 0x3f);
  w(s, NE2K.CR, 0x61); // page 1
  for (let i = 0; i < 6; i++) w(s, NE2K.PAR0 + i, MAC[i]);
  w(s, NE2K.CURR, PSTART + 1);
  w(s, NE2K.CR, 0x22); // page 0, start
  w(s, NE2K.BNRY, PSTART);
}

Deno.test("ne2k_pci: PCI identity, the PROM (MAC doubled, 'WW') by remote DMA, RTL8029 ID", () => {
  const s = setup();
  strictEqual(s.nic.config.read(0, 4), 0x802910ec);
  w(s, NE2K.DCR, 0x49);
  deepStrictEqual(dmaRead(s, 0, 16), [
    0x52,
    0x52,
    0x54,
    0x54,
    0x00,
    0x00,
    0x12,
    0x12,
    0x34,
    0x34,
    0x56,
    0x56,
    0,
    0,
    0x57,
    0x57,
  ]);
  ok(r(s, NE2K.ISR) & NE2K_ISR.RDC, "remote DMA complete");
  strictEqual(r(s, 0x0a), 0x50);
  strictEqual(r(s, 0x0b), 0x43);
});

Deno.test("ne2k_pci: the reset port stops the core and sets ISR.RST", () => {
  const s = setup();
  up(s);
  strictEqual(r(s, NE2K.ISR) & NE2K_ISR.RST, 0);
  r(s, NE2K.RESET);
  ok(r(s, NE2K.ISR) & NE2K_ISR.RST);
  ok(r(s, NE2K.CR) & 0x01, "stopped");
});

Deno.test("ne2k_pci: a frame copied in by remote DMA goes out on CR.TXP", () => {
  const s = setup();
  up(s);
  const f = frame(BROADCAST, 100, 1);
  dmaWrite(s, TX_PAGE << 8, f);
  w(s, NE2K.TBCR0, 100);
  w(s, NE2K.TBCR1, 0);
  w(s, NE2K.CR, 0x26);
  deepStrictEqual(s.sent, [f]);
  ok(r(s, NE2K.ISR) & NE2K_ISR.PTX);
  ok(s.irq.level);
  strictEqual(r(s, NE2K.CR) & 0x04, 0, "TXP clears when done");
  w(s, NE2K.ISR, 0xff);
  strictEqual(s.irq.level, false);
});

Deno.test("ne2k_pci: receive writes the header and frame at CURR; BNRY holds the ring", () => {
  const s = setup();
  strictEqual(s.nic.receive(frame(MAC, 64, 0)), false, "stopped");
  up(s);
  const f = frame(MAC, 300, 2);
  strictEqual(s.nic.receive(f), true);
  w(s, NE2K.CR, 0x62);
  strictEqual(r(s, NE2K.CURR), PSTART + 3, "304 bytes take two pages");
  w(s, NE2K.CR, 0x22);
  const header = dmaRead(s, (PSTART + 1) << 8, 4);
  deepStrictEqual(header, [0x01, PSTART + 3, 304 & 0xff, 304 >> 8]);
  deepStrictEqual(dmaRead(s, ((PSTART + 1) << 8) + 4, 300), [...f]);
  ok(r(s, NE2K.ISR) & NE2K_ISR.PRX);
  // Unicast to another MAC is filtered; broadcast passes with AB.
  strictEqual(s.nic.receive(frame([0x52, 0x54, 0, 0, 0, 9], 64, 3)), true);
  strictEqual(s.nic.counters.rxDropped, 1);
  strictEqual(s.nic.receive(frame(BROADCAST, 64, 3)), true);
  strictEqual(s.nic.counters.rxPackets, 2);
  // Fill the ring: it stops short of BNRY until the driver moves it.
  let n = 0;
  while (s.nic.receive(frame(MAC, 1000, n))) n++;
  ok(n > 5 && n < 20, `${n} frames`);
  const before = s.rxReadyCount();
  w(s, NE2K.BNRY, PSTART + 10);
  strictEqual(s.rxReadyCount(), before + 1);
  strictEqual(s.nic.receive(frame(MAC, 1000, 99)), true);
});

Deno.test("ne2k_pci: a frame wraps from PSTOP to PSTART and remote DMA follows it", () => {
  const s = setup();
  up(s);
  // Move CURR near the end, BNRY just behind it.
  w(s, NE2K.CR, 0x62);
  w(s, NE2K.CURR, PSTOP - 2);
  w(s, NE2K.CR, 0x22);
  w(s, NE2K.BNRY, PSTOP - 3);
  const f = frame(MAC, 700, 5);
  strictEqual(s.nic.receive(f), true);
  const data = dmaRead(s, ((PSTOP - 2) << 8) + 4, 700);
  deepStrictEqual(data, [...f]);
  w(s, NE2K.CR, 0x62);
  strictEqual(r(s, NE2K.CURR), PSTART + 1);
});

function randomSteps(next: (n: number) => number, count: number): RigStep[] {
  const steps: RigStep[] = [];
  while (steps.length < count) {
    const c = next(100);
    if (c < 25) {
      const dst = [MAC, BROADCAST, [0x33, 0x33, 0, 0, 0, 1]][next(3)];
      steps.push({ kind: "frame", data: frame(dst, 20 + next(1500), next(256)) });
    } else if (c < 45) {
      // The remote-DMA data port, byte or word wide.
      const write = next(2) === 0;
      const size = next(2) ? 2 : 1;
      const value = next(0x10000);
      steps.push(
        write
          ? { kind: "write", reg: NE2K.DATA, size, value }
          : { kind: "read", reg: NE2K.DATA, size },
      );
    } else if (c < 60) {
      steps.push({ kind: "read", reg: next(0x20) });
    } else if (c < 70) {
      steps.push({ kind: "write", reg: NE2K.BNRY, value: PSTART + next(PSTOP - PSTART) });
    } else if (c < 80) {
      steps.push({ kind: "write", reg: NE2K.ISR, value: next(256) });
    } else if (c < 88) {
      // Transmit half the time: TBCR first, then start with TXP.
      if (next(2)) {
        steps.push({ kind: "write", reg: NE2K.TBCR0, value: 60 + next(196) });
        steps.push({ kind: "write", reg: NE2K.CR, value: 0x26 });
      } else {
        const cr = [0x22, 0x0a, 0x12, 0x62, 0xa2][next(5)];
        steps.push({ kind: "write", reg: NE2K.CR, value: cr });
      }
    } else {
      const reg = [NE2K.RSAR0, NE2K.RSAR1, NE2K.RBCR0, NE2K.RBCR1, NE2K.TBCR0, NE2K.IMR][next(6)];
      steps.push({ kind: "write", reg, value: next(256) });
    }
  }
  return steps;
}

function apply(s: Setup, steps: readonly RigStep[]): unknown[] {
  return replay(s, steps, s.nic.io, 1);
}

Deno.test("ne2k_pci: snapshot -> restore -> snapshot is the identity, and the copy behaves the same", () => {
  const saves = assertSnapshotTwins(40, setup, (a, next) => {
    up(a, [0x04, 0x0c, 0x14][next(3)]);
    apply(a, randomSteps(next, 20 + next(80)));
    const more = randomSteps(next, 150);
    return (rig) => apply(rig, more);
  });
  const traffic = savedAfterTraffic(saves);
  ok(traffic > 10, `only ${traffic} seeds saved after traffic both ways`);
});

Deno.test("ne2k_pci: restore refuses malformed states and another version", () => {
  const s = setup();
  up(s);
  const good = s.nic.snapshot();
  assertRestoreRejects(s.nic, good, [
    { memory: new Uint8Array(5) },
    { regs: { ...good.regs, cr: 256 } },
    { regs: { ...good.regs, par: [1, 2] } },
    { counters: { rxBytes: -1 } },
  ]);
});
