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
import { I8042, I8042_POWER_ON_COMMAND_BYTE, translateSet2Byte } from "./i8042.ts";
import { KEY_NAMES, scanCodes, textToKeyStrokes } from "./keymap.ts";
import { Ps2Keyboard } from "./ps2_keyboard.ts";
import { MOUSE_LEFT, Ps2Mouse } from "./ps2_mouse.ts";
import type { IrqLine } from "./types.ts";

/** Records every level the controller drives onto an IRQ line. */
class IrqRecorder implements IrqLine {
  levels: boolean[] = [];
  set(level: boolean): void {
    this.levels.push(level);
  }
  get level(): boolean {
    return this.levels.at(-1) ?? false;
  }
}

const OBF = 0x01, SYS = 0x04, CMD = 0x08, UNLOCKED = 0x10, AUX = 0x20;

function setup() {
  const kbdIrq = new IrqRecorder();
  const mouseIrq = new IrqRecorder();
  const resets: number[] = [];
  const a20: boolean[] = [];
  const ctl = new I8042({
    kbdIrq,
    mouseIrq,
    onSystemReset: () => resets.push(resets.length),
    onA20: (on) => a20.push(on),
  });
  const status = () => ctl.commandPort.read(0, 1);
  const command = (v: number) => ctl.commandPort.write(0, 1, v);
  const data = (v: number) => ctl.dataPort.write(0, 1, v);
  const read = () => ctl.dataPort.read(0, 1);
  /** Reads port 0x60 while the output buffer is full. */
  const drain = () => {
    const out: number[] = [];
    while (status() & OBF) out.push(read());
    return out;
  };
  return { ctl, kbdIrq, mouseIrq, resets, a20, status, command, data, read, drain };
}

Deno.test("i8042: power-on status and command byte", () => {
  const { ctl, status, command, drain } = setup();
  strictEqual(status(), UNLOCKED);
  strictEqual(ctl.commandByte, I8042_POWER_ON_COMMAND_BYTE);
  command(0x20);
  strictEqual(status(), UNLOCKED | CMD | OBF);
  deepStrictEqual(drain(), [0x41]);
  strictEqual(status(), UNLOCKED | CMD);
});

Deno.test("i8042: self-test answers 55 and sets the system flag, as QEMU's controller does", () => {
  const { status, command, data, drain } = setup();
  strictEqual(status() & SYS, 0);
  command(0xaa);
  strictEqual(status() & SYS, SYS);
  deepStrictEqual(drain(), [0x55]);
  command(0x20);
  deepStrictEqual(drain(), [0x41], "the command byte is unchanged");
  // SeaBIOS then writes its command byte (bit 2 clear): the flag stays, so
  // status reads 0x1c after POST in vmrun as in QEMU.
  command(0x60);
  data(0x61);
  strictEqual(status(), UNLOCKED | SYS);
  command(0x20);
  drain();
  strictEqual(status(), UNLOCKED | SYS | CMD);
});

Deno.test("i8042: command byte write and read back; only the self-test sets the system flag", () => {
  const { ctl, status, command, data, drain } = setup();
  command(0x60);
  data(0x24);
  strictEqual(status() & CMD, 0);
  strictEqual(ctl.commandByte, 0x24);
  strictEqual(status() & SYS, 0);
  command(0x20);
  deepStrictEqual(drain(), [0x24]);
  command(0x60);
  data(0x00);
  strictEqual(status() & SYS, 0);
  // Other RAM bytes are plain storage.
  command(0x65);
  data(0x99);
  command(0x25);
  deepStrictEqual(drain(), [0x99]);
});

Deno.test("i8042: interface tests and port enable bits", () => {
  const { ctl, command, drain } = setup();
  command(0xab);
  command(0xa9);
  command(0xa4);
  deepStrictEqual(drain(), [0x00, 0x00, 0xf1]);
  command(0xad);
  command(0xa7);
  strictEqual(ctl.commandByte & 0x30, 0x30);
  command(0xae);
  strictEqual(ctl.commandByte & 0x30, 0x20);
  command(0xa8);
  strictEqual(ctl.commandByte & 0x30, 0x00);
});

Deno.test("i8042: a disabled keyboard port holds keyboard bytes back", () => {
  const { ctl, command, status, drain } = setup();
  command(0xad);
  ctl.keyboard.keyDown("KeyA");
  strictEqual(status() & OBF, 0);
  command(0xae);
  deepStrictEqual(drain(), [0x1e]);
});

Deno.test("i8042: translation on gives set 1, off gives raw set 2", () => {
  const { ctl, command, data, drain } = setup();
  ctl.keyboard.keyDown("KeyA");
  ctl.keyboard.keyUp("KeyA");
  ctl.keyboard.keyDown("ArrowDown");
  ctl.keyboard.keyUp("ArrowDown");
  deepStrictEqual(drain(), [0x1e, 0x9e, 0xe0, 0x50, 0xe0, 0xd0]);
  command(0x60);
  data(0x01);
  ctl.keyboard.keyDown("KeyA");
  ctl.keyboard.keyUp("KeyA");
  deepStrictEqual(drain(), [0x1c, 0xf0, 0x1c]);
});

Deno.test("i8042: every key's set-2 codes translate to its set-1 codes", () => {
  const { ctl, drain } = setup();
  for (const key of KEY_NAMES) {
    ctl.keyboard.keyDown(key);
    ctl.keyboard.keyUp(key);
    const set1 = scanCodes(key, 1);
    deepStrictEqual(drain(), [...set1.make, ...set1.break], key);
  }
  // The keyboard's own replies: identify becomes AB 41, the set-2 query 41.
  strictEqual(translateSet2Byte(0x83), 0x41);
  strictEqual(translateSet2Byte(0x02), 0x41);
  strictEqual(translateSet2Byte(0xfa), 0xfa);
});

Deno.test("i8042: keyboard replies pass through port 0x60", () => {
  const { data, drain, command } = setup();
  data(0xf2);
  deepStrictEqual(drain(), [0xfa, 0xab, 0x41]);
  data(0xf0);
  data(0x00);
  deepStrictEqual(drain(), [0xfa, 0xfa, 0x41]);
  command(0x60);
  data(0x00);
  data(0xf2);
  deepStrictEqual(drain(), [0xfa, 0xab, 0x83]);
  data(0xff);
  deepStrictEqual(drain(), [0xfa, 0xaa]);
});

Deno.test("i8042: writing to the keyboard re-enables its port", () => {
  const { ctl, command, data, drain } = setup();
  command(0xad);
  data(0xee);
  strictEqual(ctl.commandByte & 0x10, 0);
  deepStrictEqual(drain(), [0xee]);
});

Deno.test("i8042: typed text arrives as set-1 bytes with IRQ 1 raised and lowered", () => {
  const { ctl, kbdIrq, mouseIrq, status, read } = setup();
  ctl.keyboard.keyStrokes(textToKeyStrokes("Hi!\n"));
  const bytes: number[] = [];
  while (status() & OBF) {
    strictEqual(kbdIrq.level, true);
    strictEqual(status() & AUX, 0);
    const before = kbdIrq.levels.length;
    bytes.push(read());
    // Each read lowers the line; the next byte raises it again (a new edge).
    strictEqual(kbdIrq.levels[before], false);
  }
  strictEqual(kbdIrq.level, false);
  const H = [0x2a, 0x23, 0xa3, 0xaa], i = [0x17, 0x97], bang = [0x2a, 0x02, 0x82, 0xaa];
  deepStrictEqual(bytes, [...H, ...i, ...bang, 0x1c, 0x9c]);
  strictEqual(kbdIrq.levels.filter((l) => l).length, bytes.length);
  deepStrictEqual(mouseIrq.levels, []);
});

Deno.test("i8042: no IRQ 1 when the command byte disables it", () => {
  const { ctl, kbdIrq, command, data, drain } = setup();
  command(0x60);
  data(0x40);
  ctl.keyboard.keyDown("KeyB");
  deepStrictEqual(drain(), [0x30]);
  deepStrictEqual(kbdIrq.levels, []);
  // Enabling it with a byte waiting raises the line at once.
  ctl.keyboard.keyUp("KeyB");
  command(0x60);
  data(0x41);
  strictEqual(kbdIrq.level, true);
  deepStrictEqual(drain(), [0xb0]);
  strictEqual(kbdIrq.level, false);
});

Deno.test("i8042: mouse bytes set the AUX bit and raise IRQ 12 when enabled", () => {
  const { ctl, mouseIrq, kbdIrq, status, command, data, read, drain } = setup();
  command(0x60);
  data(0x43);
  command(0xd4);
  data(0xf4);
  strictEqual(status() & (OBF | AUX), OBF | AUX);
  strictEqual(mouseIrq.level, true);
  strictEqual(read(), 0xfa);
  strictEqual(mouseIrq.level, false);
  ctl.mouse.move(-1, 1, MOUSE_LEFT);
  deepStrictEqual(drain(), [0x39, 0xff, 0xff]);
  deepStrictEqual(kbdIrq.levels, []);
  // A disabled aux port holds mouse bytes back.
  command(0xa7);
  ctl.mouse.move(1, 0, 0);
  strictEqual(status() & OBF, 0);
  command(0xa8);
  deepStrictEqual(drain(), [0x08, 0x01, 0x00]);
});

Deno.test("i8042: 0xD4 sends to the mouse and re-enables the aux port", () => {
  const { ctl, status, command, data, read } = setup();
  command(0xa7);
  command(0xd4);
  data(0xf2);
  strictEqual(ctl.commandByte & 0x20, 0);
  const got = [];
  while (status() & OBF) {
    strictEqual(status() & AUX, AUX);
    got.push(read());
  }
  deepStrictEqual(got, [0xfa, 0x00]);
});

Deno.test("i8042: D2 and D3 write the output buffer as keyboard or aux, untranslated", () => {
  const { mouseIrq, kbdIrq, status, command, data, read } = setup();
  command(0x60);
  data(0x43);
  command(0xd2);
  data(0x1c);
  strictEqual(status() & (OBF | AUX), OBF);
  strictEqual(kbdIrq.level, true);
  strictEqual(read(), 0x1c);
  command(0xd3);
  data(0x5a);
  strictEqual(status() & (OBF | AUX), OBF | AUX);
  strictEqual(mouseIrq.level, true);
  strictEqual(read(), 0x5a);
  strictEqual(mouseIrq.level, false);
});

Deno.test("i8042: controller replies queue behind a full output buffer", () => {
  const { ctl, command, drain } = setup();
  ctl.keyboard.keyDown("KeyC");
  command(0xaa);
  command(0x20);
  deepStrictEqual(drain(), [0x2e, 0x55, 0x41]);
});

Deno.test("i8042: output and input ports, A20 through D1, DD and DF", () => {
  const { ctl, command, data, drain, a20, resets } = setup();
  command(0xd0);
  deepStrictEqual(drain(), [0xcf]);
  command(0xc0);
  deepStrictEqual(drain(), [0xa0]);
  command(0xd1);
  data(0xcd); // A20 off, reset line high
  strictEqual(ctl.a20, false);
  command(0xd0);
  deepStrictEqual(drain(), [0xcd]);
  command(0xdf);
  command(0xdf);
  command(0xdd);
  deepStrictEqual(a20, [false, true, false]);
  deepStrictEqual(resets, []);
});

Deno.test("i8042: output port bits 4 and 5 show the IRQ lines", () => {
  const { ctl, command, data, read, drain } = setup();
  command(0x60);
  data(0x43);
  ctl.keyboard.keyDown("KeyA");
  command(0xd0); // queued behind the key byte
  strictEqual(read(), 0x1e);
  deepStrictEqual(drain(), [0xdf]);
});

Deno.test("i8042: reset pulse through 0xFE, other F0-FF commands, and D1", () => {
  const { command, data, resets, a20 } = setup();
  command(0xfe);
  strictEqual(resets.length, 1);
  command(0xff); // pulses nothing
  command(0xfd); // pulses line 1 only
  strictEqual(resets.length, 1);
  command(0xf0); // pulses all four lines, reset included
  strictEqual(resets.length, 2);
  command(0xd1);
  data(0xde); // bit 0 low: reset; A20 stays on
  strictEqual(resets.length, 3);
  deepStrictEqual(a20, []);
});

Deno.test("i8042: wide reads fill the upper bytes with ones", () => {
  const { ctl, command } = setup();
  command(0xaa);
  strictEqual(ctl.commandPort.read(0, 2), 0xff00 | 0x1d);
  strictEqual(ctl.dataPort.read(0, 4), 0xffffff55);
});

Deno.test("i8042: reading an empty buffer returns the last byte again", () => {
  const { command, read, drain } = setup();
  command(0xaa);
  deepStrictEqual(drain(), [0x55]);
  strictEqual(read(), 0x55);
});

Deno.test("i8042: reset restores power-on state of controller, keyboard and mouse", () => {
  const { ctl, kbdIrq, command, data, a20 } = setup();
  command(0x60);
  data(0x07);
  command(0xdd);
  data(0xf0);
  data(0x03);
  command(0xd4);
  data(0xf0);
  ctl.keyboard.keyDown("KeyA");
  ctl.reset();
  strictEqual(kbdIrq.level, false);
  strictEqual(ctl.a20, true);
  deepStrictEqual(a20, [false, true]);
  const st = ctl.snapshot();
  deepStrictEqual(
    {
      status: st.status,
      commandByte: st.commandByte,
      outputFull: st.outputFull,
      queue: st.queue,
      queued: st.queued,
      pendingCommand: st.pendingCommand,
      systemFlag: st.systemFlag,
      translation: st.translation,
      a20: st.a20,
      irq1: st.irq1,
      irq12: st.irq12,
    },
    {
      status: 0x10,
      commandByte: 0x41,
      outputFull: false,
      queue: [],
      queued: 0,
      pendingCommand: null,
      systemFlag: false,
      translation: true,
      a20: true,
      irq1: false,
      irq12: false,
    },
  );
  // Resend after a reset repeats the last byte sent before it: the rest is power-on state.
  deepStrictEqual({ ...st.keyboard, lastSent: 0 }, {
    ...new Ps2Keyboard().snapshot(),
    lastSent: 0,
  });
  deepStrictEqual(st.mouse, new Ps2Mouse().snapshot());
});

Deno.test("i8042: state shows the output buffer and what waits behind it", () => {
  const { ctl } = setup();
  ctl.keyboard.keyDown("ArrowUp");
  const s = ctl.snapshot();
  deepStrictEqual([s.outputFull, s.output], [true, 0xe0]);
  strictEqual(s.queued, 1);
  strictEqual(s.irq1, true);
});

// Property: snapshot -> restore into a fresh controller -> snapshot is the
// identity, and the restored controller behaves like the original.

interface KbcTwin extends Twin {
  readonly ctl: I8042;
  readonly irq1: RecordingIrq;
  readonly irq12: RecordingIrq;
}

function kbcTwin(): KbcTwin {
  const clock = new SteppedClock();
  const events: string[] = [];
  const line = (name: string, rec: RecordingIrq) => ({
    set: (level: boolean) => {
      rec.set(level);
      events.push(`${name}=${level}`);
    },
  });
  const irq1 = new RecordingIrq();
  const irq12 = new RecordingIrq();
  const ctl = new I8042({
    kbdIrq: line("irq1", irq1),
    mouseIrq: line("irq12", irq12),
    onSystemReset: () => events.push("reset"),
    onA20: (on) => events.push(`a20=${on}`),
  });
  return { clock, events, ctl, irq1, irq12 };
}

const KBC_COMMANDS = [
  0x20,
  0x21,
  0x60,
  0x65,
  0xa4,
  0xa7,
  0xa8,
  0xa9,
  0xaa,
  0xab,
  0xad,
  0xae,
  0xc0,
  0xd0,
  0xd1,
  0xd2,
  0xd3,
  0xd4,
  0xd4,
  0xd4,
  0xdd,
  0xdf,
  0xfe,
];
const KBD_BYTES = [0xed, 0xee, 0xf0, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xfa, 0xfe, 0xff, 0, 1, 2, 3];
const MOUSE_BYTES = [0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xee, 0xf0, 0xf2, 0xf3, 0xf4];
const SOME_KEYS = ["KeyA", "Enter", "ArrowUp", "ShiftLeft", "Pause", "Numpad5"] as const;

function kbcStep(rng: SeededRandom, t: KbcTwin): string {
  const { ctl } = t;
  switch (rng.below(10)) {
    case 0:
    case 1:
      return `data=${ctl.dataPort.read(0, rng.pick([1, 1, 2, 4] as const))}`;
    case 2:
      return `status=${ctl.commandPort.read(0, 1)}`;
    case 3:
      ctl.commandPort.write(0, 1, rng.pick(KBC_COMMANDS));
      return "cmd";
    case 4:
      // Keyboard commands, mouse commands (after 0xD4), arguments and command bytes.
      ctl.dataPort.write(
        0,
        1,
        rng.pick([...KBD_BYTES, ...MOUSE_BYTES, 0x61, 0x43, 0x03, 200, 100, 80, rng.byte()]),
      );
      return "data";
    case 5:
    case 6: {
      const key = rng.pick(SOME_KEYS);
      return `key ${rng.chance(0.6) ? ctl.keyboard.keyDown(key) : ctl.keyboard.keyUp(key)}`;
    }
    case 7:
      return `move ${
        ctl.mouse.move(rng.int(-300, 300), rng.int(-9, 9), rng.below(32), rng.int(-9, 9))
      }`;
    case 8:
      ctl.keyboard.releaseAll();
      return "release";
    default:
      return `a20=${ctl.a20} cb=${ctl.commandByte}`;
  }
}

Deno.test("i8042 snapshot/restore: identity and identical behaviour from random states, mid-transfer", () => {
  let midTransfer = 0;
  for (let seed = 1; seed <= 120; seed++) {
    const rng = new SeededRandom(seed);
    const a = kbcTwin();
    if (rng.chance(0.7)) {
      a.ctl.commandPort.write(0, 1, 0xd4);
      a.ctl.dataPort.write(0, 1, 0xf4); // mouse reporting on
    }
    for (let i = rng.below(150); i > 0; i--) kbcStep(rng, a);
    if (rng.chance(0.5)) {
      // End mid-transfer: bytes from both devices queued, a command awaiting data.
      a.ctl.keyboard.keyDown("KeyQ");
      a.ctl.mouse.move(rng.int(-5, 5), rng.int(-5, 5), 0);
      a.ctl.commandPort.write(0, 1, rng.pick([0x60, 0x61, 0xd1, 0xd2, 0xd3, 0xd4]));
    }
    const b = kbcTwin();
    const saved = assertRestoreIdentity(a.ctl, b.ctl);
    deepStrictEqual([b.irq1.level, b.irq12.level], [a.irq1.level, a.irq12.level]);
    strictEqual(b.ctl.a20, a.ctl.a20);
    if (
      saved.outputFull && saved.pendingCommand !== null && saved.keyboard.pendingBytes > 0 &&
      saved.mouse.pendingBytes > 0
    ) {
      midTransfer++;
    }
    assertSameBehaviour(a, b, seed + 1000, 200, kbcStep);
  }
  // Queued keyboard and mouse bytes behind a full output buffer while a
  // command waits for its data byte, all at once.
  ok(midTransfer >= 3, `only ${midTransfer} mid-transfer snapshots`);
});

Deno.test("i8042 snapshot/restore: a command awaiting its data byte and refused states", () => {
  const a = kbcTwin();
  a.ctl.dataPort.write(0, 1, 0xf4); // keyboard: enable
  a.ctl.commandPort.write(0, 1, 0xd4);
  a.ctl.dataPort.write(0, 1, 0xf4); // mouse: enable reporting
  a.ctl.keyboard.keyDown("KeyA");
  a.ctl.mouse.move(3, 4, 1);
  a.ctl.commandPort.write(0, 1, 0x60); // awaits the command byte
  const b = kbcTwin();
  const s = assertRestoreIdentity(a.ctl, b.ctl);
  strictEqual(s.pendingCommand, 0x60);
  b.ctl.dataPort.write(0, 1, 0x47);
  strictEqual(b.ctl.commandByte, 0x47);
  assertRestoreRejects(kbcTwin().ctl, s, [
    { pendingCommand: 0x20 },
    { ram: new Uint8Array(31) },
    { queue: [{ byte: 256, aux: false }] },
    { keyboard: { ...s.keyboard, scanCodeSet: 4 } },
    { keyboard: { ...s.keyboard, pressed: ["NoSuchKey"] } },
    { mouse: { ...s.mouse, id: 2 } },
    { mouse: { ...s.mouse, version: 2 } },
  ]);
});
