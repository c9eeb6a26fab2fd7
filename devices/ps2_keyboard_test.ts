import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { SteppedClock } from "./clock.ts";
import { SeededRandom } from "./testing/seeded_random.ts";
import {
  assertRestoreIdentity,
  assertRestoreRejects,
  assertSameBehaviour,
  type Twin,
} from "./testing/snapshot_check.ts";
import { KBD_QUEUE_LIMIT, Ps2Keyboard } from "./ps2_keyboard.ts";

/** Everything the keyboard has to send, in order. */
function drain(kbd: Ps2Keyboard): number[] {
  const out: number[] = [];
  for (let b = kbd.pull(); b !== undefined; b = kbd.pull()) out.push(b);
  return out;
}

/** Sends bytes to the keyboard and returns its whole answer. */
function send(kbd: Ps2Keyboard, ...bytes: number[]): number[] {
  for (const b of bytes) kbd.receive(b);
  return drain(kbd);
}

Deno.test("ps2 keyboard: reset answers ACK then BAT passed and restores defaults", () => {
  const kbd = new Ps2Keyboard();
  send(kbd, 0xf0, 0x01, 0xed, 0x07);
  deepStrictEqual(send(kbd, 0xff), [0xfa, 0xaa]);
  strictEqual(kbd.scanCodeSet, 2);
  deepStrictEqual(kbd.leds, { scrollLock: false, numLock: false, capsLock: false });
  strictEqual(kbd.enabled, true);
});

Deno.test("ps2 keyboard: identify is ACK AB 83, echo is EE without ACK", () => {
  const kbd = new Ps2Keyboard();
  deepStrictEqual(send(kbd, 0xf2), [0xfa, 0xab, 0x83]);
  deepStrictEqual(send(kbd, 0xee), [0xee]);
});

Deno.test("ps2 keyboard: set LEDs acknowledges command and argument and keeps the state", () => {
  const kbd = new Ps2Keyboard();
  deepStrictEqual(send(kbd, 0xed), [0xfa]);
  deepStrictEqual(send(kbd, 0x06), [0xfa]);
  deepStrictEqual(kbd.leds, { scrollLock: false, numLock: true, capsLock: true });
  send(kbd, 0xed, 0x01);
  deepStrictEqual(kbd.leds, { scrollLock: true, numLock: false, capsLock: false });
});

Deno.test("ps2 keyboard: a command in place of an argument abandons the first one", () => {
  const kbd = new Ps2Keyboard();
  send(kbd, 0xed, 0x07);
  deepStrictEqual(send(kbd, 0xed, 0xf2), [0xfa, 0xfa, 0xab, 0x83]);
  deepStrictEqual(kbd.leds, { scrollLock: true, numLock: true, capsLock: true });
});

Deno.test("ps2 keyboard: get and set scan code set", () => {
  const kbd = new Ps2Keyboard();
  deepStrictEqual(send(kbd, 0xf0, 0x00), [0xfa, 0xfa, 0x02]);
  deepStrictEqual(send(kbd, 0xf0, 0x01), [0xfa, 0xfa]);
  deepStrictEqual(send(kbd, 0xf0, 0x00), [0xfa, 0xfa, 0x01]);
  deepStrictEqual(send(kbd, 0xf0, 0x03), [0xfa, 0xfa]);
  strictEqual(kbd.scanCodeSet, 3);
  deepStrictEqual(send(kbd, 0xf0, 0x04), [0xfa, 0xfe]);
  strictEqual(kbd.scanCodeSet, 3);
});

Deno.test("ps2 keyboard: keys come out in the selected set", () => {
  const kbd = new Ps2Keyboard();
  kbd.keyDown("ArrowLeft");
  kbd.keyUp("ArrowLeft");
  deepStrictEqual(drain(kbd), [0xe0, 0x6b, 0xe0, 0xf0, 0x6b]);
  send(kbd, 0xf0, 0x01);
  kbd.keyDown("ArrowLeft");
  kbd.keyUp("ArrowLeft");
  deepStrictEqual(drain(kbd), [0xe0, 0x4b, 0xe0, 0xcb]);
});

Deno.test("ps2 keyboard: set 3 sends breaks only for shift-type keys until told otherwise", () => {
  const kbd = new Ps2Keyboard();
  send(kbd, 0xf0, 0x03);
  kbd.keyDown("ShiftLeft");
  kbd.keyDown("KeyA");
  kbd.keyUp("KeyA");
  kbd.keyUp("ShiftLeft");
  deepStrictEqual(drain(kbd), [0x12, 0x1c, 0xf0, 0x12]);
  // 0xFA: all keys typematic and make/break.
  deepStrictEqual(send(kbd, 0xfa), [0xfa]);
  kbd.keyDown("KeyA");
  kbd.keyUp("KeyA");
  deepStrictEqual(drain(kbd), [0x1c, 0xf0, 0x1c]);
  // 0xFD with a key list: those keys make only; the list ends at the next command.
  deepStrictEqual(send(kbd, 0xfd, 0x1c, 0x1b, 0xee), [0xfa, 0xfa, 0xfa, 0xee]);
  kbd.keyDown("KeyA");
  kbd.keyDown("KeyA"); // make-only keys do not repeat
  kbd.keyUp("KeyA");
  kbd.keyDown("KeyD");
  kbd.keyUp("KeyD");
  deepStrictEqual(drain(kbd), [0x1c, 0x23, 0xf0, 0x23]);
});

Deno.test("ps2 keyboard: typematic byte is acknowledged and stored; bit 7 is refused", () => {
  const kbd = new Ps2Keyboard();
  deepStrictEqual(send(kbd, 0xf3, 0x20), [0xfa, 0xfa]);
  strictEqual(kbd.snapshot().typematic, 0x20);
  deepStrictEqual(send(kbd, 0xf3, 0x80), [0xfa, 0xfe]);
  deepStrictEqual(send(kbd, 0xf6), [0xfa]);
  strictEqual(kbd.snapshot().typematic, 0x2b);
});

Deno.test("ps2 keyboard: disabled keyboard does not scan; enable resumes", () => {
  const kbd = new Ps2Keyboard();
  kbd.keyDown("KeyQ");
  kbd.keyUp("KeyQ");
  // Disable clears keys still waiting.
  deepStrictEqual(send(kbd, 0xf5), [0xfa]);
  strictEqual(kbd.enabled, false);
  strictEqual(kbd.keyDown("KeyW"), false);
  deepStrictEqual(drain(kbd), []);
  deepStrictEqual(send(kbd, 0xf4), [0xfa]);
  strictEqual(kbd.keyDown("KeyW"), true);
  deepStrictEqual(drain(kbd), [0x1d]);
});

Deno.test("ps2 keyboard: unknown commands get Resend, Resend repeats the last byte", () => {
  const kbd = new Ps2Keyboard();
  deepStrictEqual(send(kbd, 0x12), [0xfe]);
  deepStrictEqual(send(kbd, 0xf1), [0xfe]);
  deepStrictEqual(send(kbd, 0xf2), [0xfa, 0xab, 0x83]);
  deepStrictEqual(send(kbd, 0xfe), [0x83]);
});

Deno.test("ps2 keyboard: a reply never splits a key sequence", () => {
  const kbd = new Ps2Keyboard();
  kbd.keyDown("ArrowUp");
  kbd.keyDown("KeyA");
  strictEqual(kbd.pull(), 0xe0);
  kbd.receive(0xee);
  deepStrictEqual(drain(kbd), [0x75, 0xee, 0x1c]);
});

Deno.test("ps2 keyboard: many keys at once queue in order", () => {
  const kbd = new Ps2Keyboard();
  for (const k of ["ShiftLeft", "KeyH", "KeyI"] as const) kbd.keyDown(k);
  for (const k of ["KeyI", "KeyH", "ShiftLeft"] as const) kbd.keyUp(k);
  strictEqual(kbd.pendingBytes, 9);
  deepStrictEqual(drain(kbd), [0x12, 0x33, 0x43, 0xf0, 0x43, 0xf0, 0x33, 0xf0, 0x12]);
});

Deno.test("ps2 keyboard: held keys repeat their make; Pause neither repeats nor breaks", () => {
  const kbd = new Ps2Keyboard();
  kbd.keyDown("KeyZ");
  kbd.keyDown("KeyZ");
  kbd.keyUp("KeyZ");
  strictEqual(kbd.keyUp("KeyZ"), false); // not held any more
  deepStrictEqual(drain(kbd), [0x1a, 0x1a, 0xf0, 0x1a]);
  kbd.keyDown("Pause");
  kbd.keyDown("Pause");
  kbd.keyUp("Pause");
  deepStrictEqual(drain(kbd), [0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77]);
});

Deno.test("ps2 keyboard: releaseAll and keyStrokes", () => {
  const kbd = new Ps2Keyboard();
  strictEqual(
    kbd.keyStrokes([{ key: "ControlLeft", down: true }, { key: "KeyC", down: true }]),
    2,
  );
  kbd.releaseAll();
  deepStrictEqual(drain(kbd), [0x14, 0x21, 0xf0, 0x14, 0xf0, 0x21]);
  deepStrictEqual(kbd.snapshot().pressed, []);
});

Deno.test("ps2 keyboard: a full queue reports an overrun in its last slot", () => {
  const kbd = new Ps2Keyboard();
  for (let i = 0; i < KBD_QUEUE_LIMIT / 2; i++) {
    kbd.keyDown("KeyA");
    kbd.keyUp("KeyA");
  }
  strictEqual(kbd.keyDown("KeyB"), false);
  strictEqual(kbd.keyDown("KeyC"), false);
  const out = drain(kbd);
  deepStrictEqual(out.slice(-4), [0xf0, 0x1c, 0x1c, 0x00]);
  strictEqual(out.filter((b) => b === 0).length, 1);
});

Deno.test("ps2 keyboard: state snapshot", () => {
  const kbd = new Ps2Keyboard();
  send(kbd, 0xed, 0x02);
  kbd.keyDown("KeyA");
  const st = kbd.snapshot();
  deepStrictEqual(
    [st.enabled, st.scanCodeSet, st.leds, st.typematic, st.pressed, st.pendingBytes, st.awaiting],
    [true, 2, { scrollLock: false, numLock: true, capsLock: false }, 0x2b, ["KeyA"], 1, null],
  );
  deepStrictEqual([st.out, st.keys, st.lastSent], [[], [[0x1c]], 0xfa]);
});

interface KbdTwin extends Twin {
  readonly kbd: Ps2Keyboard;
}

function kbdTwin(): KbdTwin {
  const events: string[] = [];
  return {
    clock: new SteppedClock(),
    events,
    kbd: new Ps2Keyboard({ wake: () => events.push("wake") }),
  };
}

const KEYS = [
  "KeyA",
  "KeyZ",
  "Enter",
  "ArrowLeft",
  "ControlRight",
  "Pause",
  "PrintScreen",
] as const;

function kbdStep(rng: SeededRandom, t: KbdTwin): string {
  const { kbd } = t;
  switch (rng.below(6)) {
    case 0:
    case 1:
      return `pull=${kbd.pull()}`;
    case 2: // commands, their arguments and set-3 key lists
      kbd.receive(
        rng.pick([
          0xed,
          0xee,
          0xf0,
          0xf2,
          0xf3,
          0xf4,
          0xf5,
          0xf6,
          0xf7,
          0xfa,
          0xfb,
          0xfc,
          0xfe,
          0xff,
          0,
          1,
          2,
          3,
          0x1c,
          rng.byte(),
        ]),
      );
      return "rx";
    case 3:
    case 4: {
      const key = rng.pick(KEYS);
      return `key ${rng.chance(0.6) ? kbd.keyDown(key) : kbd.keyUp(key)}`;
    }
    default:
      return `set=${kbd.scanCodeSet} leds=${JSON.stringify(kbd.leds)}`;
  }
}

Deno.test("ps2 keyboard snapshot/restore: identity and identical behaviour from random states", () => {
  let midCommand = 0;
  for (let seed = 1; seed <= 80; seed++) {
    const rng = new SeededRandom(seed);
    const a = kbdTwin();
    for (let i = rng.below(100); i > 0; i--) kbdStep(rng, a);
    const b = kbdTwin();
    const s = assertRestoreIdentity(a.kbd, b.kbd);
    deepStrictEqual(b.events, [], "restore does not wake the controller");
    if (s.awaiting !== null && s.keys.length > 0) midCommand++;
    assertSameBehaviour(a, b, seed + 1000, 150, kbdStep);
  }
  ok(
    midCommand >= 3,
    `only ${midCommand} snapshots with queued keys and a command awaiting its argument`,
  );
  const s = new Ps2Keyboard().snapshot();
  assertRestoreRejects(new Ps2Keyboard(), s, [
    { scanCodeSet: 0 },
    { awaiting: "nothing" },
    { keys: [[0x100]] },
    { set3Modes: new Uint8Array(255) },
    { leds: null },
  ]);
});
