import { deepStrictEqual, strictEqual } from "node:assert";
import { type DriveHost, IdeDrive, type IdeDriveState } from "./ide_drive.ts";
import { MemoryBackend } from "../testing/memory_backend.ts";

/** A minimal device: command 1 offers two 6-byte DRQ blocks, command 2 takes one 4-byte block. */
class ScriptedDrive extends IdeDrive<{ step: "first" | "second" | "out" }> {
  readonly kind = "disk" as const;
  received: number[][] = [];
  protected get readyStatus() {
    return 0x50;
  }
  protected get resetStatus() {
    return 0x50;
  }
  protected signature() {
    this.tf.setSignature(0, 0);
  }
  protected powerOnDefaults() {}
  protected execute(op: number) {
    if (op === 1) {
      this.job = { step: "first" };
      this.pioIn(new Uint8Array([1, 2, 3, 4, 5, 6]), true);
    } else if (op === 2) {
      this.job = { step: "out" };
      this.pioOut(4, false);
    } else {
      this.fail();
    }
  }
  protected blockDone(job: { step: string }, data: Uint8Array) {
    if (job.step === "first") {
      this.job = { step: "second" };
      this.pioIn(new Uint8Array([7, 8, 9, 10, 11, 12]), true);
    } else if (job.step === "second") {
      this.finish(false);
    } else {
      this.received.push([...data]);
      this.finish();
    }
  }
  protected dmaMove() {}
  protected dmaDone() {}
  protected dmaFailed() {}
  snapshot() {
    return this.baseSnapshot();
  }
  prepareRestore(state: IdeDriveState) {
    return this.prepareBase(state, "scripted").apply;
  }
}

function setup() {
  let irqChanges = 0;
  const host: DriveHost = { irqChanged: () => irqChanges++, dmaReady: () => {} };
  const drive = new ScriptedDrive({
    backend: new MemoryBackend(0),
    model: "m",
    serial: "s",
    firmware: "f",
    unit: 0,
    peerPresent: false,
    host,
  });
  drive.powerOn();
  return { drive, irqChanges: () => irqChanges };
}

Deno.test("drive: a dword read crossing DRQ blocks takes bytes from both", () => {
  const { drive } = setup();
  drive.command(1);
  strictEqual(drive.readData(4), 0x04030201);
  strictEqual(drive.readData(4), 0x08070605);
  strictEqual(drive.status & 0x08, 0x08);
  strictEqual(drive.readData(2), 0x0a09);
  strictEqual(drive.readData(2), 0x0c0b);
  strictEqual(drive.status, 0x50);
  strictEqual(drive.readData(2), 0xffff); // nothing pending
});

Deno.test("drive: block reads beyond the data fill with ones", () => {
  const { drive } = setup();
  drive.command(1);
  const dst = new Uint8Array(16);
  drive.readDataBlock(2, dst);
  deepStrictEqual([...dst], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xff, 0xff, 0xff, 0xff]);
});

Deno.test("drive: data-out by words and by block; status read acknowledges", () => {
  const { drive } = setup();
  drive.command(2);
  drive.writeData(2, 0x0201);
  drive.writeData(2, 0x0403);
  drive.command(2);
  drive.writeDataBlock(4, new Uint8Array([5, 6, 7, 8]));
  deepStrictEqual(drive.received, [[1, 2, 3, 4], [5, 6, 7, 8]]);
  strictEqual(drive.irqPending, true);
  strictEqual(drive.readStatus(), 0x50);
  strictEqual(drive.irqPending, false);
});

Deno.test("drive: reset drops transfers and reports the diagnostic code", () => {
  const { drive } = setup();
  drive.command(1);
  drive.beginReset();
  strictEqual(drive.status, 0x80);
  drive.command(1); // ignored while busy
  drive.finishReset();
  strictEqual(drive.readData(2), 0xffff);
  strictEqual(drive.tf.error, 0x01);
  strictEqual(drive.status, 0x50);
  drive.command(9);
  strictEqual(drive.status, 0x51);
  strictEqual(drive.tf.error, 0x04);
});
