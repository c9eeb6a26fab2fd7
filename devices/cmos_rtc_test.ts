import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { SteppedClock } from "./clock.ts";
import { RecordingIrq } from "./testing/recording_irq.ts";
import { SeededRandom } from "./testing/seeded_random.ts";
import {
  assertRestoreIdentity,
  assertRestoreRejects,
  assertSameBehaviour,
  type Twin,
} from "./testing/snapshot_check.ts";
import { CmosRtc, type CmosRtcOptions, pcCmosBytes, type PcCmosOptions } from "./cmos_rtc.ts";

/** Thursday 2024-02-29 13:45:30.250 UTC: a leap day, a PM hour, a 250 ms divider phase. */
const START = Date.UTC(2024, 1, 29, 13, 45, 30, 250);
/** First second boundary after clock 0 for START. */
const FIRST_UPDATE = 750_000_000;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

function setup(options: Partial<CmosRtcOptions> = {}) {
  const clock = new SteppedClock();
  const irq = { level: false, rises: 0 };
  const rtc = new CmosRtc({
    irq: {
      set(level) {
        if (level && !irq.level) irq.rises++;
        irq.level = level;
      },
    },
    clock,
    timer: clock.timer,
    startTimeMs: START,
    ...options,
  });
  const rd = (index: number) => {
    rtc.write(0, 1, index);
    return rtc.read(1, 1);
  };
  const wr = (index: number, value: number) => {
    rtc.write(0, 1, index);
    rtc.write(1, 1, value);
  };
  return { clock, irq, rtc, rd, wr };
}

/** Reads seconds, minutes, hours, weekday, date, month, year, century. */
function timeBytes(rd: (index: number) => number): number[] {
  return [0, 2, 4, 6, 7, 8, 9, 0x32].map(rd);
}

Deno.test("CmosRtc power-on registers: A=0x26, B=24-hour BCD, C clear, D valid", () => {
  const { rd } = setup();
  strictEqual(rd(0x0a), 0x26);
  strictEqual(rd(0x0b), 0x02);
  strictEqual(rd(0x0c), 0x00);
  strictEqual(rd(0x0d), 0x80);
});

Deno.test("CmosRtc reads the time in BCD, 24-hour mode", () => {
  const { rd } = setup();
  deepStrictEqual(timeBytes(rd), [0x30, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20]);
});

Deno.test("CmosRtc reads the time in binary, 24-hour mode", () => {
  const { rd, wr } = setup();
  wr(0x0b, 0x06);
  deepStrictEqual(timeBytes(rd), [30, 45, 13, 5, 29, 2, 24, 20]);
});

Deno.test("CmosRtc 12-hour mode puts PM in bit 7, in BCD and in binary", () => {
  const cases: [string, number, number, number, number][] = [
    // time, BCD 24h, binary 24h, BCD 12h, binary 12h
    ["13:45:30", 0x13, 13, 0x81, 0x81],
    ["23:05:00", 0x23, 23, 0x91, 0x8b],
    ["00:30:00", 0x00, 0, 0x12, 0x0c],
    ["12:00:00", 0x12, 12, 0x92, 0x8c],
    ["09:59:59", 0x09, 9, 0x09, 0x09],
  ];
  for (const [time, bcd24, bin24, bcd12, bin12] of cases) {
    const { rd, wr } = setup({ startTimeMs: Date.parse(`2024-02-29T${time}Z`) });
    const hoursIn = (b: number) => {
      wr(0x0b, b);
      return rd(0x04);
    };
    deepStrictEqual(
      [hoursIn(0x02), hoursIn(0x06), hoursIn(0x00), hoursIn(0x04)],
      [bcd24, bin24, bcd12, bin12],
      time,
    );
  }
});

Deno.test("CmosRtc time follows the clock across a leap day and year end", () => {
  const { clock, rd } = setup();
  clock.advanceTo(FIRST_UPDATE - 1);
  strictEqual(rd(0x00), 0x30);
  clock.advanceTo(FIRST_UPDATE);
  strictEqual(rd(0x00), 0x31);
  // 10h14m29s after 13:45:31 it is midnight on Friday 1 March.
  clock.advance((10 * 3600 + 14 * 60 + 29) * 1e9);
  deepStrictEqual(timeBytes(rd), [0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20]);

  const eve = setup({ startTimeMs: Date.UTC(2099, 11, 31, 23, 59, 59) });
  eve.clock.advance(1e9);
  deepStrictEqual(timeBytes(eve.rd), [0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00, 0x21]);
});

Deno.test("CmosRtc with utc: false counts the host's local time", () => {
  const { rd, rtc } = setup({ utc: false });
  const local = new Date(START);
  const bcd = (v: number) => ((v / 10) << 4) | (v % 10);
  strictEqual(rd(0x04), bcd(local.getHours()));
  strictEqual(rd(0x02), bcd(local.getMinutes()));
  strictEqual(rd(0x07), bcd(local.getDate()));
  const state = rtc.snapshot();
  strictEqual(state.utc, false);
  strictEqual(state.time.endsWith("Z"), false);
});

Deno.test("CmosRtc SET halts updates, clears UIE, and the written time runs on clearing it", () => {
  const { clock, rd, wr, rtc } = setup();
  wr(0x0b, 0x12); // UIE
  clock.advanceTo(100_000_000);
  wr(0x0b, 0x92); // SET going high clears UIE
  strictEqual(rd(0x0b), 0x82);
  // 2001-09-09 01:46:40 UTC (a Sunday), epoch second 1e9.
  for (const [i, v] of [[0, 0x40], [2, 0x46], [4, 0x01], [6, 0x01], [7, 0x09], [8, 0x09]]) {
    wr(i, v);
  }
  wr(0x09, 0x01);
  wr(0x32, 0x20);
  clock.advanceTo(FIRST_UPDATE + 1e9 - 100_000); // where UIP would be up if running
  strictEqual(rd(0x0a) & 0x80, 0, "UIP stays clear while SET");
  clock.advanceTo(2e9);
  deepStrictEqual(timeBytes(rd), [0x40, 0x46, 0x01, 0x01, 0x09, 0x09, 0x01, 0x20]);
  strictEqual(rd(0x0c), 0x40, "no update-ended flag while SET; periodic flag still set");
  wr(0x0b, 0x02);
  // The divider kept its phase: the next update is still 250 ms past a clock second.
  clock.advanceTo(2.75e9 - 1);
  strictEqual(rd(0x00), 0x40);
  clock.advanceTo(2.75e9);
  strictEqual(rd(0x00), 0x41);
  strictEqual(rtc.snapshot().time, "2001-09-09T01:46:41.000Z");
});

Deno.test("CmosRtc takes a time written in 12-hour binary mode", () => {
  const { rd, wr, rtc } = setup();
  const time = () => rtc.snapshot().time.slice(11, 19);
  wr(0x0b, 0x84); // SET, binary, 12-hour
  wr(0x04, 0x8c); // 12 PM
  wr(0x02, 7);
  wr(0x0b, 0x04);
  strictEqual(rd(0x04), 0x8c);
  strictEqual(time(), "12:07:30");
  wr(0x0b, 0x84);
  wr(0x04, 0x0c); // 12 AM
  wr(0x0b, 0x04);
  strictEqual(rd(0x04), 0x0c);
  strictEqual(time(), "00:07:30");
  wr(0x0b, 0x84);
  wr(0x04, 0x8b); // 11 PM
  wr(0x0b, 0x04);
  strictEqual(time(), "23:07:30");
});

Deno.test("CmosRtc write to a time field while running counts on from it", () => {
  const { clock, rd, wr } = setup();
  wr(0x02, 0x07);
  deepStrictEqual([rd(0x00), rd(0x02), rd(0x04)], [0x30, 0x07, 0x13]);
  clock.advanceTo(FIRST_UPDATE);
  deepStrictEqual([rd(0x00), rd(0x02), rd(0x04)], [0x31, 0x07, 0x13]);
});

Deno.test("CmosRtc day of week is its own counter, advanced at midnight", () => {
  const { clock, rd, wr } = setup();
  wr(0x0b, 0x82);
  for (const [i, v] of [[0, 0x59], [2, 0x59], [4, 0x23], [6, 0x03], [7, 0x29], [8, 0x02]]) {
    wr(i, v);
  }
  wr(0x0b, 0x02);
  strictEqual(rd(0x06), 0x03); // the guest's (wrong) weekday is kept
  clock.advanceTo(FIRST_UPDATE);
  deepStrictEqual(timeBytes(rd), [0x00, 0x00, 0x00, 0x04, 0x01, 0x03, 0x24, 0x20]);
});

Deno.test("CmosRtc divider reset holds the time; the first update comes 500 ms after release", () => {
  const { clock, rd, wr } = setup();
  clock.advanceTo(100_000_000);
  wr(0x0a, 0x66);
  rd(0x0c);
  clock.advanceTo(3e9);
  strictEqual(rd(0x00), 0x30);
  strictEqual(rd(0x0c), 0x00, "no periodic or update flags while the divider is reset");
  wr(0x0a, 0x26);
  clock.advanceTo(3.5e9 - 1);
  strictEqual(rd(0x00), 0x30);
  strictEqual(rd(0x0a) & 0x80, 0x80, "UIP in the last 244 us before the update");
  clock.advanceTo(3.5e9);
  strictEqual(rd(0x00), 0x31);
});

Deno.test("CmosRtc UIP is set for the last 244 us before each update", () => {
  const { clock, rd } = setup();
  strictEqual(rd(0x0a), 0x26);
  clock.advanceTo(FIRST_UPDATE - 244_141);
  strictEqual(rd(0x0a), 0x26);
  clock.advanceTo(FIRST_UPDATE - 244_140);
  strictEqual(rd(0x0a), 0xa6);
  clock.advanceTo(FIRST_UPDATE - 1);
  strictEqual(rd(0x0a), 0xa6);
  strictEqual(rd(0x00), 0x30);
  clock.advanceTo(FIRST_UPDATE);
  strictEqual(rd(0x0a), 0x26);
  strictEqual(rd(0x00), 0x31);
  clock.advanceTo(FIRST_UPDATE + 1e9 - 1000);
  strictEqual(rd(0x0a), 0xa6);
});

Deno.test("CmosRtc periodic interrupt at 1024 Hz, aligned to the divider", () => {
  const { clock, irq, rd, wr } = setup();
  wr(0x0b, 0x42); // PIE
  // 250 ms is a whole number of 1024 Hz periods, so ticks fall at k * 976562.5 ns.
  strictEqual(clock.nextDeadline(), 976_563);
  clock.advanceTo(976_562);
  strictEqual(irq.level, false);
  clock.advanceTo(976_563);
  strictEqual(irq.level, true);
  strictEqual(clock.nextDeadline(), Infinity, "no timer while the line is high");
  strictEqual(rd(0x0c), 0xc0);
  strictEqual(irq.level, false);
  strictEqual(rd(0x0c), 0x00);
  strictEqual(clock.nextDeadline(), 1_953_125);
});

Deno.test("CmosRtc periodic rates: 32.768 kHz >> (rate - 1); rates 1, 2 are 256 Hz, 128 Hz", () => {
  for (let rate = 1; rate <= 15; rate++) {
    const { clock, irq, rd, wr } = setup();
    wr(0x0a, 0x20 | rate);
    wr(0x0b, 0x42);
    while (clock.nextDeadline() <= 1e9) {
      clock.advanceTo(clock.nextDeadline());
      strictEqual(rd(0x0c) & 0xc0, 0xc0);
    }
    const hz = rate === 1 ? 256 : rate === 2 ? 128 : 32768 >> (rate - 1);
    strictEqual(irq.rises, hz, `rate ${rate}`);
  }
});

Deno.test("CmosRtc rate 0 stops the periodic interrupt", () => {
  const { clock, irq, rd, wr } = setup();
  wr(0x0a, 0x20);
  wr(0x0b, 0x42);
  strictEqual(clock.nextDeadline(), Infinity);
  clock.advance(2e9);
  strictEqual(irq.rises, 0);
  strictEqual(rd(0x0c), 0x10, "only the update flag");
});

Deno.test("CmosRtc sets PF without PIE but leaves the line low", () => {
  const { clock, irq, rd } = setup();
  clock.advance(2_000_000);
  strictEqual(rd(0x0c), 0x40);
  strictEqual(irq.rises, 0);
});

Deno.test("CmosRtc enabling a source whose flag is already set raises the line", () => {
  const { clock, irq, wr } = setup();
  clock.advance(2_000_000);
  strictEqual(irq.level, false);
  wr(0x0b, 0x42);
  strictEqual(irq.level, true);
  wr(0x0b, 0x02);
  strictEqual(irq.level, false);
});

Deno.test("CmosRtc update-ended interrupt once per second", () => {
  const { clock, irq, rd, wr } = setup();
  wr(0x0a, 0x20);
  wr(0x0b, 0x12); // UIE
  strictEqual(clock.nextDeadline(), FIRST_UPDATE);
  clock.advanceTo(FIRST_UPDATE - 1);
  strictEqual(irq.level, false);
  clock.advanceTo(FIRST_UPDATE);
  strictEqual(irq.level, true);
  strictEqual(rd(0x0c), 0x90);
  strictEqual(irq.level, false);
  strictEqual(clock.nextDeadline(), FIRST_UPDATE + 1e9);
  for (let i = 0; i < 5; i++) {
    clock.advanceTo(clock.nextDeadline());
    rd(0x0c);
  }
  strictEqual(irq.rises, 6);
  strictEqual(rd(0x00), 0x36);
});

Deno.test("CmosRtc sets UF without UIE but leaves the line low", () => {
  const { clock, irq, rd, wr } = setup();
  wr(0x0a, 0x20);
  clock.advanceTo(FIRST_UPDATE);
  strictEqual(rd(0x0c), 0x10);
  strictEqual(rd(0x0c), 0x00);
  strictEqual(irq.rises, 0);
});

Deno.test("CmosRtc alarm interrupt at the matching second", () => {
  const { clock, irq, rd, wr } = setup();
  wr(0x0a, 0x20);
  wr(0x01, 0x35);
  wr(0x03, 0x45);
  wr(0x05, 0x13);
  wr(0x0b, 0x22); // AIE
  strictEqual(clock.nextDeadline(), FIRST_UPDATE + 4e9);
  clock.advanceTo(FIRST_UPDATE + 4e9 - 1);
  strictEqual(irq.level, false);
  strictEqual(rd(0x0c), 0x10);
  clock.advanceTo(FIRST_UPDATE + 4e9);
  strictEqual(irq.level, true);
  strictEqual(rd(0x00), 0x35);
  strictEqual(rd(0x0c), 0xb0);
  // Next match is the same time tomorrow.
  strictEqual(clock.nextDeadline(), FIRST_UPDATE + 4e9 + 86_400e9);
});

Deno.test("CmosRtc alarm don't-care values 0xC0-0xFF", () => {
  const { clock, irq, rd, wr } = setup();
  wr(0x0a, 0x20);
  wr(0x01, 0x00);
  wr(0x03, 0xff);
  wr(0x05, 0xc0);
  wr(0x0b, 0x22);
  // Every minute at :00; the first is 13:46:00.
  strictEqual(clock.nextDeadline(), FIRST_UPDATE + 29e9);
  clock.advanceTo(FIRST_UPDATE + 29e9);
  strictEqual(irq.level, true);
  strictEqual(rd(0x0c) & 0xa0, 0xa0);
  strictEqual(clock.nextDeadline(), FIRST_UPDATE + 89e9);

  wr(0x01, 0xc5); // all don't care: every second
  strictEqual(clock.nextDeadline(), FIRST_UPDATE + 30e9);
});

Deno.test("CmosRtc alarm hours compare with the PM bit in 12-hour mode", () => {
  const { clock, wr, rd } = setup();
  wr(0x0a, 0x20);
  wr(0x0b, 0x20); // AIE, BCD, 12-hour
  wr(0x01, 0x33);
  wr(0x03, 0x45);
  wr(0x05, 0x01); // 1 AM: tomorrow
  strictEqual(clock.nextDeadline(), FIRST_UPDATE + (12 * 3600 + 2) * 1e9);
  wr(0x05, 0x81); // 1 PM: in three seconds
  strictEqual(clock.nextDeadline(), FIRST_UPDATE + 2e9);
  wr(0x05, 0x13); // not a valid 12-hour hour: never
  strictEqual(clock.nextDeadline(), Infinity);
  clock.advance(10e9);
  strictEqual(rd(0x0c), 0x10);
});

Deno.test("CmosRtc sets AF without AIE but leaves the line low", () => {
  const { clock, irq, rd, wr } = setup();
  wr(0x0a, 0x20);
  wr(0x01, 0x32);
  wr(0x03, 0x45);
  wr(0x05, 0x13);
  clock.advance(3e9);
  strictEqual(rd(0x0c), 0x30);
  strictEqual(irq.rises, 0);
});

Deno.test("CmosRtc reading C clears the flags and lowers the line; C and D are read-only", () => {
  const { clock, irq, rd, wr } = setup();
  wr(0x0b, 0x52); // PIE + UIE
  clock.advanceTo(FIRST_UPDATE);
  strictEqual(irq.level, true);
  wr(0x0c, 0x00);
  wr(0x0d, 0x00);
  strictEqual(irq.level, true);
  strictEqual(rd(0x0d), 0x80);
  strictEqual(rd(0x0c), 0xd0);
  strictEqual(irq.level, false);
  strictEqual(rd(0x0c), 0x00);
});

Deno.test("CmosRtc index port: bit 7 masks NMI, reads as 0xFF, index wraps at 128", () => {
  const { rtc, rd, wr } = setup();
  strictEqual(rtc.nmiMasked, false);
  rtc.write(0, 1, 0x8a);
  strictEqual(rtc.nmiMasked, true);
  strictEqual(rtc.read(1, 1), 0x26, "bit 7 is not part of the index");
  rtc.write(0, 1, 0x0a);
  strictEqual(rtc.nmiMasked, false);
  strictEqual(rtc.read(0, 1), 0xff);
  wr(0x7f, 0x11);
  rtc.write(0, 1, 0xff);
  strictEqual(rtc.nmiMasked, true);
  strictEqual(rtc.read(1, 1), 0x11);
  // A word write to 0x70 sets the index and writes the data port.
  rtc.write(0, 2, 0x5a40);
  strictEqual(rd(0x40), 0x5a);
});

Deno.test("CmosRtc battery-backed RAM through the ports and getByte/setByte", () => {
  const { rtc, rd, wr } = setup();
  for (let i = 0x0e; i < 0x80; i++) {
    if (i !== 0x32) wr(i, i ^ 0xa5);
  }
  for (let i = 0x0e; i < 0x80; i++) {
    if (i !== 0x32) strictEqual(rd(i), i ^ 0xa5);
  }
  rtc.setByte(0x5f, 3);
  strictEqual(rd(0x5f), 3);
  strictEqual(rtc.getByte(0x40), 0x40 ^ 0xa5);
  throws(() => rtc.setByte(0x80, 0), RangeError);
  throws(() => rtc.getByte(-1), RangeError);
});

Deno.test("CmosRtc getByte does not clear register C", () => {
  const { clock, rtc, rd } = setup();
  clock.advanceTo(FIRST_UPDATE);
  strictEqual(rtc.getByte(0x0c), 0x50);
  strictEqual(rtc.getByte(0x0c), 0x50);
  strictEqual(rd(0x0c), 0x50);
  strictEqual(rtc.getByte(0x0c), 0x00);
});

Deno.test("CmosRtc reset clears interrupt enables and flags, keeps time, mode and RAM", () => {
  const { clock, irq, rtc, rd, wr } = setup();
  wr(0x40, 0x77);
  wr(0x0b, 0x7e); // PIE AIE UIE SQWE binary 24-hour
  clock.advanceTo(FIRST_UPDATE);
  strictEqual(irq.level, true);
  rtc.reset();
  strictEqual(irq.level, false);
  strictEqual(rd(0x0b), 0x06);
  strictEqual(rd(0x0c), 0x00);
  strictEqual(rd(0x0a), 0x26);
  strictEqual(rd(0x40), 0x77);
  strictEqual(rd(0x00), 31);
  strictEqual(clock.nextDeadline(), Infinity);
});

Deno.test("CmosRtc snapshot() holds time, registers, flags and the CMOS dump", () => {
  const { clock, rtc, wr } = setup();
  wr(0x0b, 0x12);
  rtc.write(0, 1, 0x8c);
  clock.advanceTo(FIRST_UPDATE);
  const state = rtc.snapshot();
  deepStrictEqual(structuredClone(state), state);
  strictEqual(state.time, "2024-02-29T13:45:31.000Z");
  strictEqual(state.nmiMasked, true);
  strictEqual(state.index, 0x0c);
  strictEqual(state.irq, true);
  strictEqual(state.flags, 0x50); // PF, UF
  strictEqual(state.frozen, false);
  const cmos = state.cmos;
  strictEqual(cmos.length, 128);
  deepStrictEqual(cmos.slice(0x0a, 0x0e), [0x26, 0x12, 0xd0, 0x80]);
  deepStrictEqual(cmos.slice(0, 10), [0x31, 0, 0x45, 0, 0x13, 0, 0x05, 0x29, 0x02, 0x24]);
  strictEqual(cmos[0x32], 0x20);
  strictEqual(rtc.read(1, 1), 0xd0, "snapshot() did not clear C");
});

Deno.test("pcCmosBytes for 128 MiB and 1 CPU", () => {
  deepStrictEqual(
    pcCmosBytes({ ramBytes: 128 * MIB, cpus: 1 }),
    new Map([
      [0x0d, 0x80], // VRT
      [0x10, 0x00], // no floppies
      [0x12, 0x00], // no hard disks
      [0x14, 0x06], // FPU, PS/2 mouse
      [0x15, 0x80], // 640 KiB base memory
      [0x16, 0x02],
      [0x17, 0xff], // 127 MiB above 1 MiB, capped at 0xFFFF KiB
      [0x18, 0xff],
      [0x30, 0xff],
      [0x31, 0xff],
      [0x32, 0x20],
      [0x34, 0x00], // 112 MiB above 16 MiB = 0x0700 * 64 KiB
      [0x35, 0x07],
      [0x37, 0x20],
      [0x38, 0x00],
      [0x39, 0x00],
      [0x3d, 0x32], // boot: disk, then CD-ROM
      [0x5b, 0x00],
      [0x5c, 0x00],
      [0x5d, 0x00],
      [0x5f, 0x00],
    ]),
  );
});

Deno.test("pcCmosBytes for 3 GiB and 6 GiB with 1 and 4 CPUs", () => {
  // Base and extended memory (0x15-0x18, 0x30-0x31), memory from 16 MiB to
  // the PCI hole and from 4 GiB up in 64 KiB units (0x34-0x35, 0x5b-0x5d), CPUs - 1 (0x5f).
  const at = [0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x5b, 0x5c, 0x5d, 0x5f];
  const hex = (m: Map<number, number>) =>
    at.map((i) => (m.get(i) ?? 0x100).toString(16).padStart(2, "0")).join(" ");
  const cases: [string, PcCmosOptions, string][] = [
    // 3 GiB fits below the PCI hole: (3072 - 16) MiB / 64 KiB = 0xBF00.
    ["3 GiB", { ramBytes: 3 * GIB, cpus: 4 }, "80 02 ff ff ff ff 00 bf 00 00 00 03"],
    ["3 GiB, 1 CPU", { ramBytes: 3 * GIB, cpus: 1 }, "80 02 ff ff ff ff 00 bf 00 00 00 00"],
    // 3 GiB low, 3 GiB from 4 GiB up = 0x00C000 * 64 KiB.
    ["6 GiB", { ramBytes: 6 * GIB, cpus: 4 }, "80 02 ff ff ff ff 00 bf 00 c0 00 03"],
    ["6 GiB, 1 CPU", { ramBytes: 6 * GIB, cpus: 1 }, "80 02 ff ff ff ff 00 bf 00 c0 00 00"],
    // An explicit 2 GiB split: 0x7F00 below, 4 GiB above = 0x010000.
    [
      "6 GiB split at 2 GiB",
      { ramBytes: 6 * GIB, cpus: 2, lowRamBytes: 2 * GIB },
      "80 02 ff ff ff ff 00 7f 00 00 01 01",
    ],
    // Tiny RAM: base memory is what there is, nothing extended.
    ["512 KiB", { ramBytes: 512 * 1024, cpus: 1 }, "00 02 00 00 00 00 00 00 00 00 00 00"],
  ];
  for (const [what, options, bytes] of cases) strictEqual(hex(pcCmosBytes(options)), bytes, what);
  throws(() => pcCmosBytes({ ramBytes: 0, cpus: 1 }), RangeError);
  throws(() => pcCmosBytes({ ramBytes: GIB, cpus: 0 }), RangeError);
});

Deno.test("pcCmosBytes disks, translation, boot order and century", () => {
  const m = pcCmosBytes({
    ramBytes: 64 * MIB,
    cpus: 1,
    disks: [{ cylinders: 1024, heads: 16, sectors: 63 }, null, {
      cylinders: 100,
      heads: 4,
      sectors: 17,
      translation: "large",
    }],
    bootOrder: ["cdrom", "disk", "network"],
    timeMs: Date.UTC(1999, 11, 31),
  });
  strictEqual(m.get(0x12), 0xf0);
  strictEqual(m.get(0x19), 47);
  strictEqual(m.has(0x1a), false);
  deepStrictEqual(
    [0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23].map((i) => m.get(i)),
    [0x00, 0x04, 16, 0xff, 0xff, 0xc8, 0x00, 0x04, 63],
  );
  strictEqual(m.get(0x39), 0x21); // LBA for 0, LARGE for secondary master
  strictEqual(m.get(0x3d), 0x23);
  strictEqual(m.get(0x38), 0x40);
  strictEqual(m.get(0x32), 0x19);
  throws(() =>
    pcCmosBytes({ ramBytes: GIB, cpus: 1, bootOrder: ["disk", "disk", "disk", "disk"] })
  );
});

Deno.test("CmosRtc applying pcCmosBytes for its own start time leaves the clock alone", () => {
  const { rtc, rd } = setup();
  for (const [i, v] of pcCmosBytes({ ramBytes: 128 * MIB, cpus: 4, timeMs: START })) {
    rtc.setByte(i, v);
  }
  deepStrictEqual(timeBytes(rd), [0x30, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20]);
  strictEqual(rd(0x0d), 0x80);
  strictEqual(rd(0x35), 0x07);
  strictEqual(rd(0x5f), 0x03);
});

// Property: snapshot -> restore into a fresh RTC -> snapshot is the identity,
// and the restored RTC reads, interrupts and times out like the original.

interface RtcTwin extends Twin {
  readonly rtc: CmosRtc;
  readonly irq: RecordingIrq;
}

function rtcTwin(): RtcTwin {
  const clock = new SteppedClock();
  const events: string[] = [];
  const irq = new RecordingIrq();
  const rtc = new CmosRtc({
    irq: {
      set: (level) => {
        irq.set(level);
        events.push(`irq=${level}@${clock.nowNs()}`);
      },
    },
    clock,
    timer: clock.timer,
    // A different start than the original's: restore must carry the time base.
    startTimeMs: START + 86_400_000 * 3,
  });
  return { clock, events, rtc, irq };
}

function rtcStep(rng: SeededRandom, t: RtcTwin): string {
  const { rtc, clock } = t;
  const select = (index: number) => rtc.write(0, 1, index | (rng.chance(0.1) ? 0x80 : 0));
  switch (rng.below(8)) {
    case 0:
    case 1: {
      const index = rng.pick([0, 2, 4, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0c, 0x0d, 0x32, 0x40]);
      select(index);
      return `r${index}=${rtc.read(1, rng.pick([1, 1, 2] as const))}`;
    }
    case 2:
      select(0x0a);
      rtc.write(1, 1, rng.pick([0x26, 0x26, 0x23, 0x2f, 0x20, 0x76, 0x66]));
      return "A";
    case 3:
      select(0x0b);
      rtc.write(1, 1, rng.pick([0x02, 0x12, 0x22, 0x42, 0x72, 0x06, 0x80, 0x82, 0x70, 0x04]));
      return "B";
    case 4: {
      const index = rng.pick([1, 3, 5]);
      select(index);
      rtc.write(1, 1, rng.pick([0xc0, 0xff, 0x00, 0x30, 0x45, 0x13, rng.byte()]));
      return "alarm";
    }
    case 5: {
      const index = rng.pick([0, 2, 4, 7, 8, 9, 0x32, 0x50]);
      select(index);
      rtc.write(1, 1, rng.pick([0x00, 0x12, 0x59, 0x23, 0x31, rng.byte()]));
      return "time";
    }
    default:
      clock.advance(rng.pick([rng.below(2_000_000), rng.below(1_500_000_000)]));
      return `t=${clock.nowNs()}`;
  }
}

Deno.test("CmosRtc snapshot/restore: identity and identical behaviour, timers pending", () => {
  let pending = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const rng = new SeededRandom(seed);
    const a = rtcTwin();
    for (let i = rng.below(80); i > 0; i--) rtcStep(rng, a);
    const b = rtcTwin();
    b.clock.advanceTo(a.clock.nowNs()); // the machine resumes its clock at the saved time
    const saved = assertRestoreIdentity(a.rtc, b.rtc);
    strictEqual(b.irq.level, a.irq.level, `seed ${seed}: IRQ 8 after restore`);
    strictEqual(b.clock.nextDeadline(), a.clock.nextDeadline(), `seed ${seed}: timer deadline`);
    if (saved.timerDeadlineNs !== null) pending++;
    assertSameBehaviour(a, b, seed + 1000, 120, rtcStep);
  }
  // Periodic, alarm or update-ended interrupts armed at the snapshot.
  ok(pending >= 8, `only ${pending} snapshots with the interrupt timer armed`);
});

Deno.test("CmosRtc snapshot/restore: a pending periodic interrupt fires on time; bad states refused", () => {
  const a = rtcTwin();
  a.rtc.write(0, 1, 0x0b);
  a.rtc.write(1, 1, 0x42); // PIE at 1024 Hz
  a.clock.advance(100_000);
  const b = rtcTwin();
  b.clock.advanceTo(a.clock.nowNs());
  const s = assertRestoreIdentity(a.rtc, b.rtc);
  ok(s.timerDeadlineNs !== null && s.timerDeadlineNs > a.clock.nowNs());
  b.clock.advanceTo(s.timerDeadlineNs!);
  strictEqual(b.irq.level, true);
  deepStrictEqual(b.events.at(-1), `irq=true@${s.timerDeadlineNs}`);
  assertRestoreRejects(rtcTwin().rtc, s, [
    { stored: new Uint8Array(64) },
    { index: 0x80 },
    { phaseNs: 1e9 },
    { flags: 0x80 },
    { weekdayOffset: 7 },
    { timerDeadlineNs: "later" },
  ]);
});
