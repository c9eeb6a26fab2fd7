import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { StateError } from "../types.ts";
import { ArrayMemory, RecordingIrq } from "../virtio/test_support.ts";
import { E1000 } from "./e1000.ts";
import { nicState, restoreNic, snapshotNic } from "./nic_state.ts";
import { VirtioNet } from "./virtio_net.ts";

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

function both() {
  const opts = () => ({
    mac: MAC,
    memory: new ArrayMemory(1 << 16),
    irq: new RecordingIrq(),
    transmit: () => {},
  });
  return { e1000: new E1000(opts()), virtio: new VirtioNet(opts()) };
}

Deno.test("NIC snapshots carry their model; a restore into another model is refused", () => {
  const a = both();
  const b = both();
  const e = snapshotNic(a.e1000);
  const v = snapshotNic(a.virtio);
  strictEqual(e.model, "e1000");
  strictEqual(v.model, "virtio");
  restoreNic(b.e1000, structuredClone(e));
  restoreNic(b.virtio, structuredClone(v));
  deepStrictEqual(snapshotNic(b.e1000), e);
  throws(() => restoreNic(b.e1000, v), StateError);
  throws(() => restoreNic(b.virtio, e), StateError);
  throws(() => restoreNic(b.virtio, null as never), StateError);
});

Deno.test("the devices pane row has the MAC, link and counters", () => {
  const { e1000 } = both();
  e1000.counters.rxPackets = 3;
  const row = nicState(e1000);
  strictEqual(row.mac, "52:54:00:12:34:56");
  strictEqual(row.link, true);
  strictEqual(row.counters.rxPackets, 3);
});
