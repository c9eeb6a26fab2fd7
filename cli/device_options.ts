/**
 * The optional devices of vmrun's command line: `--watchdog
 * model[,action=...]`, or QEMU's way, `--device ib700|i6300esb` with
 * `--watchdog-action`. Pure: option values in, configuration out.
 *
 * @module
 */

import {
  WATCHDOG_ACTIONS,
  WATCHDOG_MODELS,
  type WatchdogAction,
  type WatchdogConfig,
  type WatchdogModel,
} from "../machine/watchdog.ts";
import { UsageError } from "./errors.ts";
import { AUDIO_MODELS, type AudioConfig, type AudioModel } from "../machine/audio.ts";

/** Drivers `--device` takes (QEMU's names; ES1370 is also written es1370). */
export const DEVICE_DRIVERS: readonly string[] = [...WATCHDOG_MODELS, ...AUDIO_MODELS];

/** A --device driver as a sound card model, or null. */
function cardOf(driver: string): AudioModel | null {
  const d = driver.toLowerCase();
  return (AUDIO_MODELS as readonly string[]).includes(d) ? d as AudioModel : null;
}

/** The option values these parsers read. */
export interface DeviceOptionValues {
  readonly watchdog?: string;
  readonly watchdogAction?: string;
  readonly device: readonly string[];
}

const isModel = (v: string): v is WatchdogModel =>
  (WATCHDOG_MODELS as readonly string[]).includes(v);
const isAction = (v: string): v is WatchdogAction =>
  (WATCHDOG_ACTIONS as readonly string[]).includes(v);

function action(value: string, what: string): WatchdogAction {
  if (isAction(value)) return value;
  throw new UsageError(
    `${what}: unknown watchdog action '${value}' (${WATCHDOG_ACTIONS.join(", ")})`,
  );
}

/**
 * The machine's watchdog from `--watchdog`, `--device` and `--watchdog-action`,
 * or undefined for none. The action defaults to reset, as on QEMU.
 * @throws {UsageError} for an unknown model, driver or action, two watchdogs,
 *   or an action without a watchdog
 */
export function parseWatchdogOptions(o: DeviceOptionValues): WatchdogConfig | undefined {
  const models: WatchdogModel[] = [];
  let inline: WatchdogAction | null = null;
  if (o.watchdog !== undefined) {
    const what = `--watchdog ${o.watchdog}`;
    const [model, ...props] = o.watchdog.split(",");
    if (!isModel(model)) {
      throw new UsageError(`${what}: unknown watchdog '${model}' (${WATCHDOG_MODELS.join(", ")})`);
    }
    for (const prop of props) {
      const m = /^action=(.*)$/.exec(prop);
      if (!m) throw new UsageError(`${what}: unknown option '${prop}' (only action=)`);
      inline = action(m[1], what);
    }
    models.push(model);
  }
  for (const driver of o.device) {
    if (cardOf(driver)) continue; // parseAudioOption's
    if (!isModel(driver)) {
      throw new UsageError(
        `--device ${driver}: unknown device (vmrun adds ${DEVICE_DRIVERS.join(", ")})`,
      );
    }
    models.push(driver);
  }
  const separate = o.watchdogAction === undefined
    ? null
    : action(o.watchdogAction, `--watchdog-action ${o.watchdogAction}`);
  if (models.length > 1) {
    throw new UsageError(`one watchdog at most (got ${models.join(" and ")})`);
  }
  if (models.length === 0) {
    if (separate !== null) {
      throw new UsageError(
        "--watchdog-action needs a watchdog (--watchdog or --device ib700|i6300esb)",
      );
    }
    return undefined;
  }
  if (inline !== null && separate !== null && inline !== separate) {
    throw new UsageError(
      `--watchdog ${o.watchdog} and --watchdog-action ${o.watchdogAction} disagree`,
    );
  }
  return { model: models[0], action: inline ?? separate ?? "reset" };
}

/**
 * `--audio none|wav:<file>[,model=sb16|es1370]`: undefined for none. The
 * file is created here, so an unwritable path is a usage error before the
 * machine starts.
 * @throws {UsageError} for another driver, an unknown model or an unwritable file
 */
export function parseAudioOption(
  value: string | undefined,
  devices: readonly string[] = [],
): AudioConfig | undefined {
  const cards = devices.map(cardOf).filter((c): c is AudioModel => c !== null);
  if (cards.length > 1) throw new UsageError(`one sound card at most (got ${cards.join(" and ")})`);
  if (value === undefined || value === "none") {
    if (cards.length) {
      throw new UsageError(`--device ${cards[0]}: records to a file: add --audio wav:<file>`);
    }
    return undefined;
  }
  const what = `--audio ${value}`;
  const m = /^wav:(.+?)(?:,model=([^,]*))?$/s.exec(value);
  if (!m) {
    throw new UsageError(
      `${what}: vmrun records sound to a file: --audio wav:<file>[,model=sb16|es1370]`,
    );
  }
  const [, path, inline] = m;
  if (inline !== undefined && cards.length && inline.toLowerCase() !== cards[0]) {
    throw new UsageError(`${what} and --device ${cards[0]} disagree`);
  }
  const model = inline?.toLowerCase() ?? cards[0];
  if (model !== undefined && !(AUDIO_MODELS as readonly string[]).includes(model)) {
    throw new UsageError(`${what}: unknown sound card '${model}' (${AUDIO_MODELS.join(", ")})`);
  }
  try {
    Deno.openSync(path, { write: true, create: true }).close();
  } catch (e) {
    throw new UsageError(
      `cannot write --audio file '${path}': ${e instanceof Error ? e.message : e}`,
    );
  }
  return { wavPath: path, model: (model ?? null) as AudioModel | null };
}
