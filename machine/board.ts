/**
 * The PC board: a KVM VM with the in-kernel irqchip and PIT, guest RAM, the
 * port-I/O and MMIO buses and every device on them. Built inside the vCPU
 * worker, rebuilt on reset.
 *
 * @module
 */

import { Bus } from "../devices/bus.ts";
import type { SteppedClock } from "../devices/clock.ts";
import { DebugExit } from "../devices/debug_exit.ts";
import { PostCode } from "../devices/post_code.ts";
import type { IrqLine, Json } from "../devices/types.ts";
import { Uart16550a } from "../devices/uart_16550a.ts";
import type { HostMemory } from "../kvm/host.ts";
import type { Kvm, Vcpu, Vm } from "../kvm/kvm.ts";
import type { MachineConfig } from "./config.ts";
import type { GuestRam } from "./guest_ram.ts";
import { IRQ, PIO } from "./io_map.ts";
import { KVM_IDENTITY_MAP_ADDR, KVM_TSS_ADDR } from "./memory_map.ts";

/** Why a guest run ended, with the exit status vmrun reports. */
export interface GuestExit {
  readonly reason:
    | "debug-exit"
    | "shutdown"
    | "reset"
    | "triple-fault"
    | "internal-error"
    | "fail-entry"
    | "stopped"
    | "timeout"
    | "vmm-error";
  readonly code: number;
  readonly detail?: string;
  readonly registers?: Record<string, unknown>;
}

/** What outlives a board across resets, provided by the worker. */
export interface BoardEnv {
  readonly kvm: Kvm;
  readonly ramHost: HostMemory;
  readonly ram: GuestRam;
  readonly clock: SteppedClock;
  /** Bytes COM1 transmitted. */
  readonly onSerial: (bytes: Uint8Array) => void;
  /** The guest asked to end the run (debug exit, power off). */
  readonly onExit: (exit: GuestExit) => void;
  /** The guest asked for a system reset. */
  readonly onReset: () => void;
}

/** The devices of a board, by name. */
export interface BoardDevices {
  readonly uart: Uart16550a;
  readonly postCode: PostCode;
  readonly debugExit: DebugExit;
}

/** A built board. */
export class Board {
  readonly pio = new Bus("pio");
  readonly mmio = new Bus("mmio");
  readonly vcpus: Vcpu[] = [];
  readonly devices: BoardDevices;
  readonly #irqLevels = new Map<number, boolean>();

  /** Creates the VM, maps RAM, creates vCPU 0 and wires every device. */
  constructor(readonly config: MachineConfig, readonly env: BoardEnv, readonly vm: Vm) {
    vm.setTssAddr(KVM_TSS_ADDR);
    vm.setIdentityMapAddr(KVM_IDENTITY_MAP_ADDR);
    vm.createIrqchip();
    vm.createPit2(0);
    for (const s of env.ram.layout.slots) {
      vm.setUserMemoryRegion(s.slot, s.gpa, s.size, env.ramHost.address + BigInt(s.hostOffset));
    }
    const cpuid = env.kvm.supportedCpuid();
    const vcpu = vm.createVcpu(0);
    vcpu.setCpuid(cpuid);
    this.vcpus.push(vcpu);

    const clock = env.clock;
    this.devices = {
      uart: new Uart16550a({
        irq: this.irqLine(IRQ.COM1),
        tx: env.onSerial,
        clock,
        timer: clock.timer,
      }),
      postCode: new PostCode(),
      debugExit: new DebugExit((code) => env.onExit({ reason: "debug-exit", code })),
    };
    const d = this.devices;
    // The one table of fixed registrations.
    const fixed: [
      string,
      { base: number; length: number },
      Bus,
      import("../devices/types.ts").BusDevice,
    ][] = [
      ["post-code", PIO.POST_CODE, this.pio, d.postCode],
      ["debug-exit", PIO.DEBUG_EXIT, this.pio, d.debugExit],
      ["com1", PIO.COM1, this.pio, d.uart],
    ];
    for (const [name, range, bus, dev] of fixed) bus.register(name, range.base, range.length, dev);
  }

  /** An interrupt line into the in-kernel irqchip; only level changes reach KVM. */
  irqLine(gsi: number): IrqLine {
    return {
      set: (level) => {
        if ((this.#irqLevels.get(gsi) ?? false) === level) return;
        this.#irqLevels.set(gsi, level);
        this.vm.irqLine(gsi, level);
      },
    };
  }

  /** Every device's state, plus the buses' registrations. */
  state(): Json {
    const d = this.devices;
    return {
      uart: d.uart.state(),
      postCode: d.postCode.state(),
      debugExit: d.debugExit.state(),
      pio: this.pio.ranges().map((r) => ({ name: r.name, base: r.base, length: r.length })),
      mmio: this.mmio.ranges().map((r) => ({ name: r.name, base: r.base, length: r.length })),
      unclaimed: { ...this.pio.misses },
    };
  }

  /** Closes the vCPUs and the VM. RAM stays with the environment. */
  dispose(): void {
    for (const v of this.vcpus) v.close();
    this.vm.close();
  }
}
