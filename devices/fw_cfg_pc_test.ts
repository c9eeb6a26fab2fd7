import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { FW_CFG_FILE_DIR, FwCfg } from "./fw_cfg.ts";
import { buildPcFwCfg, E820_RAM, encodeE820, FwCfgKey } from "./fw_cfg_pc.ts";

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** Reads an item through the ports, as firmware without DMA does. */
function readItem(fw: FwCfg, key: number, length: number): Uint8Array {
  fw.write(0, 2, key);
  const out = new Uint8Array(length);
  fw.readBlock(1, 1, out);
  return out;
}

/** Looks a file up in the directory and reads it through the ports. */
function readFile(fw: FwCfg, name: string): Uint8Array | undefined {
  const count = new DataView(readItem(fw, FW_CFG_FILE_DIR, 4).buffer).getUint32(0);
  const dir = readItem(fw, FW_CFG_FILE_DIR, 4 + count * 64);
  const v = new DataView(dir.buffer);
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 64;
    const entryName = new TextDecoder().decode(dir.subarray(at + 8, at + 64)).replace(/\0+$/, "");
    if (entryName === name) return readItem(fw, v.getUint16(at + 4), v.getUint32(at));
  }
  return undefined;
}

function le(bytes: Uint8Array): number {
  let v = 0;
  for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + bytes[i];
  return v;
}

function e820(bytes: Uint8Array): [number, number, number][] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: bytes.length / 20 }, (_, i) => [
    Number(v.getBigUint64(i * 20, true)),
    Number(v.getBigUint64(i * 20 + 8, true)),
    v.getUint32(i * 20 + 16, true),
  ]);
}

Deno.test("128 MiB, one CPU, no boot menu", () => {
  const fw = new FwCfg();
  buildPcFwCfg(fw, { ramBelow4g: 128 * MIB, ramAbove4g: 0, cpus: 1, bootMenu: false });
  strictEqual(le(readItem(fw, FwCfgKey.RAM_SIZE, 8)), 128 * MIB);
  deepStrictEqual([...readItem(fw, FwCfgKey.NB_CPUS, 3)], [1, 0, 0]); // le16, then past the end
  deepStrictEqual([...readItem(fw, FwCfgKey.MAX_CPUS, 2)], [1, 0]);
  deepStrictEqual([...readItem(fw, FwCfgKey.BOOT_MENU, 2)], [0, 0]);
  deepStrictEqual([...readItem(fw, FwCfgKey.NOGRAPHIC, 2)], [0, 0]);
  strictEqual(fw.item(FwCfgKey.UUID)!.length, 16);
  deepStrictEqual(e820(readFile(fw, "etc/e820")!), [[0, 128 * MIB, E820_RAM]]);
  deepStrictEqual([...readFile(fw, "etc/show-boot-menu")!], [0, 0]);
  strictEqual(readFile(fw, "bootorder"), undefined);
  strictEqual(readFile(fw, "etc/boot-menu-wait"), undefined);
});

Deno.test("5 GiB split around the PCI hole, 4 CPUs, boot menu, boot order", () => {
  const fw = new FwCfg();
  const bootOrder = ["/pci@i0cf8/*@1,1/drive@0/disk@0", "/pci@i0cf8/*@1,1/drive@1/disk@0"];
  buildPcFwCfg(fw, {
    ramBelow4g: 3 * GIB,
    ramAbove4g: 2 * GIB,
    cpus: 4,
    bootMenu: true,
    bootMenuWaitMs: 5000,
    bootOrder,
    extraFiles: [{ name: "opt/org.example/hello", data: new TextEncoder().encode("hi") }],
  });
  strictEqual(le(readItem(fw, FwCfgKey.RAM_SIZE, 8)), 5 * GIB);
  deepStrictEqual([...readItem(fw, FwCfgKey.NB_CPUS, 2)], [4, 0]);
  deepStrictEqual([...readItem(fw, FwCfgKey.BOOT_MENU, 2)], [1, 0]);
  deepStrictEqual(e820(readFile(fw, "etc/e820")!), [
    [0, 3 * GIB, E820_RAM],
    [4 * GIB, 2 * GIB, E820_RAM],
  ]);
  deepStrictEqual([...readFile(fw, "etc/show-boot-menu")!], [1, 0]);
  deepStrictEqual([...readFile(fw, "etc/boot-menu-wait")!], [0x88, 0x13]); // 5000 ms
  strictEqual(new TextDecoder().decode(readFile(fw, "bootorder")), bootOrder.join("\n") + "\0");
  strictEqual(new TextDecoder().decode(readFile(fw, "opt/org.example/hello")), "hi");
});

Deno.test("e820 entries are 20 bytes: le64 address, le64 length, le32 type", () => {
  const bytes = encodeE820([{ address: 2 ** 32, length: 0x1234, type: 2 }]);
  deepStrictEqual([...bytes], [0, 0, 0, 0, 1, 0, 0, 0, 0x34, 0x12, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
});

Deno.test("sizes that do not fit are refused", () => {
  const base = { ramBelow4g: 128 * MIB, ramAbove4g: 0, cpus: 1, bootMenu: false };
  throws(() => buildPcFwCfg(new FwCfg(), { ...base, ramBelow4g: 5 * GIB }), RangeError);
  throws(() => buildPcFwCfg(new FwCfg(), { ...base, cpus: 0 }), RangeError);
  throws(() => buildPcFwCfg(new FwCfg(), { ...base, bootMenuWaitMs: 70000 }), RangeError);
  throws(() => buildPcFwCfg(new FwCfg(), { ...base, bootOrder: ["a\nb"] }), RangeError);
});
