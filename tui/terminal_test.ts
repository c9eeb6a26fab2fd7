import { deepStrictEqual, strictEqual } from "node:assert";
import { ENTER_SEQUENCE, LEAVE_SEQUENCE, TerminalSession } from "./terminal.ts";

function fakeIo(failWrites = false) {
  const log: string[] = [];
  return {
    log,
    io: {
      setRaw: (raw: boolean) => void log.push(`raw:${raw}`),
      writeSync: (b: Uint8Array) => {
        if (failWrites) throw new Error("EIO");
        log.push(new TextDecoder().decode(b));
        return b.length;
      },
    },
  };
}

Deno.test("enter: raw mode, alternate screen, hidden cursor, bracketed paste; restore undoes it once", () => {
  const { log, io } = fakeIo();
  const t = new TerminalSession(io);
  t.enter();
  t.enter();
  strictEqual(t.entered, true);
  t.restore();
  t.restore();
  deepStrictEqual(log, ["raw:true", ENTER_SEQUENCE, LEAVE_SEQUENCE, "raw:false"]);
  for (const s of ["\x1b[?1049h", "\x1b[?25l", "\x1b[?2004h"]) {
    strictEqual(ENTER_SEQUENCE.includes(s), true);
  }
  for (const s of ["\x1b[?1049l", "\x1b[?25h", "\x1b[?2004l", "\x1b[0m"]) {
    strictEqual(LEAVE_SEQUENCE.includes(s), true);
  }
});

Deno.test("restore on a terminal that is gone does not throw", () => {
  const { io } = fakeIo(true);
  const t = new TerminalSession({ ...io, setRaw: () => {} });
  t.enter();
  t.restore();
  strictEqual(t.entered, false);
});
