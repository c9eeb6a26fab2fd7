/**
 * `vm.net`: a running VM's host port forwards, added and removed while the
 * guest runs (QEMU's `hostfwd_add` / `hostfwd_remove`), and the list of
 * those in force with the host ports they hold. The control socket's
 * `hostfwd_*` commands use the same functions.
 *
 * @module
 */

import type { Machine } from "../machine/machine.ts";
import type { ActiveForward } from "../machine/net.ts";
import { parseHostForward } from "../machine/nic_spec.ts";

/**
 * A forward to add: host `hostAddr:hostPort` to guest `guestAddr:guestPort`.
 *
 * @example
 * ```ts
 * import { type ForwardSpec, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", nic: "user" });
 * const ssh: ForwardSpec = { proto: "tcp", hostAddr: "127.0.0.1", hostPort: 0, guestPort: 22 };
 * console.log(await vm.net.addForward(ssh));
 * ```
 */
export interface ForwardSpec {
  /** "tcp" or "udp". */
  readonly proto: "tcp" | "udp";
  /** Host address to bind; default any (0.0.0.0). */
  readonly hostAddr?: string;
  /** Host port; 0 lets the kernel choose one (the bound port is returned). */
  readonly hostPort: number;
  /** Guest address; default the guest's DHCP address (10.0.2.15). */
  readonly guestAddr?: string;
  readonly guestPort: number;
  /** Index of the NIC whose network forwards; default 0. */
  readonly nic?: number;
}

/**
 * A forward to remove, named by the host port it holds.
 *
 * @example
 * ```ts
 * import { type ForwardKey, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", nic: "user,hostfwd=udp::5353-:53" });
 * const dns: ForwardKey = { proto: "udp", hostPort: 5353 };
 * await vm.net.removeForward(dns);
 * ```
 */
export interface ForwardKey {
  readonly proto: "tcp" | "udp";
  /** The host address it was added with; default any. */
  readonly hostAddr?: string;
  /** The bound host port (as {@link VmNet.addForward} returned it). */
  readonly hostPort: number;
  /** Default 0. */
  readonly nic?: number;
}

/**
 * A forward in force.
 *
 * @example
 * ```ts
 * import { type Forward, Vm } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", nic: "user,hostfwd=tcp::0-:22" });
 * const [ssh]: Forward[] = await vm.net.forwards();
 * console.log(`ssh -p ${ssh.hostPort} root@localhost`);
 * ```
 */
export interface Forward {
  readonly nic: number;
  readonly proto: "tcp" | "udp";
  /** "" for any address. */
  readonly hostAddr: string;
  /** The host port bound. */
  readonly hostPort: number;
  /** The port asked for (0 when the kernel chose {@link hostPort}). */
  readonly requestedPort: number;
  readonly guestAddr: string;
  readonly guestPort: number;
  /** QEMU's `hostfwd=` text with the bound port, e.g. `tcp::41022-10.0.2.15:22`. */
  readonly rule: string;
}

/**
 * The forwards of a running VM: `vm.net`.
 *
 * @example
 * ```ts
 * import { Vm, type VmNet } from "../mod.ts";
 * await using vm = await Vm.start({ disk: "guest.img", nic: "user" });
 * const net: VmNet = vm.net;
 * const port = await net.addRule("tcp:127.0.0.1:0-:80");
 * await net.removeRule(`tcp:127.0.0.1:${port}`);
 * ```
 */
export class VmNet {
  readonly #machine: Machine;

  /** @param machine the running machine */
  constructor(machine: Machine) {
    this.#machine = machine;
  }

  /**
   * Forwards a host port to the guest while it runs.
   * @returns the host port bound (the kernel's choice when `hostPort` is 0)
   * @throws {Error} (rejects) for a malformed spec, a host port in use, a VM
   *   without that NIC, or a run that has ended
   *
   * @example An SSH forward on a port the kernel picks
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", nic: "user,model=virtio" });
   * const port = await vm.net.addForward({ proto: "tcp", hostPort: 0, guestPort: 22 });
   * console.log(`ssh -p ${port} root@127.0.0.1`);
   * ```
   */
  async addForward(spec: ForwardSpec): Promise<number> {
    const nic = nicIndex(spec.nic);
    const rule = `${proto(spec.proto)}:${spec.hostAddr ?? ""}:${port(spec.hostPort, "hostPort")}-` +
      `${spec.guestAddr ?? ""}:${port(spec.guestPort, "guestPort")}`;
    return await this.addRule(rule, nic);
  }

  /**
   * Adds a forward from QEMU's text `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`.
   * @returns the host port bound
   * @throws {Error} (rejects) as {@link addForward}
   */
  async addRule(rule: string, nic = 0): Promise<number> {
    const forward = parseHostForwardRule(rule);
    return await this.#host().addForward(nicIndex(nic), forward);
  }

  /**
   * Removes a forward by its host side.
   * @throws {Error} (rejects) when there is no such forward or the run has ended
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", nic: "user" });
   * const port = await vm.net.addForward({ proto: "udp", hostPort: 0, guestPort: 7 });
   * await vm.net.removeForward({ proto: "udp", hostPort: port });
   * ```
   */
  async removeForward(key: ForwardKey): Promise<void> {
    const addr = key.hostAddr ?? "";
    await this.#host().removeForward(
      nicIndex(key.nic),
      proto(key.proto),
      checkAddress(addr),
      port(key.hostPort, "hostPort"),
    );
  }

  /**
   * Removes a forward named as QEMU's `hostfwd_remove` names it: `[tcp|udp]:[hostaddr]:hostport`.
   * @throws {Error} (rejects) as {@link removeForward}
   */
  async removeRule(rule: string, nic = 0): Promise<void> {
    const m = /^(tcp|udp|)?:([^:]*):(\d+)$/.exec(rule);
    if (!m) {
      throw new Error(
        `hostfwd_remove '${rule}' is malformed (the form is [tcp|udp]:[hostaddr]:hostport)`,
      );
    }
    await this.removeForward({
      proto: m[1] === "udp" ? "udp" : "tcp",
      hostAddr: m[2],
      hostPort: Number(m[3]),
      nic,
    });
  }

  /**
   * The forwards in force (those given at start and those added since), with
   * the host ports they hold; empty without a NIC.
   *
   * @example
   * ```ts
   * import { Vm } from "../mod.ts";
   * await using vm = await Vm.start({ disk: "guest.img", nic: "user,hostfwd=tcp::0-:22" });
   * const [ssh] = await vm.net.forwards();
   * console.log(ssh.hostPort);
   * ```
   */
  async forwards(): Promise<Forward[]> {
    const host = this.#machine.net;
    if (!host) return [];
    await host.ready;
    return host.forwards.map((f) => describeForward(f, this.#guestAddress(f)));
  }

  #guestAddress(f: ActiveForward): string {
    return f.guestAddress || (this.#machine.config.nics?.[f.nic]?.dhcpStart ?? "");
  }

  #host() {
    const host = this.#machine.net;
    if (!host) {
      throw new Error(
        "this VM has no NIC to forward to (start it with --nic user, or nic in the API)",
      );
    }
    return host;
  }
}

/** The public form of a forward in force. */
export function describeForward(f: ActiveForward, guestAddr: string): Forward {
  return {
    nic: f.nic,
    proto: f.protocol,
    hostAddr: f.hostAddress,
    hostPort: f.boundPort,
    requestedPort: f.hostPort,
    guestAddr,
    guestPort: f.guestPort,
    rule: `${f.protocol}:${f.hostAddress}:${f.boundPort}-${guestAddr}:${f.guestPort}`,
  };
}

/**
 * A forward from QEMU's `hostfwd` text.
 * @throws {Error} with the problem in one line
 */
export function parseHostForwardRule(rule: string) {
  if (typeof rule !== "string") throw new Error("a hostfwd rule is a string");
  try {
    return parseHostForward(rule);
  } catch (e) {
    // ConfigError reads "nic hostfwd '...' ..."; the rule speaks for itself here.
    throw new Error((e as Error).message.replace(/^nic /, ""));
  }
}

function nicIndex(nic: unknown): number {
  if (nic === undefined) return 0;
  if (typeof nic !== "number" || !Number.isInteger(nic) || nic < 0) {
    throw new Error(`nic must be a NIC index (0, 1, ...), not ${JSON.stringify(nic)}`);
  }
  return nic;
}

function proto(p: unknown): "tcp" | "udp" {
  if (p !== "tcp" && p !== "udp") {
    throw new Error(`proto must be "tcp" or "udp", not ${JSON.stringify(p)}`);
  }
  return p;
}

function port(p: unknown, name: string): number {
  if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 65535) {
    throw new Error(`${name} must be a port number 0-65535, not ${JSON.stringify(p)}`);
  }
  return p;
}

function checkAddress(a: string): string {
  if (a !== "" && !/^\d{1,3}(\.\d{1,3}){3}$/.test(a)) {
    throw new Error(`hostAddr '${a}' is not an IPv4 address`);
  }
  return a;
}
