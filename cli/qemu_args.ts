/**
 * QEMU habits: QEMU-style options (`-nographic`, `-hda disk.img`, `-m 512`,
 * `-drive file=...`, also in QEMU's `--nographic` form) turned into vmrun's
 * own words where the meaning is the same, and refused with one line naming
 * vmrun's option where it is not. Pure: argv in, argv and notes out.
 *
 * @module
 */

import { VGA_MODELS } from "../machine/vga_models.ts";
import { UsageError } from "./errors.ts";
import { parseDiskSpec } from "../machine/disk_spec.ts";
import {
  OPTIONAL_DEVICE_NAMES,
  optionalDeviceKind,
  optionalDeviceName,
} from "../machine/optional_devices.ts";

/** What the translation needs to know of one of vmrun's own options. */
export interface OptionInfo {
  readonly long?: string;
  readonly short?: string;
  /** The option takes a value. */
  readonly required: boolean;
  readonly optional: boolean;
  readonly argChoices?: readonly string[];
}

/** The translated argv, and lines to show the user (without "vmrun: "). */
export interface QemuTranslation {
  readonly argv: string[];
  readonly notes: string[];
}

/** A disk named with QEMU's words. */
interface QemuDisk {
  readonly path: string;
  readonly iface: "ide" | "virtio";
  readonly media: "disk" | "cdrom";
  readonly readonly: boolean;
  readonly snapshot: boolean;
  /** IDE index (bus * 2 + unit), or null for the next free one. */
  readonly index: number | null;
  /** How the user named it, for messages. */
  readonly what: string;
}

/** A `-drive if=none,id=...` waiting for its `-device`. */
type DetachedDrive = Omit<QemuDisk, "iface" | "index">;

/** Everything a translation collects on its way through argv. */
interface Ctx {
  readonly out: string[];
  readonly notes: string[];
  readonly options: readonly OptionInfo[];
  readonly disks: QemuDisk[];
  /** Where the QEMU disks go in `out` (at the first of them). */
  diskSlot: number | null;
  readonly detached: Map<string, DetachedDrive>;
  snapshot: boolean;
  serials: number;
  /** `-vga MODEL`, the last one given. */
  vga: string | null;
  /** `-device VGA` or `-device cirrus-vga`: the display card's model. */
  deviceVga: string | null;
  bootOrder: string | null;
  /** Where `--device virtio-serial-pci` sits in `out`, for a virtserialport's name. */
  serialDevice: number | null;
  /** `-audiodev wav,id=...,path=...`: the WAV file of each id. */
  readonly audiodevs: Map<string, string>;
  /** The WAV file a sound card's audiodev= names, unless pcspk-audiodev gave one. */
  audioFromDevice: string | null;
  audioGiven: boolean;
  /** `-netdev user,id=...` options by id, waiting for a NIC `-device`. */
  readonly netdevs: Map<string, string[]>;
  /** `-net nic` and `-net user` options, joined into one `--nic` at the end. */
  legacyNet: { nic: string[] | null; user: string[] | null; none: boolean };
}

/** How one QEMU option is handled; `value` is its argument when it takes one. */
interface QemuOption {
  readonly arg: boolean;
  readonly run: (ctx: Ctx, value: string, flag: string) => void;
}

const emit = (...tokens: string[]) => (ctx: Ctx) => void ctx.out.push(...tokens);
const accept = () => {};
const refuse = (why: string): QemuOption => ({
  arg: false,
  run: (_c, _v, flag) => fail(`${flag}: ${why}`),
});
const refuseWithArg = (why: string): QemuOption => ({
  arg: true,
  run: (_c, v, flag) => fail(`${flag} ${v}: ${why}`),
});
const flagOnly = (run: (ctx: Ctx) => void): QemuOption => ({ arg: false, run });

function fail(message: string): never {
  throw new UsageError(message);
}

const NETWORK_TYPES = "vmrun's networks are user-mode (libslirp) only: user or none";
const USE_CONTROL = "vmrun has no monitor: use --control <socket> and 'vmrun ctl'";
const HD_INDEX: Record<string, number> = { hda: 0, hdb: 1, hdc: 2, hdd: 3 };

/** QEMU's options, by name without dashes. */
const QEMU_OPTIONS: Record<string, QemuOption> = {
  nographic: flagOnly(emit("--headless")),
  snapshot: flagOnly((ctx) => {
    ctx.snapshot = true;
    ctx.out.push("--snapshot");
  }),
  "no-reboot": flagOnly(emit("--no-reboot")),
  "enable-kvm": flagOnly(accept),
  "no-hpet": flagOnly(accept),
  "no-shutdown": refuse("vmrun always ends the run when the guest powers off"),
  "no-acpi": refuse("vmrun's board always has ACPI"),
  nodefaults: refuse(
    "vmrun's board is fixed (COM1, PS/2 and IDE are always there; --vga none leaves out the VGA)",
  ),
  daemonize: refuse("vmrun runs in the foreground (try --headless, with --control to drive it)"),
  S: refuse("vmrun starts the guest at once (pause it with 'vmrun ctl <socket> pause')"),
  s: refuse("vmrun has no GDB stub"),
  gdb: refuseWithArg("vmrun has no GDB stub"),
  help: flagOnly(emit("--help")),
  h: flagOnly(emit("--help")),
  version: flagOnly(emit("--version")),
  m: { arg: true, run: memory },
  smp: { arg: true, run: smp },
  hda: { arg: true, run: hd },
  hdb: { arg: true, run: hd },
  hdc: { arg: true, run: hd },
  hdd: { arg: true, run: hd },
  cdrom: {
    arg: true,
    run: (ctx, v, flag) =>
      addDisk(ctx, {
        path: plainPath(v, flag),
        iface: "ide",
        media: "cdrom",
        readonly: true,
        snapshot: false,
        index: 2,
        what: `${flag} ${v}`,
      }),
  },
  drive: { arg: true, run: drive },
  device: { arg: true, run: device },
  bios: { arg: true, run: (ctx, v) => ctx.out.push("--firmware", v) },
  L: refuseWithArg("give the BIOS image itself with --firmware <path>"),
  boot: { arg: true, run: boot },
  display: { arg: true, run: display },
  vga: { arg: true, run: vga },
  serial: { arg: true, run: serial },
  monitor: {
    arg: true,
    run: (_c, v, flag) => v === "none" || fail(`${flag} ${v}: ${USE_CONTROL}`),
  },
  qmp: refuseWithArg(USE_CONTROL),
  chardev: refuseWithArg(
    "vmrun's COM1 is on the terminal: see --serial-log, --send/--expect and --control",
  ),
  kernel: kernelOption("kernel"),
  initrd: kernelOption("initrd"),
  append: kernelOption("append"),
  dtb: refuseWithArg("device trees are not used on a PC"),
  accel: {
    arg: true,
    run: (_c, v, flag) => v === "kvm" || fail(`${flag} ${v}: vmrun runs on KVM only (-accel kvm)`),
  },
  machine: { arg: true, run: machine },
  M: { arg: true, run: machine },
  cpu: {
    arg: true,
    run: (ctx, v, flag) => {
      const model = v.split(",")[0];
      if (model !== "host" && model !== "max") {
        fail(`${flag} ${v}: vmrun's guest sees the host's CPU (-cpu host[,-feat...])`);
      }
      // The default already is the host's CPU; its features are --cpu's.
      if (v !== model) ctx.out.push("--cpu", v);
    },
  },
  net: { arg: true, run: legacyNet },
  nic: { arg: true, run: (ctx, v) => void ctx.out.push("--nic", v) },
  netdev: { arg: true, run: netdev },
  name: { arg: true, run: accept },
  // Watchdogs: -watchdog (removed in QEMU 7.2) was -device; -watchdog-action is -action watchdog=.
  watchdog: { arg: true, run: (ctx, v, flag) => ctx.out.push("--device", watchdogModel(v, flag)) },
  "watchdog-action": {
    arg: true,
    run: (ctx, v, flag) => ctx.out.push("--watchdog-action", watchdogAction(v, `${flag} ${v}`)),
  },
  action: { arg: true, run: qemuAction },
  audio: { arg: true, run: audio },
  audiodev: { arg: true, run: audiodev },
};

const WAV_ONLY = "vmrun records sound to a WAV file only (-audiodev wav or --audio wav:<file>)";

/** `-audio [driver=]none|wav[,model=m][,path=f]`. */
function audio(ctx: Ctx, value: string, flag: string): void {
  const what = `${flag} ${value}`;
  const props = new Map(splitQemuList(value, "driver"));
  const driver = props.get("driver");
  if (driver === "none") return;
  if (driver !== "wav") fail(`${what}: ${WAV_ONLY}`);
  const extra = [...props.keys()].find((k) => !["driver", "model", "path", "id"].includes(k));
  if (extra) fail(`${what}: vmrun does not support '${extra}'`);
  const model = props.get("model");
  // QEMU's wav driver writes qemu.wav unless told otherwise.
  const spec = `wav:${props.get("path") ?? "qemu.wav"}${model ? `,model=${model}` : ""}`;
  ctx.out.push("--audio", spec);
  ctx.audioGiven = true;
}

/** `-audiodev wav,id=x,path=f`, used by `-machine pcspk-audiodev=x`. */
function audiodev(ctx: Ctx, value: string, flag: string): void {
  const what = `${flag} ${value}`;
  const props = new Map(splitQemuList(value, "driver"));
  const id = props.get("id");
  if (!id) fail(`${what}: needs an id=`);
  if (props.get("driver") === "none") return;
  if (props.get("driver") !== "wav") fail(`${what}: ${WAV_ONLY}`);
  ctx.audiodevs.set(id, props.get("path") ?? "qemu.wav");
}

const QEMU_WATCHDOGS = ["ib700", "i6300esb"];

function watchdogModel(value: string, flag: string): string {
  if (!QEMU_WATCHDOGS.includes(value)) {
    fail(`${flag} ${value}: vmrun's watchdogs are ${QEMU_WATCHDOGS.join(" and ")}`);
  }
  return value;
}

/** A QEMU watchdog action in vmrun's words (QEMU's `shutdown` is a power-button press). */
function watchdogAction(value: string, what: string): string {
  if (["reset", "poweroff", "pause", "none"].includes(value)) return value;
  if (value === "debug") return "none"; // QEMU only logs it; vmrun's device state counts it
  return fail(
    `${what}: vmrun's watchdog actions are reset, poweroff, pause, none and exit ` +
      `(--watchdog-action exit)`,
  );
}

/** `-action watchdog=A[,reboot=reset|shutdown][,shutdown=poweroff][,panic=...]`. */
function qemuAction(ctx: Ctx, value: string, flag: string): void {
  const what = `${flag} ${value}`;
  for (const [key, v] of splitQemuList(value, "watchdog")) {
    if (key === "watchdog") ctx.out.push("--watchdog-action", watchdogAction(v, what));
    else if (key === "reboot" && v === "shutdown") ctx.out.push("--no-reboot");
    else if (!(key === "reboot" && v === "reset") && !(key === "shutdown" && v === "poweroff")) {
      fail(`${what}: vmrun does not support ${key}=${v}`);
    }
  }
}

/**
 * Turns QEMU-style words in `argv` into vmrun's (see the README's table).
 * Tokens after `--`, values of vmrun's own options and vmrun's own options
 * pass through untouched.
 * @param options vmrun's options (the commander program's), to know which take values
 * @throws {UsageError} for a QEMU option whose meaning vmrun does not share, or an unknown
 *   single-dash word
 */
export function translateQemuArgs(
  argv: readonly string[],
  options: readonly OptionInfo[],
): QemuTranslation {
  const ctx: Ctx = {
    out: [],
    notes: [],
    options,
    disks: [],
    diskSlot: null,
    detached: new Map(),
    snapshot: false,
    serials: 0,
    vga: null,
    deviceVga: null,
    bootOrder: null,
    serialDevice: null,
    audiodevs: new Map(),
    audioFromDevice: null,
    audioGiven: false,
    netdevs: new Map(),
    legacyNet: { nic: null, user: null, none: false },
  };
  // vmrun's own disks, for the -boot and snapshot checks.
  const native: { spec: string; plain: boolean }[] = [];
  let positionalSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") {
      ctx.out.push(...argv.slice(i));
      if (!positionalSeen && argv[i + 1] !== undefined) {
        native.push({ spec: argv[i + 1], plain: true });
      }
      break;
    }
    // vmrun's --device with a registry device (virtio-rng-pci, virtio-serial-pci) keeps its
    // own options (name=); the watchdogs, sound cards and disks are read as QEMU's -device.
    const registry = registryDevice(token, argv[i + 1]);
    if (registry) {
      ctx.out.push(...registry);
      if (registry.length === 2) i++;
      continue;
    }
    const own = ownOption(token, options);
    if (own) {
      ctx.out.push(token);
      if (own.takesNext && i + 1 < argv.length) {
        ctx.out.push(argv[++i]);
        if (own.option.long === "--disk") native.push({ spec: argv[i], plain: false });
      } else if (own.option.long === "--disk" && token.includes("=")) {
        native.push({ spec: token.slice(token.indexOf("=") + 1), plain: false });
      }
      continue;
    }
    const qemu = qemuWord(token);
    if (qemu === null) {
      if (token.startsWith("-") && !token.startsWith("--") && token.length > 1) {
        fail(`unknown option '${token}' (vmrun's options use two dashes: see vmrun --help)`);
      }
      if (!token.startsWith("-") && !positionalSeen) {
        positionalSeen = true;
        native.push({ spec: token, plain: true });
      }
      ctx.out.push(token);
      continue;
    }
    const { name, inline } = qemu;
    const handler = QEMU_OPTIONS[name];
    const flag = `-${name}`;
    let value = "";
    if (handler.arg) {
      if (inline !== null) value = inline;
      else if (i + 1 < argv.length) value = argv[++i];
      else fail(`${flag} needs a value`);
    } else if (inline !== null) {
      fail(`${flag} takes no value`);
    }
    handler.run(ctx, value, flag);
  }
  finish(ctx, native);
  return { argv: ctx.out, notes: ctx.notes };
}

/**
 * {@link translateQemuArgs}, printing its notes with `err`: the one call
 * parseCommandLine makes.
 */
export function applyQemuHabits(
  argv: readonly string[],
  options: readonly OptionInfo[],
  err: (s: string) => void,
): string[] {
  const t = translateQemuArgs(argv, options);
  for (const note of t.notes) err(`vmrun: note: ${note}\n`);
  return t.argv;
}

/** Whether `token` is one of vmrun's own options; then whether its value is the next token. */
/** `--device <registry device>` (or `--device=...`) as vmrun's words, or null. */
function registryDevice(token: string, next: string | undefined): string[] | null {
  const value = token === "--device" ? next : token.startsWith("--device=") ? token.slice(9) : null;
  if (value === null || value === undefined) return null;
  const driver = value.split(",")[0];
  if (!(OPTIONAL_DEVICE_NAMES as readonly string[]).includes(driver)) return null;
  // A watchdog or sound card may carry QEMU's id= and audiodev=: read as QEMU's -device.
  if (optionalDeviceKind(driver) !== null) return null;
  return token === "--device" ? ["--device", value] : [token];
}

function ownOption(
  token: string,
  options: readonly OptionInfo[],
): { option: OptionInfo; takesNext: boolean } | null {
  if (token.startsWith("--")) {
    const eq = token.indexOf("=");
    const flag = eq < 0 ? token : token.slice(0, eq);
    // vmrun's --device takes QEMU's -device words, so it is always read as QEMU's.
    const option = flag === "--device" ? undefined : options.find((o) => o.long === flag);
    return option ? { option, takesNext: option.required && eq < 0 } : null;
  }
  // vmrun's single-letter options; QEMU's -m is handled as QEMU's (same meaning).
  if (!token.startsWith("-")) return null;
  const option = options.find((o) => o.short === token.slice(0, 2));
  if (!option || token.slice(1) in QEMU_OPTIONS) return null;
  if (token.length === 2) return { option, takesNext: option.required };
  // "-m512M": a value given in the same word (sizes start with a digit).
  return option.required && /^\d/.test(token.slice(2)) ? { option, takesNext: false } : null;
}

/** The QEMU option a token names (`-name`, `--name`, `--name=value`), if any. */
function qemuWord(token: string): { name: string; inline: string | null } | null {
  const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(token);
  if (!m || !(m[1] in QEMU_OPTIONS)) return null;
  // QEMU takes its values in the next word; "=" only in the double-dash form.
  if (m[2] !== undefined && !token.startsWith("--")) return null;
  return { name: m[1], inline: m[2] ?? null };
}

/** -kernel, -initrd, -append: vmrun's --kernel, --initrd, --append, value as given. */
function kernelOption(name: string): QemuOption {
  return { arg: true, run: (ctx, v) => void ctx.out.push(`--${name}`, v) };
}

/**
 * Splits a QEMU option list (`a=1,b=2`, with `,,` for a literal comma).
 * A first item without `=` is returned under `implied`.
 */
export function splitQemuList(
  text: string,
  implied: string,
): [string, string][] {
  const items: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== ",") current += text[i];
    else if (text[i + 1] === ",") current += text[++i];
    else {
      items.push(current);
      current = "";
    }
  }
  items.push(current);
  return items.map((item, n) => {
    const eq = item.indexOf("=");
    if (eq >= 0) return [item.slice(0, eq), item.slice(eq + 1)];
    return n === 0 ? [implied, item] : [item, "on"];
  });
}

function onOff(value: string, what: string): boolean {
  if (value === "on" || value === "true" || value === "yes") return true;
  if (value === "off" || value === "false" || value === "no") return false;
  return fail(`${what}: '${value}' is not on or off`);
}

function wholeNumber(value: string, what: string): number {
  if (!/^\d+$/.test(value)) fail(`${what}: '${value}' is not a whole number`);
  return Number(value);
}

/** `-m [size=]SIZE[,slots=n,maxmem=size]`. */
function memory(ctx: Ctx, value: string, flag: string): void {
  let size: string | null = null;
  for (const [key, v] of splitQemuList(value, "size")) {
    if (key === "size") size = v;
    else if (key === "slots" || key === "maxmem") {
      fail(`${flag} ${value}: memory hotplug (${key}) is not supported; give the size alone`);
    } else fail(`${flag} ${value}: unknown option '${key}'`);
  }
  if (!size) fail(`${flag} ${value}: no size given`);
  ctx.out.push("--memory", size);
}

/** `-smp [cpus=]N[,sockets=,dies=,clusters=,cores=,threads=,maxcpus=]`. */
function smp(ctx: Ctx, value: string, flag: string): void {
  let cpus: number | null = null;
  let maxcpus: number | null = null;
  let topology = 1;
  const what = `${flag} ${value}`;
  for (const [key, v] of splitQemuList(value, "cpus")) {
    const n = wholeNumber(v, what);
    if (key === "cpus") cpus = n;
    else if (key === "maxcpus") maxcpus = n;
    else if (["sockets", "dies", "clusters", "cores", "threads"].includes(key)) topology *= n;
    else fail(`${what}: unknown option '${key}'`);
  }
  cpus ??= maxcpus ?? topology;
  if (maxcpus !== null && maxcpus !== cpus) {
    fail(`${what}: CPU hotplug (maxcpus) is not supported; use --cpus ${cpus}`);
  }
  ctx.out.push("--cpus", String(cpus));
}

/** A file name given on its own (`-hda F`, `-cdrom F`). */
function plainPath(value: string, flag: string): string {
  if (value === "") fail(`${flag} needs a file name`);
  return value;
}

function hd(ctx: Ctx, value: string, flag: string): void {
  addDisk(ctx, {
    path: plainPath(value, flag),
    iface: "ide",
    media: "disk",
    readonly: false,
    snapshot: false,
    index: HD_INDEX[flag.slice(1)],
    what: `${flag} ${value}`,
  });
}

function addDisk(ctx: Ctx, disk: QemuDisk): void {
  if (disk.path.includes(",")) {
    fail(`${disk.what}: vmrun's --disk cannot name a file with a comma (rename or link it)`);
  }
  ctx.diskSlot ??= ctx.out.length;
  ctx.disks.push(disk);
}

const DRIVE_KEYS = [
  "file",
  "if",
  "media",
  "index",
  "bus",
  "unit",
  "readonly",
  "read-only",
  "snapshot",
  "format",
  "id",
  "cache",
  "aio",
];

/** `-drive file=F[,if=ide|virtio|none][,media=disk|cdrom][,readonly=on]...`. */
function drive(ctx: Ctx, value: string, flag: string): void {
  const what = `${flag} ${value}`;
  let path = "";
  let iface = "ide";
  let media: "disk" | "cdrom" = "disk";
  let readonly = false;
  let snapshot = false;
  let index: number | null = null;
  let bus: number | null = null;
  let unit: number | null = null;
  let id: string | null = null;
  for (const [key, v] of splitQemuList(value, "file")) {
    switch (key) {
      case "file":
        path = v;
        break;
      case "if":
        iface = v;
        break;
      case "media":
        if (v !== "disk" && v !== "cdrom") fail(`${what}: media is disk or cdrom`);
        media = v;
        break;
      case "index":
        index = wholeNumber(v, what);
        break;
      case "bus":
        bus = wholeNumber(v, what);
        break;
      case "unit":
        unit = wholeNumber(v, what);
        break;
      case "readonly":
      case "read-only":
        readonly = onOff(v, what);
        break;
      case "snapshot":
        snapshot = onOff(v, what);
        break;
      case "format":
        if (v !== "raw") {
          fail(`${what}: vmrun reads raw images only (qemu-img convert -O raw in.${v} out.img)`);
        }
        break;
      case "id":
        id = v;
        break;
      case "cache":
      case "aio":
        break; // vmrun flushes on every exit path whatever the cache mode
      default:
        fail(`${what}: unknown option '${key}' (vmrun knows ${DRIVE_KEYS.join(", ")})`);
    }
  }
  if (!path) fail(`${what}: an empty drive (no file=) is not supported`);
  if (bus !== null || unit !== null) index ??= (bus ?? 0) * 2 + (unit ?? 0);
  const base = { path, media, readonly: readonly || media === "cdrom", snapshot, what };
  switch (iface) {
    case "ide":
    case "virtio":
      addDisk(ctx, { ...base, iface, index: iface === "ide" ? index : null });
      return;
    case "none":
      if (!id) fail(`${what}: if=none needs an id= for -device`);
      ctx.detached.set(id, base);
      return;
    case "pflash":
      fail(`${what}: vmrun loads BIOS images with --firmware <path> (no pflash)`);
      break;
    default:
      fail(`${what}: vmrun has IDE and virtio disks only (if=ide or if=virtio)`);
  }
}

const DISK_DEVICES: Record<string, { iface: "ide" | "virtio"; media?: "disk" | "cdrom" }> = {
  "virtio-blk-pci": { iface: "virtio" },
  "virtio-blk": { iface: "virtio" },
  "ide-hd": { iface: "ide", media: "disk" },
  "ide-cd": { iface: "ide", media: "cdrom" },
  "ide-drive": { iface: "ide" },
};

/** QEMU's NIC `-device` drivers and their `-nic model=` names. */
const NIC_DEVICES: Record<string, string> = {
  "virtio-net-pci": "virtio",
  "virtio-net": "virtio",
  e1000: "e1000",
  rtl8139: "rtl8139",
  ne2k_pci: "ne2k_pci",
};

/** `-netdev user,id=ID[,opts]`: kept for the `-device ...,netdev=ID` that uses it. */
function netdev(ctx: Ctx, value: string, flag: string): void {
  const [type, ...rest] = value.split(",");
  if (type !== "user") fail(`${flag} ${value}: ${NETWORK_TYPES}`);
  const id = rest.find((o) => o.startsWith("id="))?.slice(3);
  if (!id) fail(`${flag} ${value}: needs id=<id>`);
  ctx.netdevs.set(id, rest.filter((o) => !o.startsWith("id=")));
}

/** QEMU's older `-net nic[,model=..][,macaddr=..]` plus `-net user[,opts]`, or `-net none`. */
function legacyNet(ctx: Ctx, value: string, flag: string): void {
  const [type, ...rest] = value.split(",");
  const net = ctx.legacyNet;
  if (type === "none" && rest.length === 0) net.none = true;
  else if (type === "user") net.user = rest.filter((o) => !/^(id|vlan|name)=/.test(o));
  else if (type === "nic") {
    net.nic = rest.flatMap((o) => {
      if (o.startsWith("macaddr=")) return [`mac=${o.slice(8)}`];
      if (o.startsWith("model=")) {
        const m = o.slice(6);
        return [`model=${m === "virtio-net-pci" ? "virtio" : m}`];
      }
      if (/^(id|vlan|name|netdev)=/.test(o)) return [];
      return [o];
    });
  } else fail(`${flag} ${value}: ${NETWORK_TYPES}`);
}

/** `-device DRIVER[,prop=value...]`: the devices vmrun's board has anyway. */
function device(ctx: Ctx, value: string, flag: string): void {
  const what = `${flag} ${value}`;
  const [[, driver], ...props] = splitQemuList(value, "driver");
  const prop = (name: string) => props.find(([k]) => k === name)?.[1];
  const only = (...allowed: string[]) => {
    const extra = props.find(([k]) => !allowed.includes(k));
    if (extra) fail(`${what}: vmrun does not support '${extra[0]}' here`);
  };
  if (driver === "isa-debug-exit") {
    only("iobase", "iosize");
    const iobase = prop("iobase");
    if (iobase === undefined || Number(iobase) !== 0xf4) {
      fail(`${what}: vmrun's debug-exit port is at iobase=0xf4 only`);
    }
    ctx.notes.push(
      "isa-debug-exit: vmrun exits with the value written to port 0xf4 itself, " +
        "not QEMU's (value << 1) | 1",
    );
    return;
  }
  if (driver === "VGA" || driver === "cirrus-vga") {
    only("vgamem_mb", "id");
    if (ctx.deviceVga !== null) fail(`${what}: vmrun's board has one display adapter`);
    const mb = prop("vgamem_mb");
    if (mb !== undefined) ctx.out.push("--vga-memory", `${wholeNumber(mb, what)}M`);
    ctx.deviceVga = driver === "VGA" ? "std" : "cirrus";
    return;
  }
  if (virtioDevice(ctx, driver, prop, only, what)) return;
  if (QEMU_WATCHDOGS.includes(driver)) {
    only("id");
    ctx.out.push("--device", driver);
    return;
  }
  const card = optionalDeviceKind(driver) === "sound" ? optionalDeviceName(driver) : null;
  if (card) {
    only("id", "audiodev");
    ctx.out.push("--device", card);
    const dev = prop("audiodev");
    if (dev !== undefined) {
      const path = ctx.audiodevs.get(dev);
      if (path === undefined) fail(`${what}: no -audiodev with id=${dev} before it`);
      ctx.audioFromDevice ??= path;
    }
    return;
  }
  const model = NIC_DEVICES[driver];
  if (model) {
    only("netdev", "mac", "id", "romfile");
    const id = prop("netdev");
    if (id === undefined) fail(`${what}: a NIC comes with its network: --nic user,model=${model}`);
    const user = ctx.netdevs.get(id);
    if (!user) fail(`${what}: needs netdev=<id> of a -netdev user,id=<id>`);
    ctx.netdevs.delete(id);
    const mac = prop("mac");
    const rom = prop("romfile");
    ctx.out.push(
      "--nic",
      ["user", `model=${model}`, ...(mac ? [`mac=${mac}`] : []), ...user].join(",") +
        (rom === undefined ? "" : `,romfile=${rom}`),
    );
    return;
  }
  const kind = DISK_DEVICES[driver];
  if (kind) {
    only("drive", "id", "bus", "unit");
    const id = prop("drive") ?? "";
    const d = ctx.detached.get(id);
    if (!d) fail(`${what}: needs drive=<id> of a -drive if=none,id=<id>`);
    ctx.detached.delete(id);
    const bus = /^ide\.(\d)$/.exec(prop("bus") ?? "");
    const unit = prop("unit");
    const index = kind.iface === "ide" && (bus || unit !== undefined)
      ? Number(bus?.[1] ?? 0) * 2 + wholeNumber(unit ?? "0", what)
      : null;
    const media = kind.media ?? d.media;
    addDisk(ctx, {
      ...d,
      iface: kind.iface,
      media,
      readonly: d.readonly || media === "cdrom",
      index,
    });
    return;
  }
  fail(
    `${what}: unknown device '${driver}' (known: ${
      OPTIONAL_DEVICE_NAMES.join(", ")
    }; the board's own i440FX, PIIX3 IDE, VGA, COM1, PS/2 and virtio-blk are always there)`,
  );
}

/**
 * The optional virtio devices: `virtio-rng-pci`, `virtio-balloon-pci`, `virtio-serial-pci` (hvc0 is
 * its port 0, so `virtconsole` is implied) and one `virtserialport` (port 1,
 * whose `name=` it takes). Returns false for other drivers.
 */
function virtioDevice(
  ctx: Ctx,
  driver: string,
  prop: (name: string) => string | undefined,
  only: (...allowed: string[]) => void,
  what: string,
): boolean {
  switch (driver) {
    case "virtio-rng-pci":
    case "virtio-rng":
      only("id");
      ctx.out.push("--device", "virtio-rng-pci");
      return true;
    case "virtio-balloon-pci":
    case "virtio-balloon": {
      only("id", "deflate-on-oom", "guest-stats-polling-interval");
      const props = ["deflate-on-oom", "guest-stats-polling-interval"].flatMap((name) => {
        const v = prop(name);
        return v === undefined ? [] : [`${name}=${v}`];
      });
      ctx.out.push("--device", ["virtio-balloon-pci", ...props].join(","));
      return true;
    }
    case "virtio-serial-pci":
    case "virtio-serial":
      only("id");
      if (ctx.serialDevice !== null) fail(`${what}: vmrun has one virtio-serial-pci`);
      ctx.out.push("--device", "virtio-serial-pci");
      ctx.serialDevice = ctx.out.length - 1;
      return true;
    case "virtconsole":
      only("id");
      if (ctx.serialDevice === null) fail(`${what}: needs -device virtio-serial-pci before it`);
      ctx.notes.push("virtconsole: vmrun's virtio-serial-pci always has hvc0 as its port 0");
      return true;
    case "virtserialport": {
      only("id", "name");
      const at = ctx.serialDevice;
      if (at === null) fail(`${what}: needs -device virtio-serial-pci before it`);
      if (ctx.out[at].includes(",name=")) {
        fail(`${what}: vmrun's virtio-serial-pci has one named port`);
      }
      const name = prop("name");
      if (name !== undefined) ctx.out[at] += `,name=${name}`;
      return true;
    }
  }
  return false;
}

/** `-boot [order=]drives[,once=drives][,menu=on|off]`. */
function boot(ctx: Ctx, value: string, flag: string): void {
  for (const [key, v] of splitQemuList(value, "order")) {
    if (key === "order" || key === "once") {
      if (!/^[a-dn]+$/.test(v)) fail(`${flag} ${value}: ${key} takes letters a-d and n`);
      ctx.bootOrder = v;
    } else if (key === "menu") {
      if (onOff(v, `${flag} ${value}`)) ctx.out.push("--boot-menu");
    } else {
      fail(`${flag} ${value}: vmrun does not support '${key}' (only order, once and menu)`);
    }
  }
}

const VMRUN_ONLY_DISPLAYS = "--display auto|text|sixel|kitty|blocks";

/** `-display TYPE[,...]`: QEMU's window choices against vmrun's terminal console. */
function display(ctx: Ctx, value: string, flag: string): void {
  const type = splitQemuList(value, "type")[0][1];
  const vmrun = ctx.options.find((o) => o.long === "--display")?.argChoices ?? [];
  if (type === "none") ctx.out.push("--headless");
  else if (type === "curses") ctx.out.push("--display", "text");
  else if (vmrun.includes(type) && type === value) ctx.out.push("--display", type);
  else {
    fail(
      `${flag} ${value}: vmrun has no window; its console shows the guest's screen in ` +
        `this terminal (${VMRUN_ONLY_DISPLAYS}), -display none means --headless`,
    );
  }
}

/** `-vga MODEL`: vmrun's `--vga` has QEMU's names for the models it has. */
function vga(ctx: Ctx, value: string, flag: string): void {
  if (!(VGA_MODELS as readonly string[]).includes(value)) {
    fail(`${flag} ${value}: vmrun's display adapters are --vga ${VGA_MODELS.join("|")}`);
  }
  ctx.vga = value;
}

/** `-serial`: COM1 is on the terminal (headless) or in the console's serial pane. */
function serial(ctx: Ctx, value: string, flag: string): void {
  if (++ctx.serials > 1) fail(`${flag} ${value}: vmrun has one serial port (COM1)`);
  if (value === "stdio" || value === "mon:stdio") return;
  if (value.startsWith("file:") && value.length > 5) {
    ctx.out.push("--serial-log", value.slice(5));
    return;
  }
  fail(
    `${flag} ${value}: vmrun's COM1 is on this terminal; use --serial-log <file>, ` +
      `--send/--expect, or --control`,
  );
}

/** `-machine [type=]pc[,accel=kvm]`. */
function machine(ctx: Ctx, value: string, flag: string): void {
  for (const [key, v] of splitQemuList(value, "type")) {
    if (key === "type") {
      if (v !== "pc" && !/^pc-i440fx-[\d.]+$/.test(v)) {
        fail(`${flag} ${value}: vmrun's machine is pc (i440FX + PIIX3)`);
      }
    } else if (key === "accel") {
      if (!v.split(":").includes("kvm")) fail(`${flag} ${value}: vmrun runs on KVM only`);
    } else if (key === "pcspk-audiodev") {
      const path = ctx.audiodevs.get(v);
      if (path === undefined) fail(`${flag} ${value}: no -audiodev with id=${v} before it`);
      ctx.out.push("--audio", `wav:${path}`);
      ctx.audioGiven = true;
    } else fail(`${flag} ${value}: vmrun does not support '${key}'`);
  }
}

/** Places the QEMU disks and checks what needs the whole command line. */
function finish(ctx: Ctx, native: readonly { spec: string; plain: boolean }[]): void {
  if (ctx.audioFromDevice !== null && !ctx.audioGiven) {
    ctx.out.push("--audio", `wav:${ctx.audioFromDevice}`);
  }
  const net = ctx.legacyNet;
  if (net.nic || net.user) {
    if (net.none) fail("-net none cannot be combined with -net nic or -net user");
    if (!net.user) fail("-net nic: needs -net user (vmrun's networks are user-mode)");
    ctx.out.push("--nic", ["user", ...(net.nic ?? []), ...net.user].join(","));
  }
  const unused = [...ctx.netdevs.keys()][0];
  if (unused !== undefined) fail(`-netdev id=${unused}: no -device uses it (netdev=${unused})`);
  // `-vga none -device VGA` is QEMU's way to configure the card; another -vga beside it is two.
  if (ctx.deviceVga !== null) {
    if (ctx.vga !== null && ctx.vga !== "none") {
      fail(`-vga ${ctx.vga} -device: vmrun's board has one display adapter (use -vga none)`);
    }
    if (ctx.deviceVga !== "std") ctx.out.push("--vga", ctx.deviceVga);
  } else if (ctx.vga !== null && ctx.vga !== "std") ctx.out.push("--vga", ctx.vga);
  const ide = placeIde(ctx.disks.filter((d) => d.iface === "ide"));
  const ordered = [...ide, ...ctx.disks.filter((d) => d.iface === "virtio")];
  const nativeDisks = native.flatMap(({ spec, plain }) => {
    try {
      return [parseDiskSpec(spec, plain)];
    } catch {
      return []; // reported by the parser proper
    }
  });
  const all = [
    ...nativeDisks.map((d) => ({ media: d.media, readonly: d.readonly, snapshot: false })),
    ...ordered,
  ];
  const perDrive = ordered.find((d) => d.snapshot);
  if (perDrive && !ctx.snapshot) {
    if (all.some((d) => !d.snapshot && !d.readonly)) {
      fail(
        `${perDrive.what}: snapshot=on for one drive; vmrun's --snapshot keeps every ` +
          `disk's writes in memory (add -snapshot to use it)`,
      );
    }
    ctx.out.push("--snapshot");
  }
  const order = ctx.bootOrder;
  if (order !== null && order.includes("d") && order.indexOf("d") < (order + "c").indexOf("c")) {
    if (all.some((d) => d.media === "disk")) {
      fail(
        `-boot ${order}: vmrun boots hard disks before CD-ROMs; give the CD-ROM alone ` +
          `to boot it`,
      );
    }
  }
  if (ctx.diskSlot !== null) {
    ctx.out.splice(ctx.diskSlot, 0, ...ordered.flatMap((d) => ["--disk", diskSpec(d)]));
  }
}

/** IDE disks in index order, the unnumbered ones in the free places. */
function placeIde(disks: readonly QemuDisk[]): QemuDisk[] {
  const slots: (QemuDisk | undefined)[] = [];
  for (const d of disks) {
    if (d.index === null) continue;
    if (d.index > 3) fail(`${d.what}: IDE has places 0 to 3 (index, or bus*2+unit)`);
    const taken = slots[d.index];
    if (taken) fail(`${d.what}: IDE place ${d.index} is taken by ${taken.what}`);
    slots[d.index] = d;
  }
  for (const d of disks) {
    if (d.index !== null) continue;
    let free = 0;
    while (slots[free]) free++;
    if (free > 3) fail(`${d.what}: all four IDE places are taken`);
    slots[free] = d;
  }
  return slots.filter((d): d is QemuDisk => d !== undefined);
}

/** A QEMU disk in vmrun's --disk words. */
function diskSpec(d: QemuDisk): string {
  const parts = [d.path];
  if (d.iface === "virtio") parts.push("if=virtio");
  const iso = /\.iso$/i.test(d.path);
  if (d.media === "cdrom" && !iso) parts.push("media=cdrom");
  if (d.media === "disk" && iso) parts.push("media=disk");
  if (d.readonly && d.media !== "cdrom") parts.push("readonly");
  return parts.join(",");
}
