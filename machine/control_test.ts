import { deepStrictEqual, strictEqual } from "node:assert";
import {
  ControlViews,
  createControlBuffers,
  CTRL,
  MAILBOX_SIZE,
  type MailMessage,
  postMail,
  REQ,
  takeMail,
} from "./control.ts";

function views(): ControlViews {
  return new ControlViews(createControlBuffers());
}

/** Bytes one message occupies in the ring: a 4-byte length and its JSON. */
function frameSize(msg: MailMessage): number {
  return 4 + new TextEncoder().encode(JSON.stringify(msg)).length;
}

Deno.test("control buffers start zeroed and the views share them", () => {
  const v = views();
  strictEqual(v.mail.length, MAILBOX_SIZE);
  strictEqual(v.ints.every((x) => x === 0), true);
  v.bigs[0] = 0x7f00_0000_1000n;
  v.floats[0] = Infinity;
  const again = new ControlViews(v.buffers);
  strictEqual(again.bigs[0], 0x7f00_0000_1000n);
  strictEqual(again.floats[0], Infinity);
  strictEqual(again.ints[CTRL.REQUEST], 0, "the big and float areas do not overlap the ints");
});

Deno.test("ControlViews.request ORs bits into REQUEST", () => {
  const v = views();
  v.request(REQ.PAUSE);
  strictEqual(v.ints[CTRL.REQUEST], REQ.PAUSE);
  v.request(REQ.TIMER | REQ.STOP);
  strictEqual(v.ints[CTRL.REQUEST], REQ.PAUSE | REQ.TIMER | REQ.STOP);
  v.request(REQ.PAUSE);
  strictEqual(v.ints[CTRL.REQUEST], REQ.PAUSE | REQ.TIMER | REQ.STOP);
  strictEqual(v.ints[CTRL.STATE], 0, "other slots are untouched");
});

Deno.test("postMail/takeMail: one message round-trips and sets REQ.MAIL", () => {
  const v = views();
  v.request(REQ.PAUSE);
  const msg: MailMessage = {
    type: "keys",
    events: [{ key: "a", down: true }, { key: "a", down: false }],
  };
  strictEqual(postMail(v, msg), true);
  strictEqual(v.ints[CTRL.REQUEST], REQ.PAUSE | REQ.MAIL);
  strictEqual(v.ints[CTRL.MAIL_HEAD], frameSize(msg));
  deepStrictEqual(takeMail(v), [msg]);
  strictEqual(v.ints[CTRL.MAIL_TAIL], v.ints[CTRL.MAIL_HEAD]);
  deepStrictEqual(takeMail(v), [], "taken messages are gone");
});

Deno.test("postMail/takeMail: many messages come out in order", () => {
  const v = views();
  const sent: MailMessage[] = [];
  for (let i = 0; i < 200; i++) {
    const msg: MailMessage = i % 3 === 0
      ? { type: "serial-in", bytes: [i & 0xff, 0x0d] }
      : i % 3 === 1
      ? { type: "snapshot", id: i }
      : { type: "reset" };
    strictEqual(postMail(v, msg), true);
    sent.push(msg);
  }
  deepStrictEqual(takeMail(v), sent);
});

Deno.test("postMail/takeMail: the ring wraps around after MAILBOX_SIZE bytes", () => {
  const v = views();
  let total = 0;
  let n = 0;
  let wrapped = 0;
  while (total < 3 * MAILBOX_SIZE) {
    const batch: MailMessage[] = [];
    for (let i = 0; i < 7; i++) {
      const msg: MailMessage = {
        type: "serial-in",
        bytes: Array.from({ length: 50 + n % 90 }, (_, j) => (n + j) & 0xff),
      };
      const before = v.ints[CTRL.MAIL_HEAD] & (MAILBOX_SIZE - 1);
      strictEqual(postMail(v, msg), true);
      if (before + frameSize(msg) > MAILBOX_SIZE) wrapped++;
      total += frameSize(msg);
      batch.push(msg);
      n++;
    }
    deepStrictEqual(takeMail(v), batch);
  }
  strictEqual(v.ints[CTRL.MAIL_HEAD], total);
  strictEqual(v.ints[CTRL.MAIL_TAIL], total);
  strictEqual(wrapped >= 2, true, "some frames were split across the end of the ring");
});

Deno.test("postMail: a full mailbox returns false and loses nothing", () => {
  const v = views();
  const msg: MailMessage = { type: "serial-in", bytes: new Array(300).fill(0x41) };
  const size = frameSize(msg);
  const fits = Math.floor(MAILBOX_SIZE / size);
  for (let i = 0; i < fits; i++) strictEqual(postMail(v, msg), true, `message ${i}`);
  strictEqual(postMail(v, msg), false);
  strictEqual(v.ints[CTRL.MAIL_HEAD], fits * size, "a refused post writes nothing");
  // A message that still fits in the remainder is accepted.
  const small: MailMessage = { type: "reset" };
  const room = MAILBOX_SIZE - fits * size;
  strictEqual(postMail(v, small), frameSize(small) <= room);
  const out = takeMail(v);
  strictEqual(out.length, fits + (frameSize(small) <= room ? 1 : 0));
  deepStrictEqual(out[0], msg);
  deepStrictEqual(out[fits - 1], msg);
  // Once drained there is room again.
  strictEqual(postMail(v, msg), true);
  deepStrictEqual(takeMail(v), [msg]);
});

Deno.test("postMail: exactly MAILBOX_SIZE bytes fit, more do not", () => {
  /** A serial-in message whose frame is `bytes` long (frames of n >= 1 elements are 34 + 2n). */
  const sized = (bytes: number): MailMessage => {
    const msg: MailMessage = { type: "serial-in", bytes: new Array((bytes - 34) / 2).fill(0) };
    strictEqual(frameSize(msg), bytes);
    return msg;
  };
  const v = views();
  const half = sized(MAILBOX_SIZE / 2);
  strictEqual(postMail(v, half), true);
  strictEqual(postMail(v, half), true);
  strictEqual(postMail(v, { type: "reset" }), false, "no byte is left");
  deepStrictEqual(takeMail(v), [half, half]);

  const whole = sized(MAILBOX_SIZE);
  strictEqual(postMail(v, sized(MAILBOX_SIZE + 2)), false);
  strictEqual(postMail(v, whole), true, "one frame may fill the ring");
  deepStrictEqual(takeMail(v), [whole]);
});

Deno.test("postMail: the full check still works once the positions pass 2^31", () => {
  const v = views();
  const start = 0x7fff_ff00;
  v.ints[CTRL.MAIL_HEAD] = start;
  v.ints[CTRL.MAIL_TAIL] = start;
  const msg: MailMessage = { type: "serial-in", bytes: new Array(100).fill(7) };
  const size = frameSize(msg);
  const fits = Math.floor(MAILBOX_SIZE / size);
  let accepted = 0;
  while (accepted <= fits && postMail(v, msg)) accepted++;
  strictEqual(accepted, fits, "the ring must not accept more than it holds");
  strictEqual(v.ints[CTRL.MAIL_HEAD] < 0, true, "the head wrapped past 2^31");
  const out = takeMail(v);
  strictEqual(out.length, fits);
  strictEqual(out.every((m) => JSON.stringify(m) === JSON.stringify(msg)), true);
  strictEqual(v.ints[CTRL.MAIL_TAIL], v.ints[CTRL.MAIL_HEAD]);
});
