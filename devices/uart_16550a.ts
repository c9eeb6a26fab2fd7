/**
 * A National/TI 16550A UART as a pure state machine, the PC's COM port
 * (COM1 is 8 ports at 0x3f8 on IRQ 4; the board does the registration).
 *
 * What is modelled: every register with DLAB banking, 16-byte FIFOs with the
 * FCR enable/reset bits and RX trigger levels, the prioritised interrupt
 * sources and their IIR codes, THRE interrupt latching, overrun, loopback,
 * MSR delta bits, the RX character timeout, and the PC's OUT2 interrupt gate.
 *
 * Deliberate simplifications, because the serial "line" is a host byte pipe:
 * - Transmission is instantaneous: a THR write reaches `tx` at once, THRE and
 *   TEMT read back set, and the TX FIFO is therefore always empty.
 * - Bytes are carried whole whatever the LCR word length; parity, stop bits
 *   and break (LCR bit 6) change nothing, and the receiver never reports
 *   parity, framing or break errors (LSR bits 2-4 and 7 stay clear).
 * - A character time is 10 bits at 115200/divisor baud regardless of LCR.
 * - Writes to LSR and MSR (factory test on real parts) are ignored.
 *
 * @module
 */

import { readLanes, writeLanes } from "./byte_lanes.ts";
import { DeadlineTimer } from "./deadline_timer.ts";
import { StateShape } from "./state_shape.ts";
import type {
  AccessSize,
  BusDevice,
  ByteSink,
  Clock,
  DeviceState,
  IrqLine,
  Snapshotting,
  TimerFactory,
} from "./types.ts";

/** Number of I/O ports the UART decodes. */
export const UART_PORT_COUNT = 8;

/** Baud rate at divisor 1 (a 1.8432 MHz crystal divided by 16). */
export const UART_BASE_BAUD = 115200;

/** Divisor latch value after {@link Uart16550a.reset} (9600 baud); the chip leaves it undefined. */
export const UART_RESET_DIVISOR = 12;

/** Bits per character used for timing: start, 8 data, stop. */
const BITS_PER_CHAR = 10;
/** Capacity of the RX FIFO in FIFO mode. */
const FIFO_SIZE = 16;
/** RX trigger levels selected by FCR bits 7:6. */
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;

// IER bits.
const IER_ERBFI = 0x01;
const IER_ETBEI = 0x02;
const IER_ELSI = 0x04;
const IER_EDSSI = 0x08;

// IIR identification codes (bit 0 clear means pending).
const IIR_NONE = 0x01;
const IIR_LINE_STATUS = 0x06;
const IIR_RX_DATA = 0x04;
const IIR_RX_TIMEOUT = 0x0c;
const IIR_THR_EMPTY = 0x02;
const IIR_MODEM_STATUS = 0x00;
const IIR_FIFOS_ENABLED = 0xc0;

// FCR bits.
const FCR_ENABLE = 0x01;
const FCR_RX_RESET = 0x02;
/** Bits of FCR that are stored: enable, DMA mode, trigger level. */
const FCR_STORED = 0xc9;

// LCR bits.
const LCR_DLAB = 0x80;

// MCR bits.
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

// LSR bits.
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_ERRORS = 0x1e; // OE, PE, FE, BI: the line status interrupt sources
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

// MSR bits.
const MSR_DCTS = 0x01;
const MSR_DDSR = 0x02;
const MSR_TERI = 0x04;
const MSR_DDCD = 0x08;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;

/** Names of the interrupt identification codes, for {@link UartState.interrupt}. */
const INTERRUPT_NAMES: Record<number, UartInterrupt> = {
  [IIR_NONE]: "none",
  [IIR_LINE_STATUS]: "line-status",
  [IIR_RX_DATA]: "rx-data",
  [IIR_RX_TIMEOUT]: "rx-timeout",
  [IIR_THR_EMPTY]: "thr-empty",
  [IIR_MODEM_STATUS]: "modem-status",
};

/** What the UART needs from the board. */
export interface Uart16550aOptions {
  /** The interrupt line (IRQ 4 for COM1), driven only while MCR OUT2 gates it on. */
  irq: IrqLine;
  /** Receives each transmitted byte as soon as the guest writes THR. */
  tx: ByteSink;
  /** Time source for the RX character timeout. */
  clock: Clock;
  /** Creates the RX character timeout timer. */
  timer: TimerFactory;
}

/** The RS-232 modem status inputs as seen from the UART (true = asserted). */
export interface ModemInputs {
  /** Clear To Send. */
  cts: boolean;
  /** Data Set Ready. */
  dsr: boolean;
  /** Ring Indicator. */
  ri: boolean;
  /** Data Carrier Detect. */
  dcd: boolean;
}

/** The interrupt source IIR reports, by name. */
export type UartInterrupt =
  | "none"
  | "line-status"
  | "rx-data"
  | "rx-timeout"
  | "thr-empty"
  | "modem-status";

/**
 * Saved state of {@link Uart16550a}. The first group is what restore reads;
 * the derived group (IIR, LSR, MSR, baud ...) is there for readers such as
 * the devices pane and is recomputed, not restored.
 */
export interface UartState extends DeviceState {
  readonly version: 1;
  /** Last byte read from RBR (read again while the RX FIFO is empty). */
  readonly rbr: number;
  /** Last byte written to THR. */
  readonly thr: number;
  readonly ier: number;
  /** FCR bits that are stored: enable, DMA mode, trigger level. */
  readonly fcr: number;
  readonly lcr: number;
  readonly mcr: number;
  readonly scr: number;
  /** Divisor latch (DLM << 8 | DLL). */
  readonly divisor: number;
  /** Latched LSR error bits (OE, PE, FE, BI), cleared by reading LSR. */
  readonly lsrErrors: number;
  /** MSR delta bits 3:0, cleared by reading MSR. */
  readonly msrDeltas: number;
  /** The external modem inputs as MSR bits 7:4. */
  readonly modemInputs: number;
  /** Received bytes waiting in the RX FIFO (or RBR), oldest first. */
  readonly rxFifo: number[];
  /** THRE interrupt latch. */
  readonly threPending: boolean;
  /** RX character timeout indication. */
  readonly timeoutPending: boolean;
  /** Clock time of the last RX activity, from which the timeout counts. */
  readonly lastRxActivityNs: number;
  /** Armed deadline of the character timeout timer, or null. */
  readonly timeoutDeadlineNs: number | null;
  /** Level of the interrupt line (after the OUT2 gate). */
  readonly irq: boolean;
  /** Bytes the guest transmitted. */
  readonly txBytes: number;
  /** Bytes received (host input and loopback). */
  readonly rxBytes: number;
  /** Characters lost to overruns. */
  readonly overruns: number;
  // Derived, for readers.
  /** IIR as a read would return it (without acknowledging THRE). */
  readonly iir: number;
  /** LSR as a read would return it (without clearing the errors). */
  readonly lsr: number;
  /** MSR as a read would return it (without clearing the deltas). */
  readonly msr: number;
  /** The pending interrupt source IIR reports. */
  readonly interrupt: UartInterrupt;
  /** Baud rate the divisor selects. */
  readonly baud: number;
  readonly fifoEnabled: boolean;
  /** RX FIFO trigger level in bytes. */
  readonly rxTrigger: number;
  readonly loopback: boolean;
}

/** A 16550A UART on the port-I/O bus, offsets 0-7 relative to its base. */
export class Uart16550a implements BusDevice, Snapshotting<UartState> {
  /**
   * Called after a guest access frees RX space (reading RBR, resetting the
   * FIFO, leaving loopback) so the board can feed more host input. It may
   * call {@link receive} synchronously.
   */
  onRxSpace?: () => void;

  readonly #irq: IrqLine;
  readonly #tx: ByteSink;
  /** The one-byte array every transmitted byte goes out in (no garbage per byte under a flood). */
  readonly #txByte = new Uint8Array(1);
  readonly #clock: Clock;
  readonly #timeout: DeadlineTimer;

  #rx = new Uint8Array(FIFO_SIZE);
  #rxHead = 0;
  #rxCount = 0;
  /** Last byte read from RBR, returned again when the FIFO is empty. */
  #rbr = 0;
  #thr = 0;
  #ier = 0;
  #fcr = 0;
  #lcr = 0;
  #mcr = 0;
  #scr = 0;
  #divisor = UART_RESET_DIVISOR;
  /** Latched LSR error bits, cleared by reading LSR. */
  #lsrErrors = 0;
  /** MSR delta bits 3:0, cleared by reading MSR. */
  #msrDeltas = 0;
  /** External modem inputs as MSR bits 7:4; a connected terminal by default. */
  #inputs = MSR_CTS | MSR_DSR | MSR_DCD;
  /** THRE interrupt latch: set when THR empties, cleared by IIR read or THR write. */
  #threPending = false;
  #timeoutPending = false;
  /** Time of the last character received or read, for the character timeout. */
  #lastRxActivityNs = 0;
  #irqLevel = false;
  #txBytes = 0;
  #rxBytes = 0;
  #overruns = 0;

  /** @param options the injected IRQ line, byte sink, clock and timer factory */
  constructor(options: Uart16550aOptions) {
    this.#irq = options.irq;
    this.#tx = options.tx;
    this.#clock = options.clock;
    this.#timeout = new DeadlineTimer(options.timer, () => this.#onTimeout());
  }

  /**
   * Reads registers starting at `offset`. Wider accesses are split into byte
   * cycles as the ISA bus does for an 8-bit device; bytes past the last
   * register read as 0xff.
   */
  read(offset: number, size: AccessSize): number {
    const spaceBefore = this.rxSpace();
    // Byte accesses (all a driver makes) without a closure: a guest polling
    // LSR or flooding THR makes one per exit, and each would be garbage.
    const value = size === 1
      ? this.#readPort(offset)
      : readLanes(offset, size, (port) => this.#readPort(port));
    this.#afterAccess(spaceBefore);
    return value;
  }

  /** Writes registers starting at `offset`, one byte cycle per byte of `size`. */
  write(offset: number, size: AccessSize, value: number): void {
    const spaceBefore = this.rxSpace();
    if (size === 1) this.#writePort(offset, value & 0xff);
    else writeLanes(offset, size, value, (port, byte) => this.#writePort(port, byte));
    this.#afterAccess(spaceBefore);
  }

  #readPort(port: number): number {
    return port >= 0 && port < UART_PORT_COUNT ? this.#readByte(port) : 0xff;
  }

  #writePort(port: number, byte: number): void {
    if (port >= 0 && port < UART_PORT_COUNT) this.#writeByte(port, byte);
  }

  /**
   * Host input: queues as many of `bytes` as fit in the RX FIFO (16 in FIFO
   * mode, 1 otherwise; none in loopback, where the serial input is
   * disconnected) and returns how many were taken. Never overruns.
   */
  receive(bytes: Uint8Array): number {
    const taken = Math.min(bytes.length, this.rxSpace());
    for (let i = 0; i < taken; i++) this.#push(bytes[i]);
    if (taken > 0) {
      this.#rxBytes += taken;
      this.#rxActivity();
      this.#updateIrq();
    }
    return taken;
  }

  /** How many host bytes {@link receive} would take now. */
  rxSpace(): number {
    if (this.#mcr & MCR_LOOP) return 0;
    return this.#rxCapacity() - this.#rxCount;
  }

  /**
   * Sets the external modem status inputs (omitted ones keep their level).
   * Changes set the MSR delta bits unless loopback has the inputs disconnected.
   */
  setModemInputs(inputs: Partial<ModemInputs>): void {
    const before = this.#msrStatus();
    const bits: [keyof ModemInputs, number][] = [
      ["cts", MSR_CTS],
      ["dsr", MSR_DSR],
      ["ri", MSR_RI],
      ["dcd", MSR_DCD],
    ];
    for (const [name, bit] of bits) {
      const level = inputs[name];
      if (level === true) this.#inputs |= bit;
      else if (level === false) this.#inputs &= ~bit;
    }
    this.#noteModemChange(before);
    this.#updateIrq();
  }

  /**
   * Master reset to power-on values: IER, IIR, FCR, LCR, MCR, LSR and the
   * MSR deltas as the datasheet specifies; SCR, RBR, THR, the counters and
   * the divisor (which the chip leaves undefined) to 0 and 9600 baud. The
   * modem inputs keep their levels (they are wiring, not chip state), and
   * {@link onRxSpace} is called if the reset frees RX space.
   */
  reset(): void {
    const spaceBefore = this.rxSpace();
    this.#rxHead = 0;
    this.#rxCount = 0;
    this.#rbr = 0;
    this.#thr = 0;
    this.#ier = 0;
    this.#fcr = 0;
    this.#lcr = 0;
    this.#mcr = 0;
    this.#scr = 0;
    this.#divisor = UART_RESET_DIVISOR;
    this.#lsrErrors = 0;
    this.#msrDeltas = 0;
    this.#threPending = false;
    this.#timeoutPending = false;
    this.#lastRxActivityNs = this.#clock.nowNs();
    this.#txBytes = 0;
    this.#rxBytes = 0;
    this.#overruns = 0;
    this.#timeout.cancel();
    this.#afterAccess(spaceBefore);
  }

  /** Everything the guest can observe; taking it has none of the side effects of register reads. */
  snapshot(): UartState {
    const id = this.#pendingId();
    const rxFifo: number[] = [];
    for (let i = 0; i < this.#rxCount; i++) rxFifo.push(this.#rx[(this.#rxHead + i) % FIFO_SIZE]);
    return {
      version: 1,
      rbr: this.#rbr,
      thr: this.#thr,
      ier: this.#ier,
      fcr: this.#fcr,
      lcr: this.#lcr,
      mcr: this.#mcr,
      scr: this.#scr,
      divisor: this.#divisor,
      lsrErrors: this.#lsrErrors,
      msrDeltas: this.#msrDeltas,
      modemInputs: this.#inputs,
      rxFifo,
      threPending: this.#threPending,
      timeoutPending: this.#timeoutPending,
      lastRxActivityNs: this.#lastRxActivityNs,
      timeoutDeadlineNs: this.#timeout.deadline,
      irq: this.#irqLevel,
      txBytes: this.#txBytes,
      rxBytes: this.#rxBytes,
      overruns: this.#overruns,
      iir: this.#iirValue(id),
      lsr: this.#lsr(),
      msr: this.#msrStatus() | this.#msrDeltas,
      interrupt: INTERRUPT_NAMES[id],
      baud: UART_BASE_BAUD / this.#effectiveDivisor(),
      fifoEnabled: this.#fifoEnabled(),
      rxTrigger: this.#rxTrigger(),
      loopback: (this.#mcr & MCR_LOOP) !== 0,
    };
  }

  /**
   * Puts the UART back into `state`: registers, RX FIFO, latches, the
   * character timeout at its saved deadline, and the interrupt line driven
   * to the level the registers give. The derived fields are not read.
   * @throws {StateError} for an unknown version or a malformed state
   */
  restore(state: UartState): void {
    const r = StateShape.versioned("uart", state, 1);
    const byte = (key: string) => r.int(key, 0, 0xff);
    const fcr = byte("fcr");
    if (fcr & ~FCR_STORED) r.fail("fcr", "bits outside enable, DMA mode and trigger level");
    const ier = r.int("ier", 0, 0x0f);
    const mcr = r.int("mcr", 0, 0x1f);
    const lsrErrors = byte("lsrErrors");
    if (lsrErrors & ~LSR_ERRORS) r.fail("lsrErrors", "bits outside OE, PE, FE, BI");
    const msrDeltas = r.int("msrDeltas", 0, 0x0f);
    const inputs = byte("modemInputs");
    if (inputs & 0x0f) r.fail("modemInputs", "bits outside MSR 7:4");
    const capacity = fcr & FCR_ENABLE ? FIFO_SIZE : 1;
    const rxFifo = r.intsUpTo("rxFifo", 0, 0xff, capacity);
    const values = {
      rbr: byte("rbr"),
      thr: byte("thr"),
      lcr: byte("lcr"),
      scr: byte("scr"),
      divisor: r.int("divisor", 0, 0xffff),
      threPending: r.bool("threPending"),
      timeoutPending: r.bool("timeoutPending"),
      lastRxActivityNs: r.number("lastRxActivityNs"),
      deadline: r.numberOrNull("timeoutDeadlineNs"),
      txBytes: r.int("txBytes"),
      rxBytes: r.int("rxBytes"),
      overruns: r.int("overruns"),
    };
    this.#rx.fill(0);
    this.#rx.set(rxFifo);
    this.#rxHead = 0;
    this.#rxCount = rxFifo.length;
    this.#rbr = values.rbr;
    this.#thr = values.thr;
    this.#ier = ier;
    this.#fcr = fcr;
    this.#lcr = values.lcr;
    this.#mcr = mcr;
    this.#scr = values.scr;
    this.#divisor = values.divisor;
    this.#lsrErrors = lsrErrors;
    this.#msrDeltas = msrDeltas;
    this.#inputs = inputs;
    this.#threPending = values.threPending;
    this.#timeoutPending = values.timeoutPending;
    this.#lastRxActivityNs = values.lastRxActivityNs;
    this.#txBytes = values.txBytes;
    this.#rxBytes = values.rxBytes;
    this.#overruns = values.overruns;
    this.#timeout.set(values.deadline);
    this.#irqLevel = this.#gatedLevel();
    this.#irq.set(this.#irqLevel);
  }

  #readByte(port: number): number {
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    switch (port) {
      case 0:
        return dlab ? this.#divisor & 0xff : this.#readRbr();
      case 1:
        return dlab ? this.#divisor >> 8 : this.#ier;
      case 2: {
        const id = this.#pendingId();
        // Reading IIR acknowledges THRE only when it is the reported source.
        if (id === IIR_THR_EMPTY) this.#threPending = false;
        return this.#iirValue(id);
      }
      case 3:
        return this.#lcr;
      case 4:
        return this.#mcr;
      case 5: {
        const lsr = this.#lsr();
        this.#lsrErrors = 0;
        return lsr;
      }
      case 6: {
        const msr = this.#msrStatus() | this.#msrDeltas;
        this.#msrDeltas = 0;
        return msr;
      }
      default:
        return this.#scr;
    }
  }

  #writeByte(port: number, value: number): void {
    const dlab = (this.#lcr & LCR_DLAB) !== 0;
    switch (port) {
      case 0:
        if (dlab) this.#setDivisor((this.#divisor & 0xff00) | value);
        else this.#writeThr(value);
        return;
      case 1:
        if (dlab) this.#setDivisor((this.#divisor & 0x00ff) | (value << 8));
        else this.#writeIer(value);
        return;
      case 2:
        this.#writeFcr(value);
        return;
      case 3:
        this.#lcr = value;
        return;
      case 4:
        this.#writeMcr(value);
        return;
      case 7:
        this.#scr = value;
        return;
      default:
        // LSR and MSR writes are factory test features; ignored.
        return;
    }
  }

  #readRbr(): number {
    if (this.#rxCount === 0) return this.#rbr;
    this.#rbr = this.#rx[this.#rxHead];
    this.#rxHead = (this.#rxHead + 1) % FIFO_SIZE;
    this.#rxCount--;
    // A read clears a timeout indication and restarts the timeout timer.
    this.#timeoutPending = false;
    this.#rxActivity();
    return this.#rbr;
  }

  #writeThr(value: number): void {
    this.#thr = value;
    this.#threPending = false;
    this.#txBytes++;
    if (this.#mcr & MCR_LOOP) this.#loopbackReceive(value);
    else {
      this.#txByte[0] = value;
      this.#tx(this.#txByte);
    }
    // The byte has left at once, so THR is empty again: THRE rises anew.
    this.#threPending = true;
  }

  #writeIer(value: number): void {
    const before = this.#ier;
    this.#ier = value & 0x0f;
    // Enabling ETBEI while THR is empty raises a THRE interrupt.
    if (!(before & IER_ETBEI) && (this.#ier & IER_ETBEI)) this.#threPending = true;
  }

  #writeFcr(value: number): void {
    const wasEnabled = this.#fifoEnabled();
    const enable = (value & FCR_ENABLE) !== 0;
    if (enable !== wasEnabled) {
      // Switching between FIFO and 16450 mode empties both FIFOs, and the
      // transmitter interrupt after changing FCR0 is immediate.
      this.#clearRx();
      this.#threPending = true;
    }
    if (enable) {
      this.#fcr = value & FCR_STORED;
      if (value & FCR_RX_RESET) this.#clearRx();
      // FCR_TX_RESET: the TX FIFO is always empty here.
    } else {
      // The other bits are only programmed while bit 0 is written as 1.
      this.#fcr &= ~FCR_ENABLE;
    }
  }

  #writeMcr(value: number): void {
    const before = this.#msrStatus();
    this.#mcr = value & 0x1f;
    this.#noteModemChange(before);
  }

  #setDivisor(divisor: number): void {
    this.#divisor = divisor;
    this.#armTimeout();
  }

  /** A character from the looped-back transmitter; unlike host input it can overrun. */
  #loopbackReceive(value: number): void {
    if (this.#rxCount < this.#rxCapacity()) {
      this.#push(value);
      this.#rxBytes++;
    } else {
      this.#lsrErrors |= LSR_OE;
      this.#overruns++;
      if (!this.#fifoEnabled()) {
        // 16450 mode: the new character destroys the unread one in RBR.
        this.#rx[this.#rxHead] = value;
        this.#rxBytes++;
      }
      // FIFO mode: the character stays in the shift register and is lost.
    }
    this.#rxActivity();
  }

  #push(value: number): void {
    this.#rx[(this.#rxHead + this.#rxCount) % FIFO_SIZE] = value;
    this.#rxCount++;
  }

  #clearRx(): void {
    this.#rxHead = 0;
    this.#rxCount = 0;
    this.#timeoutPending = false;
    this.#timeout.cancel();
  }

  #rxCapacity(): number {
    return this.#fifoEnabled() ? FIFO_SIZE : 1;
  }

  #fifoEnabled(): boolean {
    return (this.#fcr & FCR_ENABLE) !== 0;
  }

  #rxTrigger(): number {
    return TRIGGER_LEVELS[this.#fcr >> 6];
  }

  /** Divisor 0 makes the 16-bit baud counter wrap, dividing by 65536. */
  #effectiveDivisor(): number {
    return this.#divisor === 0 ? 0x10000 : this.#divisor;
  }

  /** Four character times, in nanoseconds. */
  #timeoutNs(): number {
    return Math.ceil((4 * BITS_PER_CHAR * this.#effectiveDivisor() * 1e9) / UART_BASE_BAUD);
  }

  #rxActivity(): void {
    this.#lastRxActivityNs = this.#clock.nowNs();
    this.#armTimeout();
  }

  #armTimeout(): void {
    if (this.#fifoEnabled() && this.#rxCount > 0 && !this.#timeoutPending) {
      this.#timeout.arm(this.#lastRxActivityNs + this.#timeoutNs());
    } else {
      this.#timeout.cancel();
    }
  }

  #onTimeout(): void {
    if (!this.#fifoEnabled() || this.#rxCount === 0) return;
    const deadline = this.#lastRxActivityNs + this.#timeoutNs();
    if (this.#clock.nowNs() < deadline) {
      this.#timeout.arm(deadline);
      return;
    }
    this.#timeoutPending = true;
    this.#updateIrq();
  }

  #lsr(): number {
    return (this.#rxCount > 0 ? LSR_DR : 0) | this.#lsrErrors | LSR_THRE | LSR_TEMT;
  }

  /** MSR bits 7:4: the external inputs, or the MCR outputs looped back. */
  #msrStatus(): number {
    if (!(this.#mcr & MCR_LOOP)) return this.#inputs;
    const mcr = this.#mcr;
    return (mcr & MCR_RTS ? MSR_CTS : 0) | (mcr & MCR_DTR ? MSR_DSR : 0) |
      (mcr & MCR_OUT1 ? MSR_RI : 0) | (mcr & MCR_OUT2 ? MSR_DCD : 0);
  }

  #noteModemChange(before: number): void {
    const after = this.#msrStatus();
    const changed = before ^ after;
    if (changed & MSR_CTS) this.#msrDeltas |= MSR_DCTS;
    if (changed & MSR_DSR) this.#msrDeltas |= MSR_DDSR;
    // TERI flags only the trailing edge of RI.
    if ((before & MSR_RI) && !(after & MSR_RI)) this.#msrDeltas |= MSR_TERI;
    if (changed & MSR_DCD) this.#msrDeltas |= MSR_DDCD;
  }

  /** The highest-priority enabled pending source, as an IIR code. */
  #pendingId(): number {
    const ier = this.#ier;
    if ((ier & IER_ELSI) && (this.#lsrErrors & LSR_ERRORS)) return IIR_LINE_STATUS;
    if (ier & IER_ERBFI) {
      const level = this.#fifoEnabled() ? this.#rxTrigger() : 1;
      if (this.#rxCount >= level) return IIR_RX_DATA;
      if (this.#timeoutPending) return IIR_RX_TIMEOUT;
    }
    if ((ier & IER_ETBEI) && this.#threPending) return IIR_THR_EMPTY;
    if ((ier & IER_EDSSI) && this.#msrDeltas) return IIR_MODEM_STATUS;
    return IIR_NONE;
  }

  #iirValue(id: number): number {
    return id | (this.#fifoEnabled() ? IIR_FIFOS_ENABLED : 0);
  }

  /**
   * Drives the IRQ line. On a PC, the OUT2 pin gates the UART's interrupt
   * output onto the bus; in loopback the chip forces its modem control pins
   * inactive, so the gate is closed and interrupts are visible only in IIR.
   */
  #updateIrq(): void {
    const level = this.#gatedLevel();
    if (level !== this.#irqLevel) {
      this.#irqLevel = level;
      this.#irq.set(level);
    }
  }

  #gatedLevel(): boolean {
    const gated = (this.#mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2;
    return gated && this.#pendingId() !== IIR_NONE;
  }

  #afterAccess(spaceBefore: number): void {
    this.#updateIrq();
    const space = this.rxSpace();
    if (space > spaceBefore && this.onRxSpace) this.onRxSpace();
  }
}
