import { deepStrictEqual, strictEqual } from "node:assert";
import { ArrayGuestMemory } from "../testing/array_guest_memory.ts";
import { RecordingIrq } from "../testing/recording_irq.ts";
import { E1000 } from "./e1000.ts";
import { Ne2kPci } from "./ne2k_pci.ts";
import type { NicOptions } from "./nic.ts";
import type { PciNic } from "./pci_nic.ts";
import { Rtl8139 } from "./rtl8139.ts";
import { BROADCAST, MAC, nicRig, testFrame } from "./test_support.ts";

const MODELS: [string, (o: NicOptions) => PciNic][] = [
  ["e1000", (o) => new E1000(o)],
  ["rtl8139", (o) => new Rtl8139(o)],
  ["ne2k_pci", (o) => new Ne2kPci(o)],
];

Deno.test("PCI NICs: an Ethernet controller on INTA# with QEMU's subsystem IDs, ROM BAR sized to the ROM", () => {
  for (const [name, make] of MODELS) {
    const bare = make(options());
    strictEqual(bare.config.read(0x08, 4) >>> 8, 0x020000, `${name}: class code`);
    strictEqual(bare.config.read(0x2c, 4), 0x11001af4, `${name}: subsystem`);
    strictEqual(bare.config.read(0x3d, 1), 1, `${name}: INTA#`);
    strictEqual(bare.romSize, 0, `${name}: no ROM, no ROM BAR`);
    const withRom = make({ ...options(), rom: new Uint8Array(5000).fill(0x55) });
    strictEqual(withRom.romSize, 8192, `${name}: the ROM rounded up to a power of two`);
    withRom.config.write(0x30, 4, 0xffffffff);
    strictEqual(withRom.config.read(0x30, 4) >>> 0, 0xffffe001, `${name}: ROM BAR size mask`);
    deepStrictEqual(withRom.mac, MAC);
  }
});

function options(): NicOptions {
  return {
    mac: MAC,
    memory: new ArrayGuestMemory(1 << 16),
    irq: new RecordingIrq(),
    transmit: () => {},
  };
}

Deno.test("PCI NICs: Interrupt Disable in the command register keeps INTA# low", () => {
  const s = nicRig((o) => new Ne2kPci(o));
  const io = s.nic.io;
  io.write(0x00, 1, 0x21); // stop, page 0
  io.write(0x01, 1, 0x46); // PSTART
  io.write(0x03, 1, 0x46); // BNRY
  io.write(0x02, 1, 0x80); // PSTOP
  io.write(0x0c, 1, 0x04); // RCR: broadcast
  io.write(0x07, 1, 0xff); // ISR cleared
  io.write(0x0f, 1, 0x01); // IMR: PRX
  io.write(0x00, 1, 0x61); // page 1
  io.write(0x07, 1, 0x47); // CURR
  io.write(0x00, 1, 0x22); // page 0, start
  s.nic.config.write(0x04, 2, 0x0400);
  strictEqual(s.nic.receive(testFrame(BROADCAST, 64, 1)), true);
  strictEqual(s.nic.counters.rxPackets, 1);
  strictEqual(s.irq.level, false, "masked by Interrupt Disable");
  s.nic.config.write(0x04, 2, 0);
  io.write(0x0f, 1, 0x01); // any IRQ update now sees the cause
  strictEqual(s.irq.level, true);
  s.nic.reset();
  strictEqual(s.irq.level, false, "a PCI reset clears the causes");
});
