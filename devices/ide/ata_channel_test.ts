import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import { AtaChannel } from "./ata_channel.ts";
import { DC_NIEN } from "./ata_constants.ts";
import { MemoryBackend } from "../testing/memory_backend.ts";
import { patternedImage, PortHost, RecordingIrq, word } from "./test_utils.ts";

function diskAndCd() {
  const irq = new RecordingIrq();
  const channel = new AtaChannel({
    irq,
    master: { kind: "disk", backend: patternedImage(2048) },
    slave: { kind: "cdrom", backend: new MemoryBackend(2048 * 16, true) },
  });
  return { irq, channel, host: new PortHost(channel) };
}

Deno.test("channel: an empty channel floats (all ones)", () => {
  const channel = new AtaChannel({ irq: new RecordingIrq() });
  const host = new PortHost(channel);
  strictEqual(host.status(), 0xff);
  strictEqual(host.altStatus(), 0xff);
  host.out(2, 0x55);
  strictEqual(host.in(2), 0xff);
  strictEqual(host.in(0, 2), 0xffff);
});

Deno.test("channel: signatures of both devices after power-on", () => {
  const { host } = diskAndCd();
  host.select(0);
  deepStrictEqual([host.in(2), host.in(3), host.in(4), host.in(5)], [1, 1, 0x00, 0x00]);
  strictEqual(host.status(), 0x50);
  host.select(1);
  deepStrictEqual([host.in(2), host.in(3), host.in(4), host.in(5)], [1, 1, 0x14, 0xeb]);
  strictEqual(host.status(), 0x00);
});

Deno.test("channel: the device register reads back as written (bits 7 and 5 set)", () => {
  const { host, channel } = diskAndCd();
  host.out(6, 0xb0);
  strictEqual(host.in(6), 0xb0);
  strictEqual(channel.selected, 1);
  host.out(6, 0x00);
  strictEqual(host.in(6), 0xa0);
  host.out(6, 0xe5);
  strictEqual(host.in(6), 0xe5);
});

Deno.test("channel: both devices latch register writes", () => {
  const { host } = diskAndCd();
  host.select(0);
  host.out(2, 0x55);
  host.out(3, 0xaa);
  host.select(1);
  deepStrictEqual([host.in(2), host.in(3)], [0x55, 0xaa]);
});

Deno.test("channel: an absent slave reads status 0 and an invalid signature after reset", () => {
  const irq = new RecordingIrq();
  const channel = new AtaChannel({ irq, master: { kind: "disk", backend: patternedImage(64) } });
  const host = new PortHost(channel);
  host.select(1);
  strictEqual(host.status(), 0);
  strictEqual(host.altStatus(), 0);
  host.out(2, 0x55); // registers still latch, as on a real cable
  strictEqual(host.in(2), 0x55);
  host.command(0xec); // nobody answers
  strictEqual(host.status(), 0);
  strictEqual(irq.level, false);
  host.control(0x04);
  host.control(0x00);
  host.select(1);
  deepStrictEqual([host.in(1), host.in(4), host.in(5)], [0x01, 0xff, 0xff]);
  // IDENTIFY word 93 of device 0 says it answers for the absent device 1.
  host.select(0);
  host.command(0xec);
  strictEqual(word(host.readWords(512), 93) & 0xdf61, 0x4041);
});

Deno.test("channel: software reset (SRST) busies both devices, then restores signatures", () => {
  const { host, irq } = diskAndCd();
  host.select(1);
  host.out(4, 0x12);
  host.out(5, 0x34);
  host.lba28(0, 0, 2);
  host.command(0x20); // leave a transfer half done
  host.readWords(100);
  host.control(0x04);
  strictEqual(host.altStatus() & 0x80, 0x80);
  strictEqual(irq.level, false);
  host.command(0xec); // ignored while in reset
  host.control(0x00);
  strictEqual(irq.level, false); // reset raises no interrupt
  strictEqual(host.in(6), 0xa0); // device 0 selected again
  strictEqual(host.status(), 0x50);
  strictEqual(host.in(1), 0x01);
  deepStrictEqual([host.in(2), host.in(3), host.in(4), host.in(5)], [1, 1, 0, 0]);
  host.select(1);
  deepStrictEqual([host.in(4), host.in(5)], [0x14, 0xeb]);
  host.select(0);
  strictEqual(host.in(0, 2), 0xffff); // the abandoned transfer is gone
});

Deno.test("channel: INTRQ follows the selected device and nIEN", () => {
  const { host, irq } = diskAndCd();
  host.lba28(0, 0, 1);
  host.command(0x20);
  strictEqual(irq.level, true);
  host.select(1); // the CD-ROM drives INTRQ now, and it has nothing pending
  strictEqual(irq.level, false);
  host.select(0);
  strictEqual(irq.level, true);
  host.control(0x02);
  strictEqual(irq.level, false);
  host.control(0x00);
  strictEqual(irq.level, true);
  host.altStatus();
  strictEqual(irq.level, true); // alternate status does not acknowledge
  host.status();
  strictEqual(irq.level, false);
});

Deno.test("channel: writing the command register clears a pending interrupt", () => {
  const { host, irq } = diskAndCd();
  host.select(0);
  host.command(0xe5);
  strictEqual(irq.level, true);
  host.control(0x02);
  host.command(0xe5);
  host.control(0x00);
  strictEqual(irq.rises, 2);
});

Deno.test("channel: EXECUTE DEVICE DIAGNOSTIC runs on both devices, device 0 interrupts", () => {
  const { host, irq } = diskAndCd();
  host.select(1);
  host.packet(1, [0xff]); // leave an error in device 1
  host.status();
  host.out(4, 0x77);
  host.select(0);
  host.command(0x90);
  strictEqual(irq.level, true);
  strictEqual(host.status(), 0x50);
  strictEqual(host.in(1), 0x01);
  host.select(1);
  strictEqual(host.in(1), 0x01);
  deepStrictEqual([host.in(4), host.in(5)], [0x14, 0xeb]);
});

Deno.test("channel: 16- and 32-bit accesses to byte registers split into bytes", () => {
  const { host } = diskAndCd();
  host.out(2, 0x0201, 2); // sector count 1, LBA low 2
  deepStrictEqual([host.in(2), host.in(3)], [0x01, 0x02]);
  strictEqual(host.in(2, 2), 0x0201);
  // LBA mid 03h, LBA high 04h, device 00h, then command E0h (STANDBY IMMEDIATE).
  host.out(4, 0xe0000403, 4);
  deepStrictEqual([host.in(4), host.in(5), host.in(6)], [0x03, 0x04, 0xa0]);
  strictEqual(host.status(), 0x50);
});

Deno.test("channel: snapshot lists both devices", () => {
  const { channel } = diskAndCd();
  const s = channel.snapshot();
  strictEqual(s.master.kind, "disk");
  strictEqual(s.slave.kind, "cdrom");
  strictEqual(s.slave.kind === "cdrom" && s.slave.size, 16 * 2048);
  strictEqual(s.selected, 0);
});

Deno.test("channel: restore re-drives INTRQ and refuses another device kind", () => {
  const { channel, host, irq } = diskAndCd();
  host.select(0);
  host.command(0xe5); // CHECK POWER MODE: completes with an interrupt
  strictEqual(irq.level, true);
  const saved = channel.snapshot();
  const copy = diskAndCd();
  strictEqual(copy.irq.level, false);
  copy.channel.restore(saved);
  deepStrictEqual(copy.channel.snapshot(), saved);
  strictEqual(copy.irq.level, true);
  strictEqual(copy.host.status(), 0x50); // acknowledges
  strictEqual(copy.irq.level, false);
  copy.channel.restore({ ...saved, deviceControl: DC_NIEN });
  strictEqual(copy.irq.level, false); // masked

  const swapped = { ...saved, master: saved.slave, slave: saved.master };
  const before = copy.channel.snapshot();
  throws(() => copy.channel.restore(swapped), StateError);
  throws(() => copy.channel.restore({ ...saved, deviceControl: 0x01 }), StateError);
  throws(() => copy.channel.restore({ ...saved, selected: 2 as 0 }), StateError);
  deepStrictEqual(copy.channel.snapshot(), before);
});
