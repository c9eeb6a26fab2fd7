/**
 * Intel 82540EM Gigabit Ethernet (8086:100e), the e1000 QEMU's PC offers:
 * the register file in a 128 KiB memory BAR0 and through IOADDR/IODATA in
 * I/O BAR1; the 64-word EEPROM (read by EERD or bit-banged Microwire through
 * EECD, checksum 0xBABA); the M88E1011 PHY behind MDIC; legacy and extended
 * transmit descriptors (context descriptors with IP/TCP/UDP checksum
 * insertion; TCP segmentation offload is not implemented and such frames
 * are sent as one); legacy receive descriptors with the receive filter
 * (RAL/RAH, MTA, UPE/MPE/BAM), FCS appended unless RCTL.SECRC; and the
 * interrupt cause, set, mask and clear registers driving INTA#.
 * Interrupts are not throttled: ITR, RDTR and TIDV are kept but not timed.
 *
 * @module
 */

import type { AccessSize, BusDevice, GuestMemory, Snapshotting } from "../types.ts";
import { GuestMemoryError } from "../types.ts";
import type { PciConfigState, PciFunctionState } from "../pci/config_space.ts";
import { StateShape } from "../state_shape.ts";
import { crc32, isBroadcast, type NicCounters, type NicOptions, padFrame } from "./nic.ts";
import { MICROWIRE_WORDS, MicrowireEeprom, type MicrowireWire } from "./microwire_eeprom.ts";
import { PciNic } from "./pci_nic.ts";
import { inetChecksum } from "./checksum.ts";

/** Register offsets (bytes into BAR0). */
export const REG = {
  CTRL: 0x0000,
  STATUS: 0x0008,
  EECD: 0x0010,
  EERD: 0x0014,
  CTRL_EXT: 0x0018,
  MDIC: 0x0020,
  FCAL: 0x0028,
  FCAH: 0x002c,
  FCT: 0x0030,
  VET: 0x0038,
  ICR: 0x00c0,
  ITR: 0x00c4,
  ICS: 0x00c8,
  IMS: 0x00d0,
  IMC: 0x00d8,
  RCTL: 0x0100,
  FCTTV: 0x0170,
  TCTL: 0x0400,
  TIPG: 0x0410,
  LEDCTL: 0x0e00,
  PBA: 0x1000,
  RDBAL: 0x2800,
  RDBAH: 0x2804,
  RDLEN: 0x2808,
  RDH: 0x2810,
  RDT: 0x2818,
  RDTR: 0x2820,
  RADV: 0x282c,
  TDBAL: 0x3800,
  TDBAH: 0x3804,
  TDLEN: 0x3808,
  TDH: 0x3810,
  TDT: 0x3818,
  TIDV: 0x3820,
  TXDCTL: 0x3828,
  TADV: 0x382c,
  STATS: 0x4000,
  STATS_END: 0x4100,
  GPRC: 0x4074,
  GPTC: 0x4080,
  GORCL: 0x4088,
  GOTCL: 0x4090,
  TPR: 0x40d0,
  TPT: 0x40d4,
  MTA: 0x5200,
  RA: 0x5400,
  VFTA: 0x5600,
  WUC: 0x5800,
  MANC: 0x5820,
} as const;

/** Interrupt cause bits. */
export const ICR = {
  TXDW: 0x01,
  TXQE: 0x02,
  LSC: 0x04,
  RXDMT0: 0x10,
  RXO: 0x40,
  RXT0: 0x80,
  MDAC: 0x200,
} as const;

const CTRL_SLU = 1 << 6;
const CTRL_RST = 1 << 26;
const CTRL_PHY_RST = 1 << 31;
const STATUS_FD = 1;
const STATUS_LU = 2;
const STATUS_SPEED_1000 = 2 << 6;
const RCTL_EN = 1 << 1;
const RCTL_UPE = 1 << 3;
const RCTL_MPE = 1 << 4;
const RCTL_BAM = 1 << 15;
const RCTL_BSEX = 1 << 25;
const RCTL_SECRC = 1 << 26;
const TCTL_EN = 1 << 1;
const EERD_START = 1;
const EERD_DONE = 1 << 4;
const MDIC_OP_WRITE = 1 << 26;
const MDIC_OP_READ = 2 << 26;
const MDIC_READY = 1 << 28;
const MDIC_ERROR = 1 << 30;
const EECD_SK = 1;
const EECD_CS = 2;
const EECD_DI = 4;
const EECD_DO = 8;
const EECD_REQ = 1 << 6;
const EECD_GNT = 1 << 7;
const EECD_PRES = 1 << 8;
const TXD_CMD_EOP = 0x01;
const TXD_CMD_RS = 0x08;
const TXD_CMD_DEXT = 0x20;
const TXD_STA_DD = 0x01;
const TXD_POPTS_IXSM = 0x01;
const TXD_POPTS_TXSM = 0x02;
const RXD_STA_DD = 0x01;
const RXD_STA_EOP = 0x02;
const RAH_AV = 0x80000000;

/** Size of memory BAR0. */
export const E1000_MMIO_SIZE = 0x20000;
/** Size of I/O BAR1 (IOADDR at 0, IODATA at 4). */
export const E1000_IO_SIZE = 0x40;
/** EEPROM words (a 93C46-sized Microwire part). */
export const E1000_EEPROM_WORDS = MICROWIRE_WORDS;
/** The PHY's MDIO address. */
export const E1000_PHY_ADDR = 1;

/** The transmit context of the last context descriptor. */
interface TxContext {
  ipcss: number;
  ipcso: number;
  ipcse: number;
  tucss: number;
  tucso: number;
  tucse: number;
}

/** Saved state of an e1000. */
export interface E1000State extends PciFunctionState {
  readonly version: 1;
  readonly config: PciConfigState;
  /** Non-zero registers as [byte offset, value] pairs. */
  readonly regs: [number, number][];
  readonly eeprom: number[];
  readonly phy: number[];
  readonly ioAddr: number;
  readonly wire: MicrowireWire;
  readonly txContext: TxContext;
  /** Bytes of a frame whose EOP descriptor has not come yet. */
  readonly txPartial: Uint8Array;
  /** Checksum options of that frame (POPTS of its first data descriptor). */
  readonly txPopts: number;
  readonly counters: NicCounters;
}

/** Constructor options of {@link E1000}. */
export type E1000Options = NicOptions;

const REG_COUNT = E1000_MMIO_SIZE / 4;
const PHY_INIT: Record<number, number> = {
  0x00: 0x1140, // control: autoneg, full duplex, 1000 Mb/s
  0x01: 0x796d, // status: link up, autoneg complete
  0x02: 0x0141, // Marvell
  0x03: 0x0c20, // 88E1011
  0x04: 0x0de1,
  0x05: 0x45e1,
  0x06: 0x0007,
  0x09: 0x0e00,
  0x0a: 0x3c00,
  0x0f: 0x3000,
  0x10: 0x0360,
  0x11: 0xac00,
  0x14: 0x0d60,
};

/** An 82540EM. */
export class E1000 extends PciNic implements Snapshotting<E1000State> {
  readonly name = "e1000";
  /** BAR0: the register file. */
  readonly mmio: BusDevice;
  /** BAR1: IOADDR/IODATA. */
  readonly io: BusDevice;
  readonly #regs = new Uint32Array(REG_COUNT);
  readonly #eeprom = new MicrowireEeprom();
  readonly #phy = new Uint16Array(32);
  readonly #memory: GuestMemory;
  #ioAddr = 0;
  #ctx: TxContext = { ipcss: 0, ipcso: 0, ipcse: 0, tucss: 0, tucso: 0, tucse: 0 };
  #txParts: Uint8Array[] = [];
  #txPopts = 0;

  /** @param options MAC, guest memory, interrupt line, transmit sink and ROM */
  constructor(options: E1000Options) {
    super({
      vendorId: 0x8086,
      deviceId: 0x100e,
      revision: 3,
      bars: [{ kind: "mem32", size: E1000_MMIO_SIZE }, { kind: "io", size: E1000_IO_SIZE }],
    }, options);
    this.#memory = options.memory;
    this.mmio = {
      read: (offset, size) => this.#mmioRead(offset, size),
      write: (offset, size, value) => this.#mmioWrite(offset, size, value),
    };
    this.io = {
      read: (offset, size) => this.#ioRead(offset, size),
      write: (offset, size, value) => this.#ioWrite(offset, size, value),
    };
    this.#buildEeprom();
    this.powerOn();
  }

  /** A register's value, for tests and the devices pane. */
  register(offset: number): number {
    return this.#regs[offset >>> 2];
  }

  /** An EEPROM word. */
  eepromWord(index: number): number {
    return this.#eeprom.words[index];
  }

  #buildEeprom(): void {
    const e = this.#eeprom.words;
    e.fill(0);
    for (let i = 0; i < 3; i++) e[i] = this.mac[2 * i] | (this.mac[2 * i + 1] << 8);
    e[0x05] = 0x0000; // image version
    e[0x08] = 0x2000; // PBA part number
    e[0x09] = 0x0000;
    e[0x0a] = 0x4408; // init control 1: valid signature
    e[0x0b] = 0x1af4; // subsystem ID/vendor as on PCI
    e[0x0c] = 0x1100;
    e[0x0d] = 0x100e; // device ID
    e[0x0e] = 0x8086; // vendor ID
    e[0x0f] = 0x3040; // init control 2
    let sum = 0;
    for (let i = 0; i < 0x3f; i++) sum += e[i];
    e[0x3f] = (0xbaba - sum) & 0xffff;
  }

  protected powerOn(): void {
    this.#regs.fill(0);
    this.#phy.fill(0);
    for (const [r, v] of Object.entries(PHY_INIT)) this.#phy[Number(r)] = v;
    this.#set(REG.CTRL, CTRL_SLU | (1 << 3) | (1 << 9)); // SLU, LRST clear, ASDE, speed 1000
    this.#set(REG.STATUS, STATUS_FD | STATUS_LU | STATUS_SPEED_1000);
    this.#set(REG.EECD, EECD_PRES | EECD_GNT);
    this.#set(REG.MDIC, MDIC_READY);
    this.#set(REG.PBA, 0x00100030);
    this.#set(REG.LEDCTL, 0x07068302);
    this.#set(REG.MANC, 0x00060000);
    this.#set(REG.VET, 0x8100);
    // The hardware loads receive address 0 from the EEPROM.
    this.#set(
      REG.RA,
      this.mac[0] | (this.mac[1] << 8) | (this.mac[2] << 16) | (this.mac[3] << 24),
    );
    this.#set(REG.RA + 4, (this.mac[4] | (this.mac[5] << 8) | RAH_AV) >>> 0);
    this.#ioAddr = 0;
    this.#eeprom.idle();
    this.#ctx = { ipcss: 0, ipcso: 0, ipcse: 0, tucss: 0, tucso: 0, tucse: 0 };
    this.#txParts = [];
    this.#txPopts = 0;
    this.updateIrq();
  }

  #get(offset: number): number {
    return this.#regs[offset >>> 2];
  }

  #set(offset: number, value: number): void {
    this.#regs[offset >>> 2] = value >>> 0;
  }

  #ioRead(offset: number, size: AccessSize): number {
    if (offset === 0) return this.#ioAddr;
    if (offset === 4 && size === 4) return this.#read32(this.#ioAddr & (E1000_MMIO_SIZE - 4));
    return 0xffffffff >>> (32 - 8 * size);
  }

  #ioWrite(offset: number, size: AccessSize, value: number): void {
    if (offset === 0 && size === 4) this.#ioAddr = value >>> 0;
    else if (offset === 4 && size === 4) {
      this.#write32(this.#ioAddr & (E1000_MMIO_SIZE - 4), value >>> 0);
    }
  }

  #mmioRead(offset: number, size: AccessSize): number {
    const aligned = offset & ~3;
    const v = this.#read32(aligned);
    const shift = (offset & 3) * 8;
    return size === 4 ? v : (v >>> shift) & ((1 << (8 * size)) - 1);
  }

  #mmioWrite(offset: number, size: AccessSize, value: number): void {
    const aligned = offset & ~3;
    if (size === 4) return this.#write32(aligned, value >>> 0);
    // Narrow writes merge into the register (drivers use 32-bit accesses).
    const shift = (offset & 3) * 8;
    const mask = ((1 << (8 * size)) - 1) << shift;
    this.#write32(aligned, ((this.#get(aligned) & ~mask) | ((value << shift) & mask)) >>> 0);
  }

  #read32(r: number): number {
    switch (r) {
      case REG.ICR: {
        // Reading ICR clears every cause.
        const v = this.#get(REG.ICR);
        this.#set(REG.ICR, 0);
        this.updateIrq();
        return v;
      }
      case REG.IMC:
      case REG.ICS:
        return 0;
      case REG.EECD:
        return this.#readEecd();
    }
    if (r >= REG.STATS && r < REG.STATS_END) {
      // Statistics clear on read.
      const v = this.#get(r);
      this.#set(r, 0);
      return v;
    }
    return this.#get(r);
  }

  #write32(r: number, v: number): void {
    switch (r) {
      case REG.CTRL:
        if (v & CTRL_RST) {
          this.powerOn();
          return;
        }
        if (v & CTRL_PHY_RST) v &= ~CTRL_PHY_RST;
        this.#set(r, v);
        return;
      case REG.STATUS:
        return; // read-only
      case REG.EECD:
        return this.#writeEecd(v);
      case REG.EERD: {
        const addr = (v >>> 8) & 0xff;
        if (!(v & EERD_START)) return this.#set(r, v);
        const data = addr < E1000_EEPROM_WORDS ? this.#eeprom.words[addr] : 0;
        this.#set(r, ((data << 16) | (addr << 8) | EERD_DONE) >>> 0);
        return;
      }
      case REG.MDIC:
        return this.#writeMdic(v);
      case REG.ICR:
        // Writing 1s clears those causes.
        this.#set(r, this.#get(r) & ~v);
        return this.updateIrq();
      case REG.ICS:
        return this.#raise(v);
      case REG.IMS:
        this.#set(REG.IMS, this.#get(REG.IMS) | v);
        return this.updateIrq();
      case REG.IMC:
        this.#set(REG.IMS, this.#get(REG.IMS) & ~v);
        return this.updateIrq();
      case REG.RCTL: {
        this.#set(r, v);
        if (v & RCTL_EN) this.onRxReady?.();
        return;
      }
      case REG.RDT:
        this.#set(r, v & 0xffff);
        this.onRxReady?.();
        return;
      case REG.RDH:
      case REG.TDH:
        return this.#set(r, v & 0xffff);
      case REG.RDLEN:
      case REG.TDLEN:
        return this.#set(r, v & 0xfff80);
      case REG.TDT:
        this.#set(r, v & 0xffff);
        return this.#processTx();
      case REG.TCTL:
        this.#set(r, v);
        return this.#processTx();
    }
    if (r >= REG.STATS && r < REG.STATS_END) return;
    this.#set(r, v);
  }

  #writeMdic(v: number): void {
    const phyAddr = (v >>> 21) & 0x1f;
    const reg = (v >>> 16) & 0x1f;
    const op = v & (3 << 26);
    let out = v & 0x03ffffff;
    if (phyAddr !== E1000_PHY_ADDR) out |= MDIC_ERROR;
    else if (op === MDIC_OP_READ) out = (out & ~0xffff) | this.#phy[reg];
    else if (op === MDIC_OP_WRITE) {
      // Control's reset and restart-autoneg bits clear themselves.
      this.#phy[reg] = reg === 0 ? v & 0xffff & ~0x8200 : v & 0xffff;
    }
    this.#set(REG.MDIC, (out | MDIC_READY) >>> 0);
    if (v & (1 << 29)) this.#raise(ICR.MDAC);
  }

  #readEecd(): number {
    let v = (this.#get(REG.EECD) & ~EECD_DO) | (this.#eeprom.dataOut ? EECD_DO : 0);
    // Firmware never competes for the EEPROM: a request is granted at once.
    if (v & EECD_REQ) v |= EECD_GNT;
    return (v | EECD_PRES) >>> 0;
  }

  /** The Microwire EEPROM's pins, bit-banged. */
  #writeEecd(v: number): void {
    this.#eeprom.drive((v & EECD_CS) !== 0, (v & EECD_SK) !== 0, (v & EECD_DI) !== 0);
    const keep = EECD_SK | EECD_CS | EECD_DI | EECD_REQ;
    this.#set(REG.EECD, ((this.#get(REG.EECD) & ~keep) | (v & keep)) >>> 0);
  }

  #raise(cause: number): void {
    this.#set(REG.ICR, this.#get(REG.ICR) | cause);
    this.updateIrq();
  }

  protected pending(): boolean {
    return (this.#get(REG.ICR) & this.#get(REG.IMS)) !== 0;
  }

  #ringBase(lo: number): number {
    return this.#get(lo + 4) * 2 ** 32 + this.#get(lo);
  }

  #processTx(): void {
    if (!(this.#get(REG.TCTL) & TCTL_EN)) return;
    const count = this.#get(REG.TDLEN) / 16;
    if (count === 0) return;
    const base = this.#ringBase(REG.TDBAL);
    let head = this.#get(REG.TDH) % count;
    const tail = this.#get(REG.TDT) % count;
    let done = false;
    // At most one lap: a guest cannot make this loop forever.
    for (let n = 0; head !== tail && n < count; n++) {
      try {
        this.#txDescriptor(base + head * 16);
      } catch (e) {
        // A descriptor or buffer outside RAM (a master abort): the frame is lost.
        if (!(e instanceof GuestMemoryError)) throw e;
        this.#txParts = [];
      }
      head = (head + 1) % count;
      done = true;
    }
    this.#set(REG.TDH, head);
    if (done) this.#raise(ICR.TXDW | (head === tail ? ICR.TXQE : 0));
  }

  #txDescriptor(d: number): void {
    const cmd = this.#memory.readU8(d + 11);
    const dext = (cmd & TXD_CMD_DEXT) !== 0;
    const dtyp = (this.#memory.readU8(d + 10) >> 4) & 0xf;
    if (dext && dtyp === 0) this.#txContext(d);
    else {
      const addr = this.#memory.readU64(d);
      const length = dext ? this.#memory.readU32(d + 8) & 0xfffff : this.#memory.readU16(d + 8);
      if (this.#txParts.length === 0) this.#txPopts = dext ? this.#memory.readU8(d + 13) : 0;
      if (length > 0) this.#txParts.push(this.#memory.read(addr, Math.min(length, 0x10000)));
      if (cmd & TXD_CMD_EOP) this.#sendFrame();
    }
    if (cmd & TXD_CMD_RS) {
      this.#memory.writeU8(d + 12, this.#memory.readU8(d + 12) | TXD_STA_DD);
    }
  }

  #txContext(d: number): void {
    const m = this.#memory;
    this.#ctx = {
      ipcss: m.readU8(d),
      ipcso: m.readU8(d + 1),
      ipcse: m.readU16(d + 2),
      tucss: m.readU8(d + 4),
      tucso: m.readU8(d + 5),
      tucse: m.readU16(d + 6),
    };
  }

  #sendFrame(): void {
    const total = this.#txParts.reduce((n, p) => n + p.length, 0);
    const frame = new Uint8Array(total);
    let at = 0;
    for (const p of this.#txParts) {
      frame.set(p, at);
      at += p.length;
    }
    this.#txParts = [];
    if (this.#txPopts & TXD_POPTS_IXSM) {
      this.#insertChecksum(frame, this.#ctx.ipcss, this.#ctx.ipcso, this.#ctx.ipcse);
    }
    if (this.#txPopts & TXD_POPTS_TXSM) {
      this.#insertChecksum(frame, this.#ctx.tucss, this.#ctx.tucso, this.#ctx.tucse);
    }
    this.#bumpStat(REG.GPTC, 1);
    this.#bumpStat(REG.TPT, 1);
    this.#bumpStat(REG.GOTCL, frame.length);
    // IFCS (append the FCS on the wire) needs nothing: the network side never sees an FCS.
    this.send(frame);
  }

  /** Adds the one's-complement sum of [start, end] to the 16 bits at `offset` (the driver seeded it). */
  #insertChecksum(frame: Uint8Array, start: number, offset: number, end: number): void {
    const stop = end === 0 ? frame.length : Math.min(end + 1, frame.length);
    if (start >= stop || offset + 2 > frame.length) return;
    const sum = inetChecksum(frame.subarray(start, stop));
    frame[offset] = sum >> 8;
    frame[offset + 1] = sum & 0xff;
  }

  #bumpStat(r: number, by: number): void {
    this.#set(r, Math.min(0xffffffff, this.#get(r) + by));
  }

  /** Whether the receive filter takes a frame for `dst`. */
  #accepts(frame: Uint8Array): boolean {
    const rctl = this.#get(REG.RCTL);
    if (rctl & RCTL_UPE) return true;
    if (isBroadcast(frame)) return (rctl & RCTL_BAM) !== 0;
    if (frame[0] & 1) {
      if (rctl & RCTL_MPE) return true;
      const shift = [4, 3, 2, 0][(rctl >>> 12) & 3];
      const hash = ((frame[4] >> shift) | (frame[5] << (8 - shift))) & 0xfff;
      return ((this.#get(REG.MTA + (hash >>> 5) * 4) >>> (hash & 31)) & 1) !== 0;
    }
    const lo = frame[0] | (frame[1] << 8) | (frame[2] << 16) | (frame[3] << 24);
    const hi = frame[4] | (frame[5] << 8);
    for (let i = 0; i < 16; i++) {
      const rah = this.#get(REG.RA + 8 * i + 4);
      if ((rah & RAH_AV) && (rah & 0xffff) === hi && this.#get(REG.RA + 8 * i) === lo >>> 0) {
        return true;
      }
    }
    return false;
  }

  #bufferSize(): number {
    const rctl = this.#get(REG.RCTL);
    const size = [2048, 1024, 512, 256][(rctl >>> 16) & 3];
    return rctl & RCTL_BSEX && size !== 2048 ? size * 16 : size;
  }

  /** Descriptors the guest has given and the device has not used. */
  #rxFree(): number {
    const count = this.#get(REG.RDLEN) / 16;
    if (count === 0) return 0;
    const head = this.#get(REG.RDH) % count;
    const tail = this.#get(REG.RDT) % count;
    return (tail - head + count) % count;
  }

  receive(input: Uint8Array): boolean {
    if (!(this.#get(REG.RCTL) & RCTL_EN) || !(this.#get(REG.STATUS) & STATUS_LU)) return false;
    if (input.length < 14 || !this.#accepts(input)) {
      this.counters.rxDropped++;
      return true;
    }
    let frame = padFrame(input);
    if (!(this.#get(REG.RCTL) & RCTL_SECRC)) {
      const withFcs = new Uint8Array(frame.length + 4);
      withFcs.set(frame);
      new DataView(withFcs.buffer).setUint32(frame.length, crc32(frame), true);
      frame = withFcs;
    }
    const bufSize = this.#bufferSize();
    const needed = Math.ceil(frame.length / bufSize);
    if (this.#rxFree() < needed) {
      if (this.#rxFree() === 0) this.#raise(ICR.RXO);
      return false;
    }
    const count = this.#get(REG.RDLEN) / 16;
    const base = this.#ringBase(REG.RDBAL);
    let head = this.#get(REG.RDH) % count;
    try {
      for (let at = 0; at < frame.length; at += bufSize) {
        const d = base + head * 16;
        const part = frame.subarray(at, Math.min(at + bufSize, frame.length));
        this.#memory.write(this.#memory.readU64(d), part);
        this.#memory.writeU16(d + 8, part.length);
        this.#memory.writeU16(d + 10, 0);
        this.#memory.writeU8(d + 13, 0);
        const last = at + bufSize >= frame.length;
        this.#memory.writeU8(d + 12, RXD_STA_DD | (last ? RXD_STA_EOP : 0));
        head = (head + 1) % count;
      }
    } catch (e) {
      // A ring or buffer outside RAM (a master abort): the frame is lost.
      if (!(e instanceof GuestMemoryError)) throw e;
      this.counters.rxDropped++;
      return true;
    }
    this.#set(REG.RDH, head);
    this.countReceived(input.length);
    this.#bumpStat(REG.GPRC, 1);
    this.#bumpStat(REG.TPR, 1);
    this.#bumpStat(REG.GORCL, frame.length);
    let cause = ICR.RXT0;
    // RDMTS: free descriptors at or below 1/2, 1/4 or 1/8 of the ring.
    const threshold = count >> (1 + ((this.#get(REG.RCTL) >>> 8) & 3));
    if (this.#rxFree() <= threshold) cause |= ICR.RXDMT0;
    this.#raise(cause);
    return true;
  }

  /** Configuration space, registers, EEPROM, PHY and transmit progress. */
  snapshot(): E1000State {
    const regs: [number, number][] = [];
    this.#regs.forEach((v, i) => {
      if (v !== 0) regs.push([i * 4, v]);
    });
    const parts = this.#txParts;
    const partial = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      partial.set(p, at);
      at += p.length;
    }
    return {
      version: 1,
      config: this.config.snapshot(),
      regs,
      ...this.#eeprom.snapshot(),
      phy: [...this.#phy],
      ioAddr: this.#ioAddr,
      txContext: { ...this.#ctx },
      txPartial: partial,
      txPopts: this.#txPopts,
      counters: { ...this.counters },
    };
  }

  /** Puts everything back and re-drives INTA#. */
  restore(state: E1000State): void {
    const s = StateShape.versioned(this.name, state, 1);
    const regs = s.array("regs");
    for (const [i, pair] of regs.entries()) {
      if (
        !Array.isArray(pair) || pair.length !== 2 || !Number.isInteger(pair[0]) ||
        pair[0] < 0 || pair[0] >= E1000_MMIO_SIZE || pair[0] % 4 !== 0 ||
        !Number.isInteger(pair[1]) || pair[1] < 0 || pair[1] > 0xffffffff
      ) {
        s.fail(`regs[${i}]`, "must be [register offset, u32 value]");
      }
    }
    const eeprom = MicrowireEeprom.read(s);
    const phy = s.ints("phy", 0, 0xffff, 32);
    const ioAddr = s.int("ioAddr", 0, 0xffffffff);
    const c = s.object("txContext");
    const ctx: TxContext = {
      ipcss: c.int("ipcss", 0, 0xff),
      ipcso: c.int("ipcso", 0, 0xff),
      ipcse: c.int("ipcse", 0, 0xffff),
      tucss: c.int("tucss", 0, 0xff),
      tucso: c.int("tucso", 0, 0xff),
      tucse: c.int("tucse", 0, 0xffff),
    };
    const partial = s.bytes("txPartial");
    const popts = s.int("txPopts", 0, 0xff);
    this.restoreFunction(s, state, () => {
      this.#regs.fill(0);
      for (const [off, v] of regs as [number, number][]) this.#regs[off >>> 2] = v;
      this.#eeprom.restore(eeprom);
      this.#phy.set(phy);
      this.#ioAddr = ioAddr;
      this.#ctx = ctx;
      this.#txParts = partial.length ? [partial.slice()] : [];
      this.#txPopts = popts;
    });
  }
}
