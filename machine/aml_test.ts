import { deepStrictEqual, strictEqual, throws } from "node:assert";
import {
  and,
  arg,
  buffer,
  createDWordField,
  device,
  dword,
  dwordIo,
  dwordMemory,
  eisaId,
  encodePkgLength,
  field,
  FIELD_ACCESS,
  FIELD_UPDATE,
  ifThen,
  integer,
  interrupt,
  io,
  irq,
  irqNoFlags,
  local,
  method,
  mutableResourceTemplate,
  name,
  nameSeg,
  nameString,
  operationRegion,
  packageOf,
  pkg,
  qwordMemory,
  REGION_SPACE,
  resourceTemplate,
  returnOf,
  scope,
  store,
  string,
  wordBusNumber,
  wordIo,
} from "./aml.ts";

const bytes = (b: Uint8Array) => [...b];

Deno.test("aml: PkgLength values at each encoding boundary", () => {
  deepStrictEqual(bytes(encodePkgLength(0)), [0x00]);
  deepStrictEqual(bytes(encodePkgLength(0x3f)), [0x3f]);
  deepStrictEqual(bytes(encodePkgLength(0x40)), [0x40, 0x04]);
  deepStrictEqual(bytes(encodePkgLength(0xfff)), [0x4f, 0xff]);
  deepStrictEqual(bytes(encodePkgLength(0x1000)), [0x80, 0x00, 0x01]);
  deepStrictEqual(bytes(encodePkgLength(0xfffff)), [0x8f, 0xff, 0xff]);
  deepStrictEqual(bytes(encodePkgLength(0x100000)), [0xc0, 0x00, 0x00, 0x01]);
  deepStrictEqual(bytes(encodePkgLength(0xfffffff)), [0xcf, 0xff, 0xff, 0xff]);
  throws(() => encodePkgLength(0x10000000), RangeError);
  throws(() => encodePkgLength(-1), RangeError);
});

Deno.test("aml: a package's PkgLength counts its own bytes, growing at the boundaries", () => {
  const lead = (bodyLength: number) => bytes(pkg(new Uint8Array(bodyLength)).subarray(0, 4));
  // 0x3e + 1 = 0x3f fits one byte; 0x3f + 1 = 0x40 does not, so two bytes: 0x41.
  deepStrictEqual(lead(0x3e).slice(0, 1), [0x3f]);
  deepStrictEqual(lead(0x3f).slice(0, 2), [0x41, 0x04]);
  // 0xffd + 2 = 0xfff fits two bytes; 0xffe + 2 = 0x1000 needs three: 0x1001.
  deepStrictEqual(lead(0xffd).slice(0, 2), [0x4f, 0xff]);
  deepStrictEqual(lead(0xffe).slice(0, 3), [0x81, 0x00, 0x01]);
  // 0xffffc + 3 = 0xfffff fits three bytes; 0xffffd + 3 needs four: 0x100001.
  deepStrictEqual(lead(0xffffc).slice(0, 3), [0x8f, 0xff, 0xff]);
  deepStrictEqual(lead(0xffffd), [0xc1, 0x00, 0x00, 0x01]);
  for (const n of [0, 1, 0x3e, 0x3f, 0x40, 0xffd, 0xffe, 0xfff, 0x1000, 0xffffd]) {
    const p = pkg(new Uint8Array(n));
    const follow = p[0] >> 6;
    let value = follow === 0 ? p[0] & 0x3f : p[0] & 0x0f;
    for (let i = 1; i <= follow; i++) value |= p[i] << (4 + 8 * (i - 1));
    strictEqual(value, p.length, `body ${n}`);
  }
});

Deno.test("aml: name segments and paths: root, parent, dual and multi names, null name", () => {
  deepStrictEqual(bytes(nameSeg("PCI0")), [0x50, 0x43, 0x49, 0x30]);
  deepStrictEqual(bytes(nameSeg("_SB")), [0x5f, 0x53, 0x42, 0x5f]);
  for (const bad of ["", "pci0", "0ABC", "ABCDE", "A-B"]) throws(() => nameSeg(bad), SyntaxError);
  deepStrictEqual(bytes(nameString("\\")), [0x5c, 0x00]);
  deepStrictEqual(bytes(nameString("\\_S5_")), [0x5c, 0x5f, 0x53, 0x35, 0x5f]);
  deepStrictEqual(bytes(nameString("^^LNKA")), [0x5e, 0x5e, 0x4c, 0x4e, 0x4b, 0x41]);
  deepStrictEqual(bytes(nameString("\\_SB.PCI0")), [
    0x5c,
    0x2e,
    ...bytes(nameSeg("_SB")),
    ...bytes(nameSeg("PCI0")),
  ]);
  deepStrictEqual(bytes(nameString("PCI0.ISA.PIRQ")), [
    0x2f,
    3,
    ...bytes(nameSeg("PCI0")),
    ...bytes(nameSeg("ISA")),
    ...bytes(nameSeg("PIRQ")),
  ]);
  throws(() => nameString("\\_SB..PCI0"), SyntaxError);
});

Deno.test("aml: integers take the shortest encoding", () => {
  deepStrictEqual(bytes(integer(0)), [0x00]);
  deepStrictEqual(bytes(integer(1)), [0x01]);
  deepStrictEqual(bytes(integer(2)), [0x0a, 0x02]);
  deepStrictEqual(bytes(integer(0xff)), [0x0a, 0xff]);
  deepStrictEqual(bytes(integer(0x100)), [0x0b, 0x00, 0x01]);
  deepStrictEqual(bytes(integer(0xffff)), [0x0b, 0xff, 0xff]);
  deepStrictEqual(bytes(integer(0x10000)), [0x0c, 0x00, 0x00, 0x01, 0x00]);
  deepStrictEqual(bytes(integer(0xffffffff)), [0x0c, 0xff, 0xff, 0xff, 0xff]);
  deepStrictEqual(bytes(integer(0x100000000)), [0x0e, 0, 0, 0, 0, 1, 0, 0, 0]);
  deepStrictEqual(bytes(integer(0xfffffffffffffffen)), [0x0e, 0xfe, ...Array(7).fill(0xff)]);
  deepStrictEqual(bytes(integer(0xffffffffffffffffn)), [0xff]);
  throws(() => integer(-1), RangeError);
  throws(() => integer(0.5), RangeError);
  throws(() => integer(1n << 64n), RangeError);
  deepStrictEqual(bytes(dword(1)), [0x0c, 1, 0, 0, 0]);
});

Deno.test("aml: strings and EISA IDs", () => {
  deepStrictEqual(bytes(string("ACPI0007")), [
    0x0d,
    ...Array.from("ACPI0007", (c) => c.charCodeAt(0)),
    0,
  ]);
  throws(() => string("\u00e9"), RangeError);
  deepStrictEqual(bytes(eisaId("PNP0A03")), [0x0c, 0x41, 0xd0, 0x0a, 0x03]);
  deepStrictEqual(bytes(eisaId("PNP0C0F")), [0x0c, 0x41, 0xd0, 0x0c, 0x0f]);
  throws(() => eisaId("PNP0A3"), SyntaxError);
});

Deno.test("aml: named objects, scopes, devices, methods, packages and buffers", () => {
  deepStrictEqual(bytes(name("_ADR", 0x10000)), [0x08, 0x5f, 0x41, 0x44, 0x52, 0x0c, 0, 0, 1, 0]);
  deepStrictEqual(bytes(scope("\\_SB")), [0x10, 0x06, 0x5c, 0x5f, 0x53, 0x42, 0x5f]);
  deepStrictEqual(bytes(device("COM1", name("_UID", 1))), [
    0x5b,
    0x82,
    0x0b,
    ...bytes(nameSeg("COM1")),
    0x08,
    ...bytes(nameSeg("_UID")),
    0x01,
  ]);
  deepStrictEqual(bytes(method("_SRS", { args: 1, serialized: true })), [
    0x14,
    0x06,
    ...bytes(nameSeg("_SRS")),
    0x09,
  ]);
  throws(() => method("_SRS", { args: 8 }), RangeError);
  deepStrictEqual(bytes(packageOf(0, 0, 0, 0)), [0x12, 0x06, 0x04, 0, 0, 0, 0]);
  deepStrictEqual(bytes(packageOf(0x1ffff, 2, "LNKA", 0)), [
    0x12,
    0x0e,
    0x04,
    0x0c,
    0xff,
    0xff,
    0x01,
    0x00,
    0x0a,
    0x02,
    ...bytes(nameSeg("LNKA")),
    0x00,
  ]);
  deepStrictEqual(bytes(buffer([1, 2, 3])), [0x11, 0x06, 0x0a, 0x03, 1, 2, 3]);
  deepStrictEqual(bytes(buffer([])), [0x11, 0x02, 0x00]);
});

Deno.test("aml: operators, locals, args and control flow", () => {
  deepStrictEqual(bytes(store(arg(0), local(1))), [0x70, 0x68, 0x61]);
  deepStrictEqual(bytes(and("PRQ0", 0x80)), [0x7b, ...bytes(nameSeg("PRQ0")), 0x0a, 0x80, 0x00]);
  deepStrictEqual(bytes(returnOf(0x0b)), [0xa4, 0x0a, 0x0b]);
  deepStrictEqual(bytes(ifThen(1, returnOf(1))), [0xa0, 0x04, 0x01, 0xa4, 0x01]);
  deepStrictEqual(bytes(createDWordField(arg(0), 5, "IRQV")), [
    0x8a,
    0x68,
    0x0a,
    0x05,
    ...bytes(nameSeg("IRQV")),
  ]);
  throws(() => arg(7), RangeError);
  throws(() => local(8), RangeError);
});

Deno.test("aml: operation regions and fields with reserved gaps", () => {
  deepStrictEqual(bytes(operationRegion("PIRQ", REGION_SPACE.PCI_CONFIG, 0x60, 4)), [
    0x5b,
    0x80,
    ...bytes(nameSeg("PIRQ")),
    0x02,
    0x0a,
    0x60,
    0x0a,
    0x04,
  ]);
  const f = field("PIRQ", {
    access: FIELD_ACCESS.BYTE,
    lock: true,
    update: FIELD_UPDATE.WRITE_AS_ZEROS,
  }, [
    ["PRQ0", 8],
    [null, 0x48],
  ]);
  deepStrictEqual(bytes(f), [
    0x5b,
    0x81,
    0x0e,
    ...bytes(nameSeg("PIRQ")),
    0x01 | 0x10 | 0x40,
    ...bytes(nameSeg("PRQ0")),
    0x08,
    0x00,
    0x48, // reserved 0x48 bits: a 2-byte PkgLength
    0x04,
  ]);
});

Deno.test("aml: small resource descriptors", () => {
  deepStrictEqual(bytes(io(0x3f8, 0x3f8, 1, 8)), [0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08]);
  deepStrictEqual(bytes(irqNoFlags(4)), [0x22, 0x10, 0x00]);
  deepStrictEqual(bytes(irqNoFlags(12)), [0x22, 0x00, 0x10]);
  deepStrictEqual(bytes(irq({ level: true, activeLow: true, shared: true }, 5, 10)), [
    0x23,
    0x20,
    0x04,
    0x18,
  ]);
  deepStrictEqual(bytes(irq({ level: false, activeLow: false, shared: false }, 1)), [
    0x23,
    0x02,
    0x00,
    0x01,
  ]);
  throws(() => irqNoFlags(16), RangeError);
});

Deno.test("aml: large resource descriptors", () => {
  deepStrictEqual(bytes(interrupt({ level: true, activeLow: false, shared: true }, 9)), [
    0x89,
    0x06,
    0x00,
    0x09,
    0x01,
    0x09,
    0x00,
    0x00,
    0x00,
  ]);
  const bus = wordBusNumber({ min: 0, max: 0xff });
  deepStrictEqual(bytes(bus), [
    0x88,
    0x0d,
    0x00,
    0x02,
    0x0c,
    0x00,
    0,
    0,
    0,
    0,
    0xff,
    0,
    0,
    0,
    0x00,
    0x01,
  ]);
  const wio = wordIo({ min: 0xd00, max: 0xffff });
  deepStrictEqual(bytes(wio.subarray(0, 6)), [0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03]);
  deepStrictEqual(bytes(wio.subarray(14)), [0x00, 0xf3]); // length 0xf300
  const dio = dwordIo({ min: 0, max: 0xcf7 });
  deepStrictEqual(bytes(dio.subarray(0, 3)), [0x87, 0x17, 0x00]);
  const mem = dwordMemory({ cacheable: false }, { min: 0xe0000000, max: 0xfebfffff });
  deepStrictEqual(bytes(mem.subarray(0, 6)), [0x87, 0x17, 0x00, 0x00, 0x0c, 0x01]);
  deepStrictEqual(bytes(mem.subarray(10)), [
    0x00,
    0x00,
    0x00,
    0xe0,
    0xff,
    0xff,
    0xbf,
    0xfe,
    0,
    0,
    0,
    0,
    0x00,
    0x00,
    0xc0,
    0x1e,
  ]);
  const vga = dwordMemory({ cacheable: true }, { min: 0xa0000, max: 0xbffff });
  strictEqual(vga[5], 0x03); // read-write, cacheable
  const q = qwordMemory({ cacheable: false }, { min: 0x100000000n, max: 0x17fffffffn });
  strictEqual(q.length, 3 + 43);
  deepStrictEqual(bytes(q.subarray(0, 3)), [0x8a, 0x2b, 0x00]);
  deepStrictEqual(bytes(q.subarray(38)), [0, 0, 0, 0x80, 0, 0, 0, 0]); // length 2 GiB
  throws(() => wordIo({ min: 0, max: 0x10000 }), RangeError);
  throws(() => dwordMemory({ cacheable: false }, { min: 2, max: 1 }), RangeError);
});

Deno.test("aml: resource templates end with an End Tag whose checksum zeroes the sum", () => {
  const t = resourceTemplate(io(0x70, 0x70, 1, 2), irqNoFlags(8));
  // Buffer, PkgLength, BufferSize, descriptors, End Tag 0x79 and checksum.
  deepStrictEqual(bytes(t.subarray(0, 4)), [0x11, 0x10, 0x0a, 0x0d]);
  const body = t.subarray(4);
  strictEqual(body.length, 13);
  deepStrictEqual(bytes(body.subarray(11, 12)), [0x79]);
  strictEqual(body.reduce((s, b) => s + b, 0) & 0xff, 0);
  const m = mutableResourceTemplate(irqNoFlags(8));
  deepStrictEqual(bytes(m.subarray(-2)), [0x79, 0x00]);
});
