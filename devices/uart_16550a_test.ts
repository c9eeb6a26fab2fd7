import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { SteppedClock } from "./clock.ts";
import { RecordingIrq } from "./testing/recording_irq.ts";
import { SeededRandom } from "./testing/seeded_random.ts";
import {
  assertRestoreIdentity,
  assertRestoreRejects,
  assertSameBehaviour,
  type Twin,
} from "./testing/snapshot_check.ts";
import type { IrqLine } from "./types.ts";
import { Uart16550a, UART_BASE_BAUD, type UartState } from "./uart_16550a.ts";

// Register offsets.
const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2;
const LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

/** Records every level the device drives onto its IRQ line. */
class IrqRecorder implements IrqLine {
  levels: boolean[] = [];
  set(level: boolean): void {
    this.levels.push(level);
  }
  get level(): boolean {
    return this.levels.at(-1) ?? false;
  }
}

function setup() {
  const irq = new IrqRecorder();
  const clock = new SteppedClock();
  const sent: number[] = [];
  const uart = new Uart16550a({
    irq,
    tx: (bytes) => sent.push(...bytes),
    clock,
    timer: clock.timer,
  });
  const rd = (offset: number) => uart.read(offset, 1);
  const wr = (offset: number, value: number) => uart.write(offset, 1, value);
  return { uart, irq, clock, sent, rd, wr };
}

/** Four 10-bit character times at `divisor`, in ns, rounded up. */
function fourCharsNs(divisor: number): number {
  return Math.ceil((40 * divisor * 1e9) / UART_BASE_BAUD);
}

function field(uart: Uart16550a, name: keyof UartState) {
  return uart.snapshot()[name];
}

Deno.test("power-on register values", () => {
  const { rd, uart } = setup();
  strictEqual(rd(IER), 0x00);
  strictEqual(rd(IIR), 0x01);
  strictEqual(rd(LCR), 0x00);
  strictEqual(rd(MCR), 0x00);
  strictEqual(rd(LSR), 0x60); // THRE | TEMT
  strictEqual(rd(MSR), 0xb0); // a connected terminal: DCD, DSR, CTS
  strictEqual(rd(SCR), 0x00);
  strictEqual(field(uart, "divisor"), 12);
  strictEqual(field(uart, "baud"), 9600);
});

Deno.test("scratch register holds any byte", () => {
  const { rd, wr } = setup();
  wr(SCR, 0xa5);
  strictEqual(rd(SCR), 0xa5);
  wr(SCR, 0x5a);
  strictEqual(rd(SCR), 0x5a);
});

Deno.test("IER keeps only bits 3:0, MCR only bits 4:0, LCR all", () => {
  const { rd, wr } = setup();
  wr(IER, 0xff);
  strictEqual(rd(IER), 0x0f);
  wr(MCR, 0xe3);
  strictEqual(rd(MCR), 0x03);
  wr(LCR, 0x7b);
  strictEqual(rd(LCR), 0x7b);
});

Deno.test("DLAB banks the divisor latch over RBR/THR and IER", () => {
  const { uart, rd, wr, sent } = setup();
  wr(IER, 0x05);
  wr(LCR, 0x83); // DLAB, 8N1
  wr(DLL, 0x01);
  wr(DLM, 0x00);
  strictEqual(rd(DLL), 0x01);
  strictEqual(rd(DLM), 0x00);
  deepStrictEqual(sent, []); // the DLL write did not transmit
  strictEqual(field(uart, "baud"), 115200);
  wr(DLM, 0x09);
  strictEqual(field(uart, "divisor"), 0x0901);
  wr(LCR, 0x03);
  strictEqual(rd(IER), 0x05); // IER untouched by the DLM writes
  wr(LCR, 0x83);
  strictEqual(rd(DLL), 0x01);
  strictEqual(rd(DLM), 0x09);
  strictEqual(uart.snapshot().lcr & 0x80, 0x80); // DLAB
});

Deno.test("a 16-bit write splits into DLL then DLM", () => {
  const { uart, wr } = setup();
  wr(LCR, 0x80);
  uart.write(DLL, 2, 0x0180);
  strictEqual(field(uart, "divisor"), 0x0180);
  strictEqual(uart.read(DLL, 2), 0x0180);
  strictEqual(uart.read(SCR, 2) >> 8, 0xff); // past the last port
});

Deno.test("THR writes transmit immediately; THRE and TEMT stay set", () => {
  const { uart, rd, wr, sent } = setup();
  wr(LCR, 0x03);
  for (const c of "hi\n") wr(THR, c.charCodeAt(0));
  deepStrictEqual(sent, [0x68, 0x69, 0x0a]);
  strictEqual(rd(LSR) & 0x60, 0x60);
  strictEqual(field(uart, "txBytes"), 3);
  strictEqual(field(uart, "thr"), 0x0a);
});

Deno.test("THRE interrupt: raised by enabling ETBEI, cleared by reading IIR", () => {
  const { irq, rd, wr } = setup();
  wr(MCR, 0x08); // OUT2
  wr(IER, 0x02);
  strictEqual(irq.level, true);
  strictEqual(rd(IIR), 0x02);
  strictEqual(irq.level, false);
  strictEqual(rd(IIR), 0x01); // acknowledged
  // Rewriting IER with ETBEI already set does not re-arm.
  wr(IER, 0x02);
  strictEqual(rd(IIR), 0x01);
  // Toggling ETBEI off and on does.
  wr(IER, 0x00);
  wr(IER, 0x02);
  strictEqual(rd(IIR), 0x02);
  deepStrictEqual(irq.levels, [true, false, true, false]);
});

Deno.test("THRE interrupt: a THR write clears it and it rises again once the byte has left", () => {
  const { irq, rd, wr, sent } = setup();
  wr(MCR, 0x08);
  wr(IER, 0x02);
  strictEqual(rd(IIR), 0x02);
  strictEqual(irq.level, false);
  wr(THR, 0x41);
  deepStrictEqual(sent, [0x41]);
  strictEqual(irq.level, true);
  strictEqual(rd(IIR), 0x02);
  strictEqual(irq.level, false);
});

Deno.test("THRE latch is set while ETBEI is off and shows once enabled", () => {
  const { rd, wr } = setup();
  wr(THR, 0x41); // THR empties again with ETBEI clear
  wr(IER, 0x02);
  strictEqual(rd(IIR), 0x02);
  strictEqual(rd(IIR), 0x01);
});

Deno.test("THRE interrupt is immediate after changing FCR bit 0", () => {
  const { rd, wr } = setup();
  wr(IER, 0x02);
  strictEqual(rd(IIR), 0x02);
  strictEqual(rd(IIR), 0x01);
  wr(FCR, 0x01);
  strictEqual(rd(IIR), 0xc2);
  wr(FCR, 0x07); // resets without a mode change do not re-arm it
  strictEqual(rd(IIR), 0xc1);
  wr(FCR, 0x00);
  strictEqual(rd(IIR), 0x02);
});

Deno.test("reading IIR does not acknowledge THRE while a higher source is reported", () => {
  const { uart, rd, wr } = setup();
  wr(IER, 0x03);
  uart.receive(Uint8Array.of(0x55));
  strictEqual(rd(IIR), 0x04); // RX data outranks THRE
  strictEqual(rd(IIR), 0x04);
  strictEqual(rd(RBR), 0x55);
  strictEqual(rd(IIR), 0x02); // THRE was still pending
  strictEqual(rd(IIR), 0x01);
});

Deno.test("OUT2 gates the interrupt onto the IRQ line", () => {
  const { uart, irq, rd, wr } = setup();
  wr(IER, 0x01);
  uart.receive(Uint8Array.of(0x31));
  strictEqual(rd(IIR), 0x04); // pending inside the chip...
  deepStrictEqual(irq.levels, []); // ...but not driven without OUT2
  wr(MCR, 0x08);
  deepStrictEqual(irq.levels, [true]);
  wr(MCR, 0x00);
  deepStrictEqual(irq.levels, [true, false]);
  wr(MCR, 0x0b); // DTR | RTS | OUT2
  strictEqual(irq.level, true);
  rd(RBR);
  strictEqual(irq.level, false);
  strictEqual(field(uart, "irq"), false);
});

Deno.test("16450 mode: one-byte receiver, DR, RX data interrupt, onRxSpace", () => {
  const { uart, irq, rd, wr } = setup();
  let calls = 0;
  uart.onRxSpace = () => calls++;
  wr(MCR, 0x08);
  wr(IER, 0x01);
  strictEqual(uart.rxSpace(), 1);
  strictEqual(uart.receive(Uint8Array.of(0x61, 0x62, 0x63)), 1);
  strictEqual(uart.rxSpace(), 0);
  strictEqual(uart.receive(Uint8Array.of(0x62)), 0);
  strictEqual(rd(LSR) & 0x01, 0x01);
  strictEqual(rd(IIR), 0x04); // no FIFO bits in IIR
  strictEqual(irq.level, true);
  strictEqual(calls, 0);
  strictEqual(rd(RBR), 0x61);
  strictEqual(calls, 1);
  strictEqual(rd(LSR) & 0x01, 0x00);
  strictEqual(rd(IIR), 0x01);
  strictEqual(irq.level, false);
  strictEqual(rd(RBR), 0x61); // an empty RBR repeats the last byte
  strictEqual(calls, 1);
  strictEqual(field(uart, "rxBytes"), 1);
});

Deno.test("onRxSpace may refill synchronously", () => {
  const { uart, rd, wr } = setup();
  wr(FCR, 0x01);
  const input = Array.from({ length: 20 }, (_, i) => i);
  let next = uart.receive(Uint8Array.from(input));
  strictEqual(next, 16);
  uart.onRxSpace = () => {
    next += uart.receive(Uint8Array.from(input.slice(next)));
  };
  const got: number[] = [];
  while (rd(LSR) & 0x01) got.push(rd(RBR));
  deepStrictEqual(got, input);
});

Deno.test("FIFO mode: 16 bytes, IIR FIFO bits, FCR reset and mode switch clear", () => {
  const { uart, rd, wr } = setup();
  wr(FCR, 0x01);
  strictEqual(rd(IIR), 0xc1);
  strictEqual(uart.rxSpace(), 16);
  strictEqual(uart.receive(new Uint8Array(20).fill(0x7a)), 16);
  strictEqual(uart.rxSpace(), 0);
  strictEqual(uart.snapshot().rxFifo.length, 16);
  wr(FCR, 0x03); // RX FIFO reset, self-clearing
  strictEqual(uart.snapshot().rxFifo.length, 0);
  strictEqual(rd(LSR) & 0x01, 0);
  strictEqual(field(uart, "fcr"), 0x01);
  uart.receive(Uint8Array.of(1, 2, 3));
  wr(FCR, 0x01); // rewriting the same mode keeps the data
  strictEqual(uart.snapshot().rxFifo.length, 3);
  wr(FCR, 0x00); // back to 16450 mode empties the FIFO
  strictEqual(uart.snapshot().rxFifo.length, 0);
  strictEqual(rd(IIR), 0x01);
  strictEqual(uart.rxSpace(), 1);
});

Deno.test("FCR bits other than enable are not programmed while bit 0 is written 0", () => {
  const { uart, wr } = setup();
  wr(FCR, 0x81);
  strictEqual(field(uart, "rxTrigger"), 8);
  wr(FCR, 0xc0);
  strictEqual(field(uart, "fifoEnabled"), false);
  strictEqual(field(uart, "fcr"), 0x80);
});

Deno.test("RX trigger levels 1, 4, 8 and 14", () => {
  for (const [fcr, level] of [[0x01, 1], [0x41, 4], [0x81, 8], [0xc1, 14]]) {
    const { uart, rd, wr, irq } = setup();
    wr(MCR, 0x08);
    wr(FCR, fcr);
    wr(IER, 0x01);
    strictEqual(field(uart, "rxTrigger"), level);
    uart.receive(new Uint8Array(level - 1));
    strictEqual(rd(IIR), 0xc1, `below trigger ${level}`);
    strictEqual(irq.level, false);
    uart.receive(new Uint8Array(1));
    strictEqual(rd(IIR), 0xc4, `at trigger ${level}`);
    strictEqual(irq.level, true);
    rd(RBR);
    strictEqual(rd(IIR), 0xc1, `read below trigger ${level}`);
    strictEqual(irq.level, false);
    strictEqual(rd(LSR) & 0x01, level > 1 ? 0x01 : 0x00);
  }
});

Deno.test("loopback: TX goes to RX, nothing to tx, host input refused", () => {
  const { uart, rd, wr, sent } = setup();
  wr(LCR, 0x03);
  wr(FCR, 0x01);
  wr(MCR, 0x10);
  strictEqual(uart.rxSpace(), 0);
  strictEqual(uart.receive(Uint8Array.of(0x99)), 0);
  wr(THR, 0x4f);
  wr(THR, 0x4b);
  deepStrictEqual(sent, []);
  strictEqual(rd(LSR), 0x61);
  strictEqual(rd(RBR), 0x4f);
  strictEqual(rd(RBR), 0x4b);
  strictEqual(field(uart, "loopback"), true);
  strictEqual(field(uart, "txBytes"), 2);
  strictEqual(field(uart, "rxBytes"), 2);
  wr(MCR, 0x00);
  wr(THR, 0x21);
  deepStrictEqual(sent, [0x21]);
  strictEqual(uart.receive(Uint8Array.of(0x99)), 1);
});

Deno.test("loopback: MCR outputs drive the MSR inputs", () => {
  const { rd, wr } = setup();
  rd(MSR);
  // RTS and OUT2 read back as CTS and DCD (the classic 8250 presence probe).
  wr(MCR, 0x1a);
  strictEqual(rd(MSR) & 0xf0, 0x90);
  wr(MCR, 0x11); // DTR -> DSR
  strictEqual(rd(MSR) & 0xf0, 0x20);
  wr(MCR, 0x14); // OUT1 -> RI
  strictEqual(rd(MSR) & 0xf0, 0x40);
  wr(MCR, 0x10);
  strictEqual(rd(MSR), 0x04); // RI fell: TERI only
});

Deno.test("loopback: interrupts are reported in IIR but the OUT2 gate is closed", () => {
  const { irq, rd, wr } = setup();
  wr(IER, 0x01);
  wr(MCR, 0x18); // loopback with OUT2
  wr(THR, 0x01);
  strictEqual(rd(IIR), 0x04);
  deepStrictEqual(irq.levels, []);
  wr(MCR, 0x08); // leave loopback: the pending RX data now reaches the line
  strictEqual(irq.level, true);
});

Deno.test("MSR delta bits from the modem inputs, cleared by reading MSR", () => {
  const { uart, irq, rd, wr } = setup();
  wr(MCR, 0x08);
  wr(IER, 0x08);
  uart.setModemInputs({ cts: false });
  strictEqual(rd(IIR), 0x00); // modem status interrupt
  strictEqual(irq.level, true);
  strictEqual(rd(MSR), 0xa1); // DCD, DSR, DCTS
  strictEqual(irq.level, false);
  strictEqual(rd(IIR), 0x01);
  uart.setModemInputs({ ri: true }); // leading edge of RI: no delta
  strictEqual(rd(MSR), 0xe0);
  uart.setModemInputs({ ri: false }); // trailing edge: TERI
  strictEqual(rd(MSR), 0xa4);
  uart.setModemInputs({ dsr: false, dcd: false });
  strictEqual(rd(MSR), 0x0a);
  uart.setModemInputs({ dcd: false }); // no change, no delta
  strictEqual(rd(MSR), 0x00);
});

Deno.test("overrun in FIFO mode: 17th character lost, OE until LSR is read", () => {
  const { uart, rd, wr } = setup();
  wr(FCR, 0x01);
  wr(IER, 0x04);
  wr(MCR, 0x10);
  for (let i = 0; i < 17; i++) wr(THR, i);
  strictEqual(uart.snapshot().rxFifo.length, 16);
  strictEqual(field(uart, "overruns"), 1);
  strictEqual(rd(IIR), 0xc6); // receiver line status
  strictEqual(field(uart, "lsr"), 0x63); // snapshot() does not clear OE
  strictEqual(rd(LSR), 0x63);
  strictEqual(rd(LSR), 0x61);
  strictEqual(rd(IIR), 0xc1);
  const got: number[] = [];
  while (rd(LSR) & 0x01) got.push(rd(RBR));
  deepStrictEqual(got, Array.from({ length: 16 }, (_, i) => i));
});

Deno.test("overrun in 16450 mode: the new character replaces the unread one", () => {
  const { uart, rd, wr } = setup();
  wr(MCR, 0x10);
  wr(THR, 0x11);
  wr(THR, 0x22);
  strictEqual(rd(LSR), 0x63);
  strictEqual(rd(RBR), 0x22);
  strictEqual(rd(LSR), 0x60);
  strictEqual(field(uart, "overruns"), 1);
});

Deno.test("interrupt priority: line status > RX data > THRE > modem status", () => {
  const { irq, rd, wr } = setup();
  wr(MCR, 0x10); // loopback, 16450 mode
  wr(THR, 0x11);
  wr(THR, 0x22); // overrun
  wr(MCR, 0x08); // leave loopback with OUT2: DCD, DSR, CTS change
  wr(IER, 0x0f);
  strictEqual(irq.level, true);
  strictEqual(rd(IIR), 0x06);
  strictEqual(rd(IIR), 0x06); // IIR reads do not clear line status
  strictEqual(rd(LSR), 0x63);
  strictEqual(rd(IIR), 0x04);
  strictEqual(rd(RBR), 0x22);
  strictEqual(rd(IIR), 0x02);
  strictEqual(rd(IIR), 0x00);
  strictEqual(rd(MSR) & 0x0f, 0x0b); // DDCD, DDSR, DCTS
  strictEqual(rd(IIR), 0x01);
  strictEqual(irq.level, false);
});

Deno.test("IER gates each source", () => {
  const { uart, rd, wr } = setup();
  wr(FCR, 0x01);
  uart.receive(Uint8Array.of(1));
  uart.setModemInputs({ cts: false });
  strictEqual(rd(IIR), 0xc1);
  wr(IER, 0x08);
  strictEqual(rd(IIR), 0xc0);
  wr(IER, 0x09);
  strictEqual(rd(IIR), 0xc4);
});

Deno.test("character timeout after four character times below the trigger level", () => {
  const { uart, clock, irq, rd, wr } = setup();
  wr(LCR, 0x83);
  wr(DLL, 0x01); // 115200 baud
  wr(LCR, 0x03);
  wr(FCR, 0x41); // FIFO, trigger 4
  wr(IER, 0x01);
  wr(MCR, 0x08);
  const t = fourCharsNs(1);
  clock.advanceTo(1000);
  uart.receive(Uint8Array.of(0x61, 0x62));
  clock.advanceTo(1000 + t - 1);
  strictEqual(rd(IIR), 0xc1);
  strictEqual(irq.level, false);
  clock.advanceTo(1000 + t);
  strictEqual(irq.level, true);
  strictEqual(rd(IIR), 0xcc);
  strictEqual(field(uart, "interrupt"), "rx-timeout");
  // Reading one character clears it and restarts the timer.
  strictEqual(rd(RBR), 0x61);
  strictEqual(rd(IIR), 0xc1);
  strictEqual(irq.level, false);
  const readAt = clock.nowNs();
  clock.advanceTo(readAt + t - 1);
  strictEqual(rd(IIR), 0xc1);
  clock.advanceTo(readAt + t);
  strictEqual(rd(IIR), 0xcc);
  strictEqual(rd(RBR), 0x62);
  // An empty FIFO never times out.
  strictEqual(clock.nextDeadline(), Infinity);
  clock.advance(10 * t);
  strictEqual(rd(IIR), 0xc1);
});

Deno.test("character timeout: a new character restarts the timer; timing follows the divisor", () => {
  const { uart, clock, rd, wr } = setup(); // divisor 12 from reset
  wr(FCR, 0x81); // trigger 8
  wr(IER, 0x01);
  const t = fourCharsNs(12);
  uart.receive(Uint8Array.of(1));
  clock.advanceTo(t - 10);
  uart.receive(Uint8Array.of(2));
  clock.advanceTo(t + 10);
  strictEqual(rd(IIR), 0xc1);
  clock.advanceTo(2 * t - 11);
  strictEqual(rd(IIR), 0xc1);
  clock.advanceTo(2 * t - 10);
  strictEqual(rd(IIR), 0xcc);
});

Deno.test("character timeout: reprogramming the divisor reschedules it", () => {
  const { uart, clock, rd, wr } = setup();
  wr(FCR, 0x41);
  wr(IER, 0x01);
  uart.receive(Uint8Array.of(1));
  strictEqual(clock.nextDeadline(), fourCharsNs(12));
  wr(LCR, 0x80);
  wr(DLL, 0x01);
  wr(LCR, 0x00);
  strictEqual(clock.nextDeadline(), fourCharsNs(1));
  clock.advanceTo(fourCharsNs(1));
  strictEqual(rd(IIR), 0xcc);
});

Deno.test("character timeout does not apply in 16450 mode or when RX data is due", () => {
  const { uart, clock, rd, wr } = setup();
  wr(IER, 0x01);
  uart.receive(Uint8Array.of(1));
  strictEqual(clock.nextDeadline(), Infinity);
  clock.advance(1e9);
  strictEqual(rd(IIR), 0x04);
  rd(RBR);
  wr(FCR, 0x01); // trigger 1
  uart.receive(Uint8Array.of(2));
  clock.advance(1e9);
  strictEqual(rd(IIR), 0xc4); // RX data available is reported, not the timeout
});

Deno.test("reset restores power-on values and drops the line", () => {
  const { uart, clock, irq, rd, wr } = setup();
  wr(LCR, 0x80);
  wr(DLL, 0x03);
  wr(LCR, 0x1b);
  wr(FCR, 0xc1);
  wr(IER, 0x0f);
  wr(MCR, 0x0b);
  wr(SCR, 0x42);
  wr(THR, 0x41);
  strictEqual(uart.receive(new Uint8Array(16)), 16);
  uart.setModemInputs({ cts: false });
  strictEqual(irq.level, true);
  let calls = 0; // the full FIFO frees up: the board may feed input again
  uart.onRxSpace = () => calls++;
  uart.reset();
  strictEqual(irq.level, false);
  strictEqual(calls, 1);
  strictEqual(clock.nextDeadline(), Infinity);
  strictEqual(rd(IER), 0x00);
  strictEqual(rd(IIR), 0x01);
  strictEqual(rd(LCR), 0x00);
  strictEqual(rd(MCR), 0x00);
  strictEqual(rd(LSR), 0x60);
  strictEqual(rd(MSR), 0xa0); // DSR, DCD still as wired; CTS low; no deltas
  strictEqual(rd(SCR), 0x00);
  deepStrictEqual(
    [field(uart, "divisor"), field(uart, "rxFifo"), field(uart, "txBytes")],
    [12, [], 0],
  );
});

Deno.test("snapshot() holds registers, FIFO and latches without side effects", () => {
  const { uart, wr } = setup();
  wr(FCR, 0x81);
  wr(IER, 0x03);
  wr(MCR, 0x0b);
  uart.receive(Uint8Array.of(0x41, 0x42));
  wr(THR, 0x43);
  const before = uart.snapshot();
  deepStrictEqual(uart.snapshot(), before);
  deepStrictEqual(before, {
    version: 1,
    rbr: 0,
    thr: 0x43,
    ier: 0x03,
    fcr: 0x81,
    lcr: 0x00,
    mcr: 0x0b,
    scr: 0,
    divisor: 12,
    lsrErrors: 0,
    msrDeltas: 0,
    modemInputs: 0xb0,
    rxFifo: [0x41, 0x42],
    threPending: true,
    timeoutPending: false,
    lastRxActivityNs: 0,
    timeoutDeadlineNs: fourCharsNs(12),
    irq: true,
    txBytes: 1,
    rxBytes: 2,
    overruns: 0,
    iir: 0xc2,
    lsr: 0x61,
    msr: 0xb0,
    interrupt: "thr-empty",
    baud: 9600,
    fifoEnabled: true,
    rxTrigger: 8,
    loopback: false,
  });
});

// Property: snapshot -> restore into a fresh UART -> snapshot is the identity,
// and the restored UART behaves like the original from then on.

interface UartTwin extends Twin {
  readonly uart: Uart16550a;
  readonly irq: RecordingIrq;
}

function uartTwin(): UartTwin {
  const clock = new SteppedClock();
  const events: string[] = [];
  const irq = new RecordingIrq();
  const uart = new Uart16550a({
    irq: {
      set: (level) => {
        irq.set(level);
        events.push(`irq=${level}@${clock.nowNs()}`);
      },
    },
    tx: (bytes) => events.push(`tx ${[...bytes]}`),
    clock,
    timer: clock.timer,
  });
  uart.onRxSpace = () => events.push("rx-space");
  return { clock, events, uart, irq };
}

/** One random guest or host action; returns what it read. */
function uartStep(rng: SeededRandom, t: UartTwin): string {
  const { uart, clock } = t;
  switch (rng.below(12)) {
    case 0:
    case 1:
    case 2: {
      const offset = rng.below(9);
      const size = rng.pick([1, 1, 1, 2, 4] as const);
      return `r${offset}/${size}=${uart.read(offset, size)}`;
    }
    case 3:
      uart.write(FCR, 1, rng.pick([0x00, 0x01, 0x07, 0x41, 0x81, 0xc1, 0xc3]));
      return "fcr";
    case 4:
      uart.write(IER, 1, rng.below(16));
      return "ier";
    case 5:
      uart.write(MCR, 1, rng.pick([0x00, 0x08, 0x0b, 0x1b, rng.below(32)]));
      return "mcr";
    case 6:
      uart.write(LCR, 1, rng.pick([0x03, 0x03, 0x83]));
      return "lcr";
    case 7:
      uart.write(THR, 1, rng.byte()); // DLL while DLAB is set
      return "thr";
    case 8:
      uart.write(SCR, rng.pick([1, 2] as const), rng.next() & 0xffff);
      return "scr";
    case 9: {
      const bytes = Uint8Array.from({ length: rng.int(1, 20) }, () => rng.byte());
      return `rx took ${uart.receive(bytes)}`;
    }
    case 10:
      uart.setModemInputs({ cts: rng.chance(0.5), ri: rng.chance(0.5), dcd: rng.chance(0.8) });
      return "modem";
    default:
      clock.advance(rng.below(fourCharsNs(12) * 2));
      return `t=${clock.nowNs()}`;
  }
}

Deno.test("snapshot/restore: identity and identical behaviour from random states, mid-transfer", () => {
  let midTransfer = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const rng = new SeededRandom(seed);
    const a = uartTwin();
    const steps = rng.below(120);
    for (let i = 0; i < steps; i++) uartStep(rng, a);
    const b = uartTwin();
    b.clock.advanceTo(a.clock.nowNs()); // the machine resumes its clock at the saved time
    const saved = assertRestoreIdentity(a.uart, b.uart);
    strictEqual(b.irq.level, a.irq.level, `seed ${seed}: IRQ level after restore`);
    if (saved.rxFifo.length > 0 && saved.timeoutDeadlineNs !== null && saved.irq) midTransfer++;
    assertSameBehaviour(a, b, seed + 1000, 150, uartStep);
  }
  // The random walks must reach the interesting states: a partly filled FIFO,
  // the character timeout armed and an interrupt pending, all at once.
  ok(midTransfer >= 5, `only ${midTransfer} mid-transfer snapshots`);
});

Deno.test("snapshot/restore: a hand-built mid-transfer state and refused states", () => {
  const a = uartTwin();
  a.uart.write(FCR, 1, 0xc1); // FIFO, trigger 14
  a.uart.write(IER, 1, 0x0f);
  a.uart.write(MCR, 1, 0x0b);
  a.uart.receive(Uint8Array.of(1, 2, 3));
  a.clock.advance(1000);
  const b = uartTwin();
  b.clock.advanceTo(a.clock.nowNs());
  const s = assertRestoreIdentity(a.uart, b.uart);
  deepStrictEqual([s.rxFifo, s.irq, s.interrupt], [[1, 2, 3], true, "thr-empty"]);
  strictEqual(b.irq.level, true);
  // The restored timeout fires at the saved deadline, in both.
  a.clock.advanceTo(s.timeoutDeadlineNs!);
  b.clock.advanceTo(s.timeoutDeadlineNs!);
  a.uart.read(IIR, 1); // acknowledges THRE
  strictEqual(b.uart.read(IIR, 1), a.uart.read(IIR, 1));
  strictEqual(a.uart.read(IIR, 1), 0xcc); // RX timeout
  assertRestoreRejects(uartTwin().uart, s, [
    { fcr: 0x02 },
    { rxFifo: new Array(17).fill(0) },
    { ier: 0x10 },
    { divisor: -1 },
    { rxFifo: "abc" },
    { timeoutDeadlineNs: "soon" },
  ]);
});
