import { deepStrictEqual, strictEqual, throws } from "node:assert";
import { PciConfigSpace, type PciFunction } from "./config_space.ts";
import { PciHost, PciSlotError } from "./pci_host.ts";
import { ResetControl } from "../system_control.ts";
import { assertRestoreIdentity, assertRestoreRejects } from "../testing/snapshot_check.ts";

function fakeFunction(name: string, deviceId = 0x5678): PciFunction & { resets: number } {
  const config = new PciConfigSpace({
    vendorId: 0x1234,
    deviceId,
    classCode: 0x020000,
    revision: 0x05,
    interruptPin: 1,
  });
  return {
    name,
    config,
    resets: 0,
    reset() {
      this.resets++;
      config.reset();
    },
  };
}

/** CONFIG_ADDRESS for bus 0. */
function address(device: number, fn: number, reg: number, enable = true): number {
  return ((enable ? 0x80000000 : 0) | (device << 11) | (fn << 8) | reg) >>> 0;
}

Deno.test("CONFIG_ADDRESS latches enable, bus, device, function and dword register", () => {
  const host = new PciHost();
  host.write(0, 4, 0xffffffff);
  // Reserved bits 30:24 and the type bits 1:0 do not stick.
  strictEqual(host.read(0, 4), 0x80fffffc);
  host.write(0, 4, address(3, 2, 0x10));
  strictEqual(host.read(0, 4), address(3, 2, 0x10));
  // Byte and word accesses to 0xCF8-0xCFB are not CONFIG_ADDRESS.
  host.write(0, 2, 0);
  strictEqual(host.read(0, 4), address(3, 2, 0x10));
  strictEqual(host.read(0, 1), 0xff);
  strictEqual(host.read(2, 2), 0xffff);
});

Deno.test("CONFIG_DATA reads a function's registers at every width and alignment", () => {
  const host = new PciHost();
  host.attach(5, 0, fakeFunction("nic"));
  host.write(0, 4, address(5, 0, 0x00));
  strictEqual(host.read(4, 4), 0x56781234);
  strictEqual(host.read(4, 2), 0x1234);
  strictEqual(host.read(6, 2), 0x5678);
  strictEqual(host.read(5, 2), 0x7812);
  deepStrictEqual([4, 5, 6, 7].map((o) => host.read(o, 1)), [0x34, 0x12, 0x78, 0x56]);
  host.write(0, 4, address(5, 0, 0x08));
  strictEqual(host.read(4, 4), 0x02000005);
  strictEqual(host.read(7, 1), 0x02);
  strictEqual(host.read(6, 2), 0x0200);
  // The low two address bits are ignored: the byte lane comes from the data port offset.
  host.write(0, 4, address(5, 0, 0x3c) | 3);
  strictEqual(host.read(5, 1), 0x01); // interrupt pin at 0x3D
});

Deno.test("CONFIG_DATA writes reach the function at every width", () => {
  const host = new PciHost();
  const f = fakeFunction("nic");
  host.attach(5, 0, f);
  host.write(0, 4, address(5, 0, 0x3c));
  host.write(4, 1, 0x0b);
  strictEqual(f.config.bytes[0x3c], 0x0b);
  host.write(0, 4, address(5, 0, 0x0c));
  host.write(5, 1, 0x40); // latency timer
  host.write(4, 2, 0x2010); // cache line size 0x10, latency 0x20
  strictEqual(host.read(4, 2), 0x2010);
  host.write(0, 4, address(5, 0, 0x04));
  host.write(4, 4, 0x00000007);
  strictEqual(host.read(4, 2), 0x0007);
});

Deno.test("disabled CONFIG_ADDRESS, absent slots and other buses read all ones and ignore writes", () => {
  const host = new PciHost();
  const f = fakeFunction("nic");
  host.attach(5, 0, f);
  host.write(0, 4, address(5, 0, 0x3c, false));
  strictEqual(host.read(4, 4), 0xffffffff);
  strictEqual(host.read(4, 2), 0xffff);
  strictEqual(host.read(7, 1), 0xff);
  host.write(4, 1, 0x0b);
  strictEqual(f.config.bytes[0x3c], 0);
  host.write(0, 4, address(6, 0, 0));
  strictEqual(host.read(4, 4), 0xffffffff);
  host.write(0, 4, address(5, 1, 0));
  strictEqual(host.read(4, 2), 0xffff);
  host.write(0, 4, (address(5, 0, 0) | (1 << 16)) >>> 0);
  strictEqual(host.read(4, 4), 0xffffffff);
});

Deno.test("function 0 reports multi-function when its slot has more functions", () => {
  const host = new PciHost();
  host.attach(1, 0, fakeFunction("isa"));
  host.attach(1, 1, fakeFunction("ide"));
  host.attach(2, 0, fakeFunction("vga"));
  host.write(0, 4, address(1, 0, 0x0c));
  strictEqual(host.read(6, 1), 0x80);
  strictEqual(host.read(4, 4) >>> 16, 0x0080);
  strictEqual(host.read(5, 2), 0x8000);
  host.write(0, 4, address(1, 1, 0x0c));
  strictEqual(host.read(6, 1), 0x00);
  host.write(0, 4, address(2, 0, 0x0c));
  strictEqual(host.read(6, 1), 0x00);
});

Deno.test("attach refuses taken slots and bad numbers", () => {
  const host = new PciHost();
  host.attach(3, 0, fakeFunction("a"));
  throws(() => host.attach(3, 0, fakeFunction("b")), PciSlotError);
  throws(() => host.attach(32, 0, fakeFunction("c")), PciSlotError);
  throws(() => host.attach(0, 8, fakeFunction("d")), PciSlotError);
  host.attach(3, 1, fakeFunction("e"));
  host.attach(0, 0, fakeFunction("f"));
  deepStrictEqual(
    host.functions().map((s) => [s.device, s.fn, s.function.name]),
    [[0, 0, "f"], [3, 0, "a"], [3, 1, "e"]],
  );
});

Deno.test("byte accesses at 0xCF9 go to the Reset Control register", () => {
  const resets: boolean[] = [];
  const host = new PciHost({
    resetControl: new ResetControl({ onReset: (hard) => resets.push(hard) }),
  });
  host.write(1, 1, 0x02);
  strictEqual(host.read(1, 1), 0x02);
  host.write(1, 1, 0x06);
  deepStrictEqual(resets, [true]);
  // CONFIG_ADDRESS is untouched by the byte write.
  strictEqual(host.read(0, 4), 0);
  host.reset();
  strictEqual(host.read(1, 1), 0x00);
});

Deno.test("reset clears CONFIG_ADDRESS and resets every function", () => {
  const host = new PciHost();
  const a = fakeFunction("a");
  const b = fakeFunction("b");
  host.attach(3, 0, a);
  host.attach(4, 0, b);
  host.write(0, 4, address(3, 0, 0x3c));
  host.write(4, 1, 9);
  host.reset();
  strictEqual(host.read(0, 4), 0);
  strictEqual(a.resets + b.resets, 2);
  strictEqual(a.config.bytes[0x3c], 0);
  const state = host.snapshot();
  deepStrictEqual(state.functions.map((f) => f.name), ["a", "b"]);
});

Deno.test("snapshot/restore: CONFIG_ADDRESS comes back; other slots are refused", () => {
  const build = () => {
    const host = new PciHost();
    host.attach(0, 0, fakeFunction("a"));
    host.attach(3, 1, fakeFunction("b"));
    return host;
  };
  const a = build();
  a.write(0, 4, address(3, 1, 0));
  const b = build();
  const s = assertRestoreIdentity(a, b);
  deepStrictEqual(s.functions.map((f) => [f.device, f.fn, f.name, f.config.deviceId]), [
    [0, 0, "a", 0x5678],
    [3, 1, "b", 0x5678],
  ]);
  strictEqual(b.read(0, 4), address(3, 1, 0));
  strictEqual(b.read(4, 2), 0x1234);
  const other = new PciHost();
  other.attach(0, 0, fakeFunction("a"));
  assertRestoreRejects(other, s, []);
  assertRestoreRejects(build(), s, [{ configAddress: 0x7f000000 }, { functions: "none" }]);
});
