/**
 * The API with SeaBIOS: screen, keyboard and screenshots with the keys
 * fixture (int 16h keys reported on COM1 as "<ascii>:<scan code> "), and an
 * ACPI power-off.
 */

import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert";
import { KeyNameError, Vm, WaitTimeoutError } from "../mod.ts";
import { imageCopy, pngSize } from "./api_fixtures.ts";
import { kvmTest } from "./kvm_available.ts";

const BOOT = { timeout: 90_000 };
const WAIT = { timeout: 20_000 };

kvmTest("screen text and waits, typing, key combos, screenshots, Ctrl+Alt+Delete", async () => {
  await using vm = await Vm.start({
    disk: imageCopy("keys"),
    memory: "32M",
    snapshot: true,
    noReboot: true,
  });
  const text = await vm.screen.waitForText(/keys\?/, BOOT);
  match(text, /^SeaBIOS/);
  match(vm.screen.text(), /keys\?/);
  strictEqual(vm.screen.state()?.cols, 80);

  await vm.keyboard.type("hi\n");
  await vm.serial.waitFor("68:23 69:17 0d:1c ", WAIT);
  await vm.keyboard.press("Shift+A");
  await vm.serial.waitFor("41:1e ", WAIT);
  await rejects(vm.keyboard.type("ü"), KeyNameError);
  await rejects(vm.keyboard.press("Ctrl+Nope"), KeyNameError);

  const e = await vm.screen.waitForText("never there", { timeout: 300 }).catch((e) => e);
  ok(e instanceof WaitTimeoutError, String(e));
  strictEqual(e.where, "screen");
  ok(e.lastLines.includes("keys?"), JSON.stringify(e.lastLines));

  const path = Deno.makeTempFileSync({ suffix: ".png" });
  const png = await vm.screenshot(path);
  deepStrictEqual(pngSize(png), { width: 720, height: 400 });
  deepStrictEqual(Deno.readFileSync(path), png);

  // SeaBIOS resets the machine on Ctrl+Alt+Delete; noReboot ends the run there.
  await vm.keyboard.press("Ctrl+Alt+Delete");
  strictEqual((await vm.exited).reason, "reset");
  match(await vm.screen.read(), /keys\?/);
  await rejects(vm.screenshot());
});

kvmTest("a guest that powers off through ACPI ends with reason shutdown, status 0", async () => {
  await using vm = await Vm.start({ disk: imageCopy("acpi_off"), memory: "32M", snapshot: true });
  const exit = await vm.exited;
  deepStrictEqual([exit.reason, exit.code], ["shutdown", 0], vm.serial.text());
  match(vm.serial.text(), /off/);
});
