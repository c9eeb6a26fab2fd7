import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { SteppedClock } from "./clock.ts";
import { SeededRandom } from "./testing/seeded_random.ts";
import {
  assertRestoreIdentity,
  assertRestoreRejects,
  assertSameBehaviour,
  type Twin,
} from "./testing/snapshot_check.ts";
import {
  MOUSE_BUTTON4,
  MOUSE_BUTTON5,
  MOUSE_LEFT,
  MOUSE_MIDDLE,
  MOUSE_RIGHT,
  Ps2Mouse,
} from "./ps2_mouse.ts";

function drain(mouse: Ps2Mouse): number[] {
  const out: number[] = [];
  for (let b = mouse.pull(); b !== undefined; b = mouse.pull()) out.push(b);
  return out;
}

function send(mouse: Ps2Mouse, ...bytes: number[]): number[] {
  for (const b of bytes) mouse.receive(b);
  return drain(mouse);
}

/** A mouse in stream mode with reporting enabled. */
function streaming(): Ps2Mouse {
  const mouse = new Ps2Mouse();
  deepStrictEqual(send(mouse, 0xf4), [0xfa]);
  return mouse;
}

Deno.test("ps2 mouse: reset answers ACK, AA, ID 0", () => {
  const mouse = new Ps2Mouse();
  deepStrictEqual(send(mouse, 0xff), [0xfa, 0xaa, 0x00]);
  deepStrictEqual(send(mouse, 0xf2), [0xfa, 0x00]);
});

Deno.test("ps2 mouse: status request reports mode, scaling, resolution and rate", () => {
  const mouse = new Ps2Mouse();
  deepStrictEqual(send(mouse, 0xe9), [0xfa, 0x00, 0x02, 100]);
  deepStrictEqual(send(mouse, 0xf3, 40, 0xe8, 3, 0xe7, 0xf4), [0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa]);
  mouse.move(0, 0, MOUSE_LEFT | MOUSE_RIGHT);
  drain(mouse);
  // Bit 5 enabled, bit 4 scaling 2:1, bit 2 left, bit 0 right.
  deepStrictEqual(send(mouse, 0xe9), [0xfa, 0x35, 0x03, 40]);
  // Remote mode (bit 6) keeps the reporting flag; 1:1 scaling clears bit 4.
  deepStrictEqual(send(mouse, 0xf0, 0xe6, 0xe9), [0xfa, 0xfa, 0xfa, 0x65, 0x03, 40]);
  deepStrictEqual(send(mouse, 0xf6, 0xe9), [0xfa, 0xfa, 0x05, 0x02, 100]);
});

Deno.test("ps2 mouse: invalid rate or resolution gets Resend", () => {
  const mouse = new Ps2Mouse();
  deepStrictEqual(send(mouse, 0xf3, 55), [0xfa, 0xfe]);
  deepStrictEqual(send(mouse, 0xe8, 4), [0xfa, 0xfe]);
  deepStrictEqual(send(mouse, 0xe9), [0xfa, 0x00, 0x02, 100]);
  deepStrictEqual(send(mouse, 0x42), [0xfe]);
});

Deno.test("ps2 mouse: no packets until reporting is enabled", () => {
  const mouse = new Ps2Mouse();
  strictEqual(mouse.move(3, 3, 0), false);
  deepStrictEqual(drain(mouse), []);
  send(mouse, 0xf4);
  strictEqual(mouse.move(3, 0, 0), true);
  deepStrictEqual(drain(mouse), [0x08, 3, 0]);
  send(mouse, 0xf5);
  strictEqual(mouse.move(3, 0, 0), false);
});

Deno.test("ps2 mouse: packets carry buttons, sign bits and 9-bit deltas (Y up)", () => {
  const mouse = streaming();
  // Right and down on screen: X +5, Y -3.
  mouse.move(5, 3, MOUSE_LEFT);
  deepStrictEqual(drain(mouse), [0x08 | 0x01 | 0x20, 5, 0xfd]);
  // Left and up on screen: X -10, Y +20.
  mouse.move(-10, -20, MOUSE_MIDDLE);
  deepStrictEqual(drain(mouse), [0x08 | 0x04 | 0x10, 0xf6, 20]);
  mouse.move(-256, 255, MOUSE_RIGHT);
  deepStrictEqual(drain(mouse), [0x08 | 0x02 | 0x10 | 0x20, 0x00, 0x01]);
});

Deno.test("ps2 mouse: deltas beyond 9 bits are clamped with the overflow bits", () => {
  const mouse = streaming();
  mouse.move(300, 0, 0);
  deepStrictEqual(drain(mouse), [0x08 | 0x40, 0xff, 0x00]);
  mouse.move(0, 400, 0);
  deepStrictEqual(drain(mouse), [0x08 | 0x20 | 0x80, 0x00, 0x00]);
});

Deno.test("ps2 mouse: 2:1 scaling applies to stream packets", () => {
  const mouse = streaming();
  send(mouse, 0xe7);
  const reported = [0, 1, 2, 3, 4, 5, 6, -4].map((dx) => {
    mouse.move(dx, 0, 0);
    const [b0, x] = drain(mouse);
    return b0 & 0x10 ? x - 256 : x;
  });
  deepStrictEqual(reported, [0, 1, 1, 3, 6, 9, 12, -6]);
});

Deno.test("ps2 mouse: the IntelliMouse knock gives ID 3 and a wheel byte", () => {
  const mouse = new Ps2Mouse();
  deepStrictEqual(send(mouse, 0xf3, 200, 0xf3, 100, 0xf3, 80), [
    0xfa,
    0xfa,
    0xfa,
    0xfa,
    0xfa,
    0xfa,
  ]);
  deepStrictEqual(send(mouse, 0xf2), [0xfa, 0x03]);
  send(mouse, 0xf4);
  mouse.move(1, 0, 0, 1);
  deepStrictEqual(drain(mouse), [0x08, 1, 0, 0x01]);
  mouse.move(0, 0, 0, -1);
  deepStrictEqual(drain(mouse), [0x08, 0, 0, 0xff]);
  mouse.move(0, 0, 0, -20); // clamped to -8
  deepStrictEqual(drain(mouse), [0x08, 0, 0, 0xf8]);
  // Reset returns to a plain mouse.
  deepStrictEqual(send(mouse, 0xff, 0xf2), [0xfa, 0xaa, 0x00, 0xfa, 0x00]);
});

Deno.test("ps2 mouse: a wrong knock leaves ID 0", () => {
  const mouse = new Ps2Mouse();
  send(mouse, 0xf3, 200, 0xf3, 80, 0xf3, 100);
  deepStrictEqual(send(mouse, 0xf2), [0xfa, 0x00]);
  // The Explorer knock alone does nothing either.
  send(mouse, 0xf3, 200, 0xf3, 200, 0xf3, 80);
  deepStrictEqual(send(mouse, 0xf2), [0xfa, 0x00]);
});

Deno.test("ps2 mouse: the Explorer knock after ID 3 gives ID 4 with buttons 4 and 5", () => {
  const mouse = new Ps2Mouse();
  send(mouse, 0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf3, 200, 0xf3, 200, 0xf3, 80);
  deepStrictEqual(send(mouse, 0xf2), [0xfa, 0x04]);
  send(mouse, 0xf4);
  mouse.move(0, 0, MOUSE_LEFT | MOUSE_BUTTON4 | MOUSE_BUTTON5, -2);
  deepStrictEqual(drain(mouse), [0x09, 0, 0, 0x30 | 0x0e]);
});

Deno.test("ps2 mouse: remote mode accumulates until Read Data", () => {
  const mouse = new Ps2Mouse();
  send(mouse, 0xf0);
  strictEqual(mouse.move(10, 0, 0), false);
  mouse.move(-3, 2, MOUSE_RIGHT);
  deepStrictEqual(drain(mouse), []);
  deepStrictEqual(send(mouse, 0xeb), [0xfa, 0x08 | 0x02 | 0x20, 7, 0xfe]);
  deepStrictEqual(send(mouse, 0xeb), [0xfa, 0x0a, 0, 0]);
  deepStrictEqual(mouse.snapshot().mode, "remote");
});

Deno.test("ps2 mouse: wrap mode echoes until EC", () => {
  const mouse = new Ps2Mouse();
  deepStrictEqual(send(mouse, 0xee), [0xfa]);
  deepStrictEqual(send(mouse, 0x12, 0xf4), [0x12, 0xf4]);
  strictEqual(mouse.move(5, 5, 0), false);
  deepStrictEqual(send(mouse, 0xec), [0xfa]);
  deepStrictEqual(send(mouse, 0xf2), [0xfa, 0x00]);
});

Deno.test("ps2 mouse: Resend repeats the last packet", () => {
  const mouse = streaming();
  mouse.move(4, -4, 0);
  deepStrictEqual(drain(mouse), [0x08, 4, 4]);
  deepStrictEqual(send(mouse, 0xfe), [0x08, 4, 4]);
  deepStrictEqual(send(mouse, 0xf2, 0xfe), [0xfa, 0x00, 0xfa, 0x00]);
});

Deno.test("ps2 mouse: a command drops packets not yet started", () => {
  const mouse = streaming();
  mouse.move(1, 0, 0);
  mouse.move(2, 0, 0);
  strictEqual(mouse.pull(), 0x08);
  deepStrictEqual(send(mouse, 0xf5), [1, 0, 0xfa]);
});

Deno.test("ps2 mouse: state snapshot", () => {
  const mouse = streaming();
  send(mouse, 0xf3, 60);
  mouse.move(1, 1, MOUSE_LEFT);
  const st = mouse.snapshot();
  deepStrictEqual(
    [st.id, st.mode, st.reporting, st.sampleRate, st.resolution, st.scaling, st.buttons],
    [0, "stream", true, 60, 2, "1:1", 1],
  );
  deepStrictEqual([st.pendingBytes, st.packets, st.rates], [3, [[0x29, 1, 0xff]], [60]]);
});

interface MouseTwin extends Twin {
  readonly mouse: Ps2Mouse;
}

function mouseTwin(): MouseTwin {
  const events: string[] = [];
  return {
    clock: new SteppedClock(),
    events,
    mouse: new Ps2Mouse({ wake: () => events.push("wake") }),
  };
}

function mouseStep(rng: SeededRandom, t: MouseTwin): string {
  const { mouse } = t;
  switch (rng.below(5)) {
    case 0:
    case 1:
      return `pull=${mouse.pull()}`;
    case 2: // commands and arguments, the IntelliMouse knocks among them
      mouse.receive(
        rng.pick([
          0xe6,
          0xe7,
          0xe8,
          0xe9,
          0xea,
          0xeb,
          0xec,
          0xee,
          0xf0,
          0xf2,
          0xf3,
          0xf3,
          0xf4,
          0xf5,
          0xf6,
          0xfe,
          0xff,
          200,
          100,
          80,
          3,
          rng.byte(),
        ]),
      );
      return "rx";
    case 3:
      return `move ${
        mouse.move(rng.int(-400, 400), rng.int(-400, 400), rng.below(32), rng.int(-9, 9))
      }`;
    default:
      return `id=${mouse.id} streaming=${mouse.streaming}`;
  }
}

Deno.test("ps2 mouse snapshot/restore: identity and identical behaviour from random states", () => {
  let midPacket = 0;
  for (let seed = 1; seed <= 80; seed++) {
    const rng = new SeededRandom(seed);
    const a = mouseTwin();
    if (rng.chance(0.7)) a.mouse.receive(0xf4);
    for (let i = rng.below(100); i > 0; i--) mouseStep(rng, a);
    const b = mouseTwin();
    const s = assertRestoreIdentity(a.mouse, b.mouse);
    deepStrictEqual(b.events, [], "restore does not wake the controller");
    if (s.out.length > 0 && s.packets.length > 0) midPacket++;
    assertSameBehaviour(a, b, seed + 1000, 150, mouseStep);
  }
  ok(midPacket >= 3, `only ${midPacket} snapshots with a packet half sent and more queued`);
  const s = new Ps2Mouse().snapshot();
  assertRestoreRejects(new Ps2Mouse(), s, [
    { id: 1 },
    { sampleRate: 7 },
    { resolution: 4 },
    { dx: 0.5 },
    { packets: [[1, 2, 3, 4, 5]] },
    { scaling: "3:1" },
  ]);
});
