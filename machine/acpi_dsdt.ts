/**
 * The PC board's DSDT body (AML), the namespace a Linux guest reads to find
 * the PCI host bridge, its interrupt routing and the ISA devices:
 *
 *     \_SB.PCI0          PNP0A03, _UID 0; _CRS: bus 0-255, the
 *                        configuration ports 0xCF8-0xCFF, I/O windows
 *                        0-0xCF7 and 0xD00-0xFFFF, the VGA window
 *                        0xA0000-0xBFFFF, the 32-bit hole from the end of
 *                        low RAM to 0xFEBFFFFF, a 64-bit window above RAM
 *     \_SB.PCI0._PRT     slot d, pin p (0 = INTA#) -> LNK[A-D] (d + p) & 3,
 *                        the swizzle of devices/pci/pci_irq.ts; 00:01 INTA#
 *                        (the PIIX4 PM function) -> LNKS, the SCI
 *     \_SB.PCI0.ISA      00:01.0; PIRQ: PCI_Config 0x60-0x63 (PIRQRC[A-D])
 *       RTC  PNP0B00     I/O 0x70-0x71, IRQ 8
 *       KBD  PNP0303     I/O 0x60, 0x64, IRQ 1
 *       MOU  PNP0F13     IRQ 12 (Linux's i8042 probes the AUX port only
 *                        when ACPI lists a mouse next to the keyboard)
 *       COM1 PNP0501     I/O 0x3F8-0x3FF, IRQ 4
 *     \_SB.LNKA-LNKD     PNP0C0F links over PIRQRC[A-D]: _STA, _PRS (IRQs 5,
 *                        10, 11, level, active high, shared: as the MADT's
 *                        overrides say), _CRS, _SRS, _DIS
 *     \_SB.LNKS          PNP0C0F, fixed on the SCI's IRQ
 *     \_SB.HPET          PNP0103, _UID 0; _CRS: Memory32Fixed (ReadOnly,
 *                        0xFED00000, 0x400), as QEMU's (without its _STA,
 *                        which hides an HPET that reads as absent: this
 *                        one is always there)
 *     \_SB.Cnnn          ACPI0007 processor devices, _UID = the MADT's
 *                        processor UID
 *     \_S5_              soft off: SLP_TYP 0 for the PIIX4
 *
 * The power button is the FADT's fixed-feature button (PWRBTN_STS/EN in
 * PM1), so the DSDT needs no device for it.
 *
 * @module
 */

import { PIRQ_COUNT, PIRQRC } from "../devices/pci/piix3.ts";
import { SLP_TYP_SOFT_OFF } from "../devices/pci/piix4_pm.ts";
import {
  and,
  arg,
  concat,
  createDWordField,
  derefOf,
  device,
  dwordMemory,
  eisaId,
  elseDo,
  field,
  FIELD_ACCESS,
  FIELD_UPDATE,
  ifThen,
  index,
  integer,
  interrupt,
  io,
  type IrqFlags,
  irqNoFlags,
  lLess,
  memory32Fixed,
  method,
  mutableResourceTemplate,
  name,
  operationRegion,
  or,
  packageOf,
  qwordMemory,
  REGION_SPACE,
  resourceTemplate,
  returnOf,
  scope,
  store,
  string,
  wordBusNumber,
  wordIo,
} from "./aml.ts";
import { IRQ, MMIO, PCI_SLOT, PIIX3_FN, PIO } from "./io_map.ts";
import {
  FOUR_GIB,
  ONE_MIB,
  PCI_HOLE_BASE,
  VGA_WINDOW_BASE,
  VGA_WINDOW_SIZE,
} from "./memory_map.ts";

/** What the DSDT describes. */
export interface DsdtOptions {
  /** vCPUs: one processor device each, _UID 0..cpus-1. */
  readonly cpus: number;
  /** End of RAM below 4 GiB: the 32-bit PCI window starts here (default 0xE0000000). */
  readonly lowRamBytes?: number;
  /** RAM above 4 GiB: the 64-bit window starts above it (default 0). */
  readonly highRamBytes?: number;
  /** ISA IRQ of the SCI (default 9). */
  readonly sciIrq?: number;
}

/** End of the 32-bit PCI window: the I/O APIC, HPET and LAPIC ranges and the BIOS follow. */
export const PCI_WINDOW_END = 0xfebfffff;
/** Size of the 64-bit PCI window (QEMU's i440FX default, 2 GiB). */
export const PCI_WINDOW64_SIZE = 0x80000000;
/** ISA IRQs the PCI links may take (QEMU's choice; SeaBIOS routes PIRQs to 10, 10, 11, 11). */
export const LINK_IRQS: readonly number[] = [5, 10, 11];
/** Names of the links for PIRQA-D. */
export const LINK_NAMES: readonly string[] = ["LNKA", "LNKB", "LNKC", "LNKD"];
/** The link of the PIIX4 PM function's SCI. */
export const SCI_LINK = "LNKS";

const GIB = 0x40000000;
/** The I/O window above the configuration ports (0xCF8-0xCFF) starts at the next 256-byte boundary. */
const IO_WINDOW_HIGH_BASE = 0xd00;
/** PIRQRC bit 7: routing disabled. */
const PIRQ_DISABLED = 0x80;
/** PIRQRC bits 3:0: the ISA IRQ. */
const PIRQ_IRQ_MASK = 0x0f;
/** _STA: present, enabled, shown in UI, functioning. */
const STA_ON = 0x0f;
/** _STA of a link: present, functioning; 0x02 enabled. */
const STA_LINK_DISABLED = 0x09;
const STA_LINK_ENABLED = 0x0b;
/** PCI interrupts as routed through the PIIX3 to the ISA IRQs. */
const PCI_IRQ: IrqFlags = { level: true, activeLow: false, shared: true };
/** Offset of the first interrupt number in an extended interrupt descriptor. */
const INTERRUPT_NUMBER_OFFSET = 5;
/** Where the 64-bit window's base is aligned (as QEMU does, for one large page). */
const WINDOW64_ALIGN = BigInt(GIB);

/** The DSDT's AML (without the table header). */
export function buildDsdtAml(options: DsdtOptions): Uint8Array {
  const sciIrq = options.sciIrq ?? IRQ.SCI;
  const fieldNames = LINK_NAMES.map((_, i) => `PRQ${i}`);
  return concat(
    scope(
      "\\_SB",
      pciHostBridge(options),
      field("PCI0.ISA.PIRQ", { access: FIELD_ACCESS.BYTE, update: FIELD_UPDATE.PRESERVE }, [
        ...fieldNames.map((n) => [n, 8] as const),
      ]),
      ...LINK_NAMES.map((link, i) => pirqLink(link, i, fieldNames[i])),
      sciLink(sciIrq),
      hpet(),
      ...Array.from({ length: options.cpus }, (_, i) => processor(i)),
    ),
    name("\\_S5_", packageOf(SLP_TYP_SOFT_OFF, SLP_TYP_SOFT_OFF, 0, 0)),
  );
}

function pciHostBridge(options: DsdtOptions): Uint8Array {
  // Below 1 MiB everything is RAM, the VGA window or the BIOS, whatever the RAM size.
  const lowRam = Math.max(options.lowRamBytes ?? PCI_HOLE_BASE, ONE_MIB);
  const highRam = BigInt(options.highRamBytes ?? 0);
  const base64 = (BigInt(FOUR_GIB) + highRam + WINDOW64_ALIGN - 1n) / WINDOW64_ALIGN *
    WINDOW64_ALIGN;
  const config = PIO.PCI_CONFIG;
  const crs = resourceTemplate(
    wordBusNumber({ min: 0, max: 0xff }),
    io(config.base, config.base, 1, config.length),
    wordIo({ min: 0, max: config.base - 1 }),
    wordIo({ min: IO_WINDOW_HIGH_BASE, max: 0xffff }),
    dwordMemory({ cacheable: true }, {
      min: VGA_WINDOW_BASE,
      max: VGA_WINDOW_BASE + VGA_WINDOW_SIZE - 1,
    }),
    dwordMemory({ cacheable: false }, { min: lowRam, max: PCI_WINDOW_END }),
    qwordMemory({ cacheable: false }, {
      min: base64,
      max: base64 + BigInt(PCI_WINDOW64_SIZE) - 1n,
    }),
  );
  return device(
    "PCI0",
    // No _ADR beside _HID: a device has one or the other (ACPI 6.5 section 6.1).
    name("_HID", eisaId("PNP0A03")),
    name("_UID", 0),
    name("_CRS", crs),
    name("_PRT", routingTable()),
    isaBridge(),
  );
}

/** One entry per slot and pin: Package { address 0xSSSSFFFF, pin, link, 0 }. */
function routingTable(): Uint8Array {
  const entries: Uint8Array[] = [];
  for (let slot = 0; slot <= PCI_SLOT.LAST; slot++) {
    for (let pin = 0; pin < 4; pin++) {
      const link = slot === PCI_SLOT.PIIX3 && pin === 0 ? SCI_LINK : LINK_NAMES[(slot + pin) & 3];
      entries.push(packageOf(slot * 0x10000 + 0xffff, pin, link, 0));
    }
  }
  return packageOf(...entries);
}

function isaBridge(): Uint8Array {
  const rtc = PIO.RTC;
  const com1 = PIO.COM1;
  return device(
    "ISA",
    name("_ADR", PCI_SLOT.PIIX3 << 16 | PIIX3_FN.ISA),
    operationRegion("PIRQ", REGION_SPACE.PCI_CONFIG, PIRQRC, PIRQ_COUNT),
    device(
      "RTC",
      name("_HID", eisaId("PNP0B00")),
      name("_CRS", resourceTemplate(io(rtc.base, rtc.base, 1, rtc.length), irqNoFlags(IRQ.RTC))),
    ),
    device(
      "KBD",
      name("_HID", eisaId("PNP0303")),
      name("_STA", STA_ON),
      name(
        "_CRS",
        resourceTemplate(
          io(PIO.I8042_DATA.base, PIO.I8042_DATA.base, 1, PIO.I8042_DATA.length),
          io(PIO.I8042_COMMAND.base, PIO.I8042_COMMAND.base, 1, PIO.I8042_COMMAND.length),
          irqNoFlags(IRQ.KEYBOARD),
        ),
      ),
    ),
    device(
      "MOU",
      name("_HID", eisaId("PNP0F13")),
      name("_STA", STA_ON),
      name("_CRS", resourceTemplate(irqNoFlags(IRQ.MOUSE))),
    ),
    device(
      "COM1",
      name("_HID", eisaId("PNP0501")),
      name("_UID", 1),
      name("_STA", STA_ON),
      name(
        "_CRS",
        resourceTemplate(io(com1.base, com1.base, 1, com1.length), irqNoFlags(IRQ.COM1)),
      ),
    ),
  );
}

/**
 * A PCI interrupt link over one PIRQRC register: enabled while bit 7 is
 * clear, its IRQ in bits 3:0.
 */
function pirqLink(link: string, uid: number, reg: string): Uint8Array {
  return device(
    link,
    name("_HID", eisaId("PNP0C0F")),
    name("_UID", uid),
    name("_PRS", resourceTemplate(interrupt(PCI_IRQ, ...LINK_IRQS))),
    method(
      "_STA",
      {},
      ifThen(and(reg, PIRQ_DISABLED), returnOf(STA_LINK_DISABLED)),
      returnOf(STA_LINK_ENABLED),
    ),
    method("_DIS", {}, or(reg, PIRQ_DISABLED, reg)),
    // The current setting: one buffer per link, its IRQ patched on each _CRS.
    name("CRSB", mutableResourceTemplate(interrupt(PCI_IRQ, 0))),
    createDWordField("CRSB", INTERRUPT_NUMBER_OFFSET, "IRQV"),
    method(
      "_CRS",
      { serialized: true },
      ifThen(lLess(reg, PIRQ_DISABLED), store(and(reg, PIRQ_IRQ_MASK), "IRQV")),
      elseDo(store(0, "IRQV")),
      returnOf("CRSB"),
    ),
    // The IRQ (at most 15) is the low byte of the descriptor's interrupt number.
    method(
      "_SRS",
      { args: 1 },
      store(derefOf(index(arg(0), INTERRUPT_NUMBER_OFFSET)), reg),
    ),
  );
}

/** The SCI's link: always on the SCI's IRQ; setting it changes nothing. */
function sciLink(sciIrq: number): Uint8Array {
  const only = resourceTemplate(interrupt(PCI_IRQ, sciIrq));
  return device(
    SCI_LINK,
    name("_HID", eisaId("PNP0C0F")),
    name("_UID", LINK_NAMES.length),
    name("_STA", STA_LINK_ENABLED),
    name("_PRS", only),
    name("_CRS", only),
    method("_SRS", { args: 1 }),
  );
}

/** The HPET's block, as QEMU declares it. */
function hpet(): Uint8Array {
  return device(
    "HPET",
    name("_HID", eisaId("PNP0103")),
    name("_UID", 0),
    name("_CRS", resourceTemplate(memory32Fixed(false, MMIO.HPET.base, MMIO.HPET.length))),
  );
}

/** A processor device; _UID matches the MADT's ACPI processor UID. */
function processor(uid: number): Uint8Array {
  const seg = `C${uid.toString(16).toUpperCase().padStart(3, "0")}`;
  return device(seg, name("_HID", string("ACPI0007")), name("_UID", integer(uid)));
}
