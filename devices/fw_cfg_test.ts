import { deepStrictEqual, ok, strictEqual, throws } from "node:assert";
import { SteppedClock } from "./clock.ts";
import { SeededRandom } from "./testing/seeded_random.ts";
import {
  assertRestoreIdentity,
  assertRestoreRejects,
  assertSameBehaviour,
  type Twin,
} from "./testing/snapshot_check.ts";
import {
  FW_CFG_DMA_CTL_ERROR,
  FW_CFG_DMA_CTL_READ,
  FW_CFG_DMA_CTL_SELECT,
  FW_CFG_DMA_CTL_SKIP,
  FW_CFG_DMA_CTL_WRITE,
  FW_CFG_FILE_DIR,
  FW_CFG_ID,
  FW_CFG_SIGNATURE,
  FwCfg,
  FwCfgError,
} from "./fw_cfg.ts";
import { ArrayGuestMemory as TestRam } from "./testing/array_guest_memory.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** Reads `n` bytes of the selected item through the data port. */
function readData(fw: FwCfg, n: number): number[] {
  return Array.from({ length: n }, () => fw.read(1, 1));
}

/** A byte-swapped dword, as firmware's `outl(cpu_to_be32(x))` puts big-endian bytes on the ports. */
function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Writes an FWCfgDmaAccess at `at` and starts it the way SeaBIOS does (high half, then low). */
function dma(
  fw: FwCfg,
  ram: TestRam,
  at: number,
  control: number,
  length: number,
  address: number,
): number {
  const d = new DataView(ram.bytes.buffer, at, 16);
  d.setUint32(0, control >>> 0);
  d.setUint32(4, length);
  d.setUint32(8, Math.floor(address / 2 ** 32));
  d.setUint32(12, address >>> 0);
  fw.write(4, 4, bswap32(Math.floor(at / 2 ** 32)));
  fw.write(8, 4, bswap32(at >>> 0));
  return d.getUint32(0);
}

Deno.test("traditional interface: signature and feature bits", () => {
  const fw = new FwCfg({ memory: new TestRam(4096) });
  fw.write(0, 2, FW_CFG_SIGNATURE);
  deepStrictEqual(readData(fw, 6), [0x51, 0x45, 0x4d, 0x55, 0, 0]); // "QEMU", then zeros
  fw.write(0, 2, FW_CFG_ID);
  deepStrictEqual(readData(fw, 4), [3, 0, 0, 0]);
  const noDma = new FwCfg();
  noDma.write(0, 2, FW_CFG_ID);
  deepStrictEqual(readData(noDma, 4), [1, 0, 0, 0]);
  // Selecting again rewinds; bit 14 (the old write flag) selects the same item.
  noDma.write(0, 2, 0x4000 | FW_CFG_SIGNATURE);
  strictEqual(noDma.read(1, 1), 0x51);
  // Unknown items read as zeros.
  noDma.write(0, 2, 0x1234);
  deepStrictEqual(readData(noDma, 2), [0, 0]);
});

Deno.test("file directory: big-endian count, entries sorted by name, selectors from 0x20", () => {
  const fw = new FwCfg();
  strictEqual(fw.addFile("etc/zeta", text("zz")), 0x20);
  strictEqual(fw.addFile("bootorder", text("/pci@i0cf8/*@1,1\0")), 0x21);
  strictEqual(fw.addFile("etc/alpha", new Uint8Array(300)), 0x22);
  fw.write(0, 2, FW_CFG_FILE_DIR);
  const dir = new Uint8Array(readData(fw, 4 + 3 * 64));
  const v = new DataView(dir.buffer);
  strictEqual(v.getUint32(0), 3);
  const entries = [0, 1, 2].map((i) => {
    const at = 4 + i * 64;
    const name = new TextDecoder().decode(dir.subarray(at + 8, at + 64)).replace(/\0+$/, "");
    return {
      size: v.getUint32(at),
      select: v.getUint16(at + 4),
      reserved: v.getUint16(at + 6),
      name,
    };
  });
  deepStrictEqual(entries, [
    { size: 17, select: 0x21, reserved: 0, name: "bootorder" },
    { size: 300, select: 0x22, reserved: 0, name: "etc/alpha" },
    { size: 2, select: 0x20, reserved: 0, name: "etc/zeta" },
  ]);
  fw.write(0, 2, 0x20);
  deepStrictEqual(readData(fw, 3), [0x7a, 0x7a, 0]);
});

Deno.test("string reads of the data port fill the buffer", () => {
  const fw = new FwCfg();
  fw.write(0, 2, FW_CFG_SIGNATURE);
  const buf = new Uint8Array(5);
  fw.readBlock(1, 1, buf);
  deepStrictEqual([...buf], [0x51, 0x45, 0x4d, 0x55, 0]);
});

Deno.test('the DMA address register reads "QEMU CFG" big-endian', () => {
  const fw = new FwCfg({ memory: new TestRam(4096) });
  const bytes = new Uint8Array(8);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, fw.read(4, 4), true);
  v.setUint32(4, fw.read(8, 4), true);
  strictEqual(v.getBigUint64(0), 0x51454d5520434647n);
  strictEqual(fw.read(4, 1), 0x51);
  strictEqual(fw.read(11, 1), 0x47);
  // Without guest memory there is no DMA interface.
  strictEqual(new FwCfg().read(4, 4), 0xffffffff);
});

Deno.test("DMA read with SELECT, then SKIP and READ continuing at the offset", () => {
  const ram = new TestRam(0x4000);
  const fw = new FwCfg({ memory: ram });
  const key = fw.addFile("etc/data", text("0123456789"));
  const ctl = dma(
    fw,
    ram,
    0x100,
    (key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
    4,
    0x2000,
  );
  strictEqual(ctl, 0);
  deepStrictEqual([...ram.bytes.subarray(0x2000, 0x2004)], [...text("0123")]);
  strictEqual(dma(fw, ram, 0x100, FW_CFG_DMA_CTL_SKIP, 3, 0), 0);
  // Reading past the end fills zeros.
  ram.bytes.fill(0xaa, 0x3000, 0x3006);
  strictEqual(dma(fw, ram, 0x100, FW_CFG_DMA_CTL_READ, 6, 0x3000), 0);
  deepStrictEqual([...ram.bytes.subarray(0x3000, 0x3006)], [...text("789"), 0, 0, 0]);
  // The traditional port sees the same offset, now at the end.
  strictEqual(fw.read(1, 1), 0);
  deepStrictEqual(fw.snapshot().selector, key);
});

Deno.test("DMA above 4 GiB addresses use both halves of the register", () => {
  const ram = new TestRam(0x1000);
  const fw = new FwCfg({ memory: ram });
  // The descriptor is out of RAM: nothing can be reported and nothing throws.
  fw.write(4, 4, bswap32(1));
  fw.write(8, 4, bswap32(0x100));
  // The data address above 4 GiB is outside RAM: ERROR.
  strictEqual(
    dma(fw, ram, 0x100, FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, 2 ** 32 + 0x10),
    FW_CFG_DMA_CTL_ERROR,
  );
});

Deno.test("DMA on a selector with no item sets ERROR, zero-filling reads", () => {
  const ram = new TestRam(0x1000);
  const fw = new FwCfg({ memory: ram });
  ram.bytes.fill(0xaa, 0x200, 0x208);
  const ctl = dma(
    fw,
    ram,
    0x100,
    (0x1234 << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
    8,
    0x200,
  );
  strictEqual(ctl, FW_CFG_DMA_CTL_ERROR);
  deepStrictEqual([...ram.bytes.subarray(0x200, 0x208)], [0, 0, 0, 0, 0, 0, 0, 0]);
  strictEqual(dma(fw, ram, 0x100, FW_CFG_DMA_CTL_SKIP, 8, 0), FW_CFG_DMA_CTL_ERROR);
  // A known item works again afterwards; SELECT alone completes cleanly.
  strictEqual(dma(fw, ram, 0x100, (FW_CFG_ID << 16) | FW_CFG_DMA_CTL_SELECT, 0, 0), 0);
  strictEqual(dma(fw, ram, 0x100, FW_CFG_DMA_CTL_READ, 4, 0x200), 0);
  deepStrictEqual([...ram.bytes.subarray(0x200, 0x204)], [3, 0, 0, 0]);
  // QEMU-compatible mode: zeros but no error.
  const lax = new FwCfg({ memory: ram, unknownSelectorError: false });
  strictEqual(
    dma(lax, ram, 0x100, (0x1234 << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, 0x200),
    0,
  );
});

Deno.test("DMA write to a writable file, refused for read-only items and overruns", () => {
  const ram = new TestRam(0x1000);
  const fw = new FwCfg({ memory: ram });
  const writes: [number, number[]][] = [];
  const key = fw.addFile("etc/vmcoreinfo", new Uint8Array(8), {
    writable: true,
    onWrite: (offset, bytes) => writes.push([offset, [...bytes]]),
  });
  const ro = fw.addFile("etc/ro", new Uint8Array(8));
  ram.bytes.set([1, 2, 3, 4], 0x300);
  strictEqual(
    dma(fw, ram, 0x100, (key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 2, 0),
    0,
  );
  strictEqual(dma(fw, ram, 0x100, FW_CFG_DMA_CTL_WRITE, 4, 0x300), 0);
  deepStrictEqual([...fw.file("etc/vmcoreinfo")!], [0, 0, 1, 2, 3, 4, 0, 0]);
  deepStrictEqual(writes, [[2, [1, 2, 3, 4]]]);
  // Offset is now 6: four more bytes would run past the end, and are dropped whole.
  strictEqual(dma(fw, ram, 0x100, FW_CFG_DMA_CTL_WRITE, 4, 0x300), FW_CFG_DMA_CTL_ERROR);
  deepStrictEqual([...fw.file("etc/vmcoreinfo")!], [0, 0, 1, 2, 3, 4, 0, 0]);
  strictEqual(
    dma(fw, ram, 0x100, (ro << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, 0x300),
    FW_CFG_DMA_CTL_ERROR,
  );
  deepStrictEqual([...fw.file("etc/ro")!], [0, 0, 0, 0, 0, 0, 0, 0]);
  strictEqual(writes.length, 1);
  // The directory reports the file's fixed size.
  const files = fw.snapshot().files;
  deepStrictEqual(files.map((f) => [f.name, f.size, f.writable]), [["etc/ro", 8, false], [
    "etc/vmcoreinfo",
    8,
    true,
  ]]);
});

Deno.test("traditional data port writes are ignored", () => {
  const fw = new FwCfg();
  const key = fw.addFile("etc/x", text("ab"), { writable: true });
  fw.write(0, 2, key);
  fw.write(1, 1, 0x7a);
  deepStrictEqual(readData(fw, 2), [0x61, 0x62]);
});

Deno.test("items: reserved keys and bad file names are refused", () => {
  const fw = new FwCfg();
  throws(() => fw.addItem(FW_CFG_SIGNATURE, new Uint8Array(1)), FwCfgError);
  throws(() => fw.addItem(FW_CFG_FILE_DIR, new Uint8Array(1)), FwCfgError);
  throws(() => fw.addItem(0x20, new Uint8Array(1)), FwCfgError);
  throws(() => fw.addItem(0x4005, new Uint8Array(1)), FwCfgError);
  fw.addItem(0x05, new Uint8Array([2, 0]));
  fw.addItem(0x8002, new Uint8Array([1, 0, 0, 0]));
  fw.write(0, 2, 0x8002);
  strictEqual(fw.read(1, 1), 1);
  fw.addFile("etc/a", new Uint8Array(1));
  throws(() => fw.addFile("etc/a", new Uint8Array(1)), FwCfgError);
  throws(() => fw.addFile("x".repeat(56), new Uint8Array(1)), FwCfgError);
  throws(() => fw.addFile("", new Uint8Array(1)), FwCfgError);
  fw.addFile("x".repeat(55), new Uint8Array(1));
});

Deno.test("reset selects the signature; snapshot lists selector, offset and files", () => {
  const fw = new FwCfg();
  fw.addFile("etc/e820", new Uint8Array(20));
  fw.write(0, 2, 0x20);
  readData(fw, 3);
  deepStrictEqual(fw.snapshot(), {
    version: 1,
    selector: 0x20,
    offset: 3,
    dmaAddress: new Uint8Array(8),
    dma: false,
    items: [{ key: 0, size: 4 }, { key: 1, size: 4 }, { key: 0x19, size: 68 }],
    files: [{ name: "etc/e820", selector: 0x20, size: 20, writable: false }],
    writableData: [],
  });
  fw.reset();
  strictEqual(fw.read(1, 1), 0x51);
});

// Property: snapshot -> restore into a fw_cfg built the same way -> snapshot is
// the identity, mid-file and mid-DMA, and the restored one reads the same.

interface FwTwin extends Twin {
  readonly fw: FwCfg;
  readonly ram: TestRam;
}

function fwTwin(): FwTwin {
  const events: string[] = [];
  const ram = new TestRam(0x2000);
  const fw = new FwCfg({ memory: ram });
  fw.addItem(0x05, new Uint8Array([2, 0]));
  fw.addFile("etc/table", Uint8Array.from({ length: 300 }, (_, i) => i * 7));
  fw.addFile("etc/vmcoreinfo", new Uint8Array(16), {
    writable: true,
    onWrite: (offset, bytes) => events.push(`write ${offset} ${[...bytes]}`),
  });
  return { clock: new SteppedClock(), events, fw, ram };
}

function fwStep(rng: SeededRandom, t: FwTwin): string {
  const { fw, ram } = t;
  switch (rng.below(8)) {
    case 0:
      fw.write(0, 2, rng.pick([0, 1, 5, 0x19, 0x20, 0x21, 0x4020, 0x1234]));
      return "select";
    case 1:
    case 2:
      return `data=${fw.read(1, 1)}`;
    case 3: { // string reads
      const dst = new Uint8Array(rng.int(1, 40));
      fw.readBlock(1, 1, dst);
      return `block=${[...dst]}`;
    }
    case 4: { // a DMA descriptor in RAM, then one half of the address register
      const at = rng.pick([0x100, 0x180]);
      const d = new DataView(ram.bytes.buffer, at, 16);
      const op = rng.pick([FW_CFG_DMA_CTL_READ, FW_CFG_DMA_CTL_WRITE, FW_CFG_DMA_CTL_SKIP]);
      const select = rng.chance(0.5)
        ? (rng.pick([0x20, 0x21, 0x19]) << 16) | FW_CFG_DMA_CTL_SELECT
        : 0;
      d.setUint32(0, (select | op) >>> 0);
      d.setUint32(4, rng.below(24));
      d.setUint32(8, 0);
      d.setUint32(12, 0x400 + rng.below(0x100));
      ram.bytes.set(Uint8Array.from({ length: 32 }, () => rng.byte()), 0x600);
      return "descriptor";
    }
    case 5:
      fw.write(4, 4, 0); // high half of the address: the transfer waits for the low half
      return "dma-high";
    case 6:
      fw.write(8, 4, bswap32(rng.pick([0x100, 0x180])));
      return `dma-low ${[...ram.bytes.subarray(0x100, 0x104)]} ${[
        ...ram.bytes.subarray(0x400, 0x500),
      ]}`;
    default:
      return `dma-sig=${fw.read(4, rng.pick([1, 2, 4] as const))}`;
  }
}

Deno.test("snapshot/restore: identity and identical behaviour mid-file and mid-DMA", () => {
  let midDma = 0, midFile = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const rng = new SeededRandom(seed);
    const a = fwTwin();
    for (let i = rng.below(60); i > 0; i--) fwStep(rng, a);
    const b = fwTwin();
    b.ram.bytes.set(a.ram.bytes); // guest RAM is restored separately
    const s = assertRestoreIdentity(a.fw, b.fw);
    if (s.dmaAddress.some((x) => x !== 0) || s.selector === 0x21 && s.offset > 0) midDma++;
    if (s.selector === 0x20 && s.offset > 0 && s.offset < 300) midFile++;
    assertSameBehaviour(a, b, seed + 1000, 100, fwStep);
  }
  ok(midFile >= 5 && midDma >= 5, `mid-file ${midFile}, mid-DMA ${midDma}`);
});

Deno.test("snapshot/restore: a half-written DMA address completes after restore; other machines refused", () => {
  const a = fwTwin();
  const d = new DataView(a.ram.bytes.buffer, 0x100, 16);
  d.setUint32(0, (0x20 << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
  d.setUint32(4, 4);
  d.setUint32(12, 0x400);
  a.fw.write(4, 4, 0x12345678 >>> 0); // high half written (a bogus value)...
  a.fw.write(4, 4, 0); // ...then rewritten: still waiting for the low half
  const b = fwTwin();
  b.ram.bytes.set(a.ram.bytes);
  const s = assertRestoreIdentity(a.fw, b.fw);
  b.fw.write(8, 4, bswap32(0x100));
  deepStrictEqual([...b.ram.bytes.subarray(0x400, 0x404)], [0, 7, 14, 21]);
  strictEqual(new DataView(b.ram.bytes.buffer).getUint32(0x100), 0, "control written back as done");
  const other = new FwCfg({ memory: new TestRam(16) });
  assertRestoreRejects(other, s, []);
  assertRestoreRejects(fwTwin().fw, s, [
    { dmaAddress: new Uint8Array(4) },
    { offset: 1000 },
    { files: [] },
    { writableData: [] },
    { dma: false },
  ]);
});
