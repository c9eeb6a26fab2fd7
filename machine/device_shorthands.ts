/**
 * The watchdog and sound options as shorthands over the optional-device
 * registry: `watchdog: "ib700[,action=pause]"` is `--device ib700` with
 * `--watchdog-action pause`, and `audio: "wav:out.wav,model=sb16"` is
 * `--device sb16` recording to out.wav. Both land in the same device list
 * as `--device`, so the board places and saves them one way.
 *
 * Placement follows QEMU: `-audio model=` creates its card before the
 * `-device`s, so the `model=` card goes first; `--watchdog` (QEMU's old
 * `-watchdog`, a `-device`) goes after the `--device`s.
 *
 * @module
 */

import { AUDIO_MODELS, type AudioConfig } from "./audio.ts";
import type { DeviceConfig } from "./config.ts";
import { ConfigError } from "./config_error.ts";
import { optionalDeviceKind, optionalDeviceName } from "./optional_devices.ts";
import { WATCHDOG_ACTIONS, WATCHDOG_MODELS, type WatchdogAction } from "./watchdog.ts";

/** The shorthand options, as `MachineOptions` takes them. */
export interface DeviceShorthands {
  /** `model[,action=a]`: a watchdog device (ib700, i6300esb) and its action. */
  readonly watchdog?: string;
  /** What a watchdog does when it expires: reset, poweroff, pause, exit or none. */
  readonly watchdogAction?: string;
  /** `none`, or `wav:<file>[,model=sb16|es1370]`. */
  readonly audio?: string;
}

/** What the shorthands and the `--device` list come to. */
export interface ResolvedDevices {
  readonly devices: DeviceConfig[];
  readonly watchdogAction?: WatchdogAction;
  readonly audio?: AudioConfig;
}

const isWatchdogModel = (v: string) => (WATCHDOG_MODELS as readonly string[]).includes(v);

function watchdogAction(value: unknown, option: "watchdog" | "watchdogAction"): WatchdogAction {
  if ((WATCHDOG_ACTIONS as readonly unknown[]).includes(value)) return value as WatchdogAction;
  // QEMU's own words for what vmrun calls otherwise (see cli/qemu_args.ts).
  const qemu = value === "debug"
    ? "; QEMU's debug is none"
    : value === "shutdown"
    ? "; QEMU's shutdown presses the power button: poweroff ends the run"
    : "";
  throw new ConfigError(
    option,
    `'${value}': unknown watchdog action (${WATCHDOG_ACTIONS.join(", ")})${qemu}`,
  );
}

function text(value: unknown, option: "watchdog" | "watchdogAction" | "audio"): string {
  if (typeof value !== "string") throw new ConfigError(option, "must be a text");
  return value;
}

/**
 * Adds the shorthands' devices to `devices` (already checked against the
 * registry) and checks the whole: one watchdog and one sound card at most,
 * an action only with a watchdog, a sound card only with a WAV file, and
 * the WAV file writable (it is created here, so a bad path is one line
 * before the machine starts).
 * @throws {ConfigError} naming the first problem
 */
export function resolveDevices(
  devices: readonly DeviceConfig[],
  o: DeviceShorthands,
): ResolvedDevices {
  const list = [...devices];
  let inline: WatchdogAction | undefined;
  if (o.watchdog !== undefined) {
    const [model, ...props] = text(o.watchdog, "watchdog").split(",");
    if (!isWatchdogModel(model)) {
      throw new ConfigError(
        "watchdog",
        `'${model}': unknown watchdog (${WATCHDOG_MODELS.join(", ")})`,
      );
    }
    for (const prop of props) {
      const m = /^action=(.*)$/.exec(prop);
      if (!m) throw new ConfigError("watchdog", `'${prop}': unknown option (only action=)`);
      inline = watchdogAction(m[1], "watchdog");
    }
    list.push({ name: model, options: {} });
  }
  const audio = o.audio === undefined ? undefined : parseAudio(text(o.audio, "audio"));
  if (audio?.card) {
    const same = list.find((d) => optionalDeviceKind(d.name) === "sound");
    if (same && same.name !== audio.card) {
      throw new ConfigError("audio", `model=${audio.model} and --device ${same.name} disagree`);
    }
    // QEMU's -audio model= creates its card before any -device.
    if (!same) list.unshift({ name: audio.card, options: {} });
  }
  for (const kind of ["watchdog", "sound"] as const) {
    const names = list.filter((d) => optionalDeviceKind(d.name) === kind).map((d) => d.name);
    if (names.length > 1) {
      const what = kind === "sound" ? "sound card" : kind;
      throw new ConfigError(null, `one ${what} at most (got ${names.join(" and ")})`);
    }
  }
  const hasWatchdog = list.some((d) => optionalDeviceKind(d.name) === "watchdog");
  const separate = o.watchdogAction === undefined
    ? undefined
    : watchdogAction(text(o.watchdogAction, "watchdogAction"), "watchdogAction");
  if (separate !== undefined && !hasWatchdog) {
    throw new ConfigError(
      "watchdogAction",
      "needs a watchdog (--watchdog or --device ib700|i6300esb)",
    );
  }
  if (inline !== undefined && separate !== undefined && inline !== separate) {
    throw new ConfigError(
      "watchdogAction",
      `${separate} and --watchdog ${o.watchdog} disagree`,
    );
  }
  const card = list.find((d) => optionalDeviceKind(d.name) === "sound");
  if (card && !audio) {
    throw new ConfigError(null, `--device ${card.name} plays into a file: add --audio wav:<file>`);
  }
  const action = inline ?? separate;
  return {
    devices: list,
    ...(action === undefined ? {} : { watchdogAction: action }),
    ...(audio ? { audio: { wavPath: audio.path } } : {}),
  };
}

/** `none` (null) or `wav:<file>[,model=m]`, its file created. */
function parseAudio(
  value: string,
): { path: string; model?: string; card?: string } | null {
  if (value === "none") return null;
  const m = /^wav:(.+?)(?:,model=([^,]*))?$/s.exec(value);
  if (!m) {
    // QEMU's -audio words, e.g. "wav,path=out.wav,model=sb16": name vmrun's spelling.
    const qemu = /^(?:driver=)?wav(?:,|$)/.test(value)
      ? ` (QEMU's -audio wav,path=F,model=M is wav:F,model=M here)`
      : "";
    throw new ConfigError(
      "audio",
      `'${value}': vmrun records sound to a file: wav:<file>[,model=sb16|es1370]${qemu}`,
    );
  }
  const [, path, model] = m;
  let card: string | undefined;
  if (model !== undefined) {
    const name = optionalDeviceName(model);
    if (!(AUDIO_MODELS as readonly string[]).includes(model.toLowerCase()) || name === null) {
      throw new ConfigError(
        "audio",
        `'${value}': unknown sound card '${model}' (${AUDIO_MODELS.join(", ")})`,
      );
    }
    card = name;
  }
  try {
    Deno.openSync(path, { write: true, create: true }).close();
  } catch (e) {
    throw new ConfigError(
      null,
      `cannot write --audio file '${path}': ${e instanceof Error ? e.message : e}`,
    );
  }
  return { path, ...(model === undefined ? {} : { model, card }) };
}
