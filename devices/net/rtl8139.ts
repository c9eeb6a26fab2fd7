/**
 * Realtek RTL8139C (10ec:8139) without C+ mode: the register file in I/O
 * BAR0 and memory BAR1, the 93C46 EEPROM (bit-banged through 9346CR, the
 * MAC at words 7-9 as Linux's 8139too and iPXE read it), four transmit
 * descriptors (TSAD/TSD) and the receive ring (RBSTART, CAPR, CBR; 8-64 KiB,
 * with WRAP), the receive filter (IDR, MAR hash, broadcast, all-physical)
 * and ISR/IMR interrupts on INTA#. The PHY is reached through BMCR/BMSR and
 * always has a 100 Mb/s full-duplex link.
 *
 * @module
 */

import type { AccessSize, BusDevice, GuestMemory, Snapshotting } from "../types.ts";
import { GuestMemoryError } from "../types.ts";
import type { PciConfigState, PciFunctionState } from "../pci/config_space.ts";
import { StateShape } from "../state_shape.ts";
import {
  crc32,
  isAddressedTo,
  isBroadcast,
  multicastHashHit,
  type NicCounters,
  type NicOptions,
  padFrame,
} from "./nic.ts";
import { MICROWIRE_WORDS, MicrowireEeprom, type MicrowireWire } from "./microwire_eeprom.ts";
import { PciNic } from "./pci_nic.ts";

/** Register offsets. */
export const RTL = {
  IDR0: 0x00,
  MAR0: 0x08,
  TSD0: 0x10,
  TSAD0: 0x20,
  RBSTART: 0x30,
  CR: 0x37,
  CAPR: 0x38,
  CBR: 0x3a,
  IMR: 0x3c,
  ISR: 0x3e,
  TCR: 0x40,
  RCR: 0x44,
  MPC: 0x4c,
  CR9346: 0x50,
  CONFIG1: 0x52,
  MSR: 0x58,
  TSAD_SUMMARY: 0x60,
  BMCR: 0x62,
  BMSR: 0x64,
  ANAR: 0x66,
  ANLPAR: 0x68,
} as const;

/** ISR/IMR bits. */
export const RTL_INT = {
  ROK: 0x01,
  RER: 0x02,
  TOK: 0x04,
  TER: 0x08,
  RXOVW: 0x10,
  LINK: 0x20,
} as const;

/** Size of the register file (both BARs). */
export const RTL8139_REGS_SIZE = 0x100;
/** 93C46 words. */
export const RTL8139_EEPROM_WORDS = MICROWIRE_WORDS;

const CR_BUFE = 0x01;
const CR_TE = 0x04;
const CR_RE = 0x08;
const CR_RST = 0x10;
const TSD_OWN = 1 << 13;
const TSD_TOK = 1 << 15;
const TSD_SIZE = 0x1fff;
const RCR_AAP = 0x01;
const RCR_APM = 0x02;
const RCR_AM = 0x04;
const RCR_AB = 0x08;
const RCR_WRAP = 0x80;
const RX_ROK = 0x0001;
const RX_BAR = 0x2000;
const RX_PAM = 0x4000;
const RX_MAR = 0x8000;
/** RTL8139C in TCR's hardware version bits (not C+, which Linux drives with 8139cp). */
const TCR_HWVER = 0x74000000;
const EE_CS = 0x08;
const EE_SK = 0x04;
const EE_DI = 0x02;
const EE_DO = 0x01;
const EEM_PROGRAM = 0x80;

/** The EEPROM's serial state (a 93C46 in 64 x 16 mode). */
export type Rtl8139Wire = MicrowireWire;

/** Saved state of an RTL8139. */
export interface Rtl8139State extends PciFunctionState {
  readonly version: 1;
  readonly config: PciConfigState;
  /** The register file. */
  readonly regs: Uint8Array;
  readonly eeprom: number[];
  readonly wire: Rtl8139Wire;
  readonly counters: NicCounters;
}

/** Constructor options of {@link Rtl8139}. */
export type Rtl8139Options = NicOptions;

/** An RTL8139C. */
export class Rtl8139 extends PciNic implements Snapshotting<Rtl8139State> {
  readonly name = "rtl8139";
  /** BAR0 (I/O) and BAR1 (memory): the same registers. */
  readonly regs: BusDevice;
  readonly #file = new Uint8Array(RTL8139_REGS_SIZE);
  readonly #view = new DataView(this.#file.buffer);
  readonly #eeprom = new MicrowireEeprom();
  readonly #memory: GuestMemory;

  /** @param options MAC, guest memory, interrupt line, transmit sink and ROM */
  constructor(options: Rtl8139Options) {
    super({
      vendorId: 0x10ec,
      deviceId: 0x8139,
      revision: 0x10,
      bars: [{ kind: "io", size: RTL8139_REGS_SIZE }, { kind: "mem32", size: RTL8139_REGS_SIZE }],
    }, options);
    this.#memory = options.memory;
    this.regs = {
      read: (offset, size) => this.#read(offset, size),
      write: (offset, size, value) => this.#write(offset, size, value),
    };
    const e = this.#eeprom.words;
    e[0] = 0x8129; // the ID word: 6-bit addresses
    e[1] = 0x10ec;
    e[2] = 0x8139;
    for (let i = 0; i < 3; i++) e[7 + i] = this.mac[2 * i] | (this.mac[2 * i + 1] << 8);
    this.powerOn();
  }

  /** An EEPROM word. */
  eepromWord(index: number): number {
    return this.#eeprom.words[index];
  }

  #u16(at: number): number {
    return this.#view.getUint16(at, true);
  }

  #u32(at: number): number {
    return this.#view.getUint32(at, true);
  }

  #setU16(at: number, v: number): void {
    this.#view.setUint16(at, v & 0xffff, true);
  }

  #setU32(at: number, v: number): void {
    this.#view.setUint32(at, v >>> 0, true);
  }

  protected powerOn(): void {
    this.#file.fill(0);
    this.#file.set(this.mac, RTL.IDR0);
    this.#softReset();
    this.#file[RTL.CONFIG1] = 0x0c; // LWACT, DVRLOAD
    this.#setU16(RTL.BMCR, 0x3100); // 100 Mb/s, autonegotiation, full duplex
    this.#setU16(RTL.BMSR, 0x782d); // link up, autonegotiation complete
    this.#setU16(RTL.ANAR, 0x05e1);
    this.#setU16(RTL.ANLPAR, 0x45e1);
    this.#file[RTL.MSR] = 0x00; // link up (LINKB low), 100 Mb/s
    this.#eeprom.idle();
    this.updateIrq();
  }

  /** CR.RST: the rings, interrupts and receive configuration (not the MAC or PHY). */
  #softReset(): void {
    for (let n = 0; n < 4; n++) this.#setU32(RTL.TSD0 + 4 * n, TSD_OWN);
    this.#file[RTL.CR] = 0;
    this.#setU16(RTL.CAPR, 0xfff0);
    this.#setU16(RTL.CBR, 0);
    this.#setU16(RTL.IMR, 0);
    this.#setU16(RTL.ISR, 0);
    this.#setU32(RTL.TCR, TCR_HWVER);
    this.#setU32(RTL.RCR, 0);
    this.updateIrq();
  }

  #ringSize(): number {
    return 8192 << ((this.#u32(RTL.RCR) >>> 11) & 3);
  }

  /** Where the driver will read next, as a ring offset. */
  #readOffset(): number {
    return (this.#u16(RTL.CAPR) + 16) % this.#ringSize();
  }

  #read(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.#readByte((offset + i) & 0xff);
    return v;
  }

  #readByte(at: number): number {
    if (at === RTL.CR) {
      const empty = this.#readOffset() === this.#u16(RTL.CBR) % this.#ringSize();
      return (this.#file[at] & ~CR_BUFE) | (empty ? CR_BUFE : 0);
    }
    if (at === RTL.TSAD_SUMMARY || at === RTL.TSAD_SUMMARY + 1) {
      let sum = 0;
      for (let n = 0; n < 4; n++) {
        const tsd = this.#u32(RTL.TSD0 + 4 * n);
        if (tsd & TSD_OWN) sum |= 1 << n;
        if (tsd & TSD_TOK) sum |= 1 << (12 + n);
      }
      return at === RTL.TSAD_SUMMARY ? sum & 0xff : sum >> 8;
    }
    if (at === RTL.CR9346) {
      return (this.#file[at] & ~EE_DO) | (this.#eeprom.dataOut ? EE_DO : 0);
    }
    return this.#file[at];
  }

  #write(offset: number, size: AccessSize, value: number): void {
    const at = offset & 0xff;
    // Writing ones clears ISR bits.
    if (at === RTL.ISR && size >= 2) {
      this.#setU16(RTL.ISR, this.#u16(RTL.ISR) & ~value);
      return this.updateIrq();
    }
    for (let i = 0; i < size; i++) {
      this.#writeByte((at + i) & 0xff, Math.floor(value / 2 ** (8 * i)) & 0xff);
    }
    // Effects once the whole access is in.
    if (at >= RTL.TSD0 && at < RTL.TSD0 + 16 && (at & 3) === 0) {
      this.#sendFrom((at - RTL.TSD0) >> 2);
    }
    if (at <= RTL.CAPR + 1 && at + size > RTL.CAPR) this.onRxReady?.();
    if (at <= RTL.IMR + 1 && at + size > RTL.IMR) this.updateIrq();
  }

  #writeByte(at: number, v: number): void {
    switch (at) {
      case RTL.CR:
        if (v & CR_RST) return this.#softReset();
        this.#file[at] = v & (CR_TE | CR_RE);
        if (v & CR_RE) this.onRxReady?.();
        return;
      case RTL.ISR:
      case RTL.ISR + 1:
        this.#file[at] &= ~v;
        return this.updateIrq();
      case RTL.CBR:
      case RTL.CBR + 1:
      case RTL.MSR:
      case RTL.BMSR:
      case RTL.BMSR + 1:
      case RTL.TSAD_SUMMARY:
      case RTL.TSAD_SUMMARY + 1:
        return; // read-only
      case RTL.TCR + 3:
      case RTL.TCR + 2:
        // The hardware version bits (30-26, 23-22) stay.
        this.#file[at] = (this.#file[at] & (TCR_HWVER >>> (8 * (at - RTL.TCR)))) |
          (v & ~(0x7cc00000 >>> (8 * (at - RTL.TCR))) & 0xff);
        return;
      case RTL.MPC:
      case RTL.MPC + 1:
      case RTL.MPC + 2:
      case RTL.MPC + 3:
        this.#file[at] = 0; // a write clears the missed-packet count
        return;
      case RTL.CR9346:
        return this.#writeEeprom(v);
      case RTL.BMCR + 1:
        this.#file[at] = v & ~0x82; // reset and restart-autonegotiation clear themselves
        return;
    }
    this.#file[at] = v;
  }

  /** The 93C46's pins, bit-banged while 9346CR's EEM is 10 (program). */
  #writeEeprom(v: number): void {
    this.#file[RTL.CR9346] = v & ~EE_DO;
    if ((v & 0xc0) !== EEM_PROGRAM) return this.#eeprom.idle();
    this.#eeprom.drive((v & EE_CS) !== 0, (v & EE_SK) !== 0, (v & EE_DI) !== 0);
  }

  /** A TSD write hands descriptor `n` to the device: send SIZE bytes from TSADn. */
  #sendFrom(n: number): void {
    const tsd = this.#u32(RTL.TSD0 + 4 * n);
    if (tsd & TSD_OWN || !(this.#file[RTL.CR] & CR_TE)) return;
    const size = tsd & TSD_SIZE;
    let frame: Uint8Array | null = null;
    try {
      frame = this.#memory.read(this.#u32(RTL.TSAD0 + 4 * n), size);
    } catch (e) {
      // A buffer outside RAM (a master abort): the frame is lost, the descriptor aborted.
      if (!(e instanceof GuestMemoryError)) throw e;
    }
    if (frame && size > 0) {
      this.send(frame);
      this.#setU32(RTL.TSD0 + 4 * n, tsd | TSD_OWN | TSD_TOK);
      this.#raise(RTL_INT.TOK);
    } else {
      this.#setU32(RTL.TSD0 + 4 * n, tsd | TSD_OWN | (1 << 30)); // TABT
      this.#raise(RTL_INT.TER);
    }
  }

  /** Whether the receive filter takes a frame, and the header's match bits. */
  #match(frame: Uint8Array): number {
    const rcr = this.#u32(RTL.RCR);
    if (isBroadcast(frame)) return rcr & (RCR_AB | RCR_AAP) ? RX_BAR : 0;
    if (frame[0] & 1) {
      if (rcr & RCR_AAP) return RX_MAR;
      if (!(rcr & RCR_AM)) return 0;
      return multicastHashHit(this.#file.subarray(RTL.MAR0, RTL.MAR0 + 8), frame) ? RX_MAR : 0;
    }
    const ours = isAddressedTo(frame, this.#file.subarray(RTL.IDR0, RTL.IDR0 + 6));
    if (ours && rcr & RCR_APM) return RX_PAM;
    return rcr & RCR_AAP ? RX_PAM : 0;
  }

  receive(input: Uint8Array): boolean {
    if (!(this.#file[RTL.CR] & CR_RE)) return false;
    const matched = input.length >= 14 ? this.#match(input) : 0;
    if (!matched) {
      this.counters.rxDropped++;
      return true;
    }
    const frame = padFrame(input);
    const size = this.#ringSize();
    const write = this.#u16(RTL.CBR) % size;
    const read = this.#readOffset();
    const length = frame.length + 4;
    const needed = (4 + length + 3) & ~3;
    const free = read === write ? size : (read - write + size) % size;
    // Keep one dword free so a full ring never reads as empty.
    if (needed >= free) return false;
    const packet = new Uint8Array(4 + length);
    const view = new DataView(packet.buffer);
    view.setUint16(0, RX_ROK | matched, true);
    view.setUint16(2, length, true);
    packet.set(frame, 4);
    view.setUint32(4 + frame.length, crc32(frame), true);
    const base = this.#u32(RTL.RBSTART);
    try {
      if (this.#u32(RTL.RCR) & RCR_WRAP || write + packet.length <= size) {
        // WRAP: the packet runs on past the ring's end (drivers leave room there).
        this.#memory.write(base + write, packet);
      } else {
        const first = size - write;
        this.#memory.write(base + write, packet.subarray(0, first));
        this.#memory.write(base, packet.subarray(first));
      }
    } catch (e) {
      if (!(e instanceof GuestMemoryError)) throw e;
      this.counters.rxDropped++;
      return true;
    }
    this.#setU16(RTL.CBR, (write + needed) % size);
    this.countReceived(input.length);
    this.#raise(RTL_INT.ROK);
    return true;
  }

  #raise(bits: number): void {
    this.#setU16(RTL.ISR, this.#u16(RTL.ISR) | bits);
    this.updateIrq();
  }

  protected pending(): boolean {
    return (this.#u16(RTL.ISR) & this.#u16(RTL.IMR)) !== 0;
  }

  /** Configuration space, registers, EEPROM and its wire. */
  snapshot(): Rtl8139State {
    return {
      version: 1,
      config: this.config.snapshot(),
      regs: this.#file.slice(),
      ...this.#eeprom.snapshot(),
      counters: { ...this.counters },
    };
  }

  /** Puts everything back and re-drives INTA#. */
  restore(state: Rtl8139State): void {
    const s = StateShape.versioned(this.name, state, 1);
    const regs = s.bytes("regs", RTL8139_REGS_SIZE);
    const eeprom = MicrowireEeprom.read(s);
    this.restoreFunction(s, state, () => {
      this.#file.set(regs);
      this.#eeprom.restore(eeprom);
    });
  }
}
