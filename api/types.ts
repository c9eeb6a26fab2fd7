/**
 * Plain-data types of the public API, named here with the API's
 * documentation: how a run ended, run states, and the snapshots the TUI
 * shows.
 *
 * @module
 */

import type { KeyStroke as DeviceKeyStroke } from "../devices/keymap.ts";
import type { ScreenState as VgaScreenState } from "../devices/vga/screen.ts";
import type { BoardState as MachineBoardState } from "../machine/board.ts";
import type { BalloonInfo as MachineBalloonInfo } from "../machine/balloon.ts";
import type { BalloonStats as DeviceBalloonStats } from "../devices/virtio/virtio_balloon.ts";
import type { DiskSpec as MachineDiskSpec } from "../machine/disk_spec.ts";
import type { NicSpec as MachineNicSpec } from "../machine/nic_spec.ts";
import type { ExitReason as MachineExitReason, VmExit as MachineVmExit } from "../machine/exit.ts";
import type { RunState as MachineRunState } from "../machine/control.ts";
import type { SaveResult as MachineSaveResult } from "../machine/machine.ts";
import type { VcpuStats as WorkerVcpuStats } from "../machine/vcpu_worker.ts";
import type { WatchdogExpiry as MachineWatchdogExpiry } from "../machine/watchdog.ts";

/**
 * How a VM's run ended: `reason`, `code` (the status `vmrun` would exit
 * with), an optional `detail`, and a faulting vCPU's `registers`. The same
 * value reaches `vm.exited`, the `--report` file's `exit`, the control
 * socket's `exit` event and vmrun's exit status.
 *
 * @example
 * ```ts
 * import { Vm, type VmExit } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * const exit: VmExit = await vm.exited;
 * if (exit.reason === "triple-fault") console.error(exit.registers);
 * ```
 */
export type VmExit = MachineVmExit;

/**
 * Why a run ended. The guest's own endings: "debug-exit", "shutdown",
 * "reset" (with `noReboot`), "triple-fault", "internal-error", "fail-entry";
 * "vmm-error" when vmrun failed; and endings from outside the guest:
 * "timeout" (status 124), "signal" (128 + the signal's number), "fail-on",
 * "exit-on", "step-failed", "incomplete" (the guest ended before a script's
 * steps were done) and "stopped" (a stop was asked for: `vm.stop()`,
 * Ctrl-a x, quit).
 *
 * @example
 * ```ts
 * import { type ExitReason, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * const reason: ExitReason = (await vm.exited).reason;
 * console.log(reason);
 * ```
 */
export type ExitReason = MachineExitReason;

/**
 * Where a run is: "starting", "running", "paused" or "stopped".
 *
 * @example
 * ```ts
 * import { type RunState, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * const state: RunState = vm.state;
 * console.log(state);
 * ```
 */
export type RunState = MachineRunState;

/**
 * Every device's state as plain JSON (the TUI's device pane): UART, RTC,
 * i8042, PCI, VGA and the text `screen`, disks, and the I/O maps.
 *
 * @example
 * ```ts
 * import { type BoardState, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * const devices: BoardState | null = await vm.devices();
 * console.log(devices?.pio.map((r) => r.name));
 * ```
 */
export type BoardState = MachineBoardState;

/**
 * The VGA text screen: mode, size, packed cells (`code | attr << 8`), cursor,
 * palette and the `text`.
 *
 * @example
 * ```ts
 * import { type ScreenState, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * await vm.screen.read();
 * const s: ScreenState | null = vm.screen.state();
 * console.log(s?.cursor.row, s?.cursor.col);
 * ```
 */
export type ScreenState = VgaScreenState;

/**
 * vCPU figures: exits (total and by kind), guest time, uptime, busiest ports.
 *
 * @example
 * ```ts
 * import { type VcpuStats, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img" });
 * const stats: VcpuStats = await vm.stats();
 * console.log(stats.busiestPorts);
 * ```
 */
export type VcpuStats = WorkerVcpuStats;

/**
 * One key event: `key` (a W3C `code` name such as "KeyA" or "ShiftLeft")
 * goes down or comes up.
 *
 * @example
 * ```ts
 * import type { KeyStroke } from "../mod.ts";
 * const tab: KeyStroke[] = [{ key: "Tab", down: true }, { key: "Tab", down: false }];
 * ```
 */
export type KeyStroke = DeviceKeyStroke;

/**
 * A disk for `Vm.start`: the image's `path`, and what differs from the
 * defaults: `interface` "ide" (default) or "virtio", `media` "disk" or
 * "cdrom" (default "cdrom" for `.iso` files; CD-ROMs are IDE and
 * read-only), `readonly`.
 *
 * @example
 * ```ts
 * import { type DiskSpec, Vm } from "../mod.ts";
 * const data: DiskSpec = { path: "data.img", interface: "virtio", readonly: true };
 * await using vm = await Vm.start({ disk: [{ path: "guest.img" }, data] });
 * ```
 */
export type DiskSpec = MachineDiskSpec;

/**
 * A NIC for `Vm.start`'s `nic`, with QEMU's `-nic user` option names:
 * `model` ("e1000" default, "virtio"), `mac`, `hostfwd`, `restrict`, `net`,
 * `dns`, `tftp`, `bootfile`, `pcap`, `romfile`.
 *
 * @example
 * ```ts
 * import { type NicSpec, Vm } from "../mod.ts";
 * const nic: NicSpec = { model: "virtio", hostfwd: "tcp:127.0.0.1:2222-:22" };
 * await using vm = await Vm.start({ disk: "guest.img", nic });
 * ```
 */
export type NicSpec = MachineNicSpec;

/**
 * A finished save: the file, its size in bytes, and how long the guest was
 * held while it was written (ms).
 *
 * @example
 * ```ts
 * import { type SaveResult, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", snapshot: true });
 * const saved: SaveResult = await vm.save("guest.vmsave");
 * console.log(`${saved.bytes} bytes, guest held ${saved.ms} ms`);
 * ```
 */
export type SaveResult = MachineSaveResult;

/**
 * The memory balloon as `vm.balloon()` reports it: guest RAM, the target
 * (what the guest is asked to keep) and what it keeps now, in bytes and as
 * the device's 4 KiB pages (`targetPages` asked for, `actualPages` given),
 * the pages inflated and deflated so far, and the guest's last `stats`.
 *
 * @example
 * ```ts
 * import { type BalloonInfo, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", device: "virtio-balloon-pci" });
 * const b: BalloonInfo = await vm.balloon();
 * console.log(`${b.actualBytes} of ${b.ramBytes} bytes left to the guest`);
 * ```
 */
export type BalloonInfo = MachineBalloonInfo;

/**
 * The guest's memory statistics from the balloon's stats queue, by QEMU's
 * names: `swapIn`, `swapOut`, `freeMemory`, `totalMemory`,
 * `availableMemory`, `diskCaches` in bytes; `majorFaults`, `minorFaults`,
 * `hugetlbAllocations`, `hugetlbFailures` as counts; null for what the
 * guest did not report.
 *
 * @example
 * ```ts
 * import { type BalloonStats, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", device: "virtio-balloon-pci" });
 * const stats: BalloonStats | null = (await vm.balloon()).stats;
 * console.log(stats?.freeMemory);
 * ```
 */
export type BalloonStats = DeviceBalloonStats;

/**
 * A watchdog expiry: `model` ("ib700" or "i6300esb"), the `action` under way
 * ("reset", "poweroff", "pause", "exit" or "none") and `atMs`, when it
 * expired in ms after the run started. `vm.watchdogEvents`,
 * `vm.waitForWatchdog()`, the control socket's `watchdog` event and the
 * `--report` file's `watchdog` list all carry it.
 *
 * @example
 * ```ts
 * import { Vm, type WatchdogExpiry } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", device: "ib700" });
 * const expiry: WatchdogExpiry = await vm.waitForWatchdog();
 * console.log(expiry.action);
 * ```
 */
export type WatchdogExpiry = MachineWatchdogExpiry;
