/**
 * NE2000 on PCI (RTL8029, 10ec:8029): a DP8390 core in I/O BAR0 with its
 * three register pages (0x00-0x0f), the remote-DMA data port (0x10, byte or
 * word wide by DCR.WTS) and the reset port (0x1f); 32 KiB of buffer memory
 * at NIC addresses 0x4000-0xbfff, the station address PROM at 0x0000 (each
 * byte doubled, 'W' 'W' at 0x0e). Transmit sends TBCR bytes from page TPSR;
 * receive writes the 4-byte header and the frame into the ring PSTART-PSTOP
 * at CURR, stopping short of BNRY.
 *
 * @module
 */

import type { AccessSize, BusDevice, Snapshotting } from "../types.ts";
import type { PciConfigState, PciFunctionState } from "../pci/config_space.ts";
import { StateShape } from "../state_shape.ts";
import {
  isAddressedTo,
  isBroadcast,
  multicastHashHit,
  type NicCounters,
  type NicOptions,
  padFrame,
} from "./nic.ts";
import { PciNic } from "./pci_nic.ts";

/** Size of I/O BAR0. */
export const NE2K_IO_SIZE = 0x20;
/** Buffer memory: NIC addresses [NE2K_MEM_START, NE2K_MEM_END). */
export const NE2K_MEM_START = 0x4000;
/** @see NE2K_MEM_START */
export const NE2K_MEM_END = 0xc000;

/** Page 0 register offsets (and the ports after them). */
export const NE2K = {
  CR: 0x00,
  PSTART: 0x01,
  PSTOP: 0x02,
  BNRY: 0x03,
  TPSR: 0x04,
  TBCR0: 0x05,
  TBCR1: 0x06,
  ISR: 0x07,
  RSAR0: 0x08,
  RSAR1: 0x09,
  RBCR0: 0x0a,
  RBCR1: 0x0b,
  RCR: 0x0c,
  TCR: 0x0d,
  DCR: 0x0e,
  IMR: 0x0f,
  DATA: 0x10,
  RESET: 0x1f,
  /** Page 1. */
  PAR0: 0x01,
  CURR: 0x07,
  MAR0: 0x08,
} as const;

/** ISR/IMR bits. */
export const NE2K_ISR = {
  PRX: 0x01,
  PTX: 0x02,
  RXE: 0x04,
  TXE: 0x08,
  OVW: 0x10,
  RDC: 0x40,
  RST: 0x80,
} as const;

const CR_STP = 0x01;
const CR_STA = 0x02;
const CR_TXP = 0x04;
const CR_RD = 0x38;
const CR_RD_READ = 0x08;
const CR_RD_WRITE = 0x10;
const CR_RD_ABORT = 0x20;
const RCR_AB = 0x04;
const RCR_AM = 0x08;
const RCR_PRO = 0x10;
const DCR_WTS = 0x01;
const RSR_PRX = 0x01;
const RSR_PHY = 0x20;

/** Registers of the DP8390 core, by name. */
export interface Ne2kRegisters {
  cr: number;
  pstart: number;
  pstop: number;
  bnry: number;
  tpsr: number;
  tbcr: number;
  isr: number;
  rsar: number;
  rbcr: number;
  rcr: number;
  tcr: number;
  dcr: number;
  imr: number;
  tsr: number;
  rsr: number;
  curr: number;
  par: number[];
  mar: number[];
}

/** Saved state of an NE2000. */
export interface Ne2kState extends PciFunctionState {
  readonly version: 1;
  readonly config: PciConfigState;
  readonly regs: Ne2kRegisters;
  /** Buffer memory (32 KiB). */
  readonly memory: Uint8Array;
  readonly counters: NicCounters;
}

/** Constructor options of {@link Ne2kPci} (it reaches no guest RAM). */
export type Ne2kOptions = Omit<NicOptions, "memory">;

function freshRegisters(): Ne2kRegisters {
  return {
    cr: CR_STP | CR_RD_ABORT,
    pstart: 0,
    pstop: 0,
    bnry: 0,
    tpsr: 0,
    tbcr: 0,
    isr: NE2K_ISR.RST,
    rsar: 0,
    rbcr: 0,
    rcr: 0,
    tcr: 0,
    dcr: 0,
    imr: 0,
    tsr: 0,
    rsr: 0,
    curr: 0,
    par: [0, 0, 0, 0, 0, 0],
    mar: [0, 0, 0, 0, 0, 0, 0, 0],
  };
}

/** An NE2000 (RTL8029) on PCI. It does its own DMA into its buffer memory only. */
export class Ne2kPci extends PciNic implements Snapshotting<Ne2kState> {
  readonly name = "ne2k_pci";
  /** BAR0. */
  readonly io: BusDevice;
  readonly #mem = new Uint8Array(NE2K_MEM_END - NE2K_MEM_START);
  readonly #prom = new Uint8Array(32);
  #r: Ne2kRegisters = freshRegisters();

  /** @param options MAC, interrupt line, transmit sink and ROM */
  constructor(options: Ne2kOptions) {
    super(
      {
        vendorId: 0x10ec,
        deviceId: 0x8029,
        revision: 0,
        bars: [{ kind: "io", size: NE2K_IO_SIZE }],
      },
      options,
    );
    this.io = {
      read: (offset, size) => this.#read(offset, size),
      write: (offset, size, value) => this.#write(offset, size, value),
    };
    // The station address PROM, each byte doubled (word-wide reads), 'WW' at 14.
    for (let i = 0; i < 6; i++) this.#prom[2 * i] = this.#prom[2 * i + 1] = this.mac[i];
    this.#prom[14] = this.#prom[15] = 0x57;
    this.powerOn();
  }

  protected powerOn(): void {
    this.#r = freshRegisters();
    this.#r.par = [...this.mac];
    this.#mem.fill(0);
    this.updateIrq();
  }

  #read(offset: number, size: AccessSize): number {
    if (offset === NE2K.DATA) return this.#dataRead(size);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.#readByte(offset + i);
    return v;
  }

  #write(offset: number, size: AccessSize, value: number): void {
    if (offset === NE2K.DATA) return this.#dataWrite(size, value);
    for (let i = 0; i < size; i++) this.#writeByte(offset + i, (value >>> (8 * i)) & 0xff);
  }

  #readByte(at: number): number {
    const r = this.#r;
    if (at === NE2K.RESET) {
      // A read starts a reset: the core stops and says so (the PROM and memory stay).
      r.cr = CR_STP | CR_RD_ABORT;
      r.isr |= NE2K_ISR.RST;
      this.updateIrq();
      return 0;
    }
    if (at >= 0x10) return 0xff;
    if (at === NE2K.CR) return r.cr;
    const page = r.cr >> 6;
    if (page === 1) {
      if (at <= 6) return r.par[at - 1];
      if (at === NE2K.CURR) return r.curr;
      return r.mar[at - 8];
    }
    if (page === 2) {
      return [0, r.pstart, r.pstop, 0, r.tpsr, 0, 0, 0, 0, 0, 0, 0, r.rcr, r.tcr, r.dcr, r.imr][at];
    }
    switch (at) {
      case NE2K.BNRY:
        return r.bnry;
      case 0x04:
        return r.tsr;
      case NE2K.ISR:
        return r.isr;
      case 0x08:
        return r.rsar & 0xff; // CRDA: the remote DMA address
      case 0x09:
        return r.rsar >> 8;
      case 0x0c:
        return r.rsr;
      case 0x0a:
        return 0x50; // RTL8029 ID: 'P'
      case 0x0b:
        return 0x43; // 'C'
    }
    return 0;
  }

  #writeByte(at: number, v: number): void {
    const r = this.#r;
    if (at === NE2K.RESET) return; // a write is the end of a reset cycle
    if (at >= 0x10) return;
    if (at === NE2K.CR) return this.#command(v);
    const page = r.cr >> 6;
    if (page === 1) {
      if (at <= 6) r.par[at - 1] = v;
      else if (at === NE2K.CURR) r.curr = v;
      else r.mar[at - 8] = v;
      return;
    }
    if (page !== 0) return;
    switch (at) {
      case NE2K.PSTART:
        r.pstart = v;
        return;
      case NE2K.PSTOP:
        r.pstop = v;
        return;
      case NE2K.BNRY:
        r.bnry = v;
        this.onRxReady?.();
        return;
      case NE2K.TPSR:
        r.tpsr = v;
        return;
      case NE2K.TBCR0:
        r.tbcr = (r.tbcr & 0xff00) | v;
        return;
      case NE2K.TBCR1:
        r.tbcr = (r.tbcr & 0xff) | (v << 8);
        return;
      case NE2K.ISR:
        r.isr &= ~(v & 0x7f);
        return this.updateIrq();
      case NE2K.RSAR0:
        r.rsar = (r.rsar & 0xff00) | v;
        return;
      case NE2K.RSAR1:
        r.rsar = (r.rsar & 0xff) | (v << 8);
        return;
      case NE2K.RBCR0:
        r.rbcr = (r.rbcr & 0xff00) | v;
        return;
      case NE2K.RBCR1:
        r.rbcr = (r.rbcr & 0xff) | (v << 8);
        return;
      case NE2K.RCR:
        r.rcr = v & 0x3f;
        return;
      case NE2K.TCR:
        r.tcr = v & 0x1f;
        return;
      case NE2K.DCR:
        r.dcr = v & 0x7f;
        return;
      case NE2K.IMR:
        r.imr = v & 0x7f;
        return this.updateIrq();
    }
  }

  #command(v: number): void {
    const r = this.#r;
    const wasStopped = (r.cr & CR_STP) !== 0;
    r.cr = v & ~CR_TXP;
    if (v & CR_STP) {
      r.cr = (r.cr & ~CR_STA) | CR_STP;
      r.isr |= NE2K_ISR.RST;
    } else if (v & CR_STA) {
      r.cr &= ~CR_STP;
      r.isr &= ~NE2K_ISR.RST;
      if (wasStopped) this.onRxReady?.();
    }
    // A remote DMA of no bytes completes at once.
    if ((v & CR_RD) === CR_RD_READ || (v & CR_RD) === CR_RD_WRITE) {
      if (r.rbcr === 0) r.isr |= NE2K_ISR.RDC;
    }
    if (v & CR_TXP && !(r.cr & CR_STP)) this.#send();
    this.updateIrq();
  }

  #send(): void {
    const r = this.#r;
    const start = r.tpsr << 8;
    const length = r.tbcr;
    const frame = new Uint8Array(length);
    for (let i = 0; i < length; i++) frame[i] = this.#memByte(start + i);
    // Loopback modes (TCR.LB) keep the frame on the card: nothing goes out.
    if (length > 0 && !(r.tcr & 0x06)) this.send(frame);
    r.tsr = 0x01; // PTX
    r.isr |= NE2K_ISR.PTX;
  }

  /** A byte of the card's address space: the PROM below 0x20, buffer memory from 0x4000. */
  #memByte(addr: number): number {
    addr &= 0xffff;
    if (addr < 0x20) return this.#prom[addr];
    if (addr >= NE2K_MEM_START && addr < NE2K_MEM_END) return this.#mem[addr - NE2K_MEM_START];
    return 0xff;
  }

  #setMemByte(addr: number, v: number): void {
    addr &= 0xffff;
    if (addr >= NE2K_MEM_START && addr < NE2K_MEM_END) this.#mem[addr - NE2K_MEM_START] = v;
  }

  #dataRead(size: AccessSize): number {
    const r = this.#r;
    const n = r.dcr & DCR_WTS ? Math.min(size, 2) : 1;
    let v = 0;
    for (let i = 0; i < n; i++) {
      v |= this.#memByte(r.rsar) << (8 * i);
      this.#advanceDma();
    }
    this.updateIrq();
    return v;
  }

  #dataWrite(size: AccessSize, value: number): void {
    const r = this.#r;
    const n = r.dcr & DCR_WTS ? Math.min(size, 2) : 1;
    for (let i = 0; i < n; i++) {
      this.#setMemByte(r.rsar, (value >>> (8 * i)) & 0xff);
      this.#advanceDma();
    }
    this.updateIrq();
  }

  /** One byte of remote DMA done: RSAR on (wrapping in the ring), RBCR down, RDC at zero. */
  #advanceDma(): void {
    const r = this.#r;
    r.rsar = (r.rsar + 1) & 0xffff;
    if (r.pstop > r.pstart && r.rsar === r.pstop << 8) r.rsar = r.pstart << 8;
    if (r.rbcr > 0 && --r.rbcr === 0) r.isr |= NE2K_ISR.RDC;
  }

  #accepts(frame: Uint8Array): boolean {
    const r = this.#r;
    if (r.rcr & RCR_PRO) return true;
    if (isBroadcast(frame)) return (r.rcr & RCR_AB) !== 0;
    if (frame[0] & 1) return (r.rcr & RCR_AM) !== 0 && multicastHashHit(r.mar, frame);
    return isAddressedTo(frame, r.par);
  }

  receive(input: Uint8Array): boolean {
    const r = this.#r;
    if (r.cr & CR_STP || r.pstop <= r.pstart || r.pstop > NE2K_MEM_END >> 8) return false;
    if (r.pstart < NE2K_MEM_START >> 8) return false;
    if (input.length < 14 || !this.#accepts(input)) {
      this.counters.rxDropped++;
      return true;
    }
    const frame = padFrame(input);
    const total = frame.length + 4;
    const pages = Math.ceil(total / 256);
    const ringPages = r.pstop - r.pstart;
    // Pages free from CURR up to (not including) BNRY.
    const bnry = r.bnry < r.pstart || r.bnry >= r.pstop ? r.pstart : r.bnry;
    const used = (r.curr - bnry + ringPages) % ringPages;
    if (pages >= ringPages - used) return false;
    let next = r.curr + pages;
    if (next >= r.pstop) next -= ringPages;
    const header = [
      RSR_PRX | (frame[0] & 1 ? RSR_PHY : 0),
      next,
      total & 0xff,
      total >> 8,
    ];
    let addr = r.curr << 8;
    const put = (b: number) => {
      this.#setMemByte(addr, b);
      addr++;
      if (addr === r.pstop << 8) addr = r.pstart << 8;
    };
    header.forEach(put);
    frame.forEach(put);
    r.curr = next;
    r.rsr = header[0];
    r.isr |= NE2K_ISR.PRX;
    this.countReceived(input.length);
    this.updateIrq();
    return true;
  }

  protected pending(): boolean {
    return (this.#r.isr & this.#r.imr & 0x7f) !== 0;
  }

  /** Configuration space, registers, buffer memory and counters. */
  snapshot(): Ne2kState {
    const r = this.#r;
    return {
      version: 1,
      config: this.config.snapshot(),
      regs: { ...r, par: [...r.par], mar: [...r.mar] },
      memory: this.#mem.slice(),
      counters: { ...this.counters },
    };
  }

  /** Puts everything back and re-drives INTA#. */
  restore(state: Ne2kState): void {
    const s = StateShape.versioned(this.name, state, 1);
    const o = s.object("regs");
    const byte = (k: string) => o.int(k, 0, 0xff);
    const word = (k: string) => o.int(k, 0, 0xffff);
    const regs: Ne2kRegisters = {
      cr: byte("cr"),
      pstart: byte("pstart"),
      pstop: byte("pstop"),
      bnry: byte("bnry"),
      tpsr: byte("tpsr"),
      tbcr: word("tbcr"),
      isr: byte("isr"),
      rsar: word("rsar"),
      rbcr: word("rbcr"),
      rcr: byte("rcr"),
      tcr: byte("tcr"),
      dcr: byte("dcr"),
      imr: byte("imr"),
      tsr: byte("tsr"),
      rsr: byte("rsr"),
      curr: byte("curr"),
      par: o.ints("par", 0, 0xff, 6),
      mar: o.ints("mar", 0, 0xff, 8),
    };
    const memory = s.bytes("memory", this.#mem.length);
    this.restoreFunction(s, state, () => {
      this.#r = regs;
      this.#mem.set(memory);
    });
  }
}
