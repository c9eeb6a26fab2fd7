import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { SteppedClock } from "../clock.ts";
import { pciConfigStep } from "../testing/pci_config_walk.ts";
import { RecordingIrq } from "../testing/recording_irq.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import {
  assertRestoreIdentity,
  assertRestoreRejects,
  assertSameBehaviour,
  type Twin,
} from "../testing/snapshot_check.ts";
import {
  APMC_ACPI_DISABLE,
  APMC_ACPI_ENABLE,
  Piix4Pm,
  PM1_CNT,
  PM1_EVT,
  PM_REG,
  PM_TIMER_HZ,
  SEABIOS_PM_BASE,
  SLP_TYP_SHIFT,
  SLP_TYP_SOFT_OFF,
} from "./piix4_pm.ts";

function setup() {
  const clock = new SteppedClock();
  const sci: boolean[] = [];
  let powerOffs = 0;
  const bases: (number | null)[] = [];
  const pm = new Piix4Pm({
    clock,
    timer: clock.timer,
    sci: { set: (level) => sci.push(level) },
    onPowerOff: () => powerOffs++,
  });
  pm.onPmBaseChange = (base) => bases.push(base);
  return { clock, pm, sci, bases, powerOffs: () => powerOffs };
}

/** Maps the PM block at 0x600 as SeaBIOS does. */
function enable(pm: Piix4Pm): void {
  pm.config.write(0x40, 4, SEABIOS_PM_BASE | 1);
  pm.config.write(0x80, 1, 0x01);
}

Deno.test("piix4_pm: identity of 00:01.3 and SMM marked as set up", () => {
  const { pm } = setup();
  const c = pm.config;
  deepStrictEqual(
    [c.read(0x00, 2), c.read(0x02, 2), c.read(0x08, 1), c.read(0x09, 1), c.read(0x0a, 2)],
    [0x8086, 0x7113, 0x03, 0x00, 0x0680],
  );
  strictEqual(c.read(0x3d, 1), 1); // INTA#
  deepStrictEqual([c.read(0x2c, 2), c.read(0x2e, 2)], [0x1af4, 0x1100]);
  strictEqual(c.read(0x40, 4), 0x00000001); // PMBA: I/O indicator only
  strictEqual(c.read(0x58, 4) & (1 << 25), 1 << 25); // DEVACTB APMC_EN
  c.write(0x3c, 1, 9);
  strictEqual(c.read(0x3c, 1), 9);
});

Deno.test("piix4_pm: PMBA decodes only while PMREGMISC bit 0 is set, 64-byte aligned", () => {
  const { pm, bases } = setup();
  pm.config.write(0x40, 4, 0xffff);
  strictEqual(pm.config.read(0x40, 4), 0xffc1);
  pm.config.write(0x40, 4, 0x0601);
  deepStrictEqual(bases, []);
  strictEqual(pm.pmBase, null);
  pm.config.write(0x80, 1, 0x01);
  deepStrictEqual(bases, [0x600]);
  pm.config.write(0x40, 2, 0xb03f); // low bits ignored
  deepStrictEqual(bases, [0x600, 0xb000]);
  pm.config.write(0x80, 1, 0x00);
  deepStrictEqual(bases, [0x600, 0xb000, null]);
  strictEqual(pm.pmBase, null);
  // SMBus base and host config are storage.
  pm.config.write(0x90, 4, 0x0701);
  pm.config.write(0xd2, 1, 0x09);
  deepStrictEqual([pm.config.read(0x90, 4), pm.config.read(0xd2, 1)], [0x0701, 0x09]);
});

Deno.test("piix4_pm: the PM timer counts 3.579545 MHz in 24 bits, any access width", () => {
  const { pm, clock } = setup();
  enable(pm);
  strictEqual(pm.pmIo.read(PM_REG.PM_TMR, 4), 0);
  clock.advance(1e9);
  strictEqual(pm.pmIo.read(PM_REG.PM_TMR, 4), PM_TIMER_HZ);
  clock.advance(1_000); // 1 us: 3.58 ticks
  strictEqual(pm.pmIo.read(PM_REG.PM_TMR, 4), PM_TIMER_HZ + 3);
  const v = pm.pmIo.read(PM_REG.PM_TMR, 4);
  strictEqual(pm.pmIo.read(PM_REG.PM_TMR, 2), v & 0xffff);
  strictEqual(pm.pmIo.read(PM_REG.PM_TMR + 2, 1), (v >> 16) & 0xff);
  strictEqual(pm.pmIo.read(PM_REG.PM_TMR + 3, 1), 0);
  // Wraps at 2^24 ticks (about 4.69 s).
  clock.advanceTo(5e9);
  strictEqual(pm.pmIo.read(PM_REG.PM_TMR, 4), (5 * PM_TIMER_HZ) % 2 ** 24);
  // Exact after days of uptime, and writes do nothing.
  clock.advanceTo(3 * 86_400e9 + 123_456_789);
  const expected = (3 * 86_400 * PM_TIMER_HZ + Math.floor(0.123456789 * PM_TIMER_HZ)) % 2 ** 24;
  pm.pmIo.write(PM_REG.PM_TMR, 4, 0);
  strictEqual(pm.pmIo.read(PM_REG.PM_TMR, 4), expected);
});

Deno.test("piix4_pm: SLP_EN with SLP_TYP 0 powers off; other sleep types do not", () => {
  const { pm, powerOffs } = setup();
  enable(pm);
  const cnt = (typ: number) => PM1_CNT.SLP_EN | typ << SLP_TYP_SHIFT;
  pm.pmIo.write(PM_REG.PM1_CNT, 2, 1 << SLP_TYP_SHIFT | PM1_CNT.SCI_EN); // no SLP_EN
  strictEqual(pm.pmIo.read(PM_REG.PM1_CNT, 2), 1 << SLP_TYP_SHIFT | PM1_CNT.SCI_EN);
  for (const typ of [1, 2, 3, 4, 5, 6, 7]) pm.pmIo.write(PM_REG.PM1_CNT, 2, cnt(typ));
  strictEqual(powerOffs(), 0);
  // SLP_EN reads back as 0; SLP_TYP is kept.
  strictEqual(pm.pmIo.read(PM_REG.PM1_CNT, 2), 7 << SLP_TYP_SHIFT);
  pm.pmIo.write(PM_REG.PM1_CNT, 2, cnt(SLP_TYP_SOFT_OFF) | PM1_CNT.SCI_EN);
  strictEqual(powerOffs(), 1);
  // SeaBIOS's APM power-off: outw(0x2000); and a byte write to the high half.
  pm.pmIo.write(PM_REG.PM1_CNT, 2, 0x2000);
  pm.pmIo.write(PM_REG.PM1_CNT + 1, 1, 0x20);
  strictEqual(powerOffs(), 3);
  // A 32-bit write covering PM1_CNT from the start of the block works too.
  pm.pmIo.write(PM_REG.PM1_CNT, 4, 0x2000);
  strictEqual(powerOffs(), 4);
});

Deno.test("piix4_pm: power button status raises the SCI when enabled and SCI_EN is set", () => {
  const { pm, sci } = setup();
  enable(pm);
  pm.pressPowerButton();
  deepStrictEqual(sci, []);
  strictEqual(pm.pmIo.read(PM_REG.PM1_STS, 2), PM1_EVT.PWRBTN);
  pm.pmIo.write(PM_REG.PM1_EN, 2, PM1_EVT.PWRBTN);
  deepStrictEqual(sci, []); // SCI_EN still clear (legacy mode)
  pm.apm.write(0, 1, APMC_ACPI_ENABLE);
  strictEqual(pm.pmIo.read(PM_REG.PM1_CNT, 2) & PM1_CNT.SCI_EN, PM1_CNT.SCI_EN);
  deepStrictEqual(sci, [true]);
  // Writing 0 leaves status alone; writing 1 clears it.
  pm.pmIo.write(PM_REG.PM1_STS, 2, 0);
  strictEqual(pm.pmIo.read(PM_REG.PM1_STS, 2), PM1_EVT.PWRBTN);
  pm.pmIo.write(PM_REG.PM1_STS, 2, PM1_EVT.PWRBTN);
  strictEqual(pm.pmIo.read(PM_REG.PM1_STS, 2), 0);
  deepStrictEqual(sci, [true, false]);
  pm.pressPowerButton();
  pm.apm.write(0, 1, APMC_ACPI_DISABLE);
  deepStrictEqual(sci, [true, false, true, false]);
  strictEqual(pm.apm.read(0, 1), APMC_ACPI_DISABLE);
  pm.apm.write(1, 1, 0x5a);
  strictEqual(pm.apm.read(1, 1), 0x5a);
});

Deno.test("piix4_pm: TMR_STS at every toggle of timer bit 23, with an SCI when TMR_EN", () => {
  const { pm, clock, sci } = setup();
  enable(pm);
  const toggleNs = (2 ** 23 / PM_TIMER_HZ) * 1e9; // about 2.34 s
  clock.advanceTo(toggleNs - 1e6);
  strictEqual(pm.pmIo.read(PM_REG.PM1_STS, 2) & PM1_EVT.TMR, 0);
  clock.advanceTo(toggleNs + 1e6);
  strictEqual(pm.pmIo.read(PM_REG.PM1_STS, 2) & PM1_EVT.TMR, PM1_EVT.TMR);
  pm.pmIo.write(PM_REG.PM1_STS, 2, PM1_EVT.TMR);
  strictEqual(pm.pmIo.read(PM_REG.PM1_STS, 2) & PM1_EVT.TMR, 0);

  pm.pmIo.write(PM_REG.PM1_CNT, 2, PM1_CNT.SCI_EN);
  pm.pmIo.write(PM_REG.PM1_EN, 2, PM1_EVT.TMR);
  strictEqual(clock.nextDeadline(), Math.ceil(2 * toggleNs));
  clock.advanceTo(2 * toggleNs + 1e3);
  deepStrictEqual(sci, [true]);
  pm.pmIo.write(PM_REG.PM1_STS, 1, PM1_EVT.TMR);
  deepStrictEqual(sci, [true, false]);
  clock.advanceTo(3 * toggleNs + 1e3);
  deepStrictEqual(sci, [true, false, true]);
  pm.pmIo.write(PM_REG.PM1_EN, 2, 0);
  deepStrictEqual(sci, [true, false, true, false]);
});

Deno.test("piix4_pm: GPE0 status clears by writing 1, enables gate the SCI; storage and C-state registers", () => {
  const { pm, sci } = setup();
  enable(pm);
  pm.pmIo.write(PM_REG.PM1_CNT, 2, PM1_CNT.SCI_EN);
  pm.pmIo.write(PM_REG.GPE0_EN, 2, 0x0003);
  strictEqual(pm.pmIo.read(PM_REG.GPE0_EN, 2), 0x0003);
  strictEqual(pm.pmIo.read(PM_REG.GPE0_STS, 2), 0);
  deepStrictEqual(sci, []);
  pm.pmIo.write(0x10, 4, 0x12345678); // PCNTRL
  pm.pmIo.write(0x28, 4, 0x01020304); // GLBCTL
  deepStrictEqual([pm.pmIo.read(0x10, 4), pm.pmIo.read(0x28, 4)], [0x12345678, 0x01020304]);
  strictEqual(pm.pmIo.read(0x14, 1), 0); // P_LVL2
  strictEqual(pm.pmIo.read(0x3f, 1), 0);
});

Deno.test("piix4_pm: reset unmaps the block, clears registers and lowers the SCI", () => {
  const { pm, sci, bases } = setup();
  enable(pm);
  pm.pmIo.write(PM_REG.PM1_EN, 2, PM1_EVT.PWRBTN);
  pm.pmIo.write(PM_REG.PM1_CNT, 2, PM1_CNT.SCI_EN);
  pm.pressPowerButton();
  deepStrictEqual(sci, [true]);
  pm.reset();
  deepStrictEqual(sci, [true, false]);
  deepStrictEqual(bases, [0x600, null]);
  strictEqual(pm.config.read(0x40, 4), 1);
  strictEqual(pm.pmIo.read(PM_REG.PM1_CNT, 2), 0);
  const s = pm.snapshot();
  deepStrictEqual([s.pmBase, s.pm1Status, s.sci], [null, 0, false]);
});

interface PmTwin extends Twin {
  readonly pm: Piix4Pm;
  readonly sci: RecordingIrq;
}

function pmTwin(): PmTwin {
  const clock = new SteppedClock();
  const events: string[] = [];
  const sci = new RecordingIrq();
  const pm = new Piix4Pm({
    clock,
    timer: clock.timer,
    sci: {
      set: (level) => {
        sci.set(level);
        events.push(`sci=${level}@${clock.nowNs()}`);
      },
    },
    onPowerOff: () => events.push(`power-off@${clock.nowNs()}`),
  });
  pm.onPmBaseChange = (base) => events.push(`base ${base}`);
  return { clock, events, pm, sci };
}

const TOGGLE_NS = (2 ** 23 / PM_TIMER_HZ) * 1e9;

function pmStep(rng: SeededRandom, t: PmTwin): string {
  const { pm, clock } = t;
  switch (rng.below(9)) {
    case 0:
      return pciConfigStep(rng, pm.config, [
        { offset: 0x40, values: [0x01, 0x41] },
        { offset: 0x41, values: [0x06, 0xb0] },
        { offset: 0x80, values: [0x00, 0x01] },
      ]);
    case 1:
    case 2: {
      const size = rng.pick([1, 2, 4] as const);
      const offset = rng.pick([0, 2, 4, 8, 0x0c, 0x0e, 0x10, 0x18, 0x1c, rng.below(64)]);
      return `r${offset}/${size}=${pm.pmIo.read(offset, size)}`;
    }
    case 3:
      pm.pmIo.write(PM_REG.PM1_EN, 2, rng.pick([PM1_EVT.TMR, PM1_EVT.TMR | PM1_EVT.PWRBTN, 0]));
      return "en";
    case 4:
      pm.pmIo.write(PM_REG.PM1_STS, 2, rng.pick([PM1_EVT.TMR, PM1_EVT.PWRBTN, 0xffff, 0]));
      return "sts";
    case 5:
      pm.pmIo.write(
        PM_REG.PM1_CNT,
        2,
        rng.pick([PM1_CNT.SCI_EN, 0, 1 << SLP_TYP_SHIFT | PM1_CNT.SLP_EN]),
      );
      return "cnt";
    case 6:
      pm.apm.write(rng.below(2), 1, rng.pick([APMC_ACPI_ENABLE, APMC_ACPI_DISABLE, rng.byte()]));
      return `apm ${pm.apm.read(0, 1)} ${pm.apm.read(1, 1)}`;
    case 7:
      if (rng.chance(0.3)) pm.pressPowerButton();
      pm.pmIo.write(
        rng.pick([PM_REG.GPE0_EN, PM_REG.GPE0_STS, 0x10, 0x28]),
        2,
        rng.next() & 0xffff,
      );
      return "misc";
    default:
      clock.advance(rng.below(TOGGLE_NS * 1.5));
      return `t=${clock.nowNs()} timer=${pm.timerValue()}`;
  }
}

Deno.test("piix4_pm snapshot/restore: identity and identical behaviour, overflow SCI pending", () => {
  let pending = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const rng = new SeededRandom(seed);
    const a = pmTwin();
    enable(a.pm);
    a.pm.pmIo.write(PM_REG.PM1_CNT, 2, PM1_CNT.SCI_EN);
    for (let i = rng.below(80); i > 0; i--) pmStep(rng, a);
    const b = pmTwin();
    b.clock.advanceTo(a.clock.nowNs()); // the machine resumes its clock at the saved time
    const s = assertRestoreIdentity(a.pm, b.pm);
    strictEqual(b.sci.level, a.sci.level, `seed ${seed}: SCI after restore`);
    strictEqual(b.pm.pmBase, a.pm.pmBase);
    strictEqual(b.pm.timerValue(), a.pm.timerValue());
    if (s.overflowDeadlineNs !== null) pending++;
    assertSameBehaviour(a, b, seed + 1000, 100, pmStep);
  }
  ok(pending >= 10, `only ${pending} snapshots with the overflow SCI armed`);
});

Deno.test("piix4_pm snapshot/restore: a pending overflow raises the SCI on time; bad states refused", () => {
  const a = pmTwin();
  enable(a.pm);
  a.pm.pmIo.write(PM_REG.PM1_CNT, 2, PM1_CNT.SCI_EN);
  a.pm.pmIo.write(PM_REG.PM1_EN, 2, PM1_EVT.TMR);
  a.clock.advance(1e9);
  const b = pmTwin();
  b.clock.advanceTo(a.clock.nowNs());
  const s = assertRestoreIdentity(a.pm, b.pm);
  strictEqual(s.overflowDeadlineNs, Math.ceil(TOGGLE_NS));
  // Restore drives the SCI to its level and maps the PM block again.
  deepStrictEqual(b.events, ["sci=false@1000000000", "base 1536"]);
  b.clock.advanceTo(s.overflowDeadlineNs!);
  deepStrictEqual(b.events.slice(2), [`sci=true@${s.overflowDeadlineNs}`]);
  assertRestoreRejects(pmTwin().pm, s, [
    { pmRegisters: new Uint8Array(32) },
    { pmRegisters: Uint8Array.from({ length: 64 }, (_, i) => (i === 8 ? 1 : 0)) },
    { apmc: 256 },
    { overflowsSeen: -1 },
  ]);
});
