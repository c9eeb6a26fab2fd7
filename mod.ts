/**
 * vmrun's public API: boot a PC guest on KVM from a test or a script, wait
 * for text on its serial port or screen, type, take screenshots and get its
 * exit status. Several VMs may run side by side in one process.
 *
 * @example A Deno test against a guest image
 * ```ts
 * import { Vm } from "./mod.ts";
 *
 * Deno.test("the guest boots to a login prompt", async () => {
 *   await using vm = await Vm.start({ disk: "guest.img", memory: "256M", snapshot: true });
 *   await vm.serial.waitFor(/login:/, { timeout: 30_000 });
 *   await vm.serial.write("root\n");
 *   await vm.screen.waitForText("Welcome", { timeout: 10_000 });
 *   await vm.keyboard.type("ls\n");
 *   await vm.keyboard.press("Ctrl+Alt+Delete");
 *   console.log(vm.screen.text());
 *   await vm.screenshot("screen.png");
 * });
 * ```
 *
 * @module
 */

export { Vm, type VmStats } from "./api/vm.ts";
export type { VmOptions } from "./api/options.ts";
export type {
  BalloonInfo,
  BalloonStats,
  BoardState,
  DiskSpec,
  ExitReason,
  KeyStroke,
  NicSpec,
  RunState,
  SaveResult,
  ScreenState,
  VcpuStats,
  VmExit,
  WatchdogExpiry,
} from "./api/types.ts";
export { SerialConsole } from "./api/serial.ts";
export type { SerialMatch, WaitOptions } from "./api/serial_log.ts";
export { Screen } from "./api/screen.ts";
export { Keyboard } from "./api/keyboard.ts";
export { VmExitedError, VmOptionsError, WaitTimeoutError } from "./api/errors.ts";
export {
  BalloonError,
  ImageLockedError,
  KeyNameError,
  KvmUnavailableError,
} from "./api/reexports.ts";
