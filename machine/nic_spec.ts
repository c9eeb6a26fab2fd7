/**
 * NICs as options give them: the text of QEMU's `-nic` (`user,model=e1000,
 * hostfwd=tcp::2222-:22,...` or `none`) that `--nic` and the API take, parsed
 * into a {@link NicSpec}, and a spec checked into a {@link NicConfig}. Pure:
 * no file or socket is touched here (options.ts and the session do that).
 *
 * @module
 */

import { ConfigError } from "./config_error.ts";
import { type HostForwardConfig, NIC_MODELS, type NicConfig, type NicModel } from "./config.ts";

/** A NIC on a user-mode network, with QEMU's `-nic user` option names. */
export interface NicSpec {
  /** "e1000" (default, as QEMU's `pc`), "virtio", "rtl8139" or "ne2k_pci". */
  readonly model?: string;
  /** "52:54:00:12:34:56"; default 52:54:00:12:34:56 plus the NIC's index. */
  readonly mac?: string;
  /** QEMU's `hostfwd=`: `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`. */
  readonly hostfwd?: string | readonly string[];
  /** Only forwards reach the host or beyond. */
  readonly restrict?: boolean;
  /** Guest network, `10.0.2.0/24` by default. */
  readonly net?: string;
  /** Virtual DNS server; default the network's .3. */
  readonly dns?: string;
  /** TFTP root directory. */
  readonly tftp?: string;
  /** DHCP boot file name. */
  readonly bootfile?: string;
  /** Capture every frame to this pcap file. */
  readonly pcap?: string;
  /** Option ROM file; "" for none; default the model's iPXE ROM. */
  readonly romfile?: string;
}

/** The first NIC's MAC when none is given (QEMU's), the next ones count up. */
const DEFAULT_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

const KEYS = [
  "model",
  "mac",
  "hostfwd",
  "restrict",
  "net",
  "dns",
  "tftp",
  "bootfile",
  "pcap",
  "romfile",
] as const;

/**
 * Parses one `--nic` text. Returns null for `none`.
 * @throws {ConfigError} for another network type, an unknown key, or `restrict=` not on/off
 */
export function parseNicSpec(text: string): NicSpec | null {
  const [kind, ...opts] = text.split(",");
  if (kind === "none" && opts.length === 0) return null;
  if (kind !== "user") {
    throw new ConfigError(
      "nic",
      `'${text}': only user-mode networking is supported (--nic user[,model=...]) or --nic none`,
    );
  }
  const spec: Record<string, unknown> = {};
  const forwards: string[] = [];
  for (const opt of opts) {
    const eq = opt.indexOf("=");
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? "" : opt.slice(eq + 1);
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(
        "nic",
        `'${text}': unknown option '${key}' (known: ${KEYS.join(", ")})`,
      );
    }
    if (key === "hostfwd") forwards.push(value);
    else if (key === "restrict") {
      if (!["on", "off", "yes", "no", ""].includes(value)) {
        throw new ConfigError("nic", `'${text}': restrict must be on or off`);
      }
      spec.restrict = value === "on" || value === "yes" || value === "";
    } else spec[key] = value;
  }
  if (forwards.length) spec.hostfwd = forwards;
  return spec as NicSpec;
}

/**
 * Checks a NIC spec and fills in QEMU's defaults.
 * @param index the NIC's position (its default MAC counts up from QEMU's)
 * @throws {ConfigError} for an unknown model, a malformed MAC, network or forward
 */
export function nicConfig(spec: NicSpec, index: number): NicConfig {
  if (spec === null || typeof spec !== "object") {
    throw new ConfigError("nic", "must be a NIC spec text or object");
  }
  for (const key of Object.keys(spec)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new ConfigError("nic", `unknown option '${key}' (known: ${KEYS.join(", ")})`);
    }
  }
  const model = spec.model ?? "e1000";
  if (!(NIC_MODELS as readonly string[]).includes(model)) {
    throw new ConfigError(
      "nic",
      `unknown model '${model}' (known: ${NIC_MODELS.join(", ")})`,
    );
  }
  const mac = spec.mac === undefined ? defaultMac(index) : parseMac(spec.mac);
  const { network, prefixLength } = parseNet(spec.net ?? "10.0.2.0/24");
  const base = ipv4(network)!;
  const at = (n: number) => dotted((base + n) >>> 0);
  const dns = spec.dns ?? at(3);
  if (ipv4(dns) === null) throw new ConfigError("nic", `dns '${dns}' is not an IPv4 address`);
  const list = spec.hostfwd === undefined
    ? []
    : typeof spec.hostfwd === "string"
    ? [spec.hostfwd]
    : spec.hostfwd;
  if (!Array.isArray(list) || list.some((f) => typeof f !== "string")) {
    throw new ConfigError("nic", "hostfwd must be a forward text or a list of them");
  }
  for (const key of ["tftp", "bootfile", "pcap", "romfile"] as const) {
    if (spec[key] !== undefined && typeof spec[key] !== "string") {
      throw new ConfigError("nic", `${key} must be a string`);
    }
  }
  for (const key of ["tftp", "bootfile", "pcap"] as const) {
    if (spec[key] === "") throw new ConfigError("nic", `${key}= names no file`);
  }
  if (spec.restrict !== undefined && typeof spec.restrict !== "boolean") {
    throw new ConfigError("nic", "restrict must be true or false");
  }
  return {
    model: model as NicModel,
    mac,
    network,
    prefixLength,
    host: at(2),
    dhcpStart: at(15),
    dns,
    restrict: spec.restrict ?? false,
    hostForwards: list.map(parseHostForward),
    tftp: spec.tftp ?? null,
    bootfile: spec.bootfile ?? null,
    pcap: spec.pcap ?? null,
    romfile: spec.romfile ?? null,
  };
}

/** QEMU's default MAC for NIC `index`. */
export function defaultMac(index: number): number[] {
  const mac = [...DEFAULT_MAC];
  mac[5] = (mac[5] + index) & 0xff;
  return mac;
}

/**
 * Six bytes from "52:54:00:12:34:56" (or with dashes).
 * @throws {ConfigError} for another shape or a multicast address
 */
export function parseMac(text: string): number[] {
  if (typeof text !== "string" || !/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(text)) {
    throw new ConfigError("nic", `mac '${text}' is not six hex bytes like 52:54:00:12:34:56`);
  }
  const bytes = text.split(/[:-]/).map((b) => parseInt(b, 16));
  if (bytes[0] & 1) {
    throw new ConfigError("nic", `mac '${text}' is a multicast address (first byte must be even)`);
  }
  return bytes;
}

/**
 * A forward from `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`.
 * @throws {ConfigError} when malformed
 */
export function parseHostForward(text: string): HostForwardConfig {
  const m = /^(tcp|udp|)?:([^:]*):(\d+)-([^:]*):(\d+)$/.exec(text);
  const bad = (why: string) =>
    new ConfigError(
      "nic",
      `hostfwd '${text}' ${why} (the form is [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport)`,
    );
  if (!m) throw bad("is malformed");
  const [, proto, hostAddress, hostPort, guestAddress, guestPort] = m;
  if (hostAddress && ipv4(hostAddress) === null) throw bad("has a bad host address");
  if (guestAddress && ipv4(guestAddress) === null) throw bad("has a bad guest address");
  const hp = Number(hostPort);
  const gp = Number(guestPort);
  if (hp > 65535) throw bad("has a host port above 65535");
  if (gp < 1 || gp > 65535) throw bad("has a guest port outside 1-65535");
  return {
    protocol: proto === "udp" ? "udp" : "tcp",
    hostAddress,
    hostPort: hp,
    guestAddress,
    guestPort: gp,
  };
}

/** `a.b.c.d/n` (or a bare address, /24) with the host bits cleared. */
function parseNet(text: string): { network: string; prefixLength: number } {
  const [addr, len, ...rest] = String(text).split("/");
  const a = ipv4(addr);
  const n = len === undefined ? 24 : /^\d+$/.test(len) ? Number(len) : NaN;
  if (a === null || rest.length || !(n >= 8 && n <= 30)) {
    throw new ConfigError(
      "nic",
      `net '${text}' must be an IPv4 network like 10.0.2.0/24 (/8-/30)`,
    );
  }
  const mask = (~0 << (32 - n)) >>> 0;
  return { network: dotted((a & mask) >>> 0), prefixLength: n };
}

function ipv4(text: string): number | null {
  const parts = String(text).split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    return null;
  }
  return parts.reduce((v, p) => v * 256 + Number(p), 0);
}

function dotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");
}
